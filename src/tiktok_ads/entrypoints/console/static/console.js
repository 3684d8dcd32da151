// Refreshes the page's data every few seconds while it is open: fetches the same URL and swaps
// <main>, so nothing flashes and the scroll position stays. Pauses while someone types in a
// form or the tab is hidden; a lost session (redirect to the login page) reloads the page.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var seconds = parseInt(main.getAttribute("data-refresh"), 10) || 10;
  var live = document.querySelector("[data-live]");

  function busy() {
    var el = document.activeElement;
    return el && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }

  function refresh() {
    if (document.hidden || busy()) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Refresh": "1" } })
      .then(function (response) {
        // Sent to the login page: the session ended; show it. A page with a message (422)
        // still has a <main> to show; an answer without one (503 JSON) is skipped below.
        if (response.redirected) { window.location.reload(); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null || busy()) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!fresh) return;
        main.innerHTML = fresh.innerHTML;
        if (live) {
          live.classList.remove("pulse");
          void live.offsetWidth; // restart the animation
          live.classList.add("pulse");
        }
      })
      .catch(function () { if (live) live.classList.add("stale"); });
  }

  window.setInterval(refresh, seconds * 1000);
})();
