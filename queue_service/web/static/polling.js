// Short polling that survives a dropped connection or a restarting server, shared by the
// counter page and the waiting-room display: ask every `intervalMs`; after a failure wait
// twice as long each time (at most 30 s) and say so through `onTrouble(true)`, then
// `onTrouble(false)` once an answer comes again; a request that hangs is given up after 8 s.
(function (root) {
  "use strict";
  var MAX_BACKOFF_MS = 30000;
  var REQUEST_TIMEOUT_MS = 8000;

  // options: intervalMs; read(response) → the body, or throws (a failure);
  // onAnswer(body); onTrouble(bool); skip() → true to let this turn pass (optional).
  function poll(url, options) {
    var failures = 0;

    function schedule(delay) { setTimeout(ask, delay); }

    function ask() {
      if (options.skip && options.skip()) { schedule(options.intervalMs); return; }
      var controller = new AbortController();
      var timeout = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
      fetch(url, {cache: "no-store", credentials: "same-origin", signal: controller.signal})
        .then(options.read)
        .then(function (body) {
          failures = 0;
          options.onTrouble(false);
          options.onAnswer(body);
          schedule(options.intervalMs);
        })
        .catch(function () {
          failures += 1;
          options.onTrouble(true);
          schedule(Math.min(options.intervalMs * Math.pow(2, failures), MAX_BACKOFF_MS));
        })
        .finally(function () { clearTimeout(timeout); });
    }

    schedule(options.intervalMs);
  }

  root.AntrianPolling = {poll: poll};
}(window));
