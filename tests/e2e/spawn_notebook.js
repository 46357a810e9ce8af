// Browser end-to-end test of a user's notebook server: a real hubd with the local spawner, the
// real jupyterhub-singleuser (Debian's jupyterhub) and the real configurable-http-proxy hubd starts.
// Debian's chromium logs alice in through the proxy, starts her server from the spawn page and lands on
// the notebook's tree page after the OAuth round trip; bob gets 403 on alice's server until an admin
// grants him access:servers!user=alice through the roles API, then gets in (after the confirmation page)
// without anything restarting; stopping the server removes its route. Screenshots: artifacts/spawn-*.png.
//
//   node tests/e2e/spawn_notebook.js [BUILD_DIR]
"use strict";

const assert = require("assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { needBrowser, needFiles } = require("./lib/prerequisites");
needBrowser();
needFiles(["/usr/bin/jupyterhub-singleuser", "/usr/bin/configurable-http-proxy"]);
const { createSteps } = require("./lib/steps");
const { launch, screenshot } = require("./lib/browser");
const { startHub, freePort, fetchWithTimeout, tomlStr } = require("./lib/real_hub");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD_DIR = path.resolve(process.argv[2] || process.env.HUBD_BUILD_DIR || path.join(ROOT, "build"));
const ADMIN_TOKEN = crypto.randomBytes(24).toString("hex");
const PROXY_TOKEN = crypto.randomBytes(24).toString("hex");
const TOTAL_TIMEOUT_MS = 300000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => null);
    if (v) return v;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const { step, results: steps, failedCount, summary } = createSteps({ stopOnFailure: true });

async function main() {
  const proxyPort = await freePort();
  const apiPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  let hub = null;
  let alice = null;
  let bob = null;
  const watchdog = setTimeout(() => {
    console.log(`FAIL the whole test took longer than ${TOTAL_TIMEOUT_MS} ms`);
    if (hub) console.log(hub.log().split("\n").slice(-60).join("\n"));
    if (hub) hub.proc.kill("SIGKILL");
    process.exit(1);
  }, TOTAL_TIMEOUT_MS);
  watchdog.unref();

  process.env.CONFIGPROXY_AUTH_TOKEN = PROXY_TOKEN;  // inherited by hubd, which hands it to CHP
  const routes = async () => {
    const r = await fetchWithTimeout(`http://127.0.0.1:${apiPort}/api/routes`, {
      headers: { Authorization: `token ${PROXY_TOKEN}` },
    });
    return r.json();
  };
  try {
    hub = await startHub({
      buildDir: BUILD_DIR,
      jupyterhub: `proxy_class = "configurable-http-proxy"\nbind_url = ${tomlStr(proxyUrl)}\n`,
      config: `
[[JupyterHub.services]]
name = "e2e-admin"
admin = true
api_token = ${tomlStr(ADMIN_TOKEN)}

[ConfigurableHTTPProxy]
api_url = ${tomlStr(`http://127.0.0.1:${apiPort}`)}
check_routes_interval = 2

[Spawner]
poll_interval = 2
http_timeout = 60

[plugins.local]
home_dir_template = ${tomlStr("{username}")}
`,
      timeoutMs: 40000,
    });
    console.log(`hubd ${hub.url} behind CHP ${proxyUrl} (work dir ${hub.workdir})`);
    const admin = (method, p, options = {}) => hub.api(method, p, { ...options, token: ADMIN_TOKEN });
    const serverOf = async (user) => ((await admin("GET", `/users/${user}`)).data.servers || {})[""];

    await step("the proxy routes / to hubd", async () => {
      await waitFor("the hub route", async () => (await routes())["/"], 30000);
      const r = await fetchWithTimeout(proxyUrl + "/hub/api/");
      assert.equal(r.status, 200);
    });

    await step("alice logs in through the proxy and the spawn page lands on her notebook", async () => {
      alice = await launch({ baseURL: proxyUrl, timeout: 90000 });
      const { page } = alice;
      await page.goto("/hub/login");
      await page.getByTestId("login-username").fill("alice");
      await page.getByTestId("login-password").fill("anything");
      await Promise.all([page.waitForNavigation(), page.getByTestId("login-submit").click()]);
      await page.goto("/hub/spawn");
      // spawn → spawn-pending (progress) → /user/alice/ → hub authorize → oauth_callback → the tree page.
      await page.waitForURL(/\/user\/alice\/tree/, { timeout: 90000 });
      await page.waitForLoadState();
      await screenshot(page, "spawn-alice-tree");
      assert.match(await page.title(), /Home|Jupyter/i, `notebook page title, got ${await page.title()}`);
      const cookies = await alice.context.cookies();
      assert.ok(cookies.some((c) => c.name === "jupyterhub-user-alice"), "the server's OAuth cookie is set");
      const s = await serverOf("alice");
      assert.ok(s && s.ready, JSON.stringify(s));
      assert.ok((await routes())["/user/alice"], "alice's route is in the proxy");
    });

    await step("bob gets 403 on alice's server", async () => {
      bob = await launch({ baseURL: proxyUrl, timeout: 60000 });
      const { page } = bob;
      await page.goto("/hub/login");
      await page.getByTestId("login-username").fill("bob");
      await page.getByTestId("login-password").fill("anything");
      await Promise.all([page.waitForNavigation(), page.getByTestId("login-submit").click()]);
      const resp = await page.goto("/user/alice/tree");
      await screenshot(page, "spawn-bob-403");
      assert.equal(resp.status(), 403, `status on ${page.url()}`);
      assert.match(page.url(), /\/hub\/api\/oauth2\/authorize/);
    });

    await step("an admin grants bob access:servers!user=alice: bob gets in, nothing restarted", async () => {
      const pid = (await serverOf("alice")).state.pid;
      let r = await admin("POST", "/roles", { body: { name: "alice-guests", scopes: ["access:servers!user=alice"] } });
      assert.equal(r.status, 201, r.text);
      r = await admin("POST", "/roles/alice-guests/users", { body: { users: ["bob"] } });
      assert.ok([200, 201].includes(r.status), r.text);
      const { page } = bob;
      await page.goto("/user/alice/tree");
      // Not bob's own server: the hub asks him to confirm first.
      await page.getByTestId("oauth-authorize").click();
      await page.waitForURL(/\/user\/alice\/tree/, { timeout: 60000 });
      await screenshot(page, "spawn-bob-in");
      assert.equal((await serverOf("alice")).state.pid, pid, "the same server process");
    });

    await step("stopping the server removes its route", async () => {
      const r = await admin("DELETE", "/users/alice/server");
      assert.ok([202, 204].includes(r.status), r.text);
      await waitFor("alice's server to stop", async () => !(await serverOf("alice")), 60000);
      assert.equal((await routes())["/user/alice"], undefined);
    });
  } catch (err) {
    steps.push(["setup", "FAILED"]);
    console.log(`FAIL ${err.stack || err}`);
  } finally {
    for (const s of [alice, bob]) if (s) await s.close().catch((e) => console.log(`closing chromium: ${e}`));
    if (hub) {
      await hub.finish(failedCount() > 0, { logLines: 80, timeoutMs: 40000 });
    }
    clearTimeout(watchdog);
  }
  process.exit(summary() ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
