// Browser end-to-end test of hubd's pages against a REAL hubd process: Debian's chromium,
// driven by playwright-core, logs in through the login form, creates and revokes a token on the
// token page, authorizes an OAuth client on the confirmation page and, as an admin, adds a user to a
// group on the admin page. Every step checks its effect over the REST API with an admin token, not
// just in the DOM. Screenshots go to artifacts/real-*.png.
//
//   node tests/e2e/real_hub_pages.js [BUILD_DIR]    (BUILD_DIR defaults to $HUBD_BUILD_DIR or build)
"use strict";

const assert = require("assert/strict");
const crypto = require("crypto");
const path = require("path");
require("./lib/prerequisites").needBrowser();
const { createSteps } = require("./lib/steps");
const { launch, screenshot } = require("./lib/browser");
const { startHub, startRecorder, fetchWithTimeout, tomlStr } = require("./lib/real_hub");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD_DIR = path.resolve(process.argv[2] || process.env.HUBD_BUILD_DIR || path.join(ROOT, "build"));
const PASSWORD = "e2e-" + crypto.randomBytes(6).toString("hex");
const ADMIN_TOKEN = crypto.randomBytes(24).toString("hex");
const CLIENT_SECRET = crypto.randomBytes(24).toString("hex");
const SERVICE = "notes";
const CLIENT_ID = `service-${SERVICE}`;
const CUSTOM_SCOPE = "custom:notes:read";
const CUSTOM_DESCRIPTION = "Read the notes you keep in the notes service.";
const TOTAL_TIMEOUT_MS = 240000;

function hubConfig(callbackUrl) {
  return {
    jupyterhub: "redirect_to_server = false\n",
    config: `
[JupyterHub.custom_scopes.${tomlStr(CUSTOM_SCOPE)}]
description = ${tomlStr(CUSTOM_DESCRIPTION)}

[[JupyterHub.load_roles]]
name = "notes-users"
scopes = [${tomlStr(`access:services!service=${SERVICE}`)}, ${tomlStr(CUSTOM_SCOPE)}]
users = ["alice"]

[[JupyterHub.services]]
name = "e2e-admin"
admin = true
api_token = ${tomlStr(ADMIN_TOKEN)}

[[JupyterHub.services]]
name = ${tomlStr(SERVICE)}
url = ${tomlStr(callbackUrl)}
api_token = ${tomlStr(CLIENT_SECRET)}
oauth_client_id = ${tomlStr(CLIENT_ID)}
oauth_redirect_uri = ${tomlStr(callbackUrl + "/oauth_callback")}
oauth_client_allowed_scopes = [${tomlStr(CUSTOM_SCOPE)}]

[Authenticator]
admin_users = ["admin"]

[plugins.dummy]
password = ${tomlStr(PASSWORD)}
`,
  };
}

const { step, required, results: steps, failedCount, summary } = createSteps({ stopOnFailure: false });

// The hub's stylesheet, script and logo loaded (nothing blocked by the Content-Security-Policy).
async function assertStyled(page) {
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, "rgb(245, 246, 248)", `stylesheet applied on ${page.url()}`);
  assert.ok(await page.locator("img.logo").evaluate((img) => img.complete && img.naturalWidth > 0), "logo loads");
  assert.equal(await page.evaluate(() => typeof window.hubd), "object", "hubd.js runs");
}

function cookieHeader(cookies) {
  return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

async function main() {
  const recorder = await startRecorder();
  const redirectUri = recorder.url + "/oauth_callback";
  let hub = null;
  let session = null;
  const watchdog = setTimeout(() => {
    console.log(`FAIL the whole test took longer than ${TOTAL_TIMEOUT_MS} ms`);
    if (hub) console.log(hub.log().split("\n").slice(-40).join("\n"));
    if (hub) hub.proc.kill("SIGKILL");
    process.exit(1);
  }, TOTAL_TIMEOUT_MS);
  watchdog.unref();

  try {
    hub = await startHub({ buildDir: BUILD_DIR, ...hubConfig(recorder.url) });
    console.log(`hubd ${hub.url} (pid ${hub.proc.pid}, work dir ${hub.workdir})`);
    const admin = (method, p, options = {}) => hub.api(method, p, { ...options, token: ADMIN_TOKEN });
    session = await launch({ baseURL: hub.url });
    const { page, context } = session;
    const tid = (id) => page.getByTestId(id);
    const hubPath = (p) => new URL(page.url()).pathname === p;

    await required("the admin service token works against the real REST API", async () => {
      const r = await admin("GET", "/user");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.data.kind, "service");
      assert.equal(r.data.name, "e2e-admin");
    });

    await step("POST /hub/login without _xsrf is refused (403), from a script and from the browser", async () => {
      const form = await fetchWithTimeout(hub.url + "hub/login");
      const setCookies = form.headers.getSetCookie();
      await form.text();
      const cookie = setCookies.map((c) => c.split(";")[0]).join("; ");
      const r = await fetchWithTimeout(hub.url + "hub/login", {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
        body: new URLSearchParams({ username: "mallory", password: PASSWORD }).toString(),
      });
      await r.text();
      assert.equal(r.status, 403);
      assert.ok(!r.headers.getSetCookie().some((c) => c.startsWith("jupyterhub-hub-login=")), "no login cookie");

      // The same form in the browser, with its _xsrf field taken out.
      await page.goto("/hub/login");
      await page.locator('input[name="_xsrf"]').evaluate((input) => input.remove());
      await tid("login-username").fill("mallory");
      await tid("login-password").fill(PASSWORD);
      const [response] = await Promise.all([
        page.waitForResponse((resp) => resp.request().method() === "POST" && new URL(resp.url()).pathname === "/hub/login"),
        tid("login-submit").click(),
      ]);
      assert.equal(response.status(), 403);
      await page.waitForLoadState();
      await screenshot(page, "real-login-without-xsrf");
      assert.ok(!(await context.cookies()).some((c) => c.name === "jupyterhub-hub-login"), "no login cookie in the browser");
      assert.equal((await admin("GET", "/users/mallory")).status, 404, "no user was created");
    });

    await required("log in through the login form (next=/hub/token is honoured)", async () => {
      await page.goto("/hub/token");
      assert.ok(hubPath("/hub/login"), `redirected to the login page, got ${page.url()}`);
      assert.equal(new URL(page.url()).searchParams.get("next"), "/hub/token");
      await tid("login-username").fill("alice");
      await tid("login-password").fill("wrong-" + PASSWORD);
      await tid("login-submit").click();
      await tid("login-error").waitFor();
      await screenshot(page, "real-login-error");
      await tid("login-username").fill("alice");
      await tid("login-password").fill(PASSWORD);
      await assertStyled(page);
      await screenshot(page, "real-login");
      await Promise.all([page.waitForURL("**/hub/token"), tid("login-submit").click()]);
      assert.equal(await tid("nav-user-name").textContent(), "alice");
      const cookies = await context.cookies();
      const login = cookies.find((c) => c.name === "jupyterhub-hub-login");
      assert.ok(login, "login cookie set");
      assert.equal(login.httpOnly, true);
      assert.equal(login.path, "/hub/");
      assert.notEqual(login.sameSite, "None");
      // The hub knows alice now, and the browser's cookie identifies her to the API.
      const r = await admin("GET", "/users/alice");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.data.admin, false);
      // (the page's own helper: cookie-authenticated API calls carry the page's XSRF token)
      const me = await page.evaluate(async () => (await window.hubd.api("GET", window.hubd.apiPath("user"))).data);
      assert.equal(me.name, "alice");
    });

    let tokenValue = null;
    let tokenScope = null;
    const note = "e2e token <b>not html</b>";
    await required("token page: create a token with a note, an expiry and one held scope", async () => {
      // The list is loaded once either a row or the "no tokens" line shows.
      await page.waitForFunction(() => !document.getElementById("api-tokens-empty").hidden
        || document.querySelector('[data-testid="api-token-row"]'));
      await assertStyled(page);
      const offered = await page.locator('input[name="scopes"]').evaluateAll((els) => els.map((e) => e.value));
      assert.ok(offered.length > 0, "the page offers the scopes alice holds");
      assert.ok(offered.includes(CUSTOM_SCOPE), `custom scope offered: ${offered.join(", ")}`);
      assert.ok(!offered.some((s) => s === "admin:users" || s.startsWith("admin:")), "no admin scopes offered to a user");
      // A narrow scope that still lets the token be used: read alice's own model.
      tokenScope = offered.find((s) => s === "read:users!user=alice") || offered.find((s) => s.startsWith("read:users")) || offered[0];
      await tid("token-note").fill(note);
      await tid("token-expires").selectOption("86400");
      await page.locator(`input[name="scopes"][value="${tokenScope}"]`).check();
      await screenshot(page, "real-token-form");
      const before = Date.now();
      await tid("token-request").click();
      await tid("new-token-box").waitFor({ state: "visible" });
      tokenValue = (await tid("new-token-value").textContent()).trim();
      assert.match(tokenValue, /^[A-Za-z0-9_-]{16,}$/);
      const row = tid("api-token-row").filter({ hasText: note });
      await row.waitFor();
      assert.equal(await page.locator("#api-tokens b").count(), 0, "the note is shown as text");
      assert.ok((await row.textContent()).includes(tokenScope), "the row lists the token's scope");
      await screenshot(page, "real-token-created");

      // Over the REST API: the token exists with that note, scope and expiry, and it works.
      const list = await admin("GET", "/users/alice/tokens");
      assert.equal(list.status, 200, list.text);
      const t = list.data.api_tokens.find((x) => x.note === note);
      assert.ok(t, `token listed: ${list.text}`);
      // The model lists the token's expanded scopes (as JupyterHub does): the chosen one and its subscopes.
      const onlyChosen = (scopes) => scopes.includes(tokenScope)
        && scopes.every((x) => x.split("!")[0].startsWith(tokenScope.split("!")[0]) && x.split("!")[1] === tokenScope.split("!")[1]);
      assert.ok(onlyChosen(t.scopes), `token scopes: ${JSON.stringify(t.scopes)}`);
      assert.ok(t.expires_at, "the token expires");
      const expires = Date.parse(t.expires_at);
      assert.ok(Math.abs(expires - (before + 86400 * 1000)) < 5 * 60 * 1000, `expires in about a day: ${t.expires_at}`);
      const me = await hub.api("GET", "/user", { token: tokenValue });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.data.name, "alice");
      assert.ok(onlyChosen(me.data.scopes), `scopes of /user with the token: ${JSON.stringify(me.data.scopes)}`);
    });

    await step("token page: a token with a scope alice does not hold is refused", async () => {
      await page.locator(`input[name="scopes"][value="${tokenScope}"]`).evaluate((box) => { box.value = "admin:users"; });
      await page.locator('input[name="scopes"][value="admin:users"]').check();
      await tid("token-note").fill("too much");
      await tid("token-request").click();
      await tid("token-error").waitFor({ state: "visible" });
      await screenshot(page, "real-token-too-many-scopes");
      const list = await admin("GET", "/users/alice/tokens");
      assert.ok(!list.data.api_tokens.some((x) => x.note === "too much"), "no token was created");
      await page.reload();
    });

    await required("token page: revoke the token; it then gets 403", async () => {
      const row = tid("api-token-row").filter({ hasText: note });
      await row.waitFor();
      await row.getByTestId("api-token-revoke").click();
      await row.waitFor({ state: "detached" });
      await screenshot(page, "real-token-revoked");
      const me = await hub.api("GET", "/user", { token: tokenValue });
      assert.equal(me.status, 403, me.text);
      const list = await admin("GET", "/users/alice/tokens");
      assert.ok(!list.data.api_tokens.some((x) => x.note === note), "token gone from the API");
    });

    await step("a cookie-authenticated API request without the page's XSRF token is refused", async () => {
      const status = await page.evaluate(async () => (await fetch("/hub/api/users/alice/tokens", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ note: "no xsrf" }),
      })).status);
      assert.equal(status, 403);
      const list = await admin("GET", "/users/alice/tokens");
      assert.ok(!list.data.api_tokens.some((x) => x.note === "no xsrf"), "no token was created");
    });

    let accessToken = null;
    let code = null;
    let clientDescription = null;
    await step("OAuth: the confirmation page shows the requested scopes with their descriptions", async () => {
      const q = new URLSearchParams({ client_id: CLIENT_ID, redirect_uri: redirectUri, response_type: "code", state: "xyz" });
      await page.goto(`/hub/api/oauth2/authorize?${q}`);
      await tid("oauth-authorize").waitFor();
      assert.equal(await tid("oauth-redirect-uri").textContent(), redirectUri);
      const items = await tid("oauth-scope").allTextContents();
      assert.ok(items.some((t) => t.includes(CUSTOM_DESCRIPTION)), `custom scope described: ${JSON.stringify(items)}`);
      assert.equal(await page.locator('[data-testid="oauth-scope"][data-scope="' + CUSTOM_SCOPE + '"]').count(), 1);
      clientDescription = (await tid("oauth-client-description").textContent()).trim();
      assert.ok(clientDescription, "the client is named");
      await screenshot(page, "real-oauth-confirm");
      // Served under /hub/api/, but it is a page: its stylesheet and logo must not be blocked.
      await assertStyled(page);
      assert.equal(recorder.requests.length, 0, "nothing reached the client before the user authorized");
    });

    await required("OAuth: authorize redirects to the redirect_uri with code and state", async () => {
      await Promise.all([page.waitForURL(`${redirectUri}?**`), tid("oauth-authorize").click()]);
      await page.locator("#callback-received").waitFor();
      const got = new URL(page.url());
      assert.equal(got.origin + got.pathname, redirectUri);
      assert.equal(got.searchParams.get("state"), "xyz");
      code = got.searchParams.get("code");
      assert.ok(code, "code in the redirect");
      const hit = recorder.requests.find((r) => r.path === "/oauth_callback");
      assert.ok(hit, "the client's server got the callback");
      assert.equal(hit.query.get("code"), code);
      assert.equal(hit.query.get("state"), "xyz");
      await screenshot(page, "real-oauth-callback");
    });

    await required("OAuth: the code is exchanged for a token that identifies alice; it cannot be reused", async () => {
      const form = { grant_type: "authorization_code", code, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: redirectUri };
      const r = await hub.api("POST", "/oauth2/token", { form });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.data.token_type, "Bearer");
      accessToken = r.data.access_token;
      assert.ok(accessToken);
      const me = await hub.api("GET", "/user", { token: accessToken });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.data.name, "alice");
      assert.ok(me.data.scopes.includes(CUSTOM_SCOPE), `custom scope granted: ${JSON.stringify(me.data.scopes)}`);
      assert.ok(!me.data.scopes.some((s) => s.startsWith("admin")), "no more than was asked");
      const again = await hub.api("POST", "/oauth2/token", { form });
      assert.equal(again.status, 400, again.text);
      assert.equal(again.data.error, "invalid_grant");
      const wrongSecret = await hub.api("POST", "/oauth2/token", { form: { ...form, client_secret: "nope" } });
      assert.equal(wrongSecret.status, 401);
    });

    await step("token page lists the authorized application", async () => {
      await page.goto("/hub/token");
      // The row names the client by its description, as the API's token model does.
      const tokens = await admin("GET", "/users/alice/tokens");
      const oauthToken = tokens.data.api_tokens.find((t) => t.oauth_client && t.oauth_client !== "JupyterHub");
      assert.ok(oauthToken, `alice holds an OAuth token: ${tokens.text}`);
      if (clientDescription) assert.equal(oauthToken.oauth_client, clientDescription);
      const row = tid("oauth-client-row").filter({ hasText: oauthToken.oauth_client });
      await row.waitFor();
      assert.ok((await row.textContent()).includes(CUSTOM_SCOPE), "the row lists the granted scope");
      await screenshot(page, "real-token-authorized-apps");
    });

    await step("logout ends alice's session and her OAuth token", async () => {
      const sessionCookies = cookieHeader((await context.cookies(hub.url + "hub/")).filter((c) => c.name.startsWith("jupyterhub-")));
      await page.goto("/hub/home");
      await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/hub/home")), tid("logout").click()]);
      await page.waitForLoadState();
      await screenshot(page, "real-logout");
      assert.ok(!(await context.cookies()).some((c) => c.name === "jupyterhub-hub-login"), "login cookie cleared");
      // The old cookie, replayed from elsewhere, no longer identifies anyone.
      const replay = await fetchWithTimeout(hub.apiUrl + "/user", { headers: { Cookie: sessionCookies, Accept: "application/json" } });
      await replay.text();
      assert.equal(replay.status, 403, "old session cookie refused");
      const me = await hub.api("GET", "/user", { token: accessToken });
      assert.equal(me.status, 403, `OAuth token of the ended session: ${me.status} ${me.text}`);
    });

    await required("log in as the admin", async () => {
      await context.clearCookies();
      await page.goto("/hub/admin");
      assert.ok(hubPath("/hub/login"), `redirected to the login page, got ${page.url()}`);
      await tid("login-username").fill("admin");
      await tid("login-password").fill(PASSWORD);
      await Promise.all([page.waitForURL("**/hub/admin**"), tid("login-submit").click()]);
      await tid("user-row").first().waitFor();
      const names = await tid("user-name").allTextContents();
      assert.ok(names.includes("alice") && names.includes("admin"), `users listed: ${names}`);
      await assertStyled(page);
      await screenshot(page, "real-admin-users");
      const r = await admin("GET", "/users/admin");
      assert.equal(r.data.admin, true);
    });

    await step("admin page: create a group and add alice to it", async () => {
      await tid("admin-tab-groups").click();
      await tid("add-group-name").fill("e2e-class");
      await tid("add-group-submit").click();
      const card = page.locator('[data-testid="group-card"][data-group="e2e-class"]');
      await card.waitFor();
      assert.equal((await admin("GET", "/groups/e2e-class")).status, 200, "group exists in the API");
      await card.getByTestId("group-add-member-name").fill("alice");
      await card.getByTestId("group-add-member").click();
      await card.getByTestId("group-member").filter({ hasText: "alice" }).waitFor();
      await screenshot(page, "real-admin-groups");
      const g = await admin("GET", "/groups/e2e-class");
      assert.equal(g.status, 200, g.text);
      assert.deepEqual(g.data.users, ["alice"]);
      const u = await admin("GET", "/users/alice");
      assert.ok(u.data.groups.includes("e2e-class"), `alice's groups: ${JSON.stringify(u.data.groups)}`);

      // A user that does not exist is an API error shown on the page, and changes nothing.
      await card.getByTestId("group-add-member-name").fill("nobody-here");
      await card.getByTestId("group-add-member").click();
      await tid("admin-error").waitFor({ state: "visible" });
      assert.deepEqual((await admin("GET", "/groups/e2e-class")).data.users, ["alice"]);
    });

    await step("no unexpected script errors on any page", async () => {
      const unexpected = session.consoleErrors.filter((e) => !/status of (400|403|404)/.test(e));
      assert.deepEqual(unexpected, []);
    });
  } catch (err) {
    steps.push(["setup", "FAILED"]);
    console.log(`FAIL ${err.stack || err}`);
  } finally {
    if (session) await session.close().catch((e) => console.log(`closing chromium: ${e}`));
    if (hub) {
      await hub.finish(failedCount() > 0, { logLines: 60 });
    }
    await recorder.close();
    clearTimeout(watchdog);
  }
  process.exit(summary() ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
