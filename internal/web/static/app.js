// puente live updates: the server says what changed (server-sent events),
// and the page re-fetches its own live regions through the usual,
// access-checked route. No data arrives on the event stream itself.
(function () {
  "use strict";
  var regions = document.querySelectorAll("[data-live]");
  if (!regions.length || !window.EventSource) return;
  var timer = null;
  function wanted(name, key) {
    for (var i = 0; i < regions.length; i++) {
      var want = regions[i].getAttribute("data-live");
      if (want === name || want === name + ":*" || want === name + ":" + key) return true;
    }
    return false;
  }
  function refresh() {
    timer = null;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Puente-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelectorAll("[data-live]");
        for (var i = 0; i < regions.length && i < fresh.length; i++) {
          regions[i].replaceChildren.apply(regions[i], Array.prototype.slice.call(fresh[i].childNodes));
        }
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {});
  }
  var es = new EventSource("/events");
  es.onmessage = function (e) {
    var ev = {};
    try { ev = JSON.parse(e.data) || {}; } catch (_) { return; }
    if (wanted(ev.name || "", ev.key || "") && timer === null) timer = setTimeout(refresh, 50);
  };
  es.addEventListener("open", function () { document.body.setAttribute("data-live-ready", "1"); });
})();
