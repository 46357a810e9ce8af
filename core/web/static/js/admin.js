// Admin page: a small single-page app over the REST API (users, groups, roles, servers). It holds
// no privileges of its own: every action runs with the signed-in user's scopes, so anything the
// user may not do comes back as an API error and is shown as such.
"use strict";

(function () {
  const { api, apiPath, serverApiPath, el, showError, showMessage, clearMessage, formatDate } = window.hubd;
  const root = document.getElementById("admin-app");
  if (!root) return;
  const errorBox = document.getElementById("admin-error");
  const statusBox = document.getElementById("admin-status");
  const PAGE = 50;

  const state = {
    users: { offset: 0, total: 0, filter: "" },
    groups: { offset: 0, total: 0 },
    servers: { offset: 0, total: 0 },
  };

  function report(message) {
    clearMessage(errorBox);
    showMessage(statusBox, message);
  }

  // Runs an action, reports success or the API's error message, then reloads the visible panel.
  async function run(action, success, reload) {
    clearMessage(statusBox);
    clearMessage(errorBox);
    try {
      await action();
      if (success) report(success);
      if (reload) await reload();
    } catch (err) {
      showError(errorBox, err);
    }
  }

  function listQuery(offset, extra) {
    const params = new URLSearchParams({ offset: String(offset), limit: String(PAGE), ...(extra || {}) });
    return "?" + params.toString();
  }

  // Lists answer with the pagination envelope when asked; a bare list is accepted too.
  function unpack(data) {
    if (Array.isArray(data)) return { items: data, total: data.length };
    const items = (data && data.items) || [];
    const total = data && data._pagination ? data._pagination.total : items.length;
    return { items, total };
  }

  function updatePager(name) {
    const s = state[name];
    const pager = root.querySelector(`[data-pager="${name}"]`);
    if (!pager) return;
    const first = s.total === 0 ? 0 : s.offset + 1;
    const last = Math.min(s.offset + PAGE, s.total);
    pager.querySelector(".pager-info").textContent = `${first}–${last} of ${s.total}`;
    pager.querySelector('[data-page-step="-1"]').disabled = s.offset === 0;
    pager.querySelector('[data-page-step="1"]').disabled = s.offset + PAGE >= s.total;
  }

  function button(label, testid, onclick, extraClass) {
    return el("button", { type: "button", class: "btn btn-small " + (extraClass || ""), dataset: { testid }, onclick }, label);
  }

  function chip(label, testid, onRemove, removeTestid) {
    return el("li", { class: "chip", dataset: { testid } },
      el("span", {}, label),
      onRemove ? el("button", { type: "button", class: "chip-remove", title: `Remove ${label}`, "aria-label": `Remove ${label}`,
        dataset: { testid: removeTestid }, onclick: onRemove }, "×") : null);
  }

  function confirmed(message) {
    return window.confirm(message);
  }

  function serverState(server) {
    if (!server) return "stopped";
    if (server.pending) return "pending";
    if (server.ready) return "running";
    return server.stopped === false ? "pending" : "stopped";
  }

  // ---- users ----------------------------------------------------------------------------------
  async function loadUsers() {
    const s = state.users;
    const extra = s.filter ? { name_filter: s.filter } : {};
    const { data } = await api("GET", apiPath("users") + listQuery(s.offset, extra), undefined, { paginated: true });
    const { items, total } = unpack(data);
    s.total = total;
    document.getElementById("users-body").replaceChildren(...items.map(userRow));
    updatePager("users");
  }

  function userRow(user) {
    const name = user.name;
    const server = user.servers ? user.servers[""] : null;
    const st = serverState(server);
    return el("tr", { dataset: { testid: "user-row", user: name } },
      el("td", { dataset: { testid: "user-name" } }, name),
      el("td", {}, button(user.admin ? "Admin ✓" : "Make admin", "user-toggle-admin", () =>
        run(() => api("PATCH", apiPath("users", name), { admin: !user.admin }),
          user.admin ? `${name} is no longer an admin` : `${name} is now an admin`, loadUsers),
        user.admin ? "btn-on" : "")),
      el("td", { dataset: { testid: "user-groups" } }, (user.groups || []).join(", ")),
      el("td", { title: user.last_activity || "" }, formatDate(user.last_activity)),
      el("td", {}, el("span", { class: "badge state-badge", dataset: { state: st, testid: "user-server-state" } }, st)),
      el("td", { class: "row-actions" },
        st === "stopped"
          ? button("Start server", "user-start", () => run(() => api("POST", serverApiPath(name, ""), {}),
            `Starting ${name}'s server`, loadUsers), "btn-primary")
          : button("Stop server", "user-stop", () => run(() => api("DELETE", serverApiPath(name, "")),
            `Stopping ${name}'s server`, loadUsers)),
        button("Delete user", "user-delete", () => {
          if (confirmed(`Delete user ${name}? Their servers are stopped and removed.`)) {
            run(() => api("DELETE", apiPath("users", name)), `Deleted user ${name}`, loadUsers);
          }
        }, "btn-danger")));
  }

  function splitNames(text) {
    return text.split(/[\s,]+/).map((n) => n.trim()).filter(Boolean);
  }

  document.getElementById("add-users-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const names = splitNames(document.getElementById("add-users-names").value);
    if (!names.length) return;
    const admin = document.getElementById("add-users-admin").checked;
    run(async () => {
      await api("POST", apiPath("users"), { usernames: names, admin });
      event.target.reset();
    }, `Added ${names.join(", ")}`, loadUsers);
  });

  let searchTimer = null;
  document.getElementById("users-search").addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.users.filter = event.target.value.trim();
      state.users.offset = 0;
      run(loadUsers);
    }, 250);
  });

  // ---- groups ---------------------------------------------------------------------------------
  async function loadGroups() {
    const s = state.groups;
    const { data } = await api("GET", apiPath("groups") + listQuery(s.offset), undefined, { paginated: true });
    const { items, total } = unpack(data);
    s.total = total;
    document.getElementById("groups-list").replaceChildren(...items.map(groupCard));
    updatePager("groups");
  }

  function groupCard(group) {
    const name = group.name;
    const members = el("ul", { class: "chips", dataset: { testid: "group-members" } },
      (group.users || []).map((u) => chip(u, "group-member", () =>
        run(() => api("DELETE", apiPath("groups", name, "users"), { users: [u] }), `Removed ${u} from ${name}`, loadGroups),
      "group-member-remove")));
    const input = el("input", { type: "text", placeholder: "user name", "aria-label": `Add a user to ${name}`,
      required: true, dataset: { testid: "group-add-member-name" } });
    const addForm = el("form", { class: "inline-form" }, input,
      el("button", { type: "submit", class: "btn btn-small btn-primary", dataset: { testid: "group-add-member" } }, "Add member"));
    addForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const users = splitNames(input.value);
      if (!users.length) return;
      run(() => api("POST", apiPath("groups", name, "users"), { users }), `Added ${users.join(", ")} to ${name}`, loadGroups);
    });
    return el("div", { class: "card", dataset: { testid: "group-card", group: name } },
      el("div", { class: "card-head" },
        el("h2", { class: "card-title", dataset: { testid: "group-name" } }, name),
        button("Delete group", "group-delete", () => {
          if (confirmed(`Delete group ${name}?`)) {
            run(() => api("DELETE", apiPath("groups", name)), `Deleted group ${name}`, loadGroups);
          }
        }, "btn-danger")),
      el("p", { class: "muted" }, "Members"),
      members,
      addForm);
  }

  document.getElementById("add-group-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = document.getElementById("add-group-name").value.trim();
    if (!name) return;
    run(async () => {
      await api("POST", apiPath("groups", name), {});
      event.target.reset();
    }, `Created group ${name}`, loadGroups);
  });

  // ---- roles ----------------------------------------------------------------------------------
  const ROLE_KINDS = ["users", "groups", "services"];

  async function loadRoles() {
    const { data } = await api("GET", apiPath("roles") + listQuery(0, { limit: "200" }), undefined, { paginated: true });
    const { items } = unpack(data);
    document.getElementById("roles-list").replaceChildren(...items.map(roleCard));
  }

  function roleCard(role) {
    const name = role.name;
    const scopes = el("ul", { class: "chips", dataset: { testid: "role-scopes" } },
      (role.scopes || []).map((s) => el("li", { class: "chip" }, el("code", {}, s))));

    const membership = ROLE_KINDS.map((kind) => el("div", { class: "role-members" },
      el("span", { class: "muted" }, kind + ": "),
      el("ul", { class: "chips", dataset: { testid: `role-${kind}` } },
        (role[kind] || []).map((member) => chip(member, "role-member", () =>
          run(() => api("DELETE", apiPath("roles", name, kind), { [kind]: [member] }),
            `Removed ${member} from role ${name}`, loadRoles), "role-member-remove")))));

    const kindSelect = el("select", { "aria-label": "Member kind", dataset: { testid: "role-assign-kind" } },
      ROLE_KINDS.map((k) => el("option", { value: k }, k)));
    const memberInput = el("input", { type: "text", placeholder: "names", required: true, "aria-label": `Assign ${name} to`,
      dataset: { testid: "role-assign-names" } });
    const assignForm = el("form", { class: "inline-form" }, kindSelect, memberInput,
      el("button", { type: "submit", class: "btn btn-small btn-primary", dataset: { testid: "role-assign" } }, "Assign"));
    assignForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const names = splitNames(memberInput.value);
      const kind = kindSelect.value;
      if (!names.length) return;
      run(() => api("POST", apiPath("roles", name, kind), { [kind]: names }),
        `Assigned role ${name} to ${names.join(", ")}`, loadRoles);
    });

    const description = el("input", { type: "text", value: role.description || "", "aria-label": `Description of ${name}`,
      dataset: { testid: "role-edit-description" } });
    const scopeText = el("textarea", { rows: "3", "aria-label": `Scopes of ${name}`, dataset: { testid: "role-edit-scopes" } });
    scopeText.value = (role.scopes || []).join("\n");
    const editForm = el("form", { class: "form role-edit" }, description, scopeText,
      el("button", { type: "submit", class: "btn btn-small", dataset: { testid: "role-save" } }, "Save changes"));
    editForm.addEventListener("submit", (event) => {
      event.preventDefault();
      run(() => api("PATCH", apiPath("roles", name), {
        description: description.value, scopes: splitNames(scopeText.value),
      }), `Saved role ${name}`, loadRoles);
    });
    const editable = !["default", "config", "authenticator"].includes(role.source);

    return el("div", { class: "card", dataset: { testid: "role-card", role: name } },
      el("div", { class: "card-head" },
        el("h2", { class: "card-title", dataset: { testid: "role-name" } }, name),
        el("span", { class: "badge", title: "Where this role comes from" }, role.source || ""),
        editable ? button("Delete role", "role-delete", () => {
          if (confirmed(`Delete role ${name}?`)) run(() => api("DELETE", apiPath("roles", name)), `Deleted role ${name}`, loadRoles);
        }, "btn-danger") : null),
      role.description ? el("p", { class: "muted" }, role.description) : null,
      scopes,
      membership,
      assignForm,
      editable ? el("details", {}, el("summary", {}, "Edit description and scopes"), editForm) : null);
  }

  document.getElementById("add-role-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = document.getElementById("add-role-name").value.trim();
    if (!name) return;
    const body = {
      name,
      description: document.getElementById("add-role-description").value.trim(),
      scopes: splitNames(document.getElementById("add-role-scopes").value),
    };
    run(async () => {
      await api("POST", apiPath("roles"), body);
      event.target.reset();
    }, `Created role ${name}`, loadRoles);
  });

  // ---- servers --------------------------------------------------------------------------------
  async function loadServers() {
    const s = state.servers;
    const includeStopped = document.getElementById("servers-include-stopped").checked;
    const extra = includeStopped ? { include_stopped_servers: "1" } : { state: "active" };
    const { data } = await api("GET", apiPath("users") + listQuery(s.offset, extra), undefined, { paginated: true });
    const { items, total } = unpack(data);
    s.total = total;
    const rows = [];
    for (const user of items) {
      for (const [serverName, server] of Object.entries(user.servers || {})) rows.push(serverRow(user.name, serverName, server));
    }
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "No servers.")));
    document.getElementById("servers-body").replaceChildren(...rows);
    updatePager("servers");
  }

  function serverRow(userName, serverName, server) {
    const st = serverState(server);
    return el("tr", { dataset: { testid: "server-row", user: userName, server: serverName } },
      el("td", {}, userName),
      el("td", {}, serverName || "(default)"),
      el("td", {}, el("span", { class: "badge state-badge", dataset: { state: st } }, st)),
      el("td", { title: server.last_activity || "" }, formatDate(server.last_activity)),
      el("td", { class: "row-actions" },
        st === "running" && server.url ? el("a", { class: "btn btn-small", href: server.url }, "Open") : null,
        st === "stopped"
          ? button("Start", "server-start", () => run(() => api("POST", serverApiPath(userName, serverName), {}),
            `Starting ${userName}/${serverName}`, loadServers), "btn-primary")
          : button("Stop", "server-stop", () => run(() => api("DELETE", serverApiPath(userName, serverName)),
            `Stopping ${userName}/${serverName}`, loadServers))));
  }

  document.getElementById("servers-include-stopped").addEventListener("change", () => {
    state.servers.offset = 0;
    run(loadServers);
  });
  document.getElementById("servers-refresh").addEventListener("click", () => run(loadServers));

  // ---- tabs and paging ------------------------------------------------------------------------
  const loaders = { users: loadUsers, groups: loadGroups, roles: loadRoles, servers: loadServers };

  function showTab(name) {
    for (const tab of root.querySelectorAll("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    for (const panel of root.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
    if (window.location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
    clearMessage(statusBox);
    run(loaders[name]);
  }

  for (const tab of root.querySelectorAll("[data-tab]")) tab.addEventListener("click", () => showTab(tab.dataset.tab));

  for (const pager of root.querySelectorAll("[data-pager]")) {
    pager.addEventListener("click", (event) => {
      const step = event.target.closest("[data-page-step]");
      if (!step) return;
      const name = pager.dataset.pager;
      state[name].offset = Math.max(0, state[name].offset + Number(step.dataset.pageStep) * PAGE);
      run(loaders[name]);
    });
  }

  const initial = window.location.hash.replace("#", "");
  showTab(loaders[initial] ? initial : "users");
})();
