// The waiting-room display: polls the public queue API (polling.js: back-off and a notice
// when the server cannot be reached), redraws who is called and who comes next, and
// announces each new call once (a highlight, a chime, a spoken sentence; spoken_call.js).
// Without this file the page still shows the queue as it was when loaded.
(function () {
  "use strict";
  var board = document.getElementById("main");
  if (!board || !board.getAttribute("data-queue-url")) { return; }
  var queueUrl = board.getAttribute("data-queue-url");
  var pollMs = Number(board.getAttribute("data-poll-ms")) || 2000;
  var nextShown = Number(board.getAttribute("data-next-shown")) || 8;
  var timezone = board.getAttribute("data-timezone");
  var locale = board.getAttribute("data-locale") === "en" ? "en-GB" : "id-ID";
  var counters = document.getElementById("counters");
  var nextList = document.getElementById("next");
  var lastCall = document.getElementById("last-call");
  var reconnecting = document.getElementById("reconnecting");
  var soundButton = document.getElementById("sound");
  // Announce only calls after the newest one the page was rendered with.
  var lastAnnounced = board.getAttribute("data-last-announcement") || "";
  var HIGHLIGHT_MS = 12000;
  // More counters than this get smaller cards, so that all of them fit on a 720p screen.
  var MANY_COUNTERS = 6;
  var serverOffsetMs = 0;  // the server's clock minus ours, from each answer's Date header

  // --- the clock, in the branch's time zone, on the server's time ---
  var timeFormat = new Intl.DateTimeFormat(locale, {hour: "2-digit", minute: "2-digit",
                                                   hourCycle: "h23", timeZone: timezone});
  var dateFormat = new Intl.DateTimeFormat(locale, {weekday: "long", day: "numeric",
                                                   month: "long", year: "numeric",
                                                   timeZone: timezone});
  function tick() {
    var now = new Date(Date.now() + serverOffsetMs);
    document.getElementById("clock").textContent = timeFormat.format(now).replace(".", ":");
    document.getElementById("date").textContent = dateFormat.format(now);
  }
  setInterval(tick, 1000);

  // --- drawing ---
  function waitText(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }  // no service time yet
    if (seconds < 60) { return board.getAttribute("data-wait-soon"); }
    return board.getAttribute("data-wait-minutes").replace("999", String(Math.round(seconds / 60)));
  }

  function cardOf(name) {
    var cards = counters.querySelectorAll(".counter");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i].getAttribute("data-counter") === name) { return cards[i]; }
    }
    var card = document.createElement("li");
    card.className = "counter";
    card.setAttribute("data-counter", name);
    card.innerHTML = '<span class="number"></span><span class="name"></span>';
    card.querySelector(".name").textContent = name;
    counters.appendChild(card);
    counters.classList.toggle("many", counters.children.length > MANY_COUNTERS);
    document.getElementById("no-counters").hidden = true;
    return card;
  }

  function draw(queue) {
    var serving = {};
    queue.now_serving.forEach(function (entry) { serving[entry.counter] = entry.queue_number; });
    Object.keys(serving).forEach(cardOf);
    counters.querySelectorAll(".counter").forEach(function (card) {
      var number = serving[card.getAttribute("data-counter")] || "—";
      var shown = card.querySelector(".number");
      if (shown.textContent !== number) { shown.textContent = number; }
    });
    var items = queue.waiting.slice(0, nextShown).map(function (entry) {
      var item = document.createElement("li");
      item.innerHTML = '<span class="number"></span><span class="wait"></span>';
      item.querySelector(".number").textContent = entry.queue_number;
      item.querySelector(".wait").textContent = waitText(entry.estimated_wait_seconds);
      return item;
    });
    nextList.replaceChildren.apply(nextList, items);
    document.getElementById("next-empty").hidden = items.length > 0;
  }

  // --- announcing ---
  // Stream ids "1700000000000-3": by time, then by sequence.
  function isNewer(id, than) {
    if (!than) { return true; }
    var a = id.split("-").map(Number), b = than.split("-").map(Number);
    return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
  }

  var audio = null;
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { audio = new Context(); }
    return audio;
  }

  // Two soft tones, "ding-dong", made here: nothing to download.
  function chime() {
    var context = audio;
    if (!context || context.state !== "running") { return Promise.resolve(); }
    [[880, 0], [660, 0.45]].forEach(function (tone) {
      var oscillator = context.createOscillator(), gain = context.createGain();
      var start = context.currentTime + tone[1];
      oscillator.type = "sine";
      oscillator.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.9);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 1);
    });
    return new Promise(function (resolve) { setTimeout(resolve, 1400); });
  }

  function speak(text) {
    var synth = window.speechSynthesis;
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") {
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = "id-ID";
      utterance.rate = 0.9;
      var voices = typeof synth.getVoices === "function" ? synth.getVoices() : [];
      var indonesian = voices.filter(function (v) { return /^id/i.test(v.lang); })[0];
      if (indonesian) { utterance.voice = indonesian; }
      // Not every browser ends an utterance it could not say: go on after a while anyway.
      var done = setTimeout(resolve, 1500 + text.length * 90);
      utterance.onend = utterance.onerror = function () { clearTimeout(done); resolve(); };
      try { synth.speak(utterance); } catch (error) { clearTimeout(done); resolve(); }
    });
  }

  function highlight(announcement) {
    var card = cardOf(announcement.counter);
    card.classList.remove("called");
    void card.offsetWidth;  // restart the animation for a recall of the same number
    card.classList.add("called");
    clearTimeout(card.highlightTimer);
    card.highlightTimer = setTimeout(function () { card.classList.remove("called"); },
                                     HIGHLIGHT_MS);
    lastCall.textContent = announcement.queue_number + " → " + announcement.counter;
    lastCall.hidden = false;
    lastCall.classList.remove("fresh");
    void lastCall.offsetWidth;
    lastCall.classList.add("fresh");
  }

  // One call at a time: a burst of calls is said in order, none over another.
  var saying = Promise.resolve();
  function announce(announcement) {
    saying = saying.then(function () {
      highlight(announcement);
      return chime().then(function () {
        return speak(window.AntrianSpeech.spokenCall(announcement.queue_number,
                                                     announcement.counter,
                                                     announcement.recall));
      });
    });
  }

  // --- polling ---
  function read(response) {
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    var date = Date.parse(response.headers.get("Date") || "");
    if (!isNaN(date)) { serverOffsetMs = date - Date.now(); }
    return response.json();
  }

  function take(queue) {
    draw(queue);
    (queue.announcements || []).forEach(function (announcement) {
      if (isNewer(announcement.id, lastAnnounced)) {
        lastAnnounced = announcement.id;
        announce(announcement);
      }
    });
  }

  // --- sound: browsers allow it only after someone has clicked on the page once ---
  function soundAllowed() { return audio && audio.state === "running"; }
  var context = audioContext();
  soundButton.hidden = !context || soundAllowed();
  if (context) {
    // A browser set to allow sound (a kiosk's autoplay policy) starts the context by itself.
    context.onstatechange = function () { soundButton.hidden = soundAllowed(); };
  }
  soundButton.addEventListener("click", function () {
    audioContext().resume().then(function () {
      soundButton.hidden = true;
      chime();
    });
    // Speaking once inside the click lets the browser speak later calls by itself; it also
    // tells whoever clicked that the sound works.
    speak("Suara aktif.");
  });

  window.AntrianPolling.poll(queueUrl, {
    intervalMs: pollMs, read: read, onAnswer: take,
    onTrouble: function (trouble) { reconnecting.hidden = !trouble; }
  });
}());
