// The counter page: keyboard shortcuts for its buttons, and the live part of the page
// (who is served, who waits) refreshed every few seconds (polling.js: back-off and a notice
// when the connection drops). Every button stays a plain form: without this file the page
// still works.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var pollUrl = live.getAttribute("data-poll-url");
  var pollMs = Number(live.getAttribute("data-poll-ms")) || 3000;
  var reconnecting = document.getElementById("reconnecting");
  var sending = false;

  // --- shortcuts: N or Space call next, R recall, S served, X no-show, P pause/resume ---
  var KEYS = {"n": "n", " ": "n", "r": "r", "s": "s", "x": "x", "p": "p"};

  function typing(target) {
    return target && (target.isContentEditable ||
                      /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat || typing(event.target)) {
      return;
    }
    // Space on a focused button or link presses that one, as everywhere else.
    if (event.key === " " && event.target.closest && event.target.closest("button, a")) {
      return;
    }
    var shortcut = KEYS[event.key.toLowerCase()];
    if (!shortcut) { return; }
    var button = live.querySelector('button[data-shortcut="' + shortcut + '"]');
    if (!button || button.disabled) { return; }
    event.preventDefault();
    button.click();
  });

  // One step at a time: a second press while the first is on its way does nothing here
  // (and the form's token would make the server answer it as the first anyway).
  document.addEventListener("submit", function (event) {
    if (sending) { event.preventDefault(); return; }
    sending = true;
  });
  window.addEventListener("pageshow", function () { sending = false; });

  // --- the live part ---
  function busy() {
    // Someone choosing in a list or pressing a button: leave the part as it is for now.
    var active = document.activeElement;
    return sending || (active && live.contains(active) && typing(active));
  }

  function read(response) {
    if (response.status === 401) {
      // The session ended: the page itself goes to the sign-in (and this poll stops).
      window.location.reload();
      return new Promise(function () {});
    }
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.text();
  }

  function replace(html) {
    // Keep the focus on the same control where it still exists.
    var focused = document.activeElement && live.contains(document.activeElement)
      ? focusKey(document.activeElement) : null;
    live.innerHTML = html;
    if (focused) {
      var again = live.querySelector(focused);
      if (again) { again.focus(); }
    }
  }

  function focusKey(element) {
    var form = element.closest("form");
    if (!form) { return null; }
    var action = form.querySelector('input[name="action"]');
    var number = form.querySelector('input[name="queue_number"]');
    var selector = "form:has(input[name=\"action\"][value=\"" + (action ? action.value : "") + "\"])";
    if (number) { selector += ":has(input[name=\"queue_number\"][value=\"" + number.value + "\"])"; }
    return selector + " button";
  }

  window.AntrianPolling.poll(pollUrl, {
    intervalMs: pollMs, read: read, skip: busy,
    onAnswer: function (html) { if (!busy()) { replace(html); } },
    onTrouble: function (trouble) { reconnecting.hidden = !trouble; }
  });
}());
