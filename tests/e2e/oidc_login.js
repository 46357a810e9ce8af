// Browser end-to-end test of the generic-oauth authenticator: a real hubd logs alice in through a real
// OpenID provider's own login page, as a person would, in Debian's chromium. From the hub's login page
// she clicks "Sign in with Test IdP", lands on the provider's login form, types her credentials (and
// grants consent when asked), comes back to /hub/home showing her name, logs out and sees the hub's
// login page again. Once per provider of tests/support/oidc_providers.py: panva's oidc-provider
// (a server-rendered form, with the consent step) and Glewlwyd (a JavaScript login app). Screenshots:
// artifacts/oidc-<provider>-*.png.
//
//   node tests/e2e/oidc_login.js [BUILD_DIR]
//
// Exit 77 (CTest's skip) when chromium, playwright-core or every provider is missing here.
"use strict";

const assert = require("assert/strict");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD_DIR = path.resolve(process.argv[2] || process.env.HUBD_BUILD_DIR || path.join(ROOT, "build"));
const TOTAL_TIMEOUT_MS = 90000;
const KINDS = ["node", "glewlwyd"];
const LOGIN_SERVICE = "Test IdP";
const ADMIN_TOKEN = crypto.randomBytes(24).toString("hex");

// Before anything is required that may not be installed.
const { skip, needBrowser } = require("./lib/prerequisites");
needBrowser();
const GENERIC_OAUTH_PLUGIN = path.join(BUILD_DIR, "lib", "hubd", "plugins", "generic_oauth.so");
if (!fs.existsSync(GENERIC_OAUTH_PLUGIN))
  throw new Error(`${GENERIC_OAUTH_PLUGIN} is missing: build the hubd_shipped_plugins target first`);

const { createSteps } = require("./lib/steps");
const { launch, screenshot } = require("./lib/browser");
const { startHub, tomlStr } = require("./lib/real_hub");
const { startProvider, CLIENT_ID, CLIENT_SECRET, USERS } = require("./lib/oidc_provider");

function hubConfig(issuer) {
  return {
    // Straight to /hub/home after the login, not to a spawn.
    jupyterhub: 'authenticator_class = "generic-oauth"\nredirect_to_server = false\n',
    config: `
[[JupyterHub.services]]
name = "e2e-admin"
admin = true
api_token = ${tomlStr(ADMIN_TOKEN)}

[plugins.generic-oauth]
client_id = ${tomlStr(CLIENT_ID)}
client_secret = ${tomlStr(CLIENT_SECRET)}
issuer = ${tomlStr(issuer)}
scope = ["openid", "profile", "email", "groups"]
username_claim = "preferred_username"
allowed_groups = ["hub-users"]
login_service = ${tomlStr(LOGIN_SERVICE)}
`,
  };
}

// What a person does on each provider's login page, which `page` shows; `hubHome` is the hub's page
// once she is back.
const LOGIN_AT = {
  // oidc-provider's own interaction pages: a plain HTML form, then (preconsent off) "Authorize".
  async node(page, user, password, shot, hubHome) {
    await page.getByLabel("Login").fill(user);
    await page.getByLabel("Password").fill(password);
    await shot("provider-login");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const allow = page.getByRole("button", { name: "Allow", exact: true });
    await allow.or(hubHome).waitFor();
    if (await allow.isVisible()) {
      await shot("provider-consent");
      await allow.click();
    }
  },
  // Glewlwyd's login web app (JavaScript): Login and Password, OK, then a page that continues to
  // the client (that button's name carries an icon: not matched exactly).
  async glewlwyd(page, user, password, shot) {
    await page.getByLabel("Login").fill(user);
    await page.getByLabel("Password").fill(password);
    await shot("provider-login");
    await page.getByRole("button", { name: "OK", exact: true }).click();
    const proceed = page.getByRole("button", { name: "Continue" });
    await proceed.waitFor();
    await shot("provider-continue");
    await proceed.click();
  },
};

// One provider, started beside the others and the browser: { op }, { skip } or { failed }.
async function provider(kind, workdir) {
  try {
    const op = await startProvider(kind, path.join(workdir, kind), { consent: kind === "node" });
    if (op.skip) return { skip: op.skip };
    console.log(`${kind} provider ${op.issuer} (pid ${op.pid})`);
    return { op };
  } catch (err) {
    console.log(`FAIL ${kind}: the provider did not start: ${err.stack || err}`);
    return { failed: [[`${kind}: the provider starts`, "FAILED"]] };
  }
}

// Alice's login through `op`, in the shared browser `session` with no cookies yet. Returns the steps.
async function runAgainst(kind, op, session) {
  // Each provider has its own steps: a failure against one does not skip the other.
  const { step, required, results, failedCount } = createSteps({ stopOnFailure: false });
  const { page } = session;
  const tid = (id) => page.getByTestId(id);
  const shot = (name) => screenshot(page, `oidc-${kind}-${name}`);
  let hub = null;
  try {
    hub = await startHub({ buildDir: BUILD_DIR, ...hubConfig(op.issuer) });
    console.log(`hubd ${hub.url} (pid ${hub.proc.pid}, work dir ${hub.workdir})`);
    await op.setRedirectUris([hub.url + "hub/oauth_callback"]);
    const hubOrigin = new URL(hub.url).origin;
    const issuerOrigin = new URL(op.issuer).origin;

    await required(`${kind}: the hub's login page sends alice to the provider's login page`, async () => {
      await page.goto(hub.url + "hub/login");
      const button = tid("login-service");
      assert.match(await button.textContent(), new RegExp(`Sign in with ${LOGIN_SERVICE}`));
      await shot("hub-login");
      await Promise.all([page.waitForURL((u) => u.origin === issuerOrigin), button.click()]);
      await page.waitForLoadState();
    });

    await required(`${kind}: alice types her credentials there and lands on /hub/home`, async () => {
      await LOGIN_AT[kind](page, "alice", USERS.alice, shot, tid("nav-user-name"));
      await page.waitForURL((u) => u.origin === hubOrigin && u.pathname === "/hub/home");
      assert.equal((await tid("nav-user-name").textContent()).trim(), "alice");
      await tid("server-row-default").waitFor();
      await shot("hub-home");
      const r = await hub.api("GET", "/users/alice", { token: ADMIN_TOKEN });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.data.name, "alice");
    });

    await step(`${kind}: logging out shows the hub's login page again`, async () => {
      await Promise.all([page.waitForURL((u) => u.origin === hubOrigin && u.pathname === "/hub/login"),
        tid("logout").click()]);
      await tid("login-service").waitFor();
      await shot("hub-logged-out");
      const cookies = await session.context.cookies(hub.url);
      assert.ok(!cookies.some((c) => c.name === "jupyterhub-hub-login"), "login cookie cleared");
      const home = await page.goto(hub.url + "hub/home");
      assert.equal(new URL(page.url()).pathname, "/hub/login", `after logout /hub/home goes to the login page (${home.status()})`);
    });
  } catch (err) {
    results.push([`${kind}: setup`, "FAILED"]);
    console.log(`FAIL ${kind}: ${err.stack || err}`);
  } finally {
    const failed = failedCount() > 0;
    if (failed) await shot("failure").catch((e) => console.log(`screenshot: ${e}`));
    if (hub) await hub.finish(failed, { logLines: 60 });
    if (failed) console.log(`---- ${kind} provider log (end of ${op.logPath}) ----\n${op.log().split("\n").slice(-40).join("\n")}`);
  }
  return results;
}

async function main() {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "hubd-e2e-oidc-"));
  const watchdog = setTimeout(() => {
    console.log(`FAIL the whole test took longer than ${TOTAL_TIMEOUT_MS} ms`);
    process.exit(1);  // the exit handlers of real_hub.js and oidc_provider.js kill what is still running
  }, TOTAL_TIMEOUT_MS);
  watchdog.unref();
  const results = [];
  let ran = 0;
  let session = null;
  // The providers and chromium start side by side: each takes about a second.
  const [browser, ...providers] = await Promise.allSettled([launch(), ...KINDS.map((k) => provider(k, workdir))]);
  const started = providers.map((p) => p.value);   // provider() does not reject
  try {
    if (browser.status === "rejected") throw browser.reason;
    session = browser.value;
    for (const [i, kind] of KINDS.entries()) {
      const { op, skip: why, failed } = started[i];
      if (why) {
        // Not a step: a kind that cannot run here is reported, and the test passes on the other one.
        console.log(`skip ${kind}: ${why}`);
        continue;
      }
      ran++;
      if (failed) {
        results.push(...failed);
        continue;
      }
      // A fresh visitor for each provider.
      await session.context.clearCookies();
      results.push(...(await runAgainst(kind, op, session)));
    }
  } catch (err) {
    results.push(["setup", "FAILED"]);
    console.log(`FAIL ${err.stack || err}`);
  } finally {
    if (session) await session.close().catch((e) => console.log(`closing chromium: ${e}`));
    await Promise.all(started.filter((s) => s.op).map((s) => s.op.stop()));
    clearTimeout(watchdog);
  }
  const failed = results.filter(([, r]) => r !== "ok").length;
  // The providers' logs stay for a failed run (their paths were printed).
  if (!failed) fs.rmSync(workdir, { recursive: true, force: true });
  if (ran === 0) skip("no test OpenID provider can run here");
  console.log(`${results.length - failed} passed, ${failed} failed or skipped`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
