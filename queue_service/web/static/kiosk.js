// The kiosk: the code field keeps the focus (a scanner types like a keyboard and ends with
// Enter), answers come back without a page load, the screen resets after a few seconds,
// and a network blip is retried, saying so. Without this file the form still works.
(function () {
  "use strict";
  var form = document.getElementById("scan");
  if (!form) { return; }
  var field = document.getElementById("f-code");
  var answer = document.getElementById("answer");
  var retrying = document.getElementById("retrying");
  var resetSeconds = Number(form.getAttribute("data-reset-seconds")) || 6;
  var resetTimer = null;

  function keepFocus() { if (document.activeElement !== field) { field.focus(); } }
  setInterval(keepFocus, 1000);
  // A box ticked by touch must not keep the focus: the scanner types into the field.
  document.getElementById("f-priority").addEventListener("change", keepFocus);
  // An answer the server rendered (a walk-in ticket, a page without script) clears too.
  if (answer.children.length) {
    resetTimer = setTimeout(function () { answer.replaceChildren(); keepFocus(); },
                            resetSeconds * 2000);
  }

  function show(template, fill) {
    var node = document.getElementById(template).content.cloneNode(true);
    fill(node);
    answer.replaceChildren(node);
    clearTimeout(resetTimer);
    resetTimer = setTimeout(function () { answer.replaceChildren(); keepFocus(); },
                            resetSeconds * 1000);
  }

  function send(body, attempt) {
    return fetch(form.action || window.location.pathname, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) {
      if (response.status === 401) { window.location.reload(); return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).catch(function (error) {
      // Offline or a server hiccup: try again, at most five times, and say so.
      if (attempt >= 5) { throw error; }
      retrying.hidden = false;
      return new Promise(function (resolve) { setTimeout(resolve, 1000 * (attempt + 1)); })
        .then(function () { return send(body, attempt + 1); });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = field.value.trim();
    if (!code) { return; }
    var body = new FormData(form);
    field.value = "";
    // Priority is marked for one participant at a time.
    document.getElementById("f-priority").checked = false;
    send(body, 0).then(function (result) {
      retrying.hidden = true;
      if (!result) { return; }
      if (result.outcome === "checked_in") {
        show("t-ok", function (node) {
          node.querySelector(".number").textContent = result.queue_number;
          node.querySelector(".again").hidden = !result.again;
          node.querySelector(".marked").hidden = !result.priority;
        });
      } else {
        show("t-refused", function (node) {
          node.querySelector(".why").textContent = result.message;
        });
      }
    }).catch(function () {
      retrying.hidden = true;
      show("t-refused", function (node) {
        node.querySelector(".why").textContent = retrying.getAttribute("data-failed") ||
          "Tidak dapat terhubung. Silakan tanyakan petugas.";
      });
    }).finally(keepFocus);
  });

  // A camera scan where the browser can read QR codes (BarcodeDetector).
  var camera = document.getElementById("camera");
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    camera.hidden = false;
    camera.addEventListener("click", function () {
      var video = document.getElementById("viewfinder");
      var detector = new window.BarcodeDetector({formats: ["qr_code"]});
      navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}})
        .then(function (stream) {
          video.srcObject = stream; video.hidden = false; video.play();
          var look = function () {
            detector.detect(video).then(function (codes) {
              if (codes.length) {
                stream.getTracks().forEach(function (track) { track.stop(); });
                video.hidden = true;
                field.value = codes[0].rawValue;
                form.requestSubmit();
              } else { requestAnimationFrame(look); }
            }).catch(function () { requestAnimationFrame(look); });
          };
          look();
        }).catch(function () { camera.hidden = true; });
    });
  }
})();
