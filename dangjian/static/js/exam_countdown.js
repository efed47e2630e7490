// The exam page's countdown (考试倒计时): the time left is the server's deadline minus the server's now when the page
// was made, counted down on the phone's clock (its offset from the server's does not matter). At zero the answers
// are sent; the server refuses anything later than the deadline and its small grace.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function start() {
    var box = document.getElementById("exam-countdown");
    var form = document.getElementById("exam-form");
    if (!box || !form) { return; }
    var left = parseInt(box.getAttribute("data-seconds-left"), 10);
    if (isNaN(left)) { return; }
    var end = Date.now() + left * 1000;
    var sent = false;
    form.addEventListener("submit", function () { sent = true; });
    function tick() {
      var seconds = Math.max(0, Math.round((end - Date.now()) / 1000));
      box.textContent = pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
      if (seconds <= 60) { box.classList.add("text-danger"); }
      if (seconds === 0) {
        if (!sent) {
          sent = true;
          if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        }
        return;
      }
      window.setTimeout(tick, 500);
    }
    tick();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
