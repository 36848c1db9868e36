// Keeps the count and the bar of a public page current: our own JSON, every 30 seconds.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-json");
  var every = Math.max(30000, Number(root.getAttribute("data-every")) || 30000);
  function show(data) {
    var n = root.querySelector('[data-live="signatures"]');
    var p = root.querySelector('[data-live="percent"]');
    var bar = document.getElementById("progress");
    if (n) { n.textContent = Number(data.signatures).toLocaleString("en"); }
    if (p) { p.textContent = String(data.percent); }
    if (bar) { bar.value = Math.min(data.signatures, data.goal); bar.textContent = data.percent + "%"; }
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
