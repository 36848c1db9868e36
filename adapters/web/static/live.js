// Keeps the count and the bar of a public page current: our own JSON, every 30 seconds,
// numbers written as the page's language writes them. Offers the page's link to copy.
// Without this script the page says all the same; the link is there to select.
(function () {
  "use strict";
  var link = document.getElementById("share-link");
  var copy = document.getElementById("copy-link");
  var status = document.getElementById("copy-status");
  if (link && copy) {
    if (link.value.charAt(0) === "/") { link.value = window.location.origin + link.value; }
    copy.hidden = false;
    copy.addEventListener("click", function () {
      function said(ok) { if (status) { status.textContent = copy.getAttribute(ok ? "data-done" : "data-failed"); } }
      link.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(link.value).then(function () { said(true); }, function () { said(false); });
      } else {
        said(false);
      }
    });
  }
  var root = document.getElementById("live");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-json");
  var every = Math.max(30000, Number(root.getAttribute("data-every")) || 30000);
  var lang = document.documentElement.lang || "en";
  function fmt(value, style) {
    try { return new Intl.NumberFormat(lang, style ? { style: style } : {}).format(value); }
    catch (e) { return String(value); }
  }
  function set(name, text) {
    Array.prototype.forEach.call(root.querySelectorAll('[data-live="' + name + '"]'), function (e) {
      e.textContent = text;
    });
  }
  function show(data) {
    var bar = document.getElementById("progress");
    var share = fmt(Number(data.percent) / 100, "percent");
    set("signatures", fmt(Number(data.signatures)));
    set("log-count", fmt(Number(data.signatures)));
    set("percent", share);
    if (data.log) {  // the log's line moves with the count: both change only at a step
      set("log-size", fmt(Number(data.log.tree_size)));
      set("log-signatures", fmt(Number(data.log.signatures)));
      set("log-withdrawals", fmt(Number(data.log.withdrawals)));
      set("log-root", String(data.log.root_hash).slice(0, 16) + "\u2026");
    }
    // A pledge that succeeded stays full: success is never undone by a withdrawal.
    var reached = data.outcome === "succeeded" ? data.goal : Math.min(data.signatures, data.goal);
    if (bar) { bar.value = reached; bar.textContent = share; }
  }
  function poll() {
    fetch(url, { credentials: "omit", cache: "no-cache" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
}());
