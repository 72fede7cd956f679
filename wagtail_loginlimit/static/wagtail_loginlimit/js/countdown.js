/*
 * wagtail-loginlimit: counts down the progressive delay ("You can try again
 * in 0:04.") on the login page and the refusal page. The server refuses a try
 * that comes too early whatever this script shows; without JavaScript the
 * sentence still says how long the wait was when the page was made.
 */
(function () {
  "use strict";

  function clock(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function start(timer) {
    var seconds = parseInt(timer.getAttribute("data-loginlimit-countdown"), 10);
    var sentence = timer.closest(".loginlimit-wait");
    if (!(seconds > 0) || !sentence) {
      return;
    }
    var end = Date.now() + seconds * 1000;
    var tick = function () {
      var left = Math.ceil((end - Date.now()) / 1000);
      if (left > 0) {
        timer.textContent = clock(left);
        // Wake up when the next whole second is reached.
        window.setTimeout(tick, end - Date.now() - (left - 1) * 1000);
        return;
      }
      // "You can try again now." in place of the whole sentence.
      sentence.textContent = sentence.getAttribute("data-loginlimit-done");
    };
    tick();
  }

  function init() {
    var timers = document.querySelectorAll("[data-loginlimit-countdown]");
    for (var i = 0; i < timers.length; i++) {
      start(timers[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
