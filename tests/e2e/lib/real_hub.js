// A real hubd process for browser tests (the node counterpart of tests/integration/hubd_harness.py),
// and a tiny loopback HTTP server that records the requests it gets (an OAuth client's redirect_uri).
//
//   const { startHub, startRecorder } = require("./lib/real_hub");
//   const hub = await startHub({ buildDir, config });   // config: TOML appended after [JupyterHub]
//   const r = await hub.api("GET", "/users", { token });  // -> { status, data, headers, text }
//   await hub.stop();                                    // always: SIGTERM, then SIGKILL after a bound
//
// Every wait is bounded; a hub that is still running when node exits is killed.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const http = require("http");
const net = require("net");
const os = require("os");
const path = require("path");

// For listeners hubd does not own (the proxy, fake services); hubd itself binds port 0.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// fetch with a bound on the whole request.
async function fetchWithTimeout(url, init = {}, timeoutMs = 10000) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: ctl.signal });
  } finally {
    clearTimeout(timer);
  }
}

const tomlStr = (v) => JSON.stringify(String(v));
const SETPRIV = "/usr/bin/setpriv";

const liveHubs = new Set();
// A test killed from outside (CTest's timeout, ^C) still takes its hub down with it.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(sig, () => {
    console.log(`received ${sig}: stopping`);
    process.exit(1);
  });
}
process.on("exit", () => {
  for (const proc of liveHubs) {
    try {
      proc.kill("SIGKILL");
    } catch (e) {
      // already gone
    }
  }
});

// config: TOML text. Keys meant for [JupyterHub] go in options.jupyterhub (lines, "key = value"),
// since TOML allows the table only once; everything else (sub-tables, other sections) in config.
async function startHub({ buildDir, jupyterhub = "", config = "", baseUrl = "/", timeoutMs = 20000 }) {
  // The build tree has the installed layout: bin/hubd finds its plugins in lib/hubd/plugins itself.
  const hubd = path.join(buildDir, "bin", "hubd");
  if (!fs.existsSync(hubd)) throw new Error(`${hubd} is missing: build the hubd target first`);
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "hubd-e2e-"));
  const toml =
    "[JupyterHub]\n" +
    // The system picks the port; hubd writes it to --ports-file once start-up is done.
    'hub_bind_url = "http://127.0.0.1:0"\n' +
    `base_url = ${tomlStr(baseUrl)}\n` +
    'db_url = "sqlite:///jupyterhub.sqlite"\n' +
    // Talk to hubd directly unless the test asks for the proxy itself.
    (/^\s*proxy_class\s*=/m.test(jupyterhub) ? "" : 'proxy_class = "none"\n') +
    jupyterhub.trim() + "\n\n" + config.trim() + "\n";
  const configPath = path.join(workdir, "hub.toml");
  fs.writeFileSync(configPath, toml);
  const logPath = path.join(workdir, "hubd.log");
  const logFd = fs.openSync(logPath, "a");
  const portsFile = path.join(workdir, "hubd.ports");
  // A test killed outright (SIGKILL, as CTest's timeout does) runs no exit handler: the parent-death
  // signal then ends hubd instead of leaving it to PID 1. setpriv execs hubd, so the PID is hubd's.
  const argv = [hubd, "--config", configPath, "--ports-file", portsFile];
  const [command, ...args] = fs.existsSync(SETPRIV) ? [SETPRIV, "--pdeathsig", "TERM", "--", ...argv] : argv;
  const proc = spawn(command, args, { cwd: workdir, stdio: ["ignore", logFd, logFd] });
  fs.closeSync(logFd);
  liveHubs.add(proc);
  let exited = null;
  const exitPromise = new Promise((resolve) => proc.on("exit", (code, signal) => {
    exited = { code, signal };
    liveHubs.delete(proc);
    resolve(exited);
  }));
  proc.on("error", (err) => { exited = exited || { code: null, signal: null, error: err }; });

  const hub = {
    url: null, // known once hubd has written its ports file
    apiUrl: null,
    port: null,
    workdir,
    configPath,
    proc,
    log() {
      try {
        return fs.readFileSync(logPath, "utf8");
      } catch (e) {
        return "";
      }
    },
    // JSON REST call; options: token, body (JSON), form (object -> urlencoded), headers, redirect.
    async api(method, apiPath, options = {}) {
      const headers = { Accept: "application/json", ...(options.headers || {}) };
      if (options.token) headers.Authorization = `token ${options.token}`;
      let body;
      if (options.form) {
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        body = new URLSearchParams(options.form).toString();
      } else if (options.body !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(options.body);
      }
      const target = apiPath.startsWith("http") ? apiPath : hub.apiUrl + apiPath;
      const r = await fetchWithTimeout(target, { method, headers, body, redirect: options.redirect || "manual" });
      const text = await r.text();
      let data = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch (e) {
        data = null;
      }
      return { status: r.status, data, text, headers: r.headers };
    },
    async stop(timeoutMs = 15000) {
      if (exited) return exited;
      proc.kill("SIGTERM");
      const done = await Promise.race([exitPromise, sleep(timeoutMs).then(() => null)]);
      if (done) return done;
      proc.kill("SIGKILL");
      return Promise.race([exitPromise, sleep(5000).then(() => ({ code: null, signal: "SIGKILL" }))]);
    },
    cleanup() {
      fs.rmSync(workdir, { recursive: true, force: true });
    },
    // End of a test: stop hubd; after a failure print the end of its log and keep its folder.
    async finish(failed, { logLines = 60, timeoutMs = 15000 } = {}) {
      const exit = await hub.stop(timeoutMs);
      if (failed) console.log(`---- hubd log (last ${logLines} lines) ----\n${hub.log().split("\n").slice(-logLines).join("\n")}`);
      console.log(`hubd stopped: ${JSON.stringify(exit)}`);
      if (!failed) hub.cleanup();
      else console.log(`hubd work dir kept: ${hub.workdir}`);
      return exit;
    },
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`hubd exited (${JSON.stringify(exited)}) before answering:\n${hub.log()}`);
    if (hub.port === null && fs.existsSync(portsFile)) {
      hub.port = parseInt(fs.readFileSync(portsFile, "utf8"), 10);
      hub.url = `http://127.0.0.1:${hub.port}${baseUrl}`;
      hub.apiUrl = hub.url + "hub/api";
    }
    if (hub.port === null) {
      await sleep(20);
      continue;
    }
    try {
      const r = await fetchWithTimeout(hub.apiUrl + "/", {}, 1000);
      await r.text();
      if (r.status === 200) return hub;
    } catch (e) {
      // not listening yet
    }
    await sleep(100);
  }
  await hub.stop();
  throw new Error(`hubd did not answer GET /hub/api/ within ${timeoutMs} ms:\n${hub.log()}`);
}

// Records every request (method, path, query, headers, body) and answers a small HTML page.
async function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      const u = new URL(req.url, "http://127.0.0.1");
      const entry = { method: req.method, path: u.pathname, query: u.searchParams, headers: req.headers, body };
      requests.push(entry);
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end('<!DOCTYPE html><html><body><p id="callback-received">callback received</p></body></html>');
    });
  });
  await new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
      setTimeout(resolve, 2000).unref();
    }),
  };
}

module.exports = { startHub, startRecorder, freePort, fetchWithTimeout, tomlStr };
