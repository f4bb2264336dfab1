// What the waiting-room display says for a call, in Bahasa Indonesia:
//   spokenCall("A-007", "Loket 3") → "Nomor antrian A nol nol tujuh, silakan ke loket tiga"
// A queue number is said digit by digit (as people read it off their ticket); a counter's
// number is said as a number ("loket dua belas"). Pure functions and nothing else, so the
// tests call them in the browser (page.evaluate) and nothing mirrors them in Python.
(function (root) {
  "use strict";
  var DIGITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
                "sembilan"];
  // Longer numbers than this are said digit by digit, like a code.
  var LARGEST_SAID_AS_NUMBER = 999999;

  function digitWords(digits) {
    return digits.split("").map(function (d) { return DIGITS[Number(d)]; }).join(" ");
  }

  // 3 "tiga", 11 "sebelas", 15 "lima belas", 21 "dua puluh satu", 100 "seratus",
  // 1200 "seribu dua ratus".
  function numberWords(n) {
    if (n < 10) { return DIGITS[n]; }
    if (n === 10) { return "sepuluh"; }
    if (n === 11) { return "sebelas"; }
    if (n < 20) { return DIGITS[n - 10] + " belas"; }
    if (n < 100) { return withRest(DIGITS[Math.floor(n / 10)] + " puluh", n % 10); }
    if (n < 200) { return withRest("seratus", n - 100); }
    if (n < 1000) { return withRest(DIGITS[Math.floor(n / 100)] + " ratus", n % 100); }
    if (n < 2000) { return withRest("seribu", n - 1000); }
    return withRest(numberWords(Math.floor(n / 1000)) + " ribu", n % 1000);
  }

  function withRest(head, rest) { return rest ? head + " " + numberWords(rest) : head; }

  // "A-007" → "A nol nol tujuh": letters one by one, digits one by one, dashes unsaid.
  function queueNumberWords(queueNumber) {
    var said = [];
    String(queueNumber).toUpperCase().replace(/[A-Z]|[0-9]/g, function (c) {
      said.push(/[0-9]/.test(c) ? DIGITS[Number(c)] : c);
      return c;
    });
    return said.join(" ");
  }

  // "Loket 3" → "loket tiga", "Loket 12" → "loket dua belas", "CS 2" → "CS dua"; a name that is
  // only a number is a counter's: "3" → "loket tiga".
  function counterWords(name) {
    var said = [];
    String(name).split(/[\s._-]+|(\d+)/).forEach(function (part) {
      if (!part) { return; }
      if (/^\d+$/.test(part)) {
        var plain = (part.length === 1 || part[0] !== "0") &&
                    Number(part) <= LARGEST_SAID_AS_NUMBER;
        said.push(plain ? numberWords(Number(part)) : digitWords(part));
      } else if (/^loket$/i.test(part) || /^[A-Z][a-z]+$/.test(part)) {
        said.push(part.toLowerCase());  // a word, not letters to spell
      } else {
        said.push(part);
      }
    });
    if (!/[A-Za-z]/.test(String(name))) { said.unshift("loket"); }
    return said.join(" ");
  }

  // The whole sentence; a recall says so first.
  function spokenCall(queueNumber, counter, recall) {
    var sentence = "Nomor antrian " + queueNumberWords(queueNumber) + ", silakan ke " +
                   counterWords(counter);
    return recall ? "Panggilan ulang. " + sentence : sentence;
  }

  root.AntrianSpeech = {spokenCall: spokenCall, numberWords: numberWords,
                        queueNumberWords: queueNumberWords, counterWords: counterWords};
}(window));
