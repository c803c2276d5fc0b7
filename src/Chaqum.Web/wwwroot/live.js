// chaqum-web's only script: keeps pages current with Server-Sent Events. The pages are
// complete without it. Text from jobs is only ever set as textContent, or taken from the
// server's own escaped HTML (the output stream's lines are rendered by the server).
"use strict";
(function () {
  var body = document.body;
  var mode = body.getAttribute("data-live");
  var banner = document.getElementById("down");

  // The daemon's events: show whether it runs; on a change, fetch this page again and
  // swap its main part, at most once a second.
  if (mode !== "none") {
    var events = new EventSource("/live/events");
    var pending = null;
    events.addEventListener("daemon", function (e) {
      if (banner) banner.hidden = e.data === "up";
      if (e.data === "up" && banner && banner.dataset.was === "down") refresh(0);
      if (banner) banner.dataset.was = e.data;
    });
    events.addEventListener("change", function () { if (mode === "page") schedule(); });
    events.addEventListener("skipped", function () { if (mode === "page") schedule(); });
    function schedule() {
      if (pending) return;
      pending = setTimeout(function () { pending = null; refresh(0); }, 1000);
    }
  }

  // A job that just ended may be neither in the daemon nor yet in the history (written
  // within a fraction of a second): its page answers 404 for a moment. Try again a few
  // times, a second apart, then give up.
  if (mode === "retry") setTimeout(function () { refresh(5); }, 1000);

  function refresh(tries) {
    fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 404 && tries > 0) { setTimeout(function () { refresh(tries - 1); }, 1000); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main && !main.contains(document.activeElement && document.activeElement.form ? document.activeElement : null)) main.replaceWith(fresh);
      })
      .catch(function () { });
  }

  // A job's page: its new output lines, as the server renders them (escaped).
  var output = document.getElementById("output");
  if (output) output.scrollTop = output.scrollHeight;
  var source = output && output.getAttribute("data-follow");
  if (source) {
    var follow = new EventSource(source);
    var end = document.getElementById("output-end");
    function add(html) {
      var atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
      var doc = new DOMParser().parseFromString("<pre>" + html + "</pre>", "text/html");
      var node = doc.body.firstChild;
      while (node && node.firstChild) output.appendChild(node.firstChild);
      if (atBottom) output.scrollTop = output.scrollHeight;
    }
    follow.addEventListener("line", function (e) { add(e.data + "\n"); });
    follow.addEventListener("skipped", function (e) { var s = document.createElement("span"); s.className = "err"; s.textContent = e.data + "\n"; output.appendChild(s); });
    follow.addEventListener("end", function (e) {
      follow.close();
      if (end) end.textContent = "The job ended: " + e.data + ".";
      var state = document.getElementById("job-state");
      if (state) state.textContent = e.data;
      refresh(5);
    });
    follow.addEventListener("failed", function (e) { follow.close(); if (end) end.textContent = e.data; });
  }
})();
