// A stand-in for hubd's REST API, enough to drive the page scripts in a real browser before (or
// without) a running hubd: pre-rendered pages under /hub/page/<name>, static files under
// /hub/static/, and an in-memory /hub/api with the same shapes, statuses and error bodies as the
// spec (rest-api.md). Non-GET API calls need the X-XSRFToken header, as for cookie auth on hubd.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

function initialState() {
  const now = new Date().toISOString();
  const user = (name, extra) => ({
    kind: "user", name, admin: false, groups: [], roles: ["user"], last_activity: now, created: now, pending: null,
    servers: {}, ...extra,
  });
  const users = new Map([
    ["alice", user("alice", { admin: true, roles: ["admin"],
      servers: { "": { name: "", ready: true, pending: null, stopped: false, url: "/user/alice/", last_activity: now } } })],
    ["bob", user("bob")],
    ["carol", user("carol", { last_activity: null })],
  ]);
  for (let i = 1; i <= 55; i++) users.set(`student${String(i).padStart(2, "0")}`, user(`student${String(i).padStart(2, "0")}`));
  return {
    users,
    groups: new Map([["class-a", { kind: "group", name: "class-a", users: ["bob"], properties: {}, roles: [] }]]),
    roles: new Map([
      ["admin", { kind: "role", name: "admin", description: "Elevated privileges (can do anything)", scopes: ["admin-ui", "admin:users", "admin:servers"], users: ["alice"], groups: [], services: [], source: "default" }],
      ["user", { kind: "role", name: "user", description: "Standard user privileges", scopes: ["self"], users: [], groups: [], services: [], source: "default" }],
    ]),
    tokens: [
      { kind: "api_token", id: "a1", user: "alice", note: "laptop", scopes: ["read:users!user=alice"], roles: [],
        created: now, last_activity: now, expires_at: null, oauth_client: "JupyterHub", session_id: null },
      { kind: "api_token", id: "a2", user: "alice", note: "", scopes: ["access:services!service=grader", "read:users:name!user=alice"], roles: [],
        created: now, last_activity: now, expires_at: null, oauth_client: "Service grader", session_id: "s1" },
    ],
    nextToken: 3,
  };
}

function startMockHub({ pagesDir, staticDir, xsrfToken, port = 0 }) {
  let state = initialState();
  const log = [];

  function send(res, status, body, type) {
    const headers = { "X-JupyterHub-Version": "5.2.1" };
    if (body === undefined || body === null) {
      res.writeHead(status, headers);
      return res.end();
    }
    headers["Content-Type"] = type || "application/json";
    res.writeHead(status, headers);
    res.end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  }
  const fail = (res, status, message) => send(res, status, { status, message });

  function serveFile(res, file) {
    fs.readFile(file, (err, data) => {
      if (err) return send(res, 404, "Not Found", "text/plain");
      send(res, 200, data, TYPES[path.extname(file)] || "application/octet-stream");
    });
  }

  function paginate(req, url, items) {
    const wantsEnvelope = (req.headers.accept || "").includes("application/jupyterhub-pagination+json");
    const offset = Math.abs(parseInt(url.searchParams.get("offset") || "0", 10));
    const limit = Math.min(Math.max(Math.abs(parseInt(url.searchParams.get("limit") || (wantsEnvelope ? "50" : "200"), 10)), 1), 200);
    const page = items.slice(offset, offset + limit);
    if (!wantsEnvelope) return page;
    const next = offset + limit < items.length ? { offset: offset + limit, limit, url: null } : null;
    return { items: page, _pagination: { offset, limit, total: items.length, next } };
  }

  function needUsers(names, res) {
    const missing = names.filter((n) => !state.users.has(n));
    if (missing.length) fail(res, 400, `No such user(s): ${missing.join(", ")}`);
    return missing.length === 0;
  }

  function api(req, res, url, parts, body) {
    const [collection, name, sub, subId] = parts;
    const m = req.method;
    if (collection === "users" && !name) {
      if (m === "GET") {
        let list = Array.from(state.users.values());
        const filter = (url.searchParams.get("name_filter") || "").toLowerCase();
        if (filter) list = list.filter((u) => u.name.toLowerCase().includes(filter));
        if (url.searchParams.get("state") === "active") list = list.filter((u) => Object.keys(u.servers).length > 0);
        return send(res, 200, paginate(req, url, list));
      }
      if (m === "POST") {
        const names = (body && body.usernames) || [];
        if (!names.length) return fail(res, 400, "Must specify at least one user to create");
        const created = names.filter((n) => !state.users.has(n));
        if (!created.length) return fail(res, 409, "All 1 users already exist");
        const now = new Date().toISOString();
        for (const n of created) {
          state.users.set(n, { kind: "user", name: n, admin: !!body.admin, groups: [], roles: ["user"], servers: {}, last_activity: null, created: now, pending: null });
        }
        return send(res, 201, created.map((n) => state.users.get(n)));
      }
    }
    if (collection === "users" && name) {
      const user = state.users.get(name);
      if (!user) return fail(res, 404, "Not Found");
      if (!sub) {
        if (m === "GET") return send(res, 200, user);
        if (m === "PATCH") {
          if (body && "admin" in body) user.admin = !!body.admin;
          return send(res, 200, user);
        }
        if (m === "DELETE") {
          if (name === "alice") return fail(res, 400, "Cannot delete yourself!");
          state.users.delete(name);
          for (const g of state.groups.values()) g.users = g.users.filter((u) => u !== name);
          return send(res, 204);
        }
      }
      if (sub === "server" || sub === "servers") {
        const serverName = sub === "server" ? "" : subId || "";
        if (parts[sub === "server" ? 3 : 4] === "progress" && m === "GET") return progress(res, name, serverName);
        if (m === "POST") {
          if (user.servers[serverName] && user.servers[serverName].ready) return fail(res, 400, `${name} is already running`);
          user.servers[serverName] = { name: serverName, ready: false, pending: "spawn", stopped: false,
            url: `/user/${name}/${serverName ? serverName + "/" : ""}`, last_activity: new Date().toISOString() };
          return send(res, 202, "", "text/plain");
        }
        if (m === "DELETE") {
          delete user.servers[serverName];
          return send(res, 204, "", "text/plain");
        }
      }
      if (sub === "tokens") {
        const mine = state.tokens.filter((t) => t.user === name);
        if (m === "GET" && !subId) return send(res, 200, { api_tokens: mine });
        if (m === "POST" && !subId) {
          const held = ["read:users!user=alice", "servers!user=alice", "tokens!user=alice", "access:servers!user=alice"];
          for (const s of (body && body.scopes) || []) {
            if (!held.includes(s)) return fail(res, 400, `Not assigning requested scopes ${s} not held by User ${name}`);
          }
          if (body && body.expires_in !== undefined && body.expires_in !== null && !Number.isInteger(body.expires_in)) {
            return fail(res, 400, "expires_in must be an integer or null");
          }
          const now = new Date();
          const token = { kind: "api_token", id: `a${state.nextToken++}`, user: name, note: (body && body.note) || "Requested via token page",
            scopes: (body && body.scopes) || ["inherit"], roles: [], created: now.toISOString(), last_activity: null,
            expires_at: body && body.expires_in ? new Date(now.getTime() + body.expires_in * 1000).toISOString() : null,
            oauth_client: "JupyterHub", session_id: null };
          state.tokens.push(token);
          return send(res, 201, { ...token, token: "0123456789abcdef0123456789abcdef" });
        }
        if (m === "DELETE" && subId) {
          const token = mine.find((t) => t.id === subId);
          if (!token) return fail(res, 404, "Not Found");
          state.tokens = state.tokens.filter((t) => t.id !== subId &&
            !(token.oauth_client !== "JupyterHub" && t.user === name && t.oauth_client === token.oauth_client));
          return send(res, 204);
        }
      }
    }
    if (collection === "groups") {
      if (!name && m === "GET") return send(res, 200, paginate(req, url, Array.from(state.groups.values())));
      const group = state.groups.get(name);
      if (name && !sub) {
        if (m === "POST") {
          if (group) return fail(res, 409, `Group ${name} already exists`);
          const g = { kind: "group", name, users: (body && body.users) || [], properties: {}, roles: [] };
          state.groups.set(name, g);
          return send(res, 201, g);
        }
        if (!group) return fail(res, 404, "Not Found");
        if (m === "GET") return send(res, 200, group);
        if (m === "DELETE") {
          state.groups.delete(name);
          return send(res, 204);
        }
      }
      if (name && sub === "users") {
        if (!group) return fail(res, 404, "Not Found");
        const users = (body && body.users) || [];
        if (!users.length) return fail(res, 400, "Must specify users to add or remove");
        if (!needUsers(users, res)) return;
        if (m === "POST") {
          for (const u of users) {
            if (!group.users.includes(u)) group.users.push(u);
            const model = state.users.get(u);
            if (!model.groups.includes(name)) model.groups.push(name);
          }
        } else if (m === "DELETE") {
          group.users = group.users.filter((u) => !users.includes(u));
          for (const u of users) state.users.get(u).groups = state.users.get(u).groups.filter((g) => g !== name);
        }
        return send(res, 200, group);
      }
    }
    if (collection === "roles") {
      if (!name && m === "GET") return send(res, 200, paginate(req, url, Array.from(state.roles.values())));
      if (!name && m === "POST") {
        if (!body || !body.name) return fail(res, 400, "Role name is required");
        if (state.roles.has(body.name)) return fail(res, 409, `Role ${body.name} already exists`);
        const bad = (body.scopes || []).find((s) => !/^[a-z:-]+(![a-z]+=[^=]+)?$/.test(s) && !s.startsWith("custom:"));
        if (bad) return fail(res, 400, `Unknown scope: ${bad}`);
        const role = { kind: "role", name: body.name, description: body.description || "", scopes: body.scopes || [],
          users: [], groups: [], services: [], source: "api" };
        state.roles.set(role.name, role);
        return send(res, 201, role);
      }
      const role = state.roles.get(name);
      if (!role) return fail(res, 404, `Role ${name} not found`);
      if (!sub) {
        if (m === "GET") return send(res, 200, role);
        if (["default", "config", "authenticator"].includes(role.source) && (m === "PATCH" || m === "DELETE")) {
          return fail(res, 400, `Role ${name} comes from ${role.source} and cannot be changed here`);
        }
        if (m === "PATCH") {
          if ("description" in body) role.description = body.description;
          if ("scopes" in body) role.scopes = body.scopes;
          return send(res, 200, role);
        }
        if (m === "DELETE") {
          state.roles.delete(name);
          return send(res, 204);
        }
      }
      if (["users", "groups", "services"].includes(sub)) {
        const names = (body && body[sub]) || [];
        const known = sub === "users" ? state.users : sub === "groups" ? state.groups : new Map();
        const unknown = names.filter((n) => !known.has(n));
        if (unknown.length) return fail(res, 404, `No such ${sub}: ${unknown.join(", ")}`);
        if (m === "POST") for (const n of names) if (!role[sub].includes(n)) role[sub].push(n);
        if (m === "DELETE") role[sub] = role[sub].filter((n) => !names.includes(n));
        return send(res, 200, role);
      }
    }
    return fail(res, 404, "Not Found");
  }

  // Progress events the way hubd sends them: a few steps, then ready with the server URL.
  function progress(res, userName, serverName) {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    const url = "/hub/page/home";
    const events = [
      { progress: 10, message: "Server requested" },
      { progress: 50, message: "Pulling image <b>not html</b>" },
      { progress: 100, ready: true, message: `Server ready at /user/${userName}/${serverName}`, url },
    ];
    let i = 0;
    const timer = setInterval(() => {
      res.write(`data: ${JSON.stringify(events[i++])}\n\n`);
      if (i === events.length) {
        clearInterval(timer);
        res.end();
      }
    }, 200);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      log.push({ method: req.method, path: url.pathname, headers: req.headers, body: raw });
      const p = url.pathname;
      if (p.startsWith("/hub/static/")) {
        const file = path.normalize(path.join(staticDir, p.slice("/hub/static/".length)));
        if (!file.startsWith(staticDir)) return send(res, 404, "Not Found", "text/plain");
        return serveFile(res, file);
      }
      if (p === "/hub/logo") return serveFile(res, path.join(staticDir, "img", "logo.svg"));
      if (p.startsWith("/hub/page/")) {
        const name = p.slice("/hub/page/".length).replace(/[^a-z_-]/g, "");
        const [base, variant] = name.split("-");
        const file = path.join(pagesDir, `${base}.html`);
        if (variant === "capped") {
          // The token page with token_expires_in_max_seconds = 2 days.
          const html = fs.readFileSync(file, "utf8").replace('data-expires-max="0"', 'data-expires-max="172800"');
          return send(res, 200, html, TYPES[".html"]);
        }
        return serveFile(res, file);
      }
      if (p.startsWith("/hub/api/") && !p.startsWith("/hub/api/oauth2/")) {
        if (req.method !== "GET" && req.headers["x-xsrftoken"] !== xsrfToken) {
          return fail(res, 403, "'_xsrf' argument missing from POST");
        }
        if (p.endsWith("/progress") && url.searchParams.get("_xsrf") !== xsrfToken) {
          return fail(res, 403, "'_xsrf' argument missing from GET");
        }
        let body = null;
        if (raw) {
          try {
            body = JSON.parse(raw);
          } catch (e) {
            return fail(res, 400, "Invalid JSON in body of request");
          }
        }
        const parts = p.slice("/hub/api/".length).split("/").map(decodeURIComponent);
        return api(req, res, url, parts, body);
      }
      if (req.method === "POST") return send(res, 200, "<!DOCTYPE html><p id=posted>posted</p>", TYPES[".html"]);
      return send(res, 404, "Not Found", "text/plain");
    });
  });

  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        log,
        get state() { return state; },
        reset() { state = initialState(); },
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}

module.exports = { startMockHub };
