// puente live updates: the server says what changed (server-sent events),
// and the page re-fetches its own live regions through the usual,
// access-checked route. No data arrives on the event stream itself.
(function () {
  "use strict";
  // A form that destroys or ends something asks first (data-confirm).
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // A form with data-check="URL" is checked as the user types: the form
  // is posted to URL, which answers with the page, and the element named
  // by data-check-into is taken from it (the server decides; nothing is
  // stored).
  var checkTimer = null;
  document.addEventListener("input", function (e) {
    var form = e.target.form;
    if (!form || !form.getAttribute("data-check")) return;
    clearTimeout(checkTimer);
    checkTimer = setTimeout(function () {
      var sel = form.getAttribute("data-check-into");
      fetch(form.getAttribute("data-check"), { method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)) })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(sel);
          var here = document.querySelector(sel);
          if (fresh && here) here.replaceChildren.apply(here, Array.prototype.slice.call(fresh.childNodes));
          document.body.setAttribute("data-checked", String(Date.now()));
        })
        .catch(function () {});
    }, 300);
  });
  // Times are shown in the viewer's own zone, named ("2026-03-08 09:30
  // MST"): the two sides sit in up to three zones with different
  // daylight-saving rules. The server wrote the node's zone, and UTC in
  // the title (shown on hover).
  function localTimes(root) {
    if (!window.Intl || !Intl.DateTimeFormat) return;
    var f;
    try {
      f = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" });
    } catch (e) { return; }
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime()) || el.getAttribute("datetime").length < 12) return; // dates stay as they are
      var p = {};
      f.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
      el.textContent = p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + " " + (p.timeZoneName || "");
      el.setAttribute("data-local", "1");
    });
  }
  localTimes(document);
  // A refusal that names a field (data-error-field on main): the field
  // is marked, the reason repeated next to it, and the focus put there;
  // the summary stays at the top. A field "participant.national_id" is
  // the form's "participant.national_id", "participant_national_id" or
  // "national_id", the first found.
  (function () {
    var main = document.querySelector("main[data-error-field]");
    if (!main) return;
    var field = main.getAttribute("data-error-field").replace(/\[\d+\]/g, "");
    var parts = field.split(".");
    var names = [field, field.replace(/\./g, "_"), parts[parts.length - 1]];
    var el = null;
    for (var i = 0; i < names.length && !el; i++) {
      el = main.querySelector('form [name="' + names[i].replace(/"/g, "") + '"]:not([type=hidden])');
    }
    if (!el) return;
    el.classList.add("field-error");
    el.setAttribute("aria-invalid", "true");
    var summary = document.getElementById("error-summary");
    if (summary) {
      var msg = document.createElement("span");
      msg.className = "field-msg";
      msg.id = "field-msg";
      msg.textContent = summary.textContent;
      el.setAttribute("aria-describedby", "field-msg");
      el.insertAdjacentElement("afterend", msg);
    }
    el.focus();
  })();
  var regions = document.querySelectorAll("[data-live]");
  if (!regions.length || !window.EventSource) return;
  var timer = null;
  function wanted(name, key) {
    if (name === "*") return true; // events were missed: refresh everything
    for (var i = 0; i < regions.length; i++) {
      var want = regions[i].getAttribute("data-live");
      if (want === name || want === name + ":*" || want === name + ":" + key) return true;
    }
    return false;
  }
  // A refresh keeps what the user is typing: the fields whose value
  // differs from what the page was rendered with are put back into the
  // same fields of the fresh region (by form and name, or id), with the
  // focus, so a change made elsewhere never wipes a half-filled form.
  function fieldKey(el) {
    if (!el || !el.name && !el.id) return "";
    var form = el.form ? (el.form.getAttribute("action") || "") : "";
    return el.name ? form + "|" + el.name : "#" + el.id;
  }
  function typed(region) {
    var kept = {};
    region.querySelectorAll("input, textarea, select").forEach(function (el) {
      var k = fieldKey(el);
      if (!k || el.type === "hidden" || el.type === "submit") return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== el.defaultChecked) kept[k + "=" + el.value] = el.checked;
      } else if (el.tagName === "SELECT") {
        // Edited when another option than the rendered one is chosen (the
        // first, unless one is marked selected).
        var def = 0;
        for (var i = 0; i < el.options.length; i++) if (el.options[i].defaultSelected) { def = i; break; }
        if (el.selectedIndex !== def) kept[k] = el.value;
      } else if (el.value !== el.defaultValue) {
        kept[k] = el.value;
      }
    });
    return kept;
  }
  function restore(region, kept, focused) {
    region.querySelectorAll("input, textarea, select").forEach(function (el) {
      var k = fieldKey(el);
      if (!k) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (Object.prototype.hasOwnProperty.call(kept, k + "=" + el.value)) el.checked = kept[k + "=" + el.value];
      } else if (Object.prototype.hasOwnProperty.call(kept, k)) {
        el.value = kept[k];
      }
      if (focused && k === focused) el.focus();
    });
  }
  function refresh() {
    timer = null;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Puente-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelectorAll("[data-live]");
        for (var i = 0; i < regions.length && i < fresh.length; i++) {
          var kept = typed(regions[i]);
          var focused = document.activeElement && regions[i].contains(document.activeElement) ? fieldKey(document.activeElement) : "";
          regions[i].replaceChildren.apply(regions[i], Array.prototype.slice.call(fresh[i].childNodes));
          restore(regions[i], kept, focused);
          localTimes(regions[i]);
        }
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {});
  }
  // The stream starts where the page's rendering left off (then from the
  // last event seen), so an event that came in between is never lost: the
  // server answers a gap with one "refresh everything".
  var since = document.body.getAttribute("data-live-seq") || "0";
  function connect() {
    var es = new EventSource("/events?since=" + since);
    es.onmessage = function (e) {
      if (e.lastEventId) since = e.lastEventId;
      var ev = {};
      try { ev = JSON.parse(e.data) || {}; } catch (_) { return; }
      if (wanted(ev.name || "", ev.key || "") && timer === null) timer = setTimeout(refresh, 50);
    };
    es.addEventListener("open", function () { document.body.setAttribute("data-live-ready", "1"); });
    es.onerror = function () {
      // The browser retries by itself unless it gave up (a refused or
      // failed connection): then start again, from the last event seen.
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
  }
  connect();
})();
