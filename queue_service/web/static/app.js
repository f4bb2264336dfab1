// Progressive: every page works without this file.
(function () {
  "use strict";
  // A booking form sent once: a second click or tap while the first is on its way does
  // nothing (the server also books once per form, see FormAttempts).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var ask = form.getAttribute("data-confirm");
    if (ask && !window.confirm(ask)) { event.preventDefault(); return; }
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
  });
  // Quicker on slow data: choosing a day shows its slots under it without leaving the
  // page. The slots page's own form is fetched and moved in, so its texts, rules and
  // disabled slots are the server's; any failure falls back to following the link.
  var days = document.querySelector("ul.days[data-inline]");
  if (days && window.fetch && window.DOMParser) {
    days.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a");
      // A day's own link only: not a link inside its slots (a full slot's waitlist), nor a
      // full day's waitlist link, which are followed.
      if (!link || link.parentNode.parentNode !== days) { return; }
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
      event.preventDefault();
      fetch(link.href, {credentials: "same-origin"}).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      }).then(function (html) {
        var form = new DOMParser().parseFromString(html, "text/html").querySelector("main form");
        if (!form) { throw new Error("no slots"); }
        var shown = days.querySelector(".inline-slots");
        if (shown) { shown.previousElementSibling.setAttribute("aria-expanded", "false"); shown.remove(); }
        var holder = document.createElement("div");
        holder.className = "inline-slots";
        holder.appendChild(document.importNode(form, true));
        link.parentNode.appendChild(holder);
        link.setAttribute("aria-expanded", "true");
        var first = holder.querySelector("input:not([disabled])");
        if (first) { first.focus(); }
      }).catch(function () { window.location.href = link.href; });
    });
  }
  // The error summary gets the focus, so a screen reader reads it first.
  var summary = document.getElementById("summary");
  if (summary) { summary.focus(); }
})();
