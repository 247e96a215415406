/* ArkWatch tracker — include with one tag on the landing page:
 *   <script src="https://track.example.com/static/tracker.js" data-heartbeat="15" defer></script>
 * Options (data-* on the script tag): data-endpoint (default: the script's origin), data-heartbeat
 * (seconds, 1-60, default 15; reported to the server with each event), data-honor-dnt ("true"/"false",
 * default true).
 * No dependencies; sends JSON as text/plain with sendBeacon/fetch so no CORS preflight is needed. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__arkwatch) return;
  window.__arkwatch = true;
  var data = script.dataset || {};
  var origin = data.endpoint || new URL(script.src, location.href).origin;
  // The contract's range, 1-60 s; the period is reported with every visit event (heartbeat_s), so the
  // server judges this page by its own rhythm and no server setting has to match data-heartbeat.
  var heartbeatS = Math.min(60, Math.max(1, parseFloat(data.heartbeat || "15") || 15));
  var heartbeatMs = heartbeatS * 1000;
  var honorDnt = data.honorDnt !== "false";
  if (honorDnt && (navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true)) return;

  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function stored(key, make) {
    try {
      var value = localStorage.getItem(key);
      if (!value) { value = make(); localStorage.setItem(key, value); }
      return value;
    } catch (e) { return make(); }  // storage blocked: one id per page load
  }

  var visitorId = stored("arkwatch_vid", randomId);
  var pageViewId = randomId();
  var params = new URLSearchParams(location.search);
  var ak = params.get("ak") || "";
  var email = params.get("email") || "";
  if (ak || email) {
    try { if (ak) sessionStorage.setItem("arkwatch_ak", ak); if (email) sessionStorage.setItem("arkwatch_email", email); } catch (e) {}
    // Remove the identity from the address bar (and from bookmarks, shares and later referrers).
    params.delete("ak"); params.delete("email");
    var query = params.toString();
    history.replaceState(history.state, "", location.pathname + (query ? "?" + query : "") + location.hash);
  } else {
    try { ak = sessionStorage.getItem("arkwatch_ak") || ""; email = sessionStorage.getItem("arkwatch_email") || ""; } catch (e) {}
  }
  var page = location.pathname;
  var referrer = /^https?:/.test(document.referrer) ? document.referrer.slice(0, 2048) : "";

  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var engagedMs = 0;
  function engaged() { return engagedMs + (visibleSince ? Date.now() - visibleSince : 0); }

  function send(path, payload, beacon) {
    var body = JSON.stringify(payload);
    var url = origin + path;
    if (beacon && navigator.sendBeacon) {
      if (navigator.sendBeacon(url, new Blob([body], { type: "text/plain" }))) return;
    }
    try {
      fetch(url, { method: "POST", body: body, headers: { "Content-Type": "text/plain" }, keepalive: true, mode: "cors", credentials: "omit" })["catch"](function () {});
    } catch (e) {}
  }
  function base() {
    var p = { visitor_id: visitorId, page_view_id: pageViewId, page: page };
    if (ak) p.ak = ak;
    if (email) p.email = email;
    if (referrer) p.referrer = referrer;
    return p;
  }
  function visit(event, beacon) {
    var p = base(); p.event = event; p.engaged_ms = Math.round(engaged()); p.heartbeat_s = heartbeatS;
    send("/api/track/visit", p, beacon);
  }

  var timer = null;
  function startHeartbeat() { if (!timer) timer = setInterval(function () { visit("heartbeat"); }, heartbeatMs); }
  function stopHeartbeat() { if (timer) { clearInterval(timer); timer = null; } }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      visibleSince = Date.now(); visit("heartbeat"); startHeartbeat();
    } else {
      if (visibleSince) { engagedMs += Date.now() - visibleSince; visibleSince = null; }
      stopHeartbeat();
    }
  });
  window.addEventListener("pagehide", function () { visit("leave", true); stopHeartbeat(); });
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-cta]") : null;
    if (!el) return;
    var p = base(); p.cta_id = el.getAttribute("data-cta");
    send("/api/track/cta", p, true);
  }, true);

  visit("pageview");
  if (document.visibilityState === "visible") startHeartbeat();
  window.arkwatch = {
    identify: function (address) { send("/api/track/identify", { visitor_id: visitorId, email: String(address), page: page }); },
    visitorId: visitorId
  };
})();
