// A test OpenID provider for browser tests: tests/support/oidc_serve.py runs one of the providers of
// tests/support/oidc_providers.py (kind "node" = oidc-provider, "glewlwyd" = Glewlwyd) and talks to
// this module over its stdin and stdout.
//
//   const { startProvider } = require("./lib/oidc_provider");
//   const op = await startProvider("node", workdir);      // null when it cannot run here (op.skip)
//   await op.setRedirectUris([hub.url + "hub/oauth_callback"]);
//   await op.stop();                                       // always: closes stdin, then kills by PID
//
// Alice (alice-pw) and bob (bob-pw) log in with client hub-client / hub-secret.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const readline = require("readline");

const SERVE = path.resolve(__dirname, "..", "..", "support", "oidc_serve.py");
// The pytest-side helpers need Debian's python3 (its pytest and requests), not whatever is first on
// PATH; CTest passes the one CMake found.
const PYTHON = process.env.HUBD_PYTHON || (fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const CLIENT_ID = "hub-client";
const CLIENT_SECRET = "hub-secret";
const USERS = { alice: "alice-pw", bob: "bob-pw" };
const START_TIMEOUT_MS = 20000;   // the provider itself has 10 s; Python's start-up and the seed add to it
const ANSWER_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 8000;     // oidc_serve.py gives the provider 5 s after SIGTERM

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const live = new Set();
// A test that exits without stopping its provider (a thrown error, the watchdog) still takes it down;
// the provider itself also dies with oidc_serve.py (parent-death signal).
process.on("exit", () => {
  for (const proc of live) {
    try {
      proc.kill("SIGKILL");
    } catch (e) {
      // already gone
    }
  }
});

// Resolves to the provider, or to { skip: reason } when this kind cannot run here.
async function startProvider(kind, workdir, { consent = false } = {}) {
  fs.mkdirSync(workdir, { recursive: true });
  const args = [SERVE, kind, workdir, ...(consent ? ["--consent"] : [])];
  const proc = spawn(PYTHON, args, { stdio: ["pipe", "pipe", "pipe"] });
  live.add(proc);
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr = (stderr + d).slice(-20000); });
  let exited = null;
  const exitPromise = new Promise((resolve) => proc.on("exit", (code, signal) => {
    exited = { code, signal };
    live.delete(proc);
    resolve(exited);
  }));
  proc.on("error", (err) => { stderr += String(err); });

  const waiting = [];   // resolvers of the lines not read yet, in order
  const lines = [];
  readline.createInterface({ input: proc.stdout }).on("line", (line) => {
    if (waiting.length) waiting.shift()(line);
    else lines.push(line);
  });
  async function nextAnswer(what, timeoutMs) {
    const line = lines.length ? lines.shift() : await Promise.race([
      new Promise((resolve) => waiting.push(resolve)),
      exitPromise.then(() => null),
      sleep(timeoutMs).then(() => undefined),
    ]);
    if (line === undefined) throw new Error(`oidc_serve.py ${kind}: no answer to ${what} within ${timeoutMs} ms\n${stderr}`);
    if (line === null) throw new Error(`oidc_serve.py ${kind} exited (${JSON.stringify(exited)}) before answering ${what}\n${stderr}`);
    return JSON.parse(line);
  }

  async function stop() {
    if (!exited) {
      proc.stdin.end();
      const done = await Promise.race([exitPromise, sleep(STOP_TIMEOUT_MS).then(() => null)]);
      if (!done) {
        proc.kill("SIGKILL");
        await Promise.race([exitPromise, sleep(2000)]);
      }
    }
    return exited;
  }

  let first;
  try {
    first = await nextAnswer("the start", START_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw err;
  }
  if (first.skip) {
    await stop();
    return { skip: first.skip };
  }
  if (first.error) {
    await stop();
    throw new Error(`${first.error}\n${stderr}`);
  }
  const log = () => {
    try {
      return fs.readFileSync(first.log, "utf8");
    } catch (e) {
      return "";
    }
  };
  return {
    kind,
    issuer: first.issuer,
    pid: first.pid,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    users: USERS,
    logPath: first.log,
    log,
    // Replaces the client's redirect URIs (hubd binds port 0, so its callback is known late).
    async setRedirectUris(uris) {
      proc.stdin.write(JSON.stringify({ redirect_uris: uris }) + "\n");
      const answer = await nextAnswer("redirect_uris", ANSWER_TIMEOUT_MS);
      if (!answer.ok) throw new Error(`setting the redirect URIs at ${kind}: ${answer.error}`);
    },
    stop,
  };
}

module.exports = { startProvider, CLIENT_ID, CLIENT_SECRET, USERS };
