// The waiting room page with JavaScript: ask for the page again every few seconds (as long
// as its data-refresh says) and put the new standing into its live region, which a screen
// reader announces, instead of reloading the whole page. Once the turn has come the page
// answers with a redirect (the pass set in a cookie): then load it, which goes on to the
// booking. Without JavaScript a <noscript> meta refresh reloads the page instead.
(function () {
  "use strict";
  var region = document.getElementById("room-status");
  if (!region || !window.fetch || !window.DOMParser) { return; }

  function later(seconds) {
    var wait = Number(seconds);
    setTimeout(ask, Math.max(2, isFinite(wait) && wait > 0 ? wait : 15) * 1000);
  }

  function ask() {
    fetch(location.href, {cache: "no-store", credentials: "same-origin", redirect: "manual"})
      .then(function (response) {
        if (response.type === "opaqueredirect") { location.reload(); return; }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text().then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("room-status");
          if (!fresh) { location.reload(); return; }
          if (fresh.textContent.trim() !== region.textContent.trim()) {
            region.innerHTML = fresh.innerHTML;
          }
          later(fresh.getAttribute("data-refresh"));
        });
      })
      .catch(function () { later(30); });
  }

  later(region.getAttribute("data-refresh"));
}());
