/* ArkWatch — include with one tag on the landing page, served from the page's own site
 * (docs/how-it-works.md "Serving the snippet from your own site"):
 *   <script src="/js/page.js" data-heartbeat="15" defer></script>
 * Options (data-* on the script tag): data-endpoint (default: the script's origin), data-heartbeat
 * (seconds, 1-60, default 15; reported to the server with each event), data-honor-dnt ("true"/"false",
 * default true), data-events (the events' path, default: the server's TRACKING_EVENTS_PATH).
 * No dependencies. Every event is a fetch(…, {keepalive: true}) of JSON as text/plain (no CORS
 * preflight); sendBeacon only where fetch is missing: lists block cross-site beacons ($ping,third-party)
 * and sendBeacon says true even then.
 * Browser storage: nothing is written in the browser (no localStorage, sessionStorage or cookie) unless
 * the server's answer to the page view says this visitor's consent allows it ({"storage": true});
 * otherwise the visitor id lives for this page view only, and the ak is read from the address. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__arkwatch) return;
  window.__arkwatch = true;
  var data = script.dataset || {};
  var origin = data.endpoint || new URL(script.src, location.href).origin;
  // The server writes its TRACKING_EVENTS_PATH here when it serves the script (tracking/views.py).
  var eventsPath = (data.events || "/api/page").replace(/\/+$/, "");
  var PATHS = { visit: eventsPath + "/view", cta: eventsPath + "/click", identify: eventsPath + "/email" };
  // The contract's range, 1-60 s; the period is reported with every visit event (heartbeat_s), so the
  // server judges this page by its own rhythm and no server setting has to match data-heartbeat.
  var heartbeatS = Math.min(60, Math.max(1, parseFloat(data.heartbeat || "15") || 15));
  var heartbeatMs = heartbeatS * 1000;
  // Once the reading threshold is crossed, beats only keep the page view's length: one a minute is enough.
  var SLOW_MS = Math.max(heartbeatMs, 60000);
  // Sent this long past the threshold, counted from the server's own acknowledgement of the page view.
  var THRESHOLD_MARGIN_MS = 150;
  var honorDnt = data.honorDnt !== "false";
  if (honorDnt && (navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true)) return;

  var KEYS = { visitor: "arkwatch_vid", ak: "arkwatch_ak", email: "arkwatch_email" };
  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  // Reading only: these keys exist only if an earlier page view was allowed to write them.
  function read(area, key) {
    try { return window[area].getItem(key) || ""; } catch (e) { return ""; }
  }
  function keep() {
    try {
      localStorage.setItem(KEYS.visitor, visitorId);
      if (ak) sessionStorage.setItem(KEYS.ak, ak);
      if (email) sessionStorage.setItem(KEYS.email, email);
    } catch (e) {}
  }
  function forget() {
    // A refusal takes effect here too: what an earlier, consented page view wrote goes.
    try {
      if (localStorage.getItem(KEYS.visitor) !== null) localStorage.removeItem(KEYS.visitor);
      if (sessionStorage.getItem(KEYS.ak) !== null) sessionStorage.removeItem(KEYS.ak);
      if (sessionStorage.getItem(KEYS.email) !== null) sessionStorage.removeItem(KEYS.email);
    } catch (e) {}
  }

  var visitorId = read("localStorage", KEYS.visitor) || randomId();
  var pageViewId = randomId();
  var params = new URLSearchParams(location.search);
  var ak = params.get("ak") || "";
  var email = params.get("email") || "";
  if (ak || email) {
    // Remove the identity from the address bar (and from bookmarks, shares and later referrers).
    params.delete("ak"); params.delete("email");
    var query = params.toString();
    history.replaceState(history.state, "", location.pathname + (query ? "?" + query : "") + location.hash);
  } else {
    ak = read("sessionStorage", KEYS.ak);
    email = read("sessionStorage", KEYS.email);
  }
  var page = location.pathname;
  var referrer = /^https?:/.test(document.referrer) ? document.referrer.slice(0, 2048) : "";

  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var engagedMs = 0;
  function engaged() { return engagedMs + (visibleSince ? Date.now() - visibleSince : 0); }

  function send(path, payload, onAnswer) {
    var body = JSON.stringify(payload);
    var url = origin + path;
    if (window.fetch) {
      try {
        var sent = fetch(url, { method: "POST", body: body, headers: { "Content-Type": "text/plain" }, keepalive: true, mode: "cors", credentials: "omit" });
        if (onAnswer) sent = sent.then(function (r) { return r.ok ? r.json() : null; }).then(onAnswer);
        sent["catch"](function () {});
        return;
      } catch (e) {}
    }
    if (navigator.sendBeacon) navigator.sendBeacon(url, new Blob([body], { type: "text/plain" }));
  }
  function base() {
    var p = { visitor_id: visitorId, page_view_id: pageViewId, page: page };
    if (ak) p.ak = ak;
    if (email) p.email = email;
    if (referrer) p.referrer = referrer;
    return p;
  }
  function visit(event, onAnswer) {
    var p = base(); p.event = event; p.engaged_ms = Math.round(engaged()); p.heartbeat_s = heartbeatS;
    send(PATHS.visit, p, onAnswer);
  }

  // Heartbeats: one every data-heartbeat seconds while the page is visible, until the server's reading
  // threshold (dwell_s, told in the page view's answer); the beat that crosses it is sent just past it,
  // counted both in visible time and from the server's acknowledgement of the page view (so the
  // server's own span is past it too); after it, one a minute.
  var dwellMs = 0, acknowledgedAt = 0, crossed = false, timer = null;
  function untilThreshold() {
    if (!dwellMs || crossed) return Infinity;
    return Math.max(dwellMs - engaged(), acknowledgedAt + dwellMs - Date.now()) + THRESHOLD_MARGIN_MS;
  }
  function schedule() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!visibleSince) return;
    var delay = crossed ? SLOW_MS : heartbeatMs;
    var left = untilThreshold();
    // The crossing beat replaces a regular beat that would fall less than a period before it.
    var crossing = left < 2 * delay;
    if (crossing) delay = Math.max(0, left);
    timer = setTimeout(function () {
      timer = null;
      if (crossing) crossed = true;
      visit("heartbeat");
      schedule();
    }, delay);
  }
  function pageViewAnswered(reply) {
    if (!reply || reply.ok !== true) return;
    if (reply.storage === true) keep(); else forget();
    var seconds = parseFloat(reply.dwell_s);
    if (seconds > 0) { dwellMs = seconds * 1000; acknowledgedAt = Date.now(); schedule(); }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      visibleSince = Date.now(); visit("heartbeat"); schedule();
    } else {
      if (visibleSince) { engagedMs += Date.now() - visibleSince; visibleSince = null; }
      schedule();
    }
  });
  window.addEventListener("pagehide", function () { visit("leave"); if (timer) { clearTimeout(timer); timer = null; } });
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-cta]") : null;
    if (!el) return;
    var p = base(); p.cta_id = el.getAttribute("data-cta");
    send(PATHS.cta, p);
  }, true);

  visit("pageview", pageViewAnswered);
  schedule();
  window.arkwatch = {
    identify: function (address) { send(PATHS.identify, { visitor_id: visitorId, email: String(address), page: page }); },
    visitorId: visitorId
  };
})();
