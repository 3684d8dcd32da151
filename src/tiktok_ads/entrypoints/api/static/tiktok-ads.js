/*! tiktok-ads.js: keeps TikTok's click id (ttclid) in a first-party cookie for the
 * attribution window and hands ttclid, _ttp and a shared event_id to the shop's code.
 * ES5, no dependencies, no network requests, no global but window.tiktokAds; never throws.
 * Consent: writes nothing while consent is withheld (window.tiktokAdsConfig =
 * {requireConsent: true}, <script data-require-consent>, Google Consent Mode ad_storage,
 * or tiktokAds.holdConsent()/revokeConsent()). */
(function (window, document) {
  "use strict";
  var WINDOW_DAYS = /*@window_days*/28;
  var COOKIE = "ttclid";
  var MAX_VALUE_CHARS = 1000;
  if (!window || !document || (window.tiktokAds && window.tiktokAds.installed)) {
    return;
  }
  var script = document.currentScript || null;
  var pending = null; // a ttclid seen while consent was withheld, stored once granted
  var said = null; // the last of hold/grant/revoke: "held", "granted" or null
  var counter = 0;

  function config() {
    var given = window.tiktokAdsConfig;
    return given && typeof given === "object" ? given : {};
  }

  function tagRequiresConsent() {
    var tag = script;
    if (!tag) { // browsers without currentScript: the tag that loaded us
      var tags = document.getElementsByTagName("script");
      for (var i = 0; i < tags.length; i++) {
        if (/tiktok-ads\.js/.test(tags[i].src || "")) { tag = tags[i]; }
      }
    }
    var flag = tag && tag.getAttribute ? tag.getAttribute("data-require-consent") : null;
    return flag !== null && flag !== "false";
  }

  var requireConsent = tagRequiresConsent();

  /* Google Consent Mode: the last `consent` default/update in the dataLayer naming ad_storage. */
  function consentModeAdStorage() {
    var layer = window.dataLayer;
    var found = null;
    if (!layer || typeof layer.length !== "number") { return null; }
    for (var i = 0; i < layer.length; i++) {
      var entry = layer[i];
      if (entry && entry[0] === "consent" && (entry[1] === "default" || entry[1] === "update") &&
          entry[2] && typeof entry[2].ad_storage === "string") {
        found = entry[2].ad_storage;
      }
    }
    return found;
  }

  function consented() {
    if (said !== null) { return said === "granted"; }
    var adStorage = consentModeAdStorage();
    if (adStorage !== null) { return adStorage === "granted"; }
    return !(config().requireConsent === true || requireConsent);
  }

  function readCookie(name) {
    var pairs = (document.cookie || "").split(";");
    for (var i = 0; i < pairs.length; i++) {
      var pair = pairs[i].replace(/^\s+/, "");
      if (pair.indexOf(name + "=") === 0) {
        var raw = pair.substring(name.length + 1);
        try { raw = decodeURIComponent(raw); } catch (e) { /* keep it as it is */ }
        return raw || null;
      }
    }
    return null;
  }

  function writeCookie(value, seconds) {
    var parts = [COOKIE + "=" + encodeURIComponent(value), "path=/", "max-age=" + seconds,
      "expires=" + new Date(new Date().getTime() + seconds * 1000).toUTCString(), "SameSite=Lax"];
    var domain = config().cookieDomain;
    if (typeof domain === "string" && domain) { parts.push("domain=" + domain); }
    if (window.location.protocol === "https:") { parts.push("Secure"); }
    document.cookie = parts.join("; ");
  }

  function clean(value) {
    if (typeof value !== "string") { return null; }
    value = value.replace(/^\s+|\s+$/g, "");
    if (!value || value.length > MAX_VALUE_CHARS || /[\s\x00-\x1f\x7f]/.test(value)) {
      return null;
    }
    return value;
  }

  /* The ttclid of this page's URL, read as the service reads one (a "+" is a space). */
  function urlTtclid() {
    var query = (window.location.search || "").replace(/^\?/, "").split("&");
    for (var i = 0; i < query.length; i++) {
      if (query[i].indexOf("ttclid=") === 0) {
        try {
          var value = clean(decodeURIComponent(query[i].substring(7).replace(/\+/g, " ")));
          if (value) { return value; }
        } catch (e) { /* a broken escape: not a click id */ }
      }
    }
    return null;
  }

  /* Store a pending click id once consent allows (called on load and by every method). */
  function sync() {
    if (pending && consented()) {
      writeCookie(pending, Math.round(WINDOW_DAYS * 86400));
      pending = null;
    }
  }

  function pixel(method) {
    var ttq = window.ttq;
    if (ttq && typeof ttq[method] === "function") {
      try { ttq[method](); } catch (e) { /* the pixel's trouble, not the page's */ }
    }
  }

  function safely(fn, fallback) {
    return function () {
      try { return fn.apply(null, arguments); } catch (e) { return fallback; }
    };
  }

  function randomPart() {
    var crypto = window.crypto || window.msCrypto;
    if (crypto && crypto.getRandomValues) {
      var words = new Uint32Array(2);
      crypto.getRandomValues(words);
      return words[0].toString(36) + words[1].toString(36);
    }
    return Math.random().toString(36).substring(2, 12);
  }

  var api = {
    installed: true,
    /* The click id: the first-party cookie, else this page's URL. */
    ttclid: safely(function () { sync(); return readCookie(COOKIE) || urlTtclid(); }, null),
    /* TikTok's own first-party cookie, set by the pixel. */
    ttp: safely(function () { sync(); return readCookie("_ttp"); }, null),
    /* One id for ttq.track(event, props, {event_id: id}) and the server event alike. */
    eventId: safely(function (prefix) {
      prefix = typeof prefix === "string" && prefix ? prefix.substring(0, 64) : "event";
      counter += 1;
      return prefix + "_" + new Date().getTime() + "_" + randomPart() + counter.toString(36);
    }, "event_" + new Date().getTime()),
    /* The `context` of a server event: ttclid, ttp, page_url, referrer, user_agent. */
    context: safely(function () {
      var context = {};
      var values = {
        ttclid: api.ttclid(),
        ttp: api.ttp(),
        page_url: window.location.href,
        referrer: document.referrer,
        user_agent: window.navigator && window.navigator.userAgent
      };
      for (var key in values) {
        if (values.hasOwnProperty(key) && values[key]) { context[key] = values[key]; }
      }
      return context;
    }, {}),
    consented: safely(function () { return consented(); }, false),
    holdConsent: safely(function () { said = "held"; pixel("holdConsent"); }),
    grantConsent: safely(function () {
      said = "granted";
      pending = pending || urlTtclid(); // granted again after a revoke, on the landing page
      sync();
      pixel("grantConsent");
    }),
    revokeConsent: safely(function () {
      said = "held";
      pending = null;
      writeCookie("", 0);
      pixel("revokeConsent");
    })
  };

  try {
    pending = urlTtclid();
    sync();
  } catch (e) { /* never the page's problem */ }
  window.tiktokAds = api;
})(typeof window !== "undefined" ? window : null, typeof document !== "undefined" ? document : null);
