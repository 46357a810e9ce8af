// Token page: create a token (note, expiry, scopes), list API tokens and authorized OAuth
// applications, revoke either, all through the REST API.
"use strict";

(function () {
  const { api, apiPath, el, showError, clearMessage, formatDate, userName } = window.hubd;
  const root = document.getElementById("token-page");
  if (!root) return;
  const errorBox = root.querySelector('[data-testid="token-error"]');
  const form = document.getElementById("request-token-form");
  const expirySelect = document.getElementById("token-expiration");
  const tokensBody = document.querySelector("#api-tokens tbody");
  const clientsBody = document.querySelector("#oauth-clients tbody");

  // token_expires_in_max_seconds caps every choice; "Never" disappears under a cap, and the cap
  // itself becomes a choice when no standard one matches it.
  function capExpiryChoices() {
    const max = parseInt(root.dataset.expiresMax || "0", 10);
    if (!(max > 0)) return;
    let best = null;
    for (const option of Array.from(expirySelect.options)) {
      const seconds = parseInt(option.value, 10);
      if (!option.value || seconds > max) option.remove();
      else if (best === null || seconds > parseInt(best.value, 10)) best = option;
    }
    if (!best || parseInt(best.value, 10) !== max) {
      best = el("option", { value: String(max) }, `${describeSeconds(max)} (maximum)`);
      expirySelect.append(best);
    }
    best.selected = true;
  }

  function describeSeconds(s) {
    const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    for (const [unit, size] of units) {
      if (s % size === 0 && s >= size) {
        const n = s / size;
        return `${n} ${unit}${n === 1 ? "" : "s"}`;
      }
    }
    return `${s} seconds`;
  }

  function scopeCell(scopes) {
    const list = el("ul", { class: "scope-chips" });
    for (const scope of scopes || []) list.append(el("li", {}, el("code", {}, scope)));
    return el("td", {}, list);
  }

  async function revoke(token, button) {
    clearMessage(errorBox);
    button.disabled = true;
    try {
      await api("DELETE", apiPath("users", userName, "tokens", token.id));
      await refresh();
    } catch (err) {
      button.disabled = false;
      showError(errorBox, err);
    }
  }

  function revokeButton(token, label, testid) {
    const button = el("button", { type: "button", class: "btn btn-small btn-danger", dataset: { testid } }, label);
    button.addEventListener("click", () => revoke(token, button));
    return button;
  }

  function renderTokens(tokens) {
    tokensBody.replaceChildren(...tokens.map((t) => el("tr", { dataset: { testid: "api-token-row", tokenId: t.id } },
      el("td", { dataset: { testid: "api-token-note" } }, t.note || ""),
      scopeCell(t.scopes),
      el("td", { title: t.last_activity || "" }, formatDate(t.last_activity)),
      el("td", { title: t.created || "" }, formatDate(t.created)),
      el("td", { title: t.expires_at || "" }, t.expires_at ? formatDate(t.expires_at) : "Never"),
      el("td", {}, revokeButton(t, "Revoke", "api-token-revoke")))));
    document.getElementById("api-tokens-empty").hidden = tokens.length > 0;
    document.getElementById("api-tokens").hidden = tokens.length === 0;
  }

  // One row per OAuth client: revoking any token of a client revokes all of them (the API does that).
  function renderClients(tokens) {
    const byClient = new Map();
    for (const t of tokens) {
      const key = t.oauth_client || "";
      const entry = byClient.get(key) || { client: key, tokens: [], scopes: new Set(), last: null, first: null };
      entry.tokens.push(t);
      for (const s of t.scopes || []) entry.scopes.add(s);
      if (t.last_activity && (!entry.last || t.last_activity > entry.last)) entry.last = t.last_activity;
      if (t.created && (!entry.first || t.created < entry.first)) entry.first = t.created;
      byClient.set(key, entry);
    }
    const entries = Array.from(byClient.values()).sort((a, b) => a.client.localeCompare(b.client));
    clientsBody.replaceChildren(...entries.map((c) => el("tr", { dataset: { testid: "oauth-client-row" } },
      el("td", { dataset: { testid: "oauth-client-name" } }, c.client),
      scopeCell(Array.from(c.scopes).sort()),
      el("td", { title: c.last || "" }, formatDate(c.last)),
      el("td", { title: c.first || "" }, formatDate(c.first)),
      el("td", {}, revokeButton(c.tokens[0], "Revoke", "oauth-client-revoke")))));
    document.getElementById("oauth-clients-empty").hidden = entries.length > 0;
    document.getElementById("oauth-clients").hidden = entries.length === 0;
  }

  async function refresh() {
    const { data } = await api("GET", apiPath("users", userName, "tokens"));
    const tokens = (data && data.api_tokens) || [];
    renderTokens(tokens.filter((t) => !t.oauth_client || t.oauth_client === "JupyterHub"));
    renderClients(tokens.filter((t) => t.oauth_client && t.oauth_client !== "JupyterHub"));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessage(errorBox);
    const body = {};
    const note = form.elements.note.value.trim();
    if (note) body.note = note;
    if (expirySelect.value) body.expires_in = parseInt(expirySelect.value, 10);
    const scopes = Array.from(form.querySelectorAll("input[name=scopes]:checked")).map((c) => c.value);
    if (scopes.length) body.scopes = scopes;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const { data } = await api("POST", apiPath("users", userName, "tokens"), body);
      document.getElementById("new-token-value").textContent = data.token;
      document.getElementById("new-token").hidden = false;
      form.reset();
      capExpiryChoices();
      await refresh();
    } catch (err) {
      showError(errorBox, err);
    } finally {
      submit.disabled = false;
    }
  });

  document.getElementById("copy-token").addEventListener("click", async (event) => {
    const value = document.getElementById("new-token-value").textContent;
    try {
      await navigator.clipboard.writeText(value);
      event.target.textContent = "Copied";
    } catch (e) {
      window.getSelection().selectAllChildren(document.getElementById("new-token-value"));
    }
  });

  capExpiryChoices();
  refresh().catch((err) => showError(errorBox, err));
})();
