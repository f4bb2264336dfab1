// Progressive: the verification page says its time left as text when it is made; this
// keeps that text counting down. Each [data-seconds] counts from its page's load; a
// [data-clock] one reads m:ss, the others plain seconds; the resend hint, at 0, says
// that a new code may be asked for now.
(function () {
  "use strict";
  var started = Date.now();
  var counters = Array.prototype.slice.call(document.querySelectorAll("[data-seconds]"));
  if (!counters.length) { return; }
  function tick() {
    var gone = Math.floor((Date.now() - started) / 1000);
    counters.forEach(function (node) {
      var left = Math.max(0, parseInt(node.getAttribute("data-seconds"), 10) - gone);
      if (node.hasAttribute("data-clock")) {
        var seconds = left % 60;
        node.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
        return;
      }
      node.textContent = String(left);
      var hint = node.closest("[data-ready]");
      if (left === 0 && hint) { hint.textContent = hint.getAttribute("data-ready"); }
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
