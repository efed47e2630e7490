// The online-course player (learning/material.html): heartbeats every `data-interval` seconds while the media plays
// (or, for a document, while the page is shown), with the position; the server credits only real watching.
// The page stops when hidden (the server credits nothing across a long gap), and a page another page or device
// took over from stops for good. No inline script: the CSP allows none.
(() => {
  const box = document.getElementById("learning-player");
  if (!box || !box.dataset.beatUrl) return;
  const url = box.dataset.beatUrl;
  const every = Number(box.dataset.interval || 15) * 1000;
  const duration = Number(box.dataset.duration || 0);
  const isDoc = box.dataset.kind === "pdf";
  const media = document.getElementById("learning-media");
  const status = document.getElementById("learning-status");
  const token = box.querySelector("input[name=csrfmiddlewaretoken]").value;
  const tab = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + "-" + Math.random().toString(36).slice(2)).slice(0, 40);
  let docSeconds = Number(box.dataset.resume || 0);
  let docTick = null;
  let timer = null;
  let open = false;
  let stopped = false;

  const position = () => (isDoc ? Math.min(docSeconds, duration) : media.currentTime || 0);
  const say = (text) => { if (status && text) status.textContent = text; };

  async function send(event) {
    if (stopped) return;
    const body = new URLSearchParams({ tab, event, position: position().toFixed(1) });
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
        body,
        credentials: "same-origin",
      });
      const data = await response.json();
      if (response.status === 409) {
        halt();
        stopped = true;
        say(data.message);
        return;
      }
      if (!response.ok) { say(data.message); return; }
      let text = `已学${data.share}%。`;
      if (data.completed) text += `课程已完成，计入${data.hours}学时。`;
      say(data.message ? `${text}${data.message}` : text);
    } catch (error) {
      say("网络中断，恢复后请重新播放。");
    }
  }

  function start() {
    if (stopped || document.visibilityState !== "visible") return;
    if (!open) { open = true; send("open"); }
    if (!timer) timer = setInterval(() => send("beat"), every);
    if (isDoc && !docTick) docTick = setInterval(() => { docSeconds += 1; }, 1000);
  }

  function halt() {
    if (timer) { clearInterval(timer); timer = null; }
    if (docTick) { clearInterval(docTick); docTick = null; }
  }

  function pause() {
    if (!open) return;
    halt();
    send("stop");
    open = false;
  }

  if (isDoc) {
    start();
  } else {
    media.addEventListener("loadedmetadata", () => {
      const resume = Number(box.dataset.resume || 0);
      if (resume > 0 && resume < media.duration - 1) media.currentTime = resume;
    }, { once: true });
    media.addEventListener("play", start);
    media.addEventListener("pause", pause);
    media.addEventListener("ended", pause);
    // Seeking re-anchors: the server credits nothing for a jump, and the next beats count from the new place.
    media.addEventListener("seeked", () => { if (!media.paused && open) { open = false; start(); } });
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      if (!isDoc && !media.paused) media.pause(); // also sends "stop"
      else pause();
    } else if (isDoc) {
      start();
    }
  });
  window.addEventListener("pagehide", pause);
})();
