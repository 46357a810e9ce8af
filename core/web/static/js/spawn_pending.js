// Spawn-pending page: follow the server's progress event stream and go to the server once ready.
"use strict";

(function () {
  const { el, xsrfToken } = window.hubd;
  const root = document.getElementById("spawn-pending");
  if (!root || !root.dataset.progressUrl) return;
  const bar = document.getElementById("progress-bar");
  const fill = document.getElementById("progress-fill");
  const message = document.getElementById("progress-message");
  const failedBox = document.getElementById("progress-failed");
  const log = document.getElementById("progress-log");

  // EventSource is a CORS-mode GET, which the hub XSRF-checks; it cannot send headers, so the token
  // goes in the _xsrf argument.
  const url = new URL(root.dataset.progressUrl, window.location.href);
  if (xsrfToken && !url.searchParams.has("_xsrf")) url.searchParams.set("_xsrf", xsrfToken);

  function setProgress(value) {
    const pct = Math.max(0, Math.min(100, Number(value) || 0));
    fill.style.width = pct + "%";
    bar.setAttribute("aria-valuenow", String(pct));
  }

  const source = new EventSource(url.toString());
  source.onmessage = (event) => {
    let evt;
    try {
      evt = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (evt.progress !== undefined) setProgress(evt.progress);
    // Only the plain-text message is shown: html_message comes from the spawner and is not trusted here.
    if (evt.message) {
      message.textContent = evt.message;
      log.append(el("li", { class: "progress-log-event" }, evt.message));
    }
    if (evt.ready) {
      source.close();
      root.classList.add("ready");
      const target = evt.url || root.dataset.serverUrl;
      if (target) window.location.assign(target);
    } else if (evt.failed) {
      source.close();
      root.classList.add("failed");
      failedBox.textContent = "Spawn failed: " + (evt.message || "unknown error");
      failedBox.hidden = false;
      document.getElementById("progress-retry").hidden = false;
      document.getElementById("progress-details").open = true;
    }
  };
  // A closed stream without a final event means the server state changed elsewhere; reloading the
  // page lets the hub decide (redirect to the server, the not-running page or an error).
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED && !root.classList.contains("failed")) {
      setTimeout(() => window.location.reload(), 3000);
    }
  };
})();
