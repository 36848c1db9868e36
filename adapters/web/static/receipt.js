// The receipt check of a campaign's public log, in the browser: downloads log.json and every
// entry (as anyone may), recomputes the root (RFC 9162), and looks for the receipt's leaf.
// The receipt never leaves this page: no request carries it or anything made from it. A log of
// up to PREFETCH entries is downloaded as the page opens, for every visitor, so a signer who
// checks looks like anyone who reads it. Saved with the page, it works offline from the
// downloaded files.
(function () {
  "use strict";
  var root = document.getElementById("log");
  var form = document.getElementById("receipt-form");
  if (!root || !form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  form.hidden = false;
  var slug = root.getAttribute("data-slug");
  var input = document.getElementById("receipt");
  var files = document.getElementById("files");
  var status = document.getElementById("receipt-status");
  var PAGE = 1000;
  var PREFETCH = 10000;
  var fetched = null;

  function say(name, values) {
    var text = form.getAttribute("data-" + name) || name;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    status.textContent = text;
  }
  function bytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(hex.substr(i * 2, 2), 16); }
    return out;
  }
  function hex(b) {
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function join(parts) {
    var n = 0; parts.forEach(function (p) { n += p.length; });
    var out = new Uint8Array(n); var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function sha(data) {
    return crypto.subtle.digest("SHA-256", data).then(function (d) { return new Uint8Array(d); });
  }
  var utf8 = new TextEncoder();
  function leafHash(entry) {
    return sha(join([new Uint8Array([0]), utf8.encode(entry.kind + ":"), bytes(entry.leaf)]));
  }
  function treeRoot(hashes) {
    if (!hashes.length) { return sha(new Uint8Array(0)); }
    function level(nodes) {
      if (nodes.length === 1) { return Promise.resolve(nodes[0]); }
      var next = [];
      for (var i = 0; i + 1 < nodes.length; i += 2) {
        next.push(sha(join([new Uint8Array([1]), nodes[i], nodes[i + 1]])));
      }
      return Promise.all(next).then(function (made) {
        if (nodes.length % 2) { made.push(nodes[nodes.length - 1]); }
        return level(made);
      });
    }
    return level(hashes);
  }
  function getJSON(url) {
    return fetch(url, { credentials: "omit", cache: "no-cache" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }
  function download() {
    return getJSON("log.json").then(function (head) {
      var calls = [];
      for (var start = 0; start < head.tree_size; start += PAGE) {
        calls.push(getJSON("log/entries?start=" + start + "&end=" + Math.min(start + PAGE, head.tree_size)));
      }
      return Promise.all(calls).then(function (pages) {
        var entries = [];
        pages.forEach(function (p) { entries = entries.concat(p.entries); });
        return { head: head, entries: entries };
      });
    });
  }
  function online() {
    if (!fetched) {
      fetched = download();
      fetched.catch(function () { fetched = null; });  // a failure is tried again on Check
    }
    return fetched;
  }
  if (window.location.protocol !== "file:" && Number(root.getAttribute("data-size")) <= PREFETCH) {
    online().catch(function () {});
  }
  function fromFiles(list) {
    return Promise.all(Array.prototype.map.call(list, function (file) {
      return file.text().then(JSON.parse);
    })).then(function (docs) {
      var head = null; var pages = [];
      docs.forEach(function (d) { if ("tree_size" in d) { head = d; } else if (d.entries) { pages.push(d); } });
      if (!head) { throw new Error("no log.json"); }
      pages.sort(function (a, b) { return (a.start || 0) - (b.start || 0); });
      var entries = [];
      pages.forEach(function (p) { if ((p.start || 0) === entries.length) { entries = entries.concat(p.entries); } });
      return { head: head, entries: entries.slice(0, head.tree_size) };
    });
  }
  function check(receipt, log) {
    var prefix = utf8.encode("undersigned-receipt\n" + slug + "\n");
    return Promise.all([sha(join([prefix, receipt])), Promise.all(log.entries.map(leafHash))])
      .then(function (done) {
        var mine = hex(done[0]);
        return treeRoot(done[1]).then(function (computed) {
          if (log.entries.length !== log.head.tree_size || hex(computed) !== log.head.root_hash) {
            return say("mismatch");
          }
          for (var i = 0; i < log.entries.length; i++) {
            if (log.entries[i].kind === "sign" && log.entries[i].leaf === mine) {
              return say("found", { index: (i + 1).toLocaleString(document.documentElement.lang), size: log.head.tree_size.toLocaleString(document.documentElement.lang) });
            }
          }
          return say("missing");
        });
      });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = input.value.trim().toLowerCase().replace(/^receipt:/, "").replace(/[\s-]/g, "");
    if (!/^[0-9a-f]{64}$/.test(typed)) { return say("invalid"); }
    say("checking");
    var source = files && files.files && files.files.length ? fromFiles(files.files) : online();
    source.then(function (log) { return check(bytes(typed), log); })
      .catch(function () { say("failed"); });
  });
}());
