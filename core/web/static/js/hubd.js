// Shared helpers for hubd's pages: REST calls with the page's XSRF token, safe DOM building
// (text only, never HTML from data), error display and date formatting.
"use strict";

(function () {
  function meta(name) {
    const el = document.querySelector(`meta[name="${name}"]`);
    return el ? el.getAttribute("content") : "";
  }

  const baseUrl = meta("hubd-base-url") || "/";
  const xsrfToken = meta("xsrf-token");
  const userName = meta("hubd-user");

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // Path segments are percent-encoded one by one, so user, group and server names that contain
  // spaces, '@' or '%' still address the right resource.
  function apiPath(...segments) {
    return baseUrl + "hub/api/" + segments.map((s) => encodeURIComponent(String(s))).join("/");
  }

  // The hub answers errors as {"status": N, "message": "..."}; anything else (a proxy page, a
  // network failure) still gives the user a readable message.
  async function api(method, url, body, options = {}) {
    const headers = { "X-XSRFToken": xsrfToken, Accept: "application/json" };
    if (options.paginated) headers.Accept = "application/jupyterhub-pagination+json";
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, "Could not reach the hub: " + e.message);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (!response.ok) {
      const message = data && typeof data.message === "string" && data.message
        ? data.message
        : `${response.status} ${response.statusText || "request failed"}`;
      throw new ApiError(response.status, message);
    }
    return { status: response.status, data };
  }

  // el("td", {class: "x", dataset: {testid: "y"}}, "text", childNode): text children become text
  // nodes, so data from the API can never inject markup.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "onclick") node.addEventListener("click", value);
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function showMessage(box, message) {
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
    if (message) box.scrollIntoView({ block: "nearest" });
  }

  function showError(box, err) {
    showMessage(box, err instanceof Error ? err.message : String(err));
  }

  function clearMessage(box) {
    showMessage(box, "");
  }

  function formatDate(iso) {
    if (!iso) return "Never";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    const seconds = Math.round((Date.now() - date.getTime()) / 1000);
    const future = seconds < 0;
    const abs = Math.abs(seconds);
    const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (abs >= size) {
        const n = Math.floor(abs / size);
        const text = `${n} ${unit}${n === 1 ? "" : "s"}`;
        return future ? `in ${text}` : `${text} ago`;
      }
    }
    return future ? "in a moment" : "just now";
  }

  // Server timestamps in templates are ISO strings; show them relative, keep the exact one as a tooltip.
  function humanizeTimes(root) {
    for (const t of (root || document).querySelectorAll("time[datetime]")) {
      const iso = t.getAttribute("datetime");
      t.title = iso;
      t.textContent = formatDate(iso);
    }
  }

  function serverApiPath(user, serverName) {
    return serverName ? apiPath("users", user, "servers", serverName) : apiPath("users", user, "server");
  }

  function pagePath(...segments) {
    return baseUrl + "hub/" + segments.filter((s) => s !== "").map((s) => encodeURIComponent(String(s))).join("/");
  }

  window.hubd = {
    baseUrl, xsrfToken, userName, ApiError, api, apiPath, serverApiPath, pagePath, el,
    showMessage, showError, clearMessage, formatDate, humanizeTimes,
  };

  document.addEventListener("DOMContentLoaded", () => humanizeTimes(document));
})();
