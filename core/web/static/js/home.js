// Home page: start, stop and delete my servers through the REST API.
"use strict";

(function () {
  const { api, serverApiPath, pagePath, showError, clearMessage, userName } = window.hubd;
  const root = document.getElementById("home");
  if (!root) return;
  const errorBox = root.querySelector('[data-testid="home-error"]');
  const hasOptionsForm = root.dataset.optionsForm === "true";

  function setState(row, state) {
    row.dataset.state = state;
    const badge = row.querySelector(".state-badge");
    if (badge) badge.textContent = state;
  }

  function pendingUrl(serverName) {
    return pagePath("spawn-pending", userName, serverName);
  }

  async function start(row) {
    const name = row.dataset.serverName || "";
    // A spawner with an options form needs the spawn page, which renders the form first.
    if (hasOptionsForm) {
      window.location.assign(row.dataset.spawnUrl || pagePath("spawn", userName, name));
      return;
    }
    const result = await api("POST", serverApiPath(userName, name), {});
    if (result.status === 201 && row.dataset.url) window.location.assign(row.dataset.url);
    else window.location.assign(pendingUrl(name));
  }

  async function stop(row) {
    const name = row.dataset.serverName || "";
    setState(row, "pending");
    const result = await api("DELETE", serverApiPath(userName, name));
    setState(row, result.status === 202 ? "pending" : "stopped");
    if (result.status === 202) setTimeout(() => window.location.reload(), 2000);
  }

  async function remove(row) {
    const name = row.dataset.serverName;
    if (!window.confirm(`Delete the server "${name}"? Its saved state is removed.`)) return;
    await api("DELETE", serverApiPath(userName, name), { remove: true });
    row.remove();
  }

  const actions = { start, stop, delete: remove };

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("[data-server-name]");
    const action = actions[button.dataset.action];
    if (!row || !action) return;
    clearMessage(errorBox);
    button.disabled = true;
    try {
      await action(row);
    } catch (err) {
      showError(errorBox, err);
    } finally {
      button.disabled = false;
    }
  });

  const form = document.getElementById("new-server-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage(errorBox);
      const input = form.querySelector("input[name=server_name]");
      const name = input.value.trim();
      if (!name) return;
      if (hasOptionsForm) {
        window.location.assign(pagePath("spawn", userName, name));
        return;
      }
      try {
        const result = await api("POST", serverApiPath(userName, name), {});
        window.location.assign(result.status === 201
          ? window.hubd.baseUrl + "user/" + encodeURIComponent(userName) + "/" + encodeURIComponent(name) + "/"
          : pendingUrl(name));
      } catch (err) {
        showError(errorBox, err);
      }
    });
  }
})();
