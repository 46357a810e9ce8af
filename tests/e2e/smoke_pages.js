// Browser smoke test of the page templates and their scripts, without hubd: the templates are
// rendered with their sample data (web_render_samples), served with the static files and a mock
// REST API (lib/mock_hub.js), and driven in Debian's chromium. Screenshots go to artifacts/.
//
//   node tests/e2e/smoke_pages.js [BUILD_DIR]     (BUILD_DIR defaults to $HUBD_BUILD_DIR or build)
"use strict";

const assert = require("assert/strict");
const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { launch, screenshot } = require("./lib/browser");
const { startMockHub } = require("./lib/mock_hub");

const ROOT = path.resolve(__dirname, "..", "..");
const SAMPLES = path.join(ROOT, "tests", "unit", "web", "samples");

function renderPages() {
  const buildDir = path.resolve(process.argv[2] || process.env.HUBD_BUILD_DIR || path.join(ROOT, "build"));
  const tool = path.join(buildDir, "tests", "unit", "web", "web_render_samples");
  if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: build the web_render_samples target first`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "hubd-pages-"));
  execFileSync(tool, [out], { stdio: "inherit" });
  return out;
}

const steps = [];
async function step(name, fn) {
  try {
    await fn();
    steps.push([name, "ok"]);
    console.log(`ok   ${name}`);
  } catch (err) {
    steps.push([name, "FAILED"]);
    console.log(`FAIL ${name}\n     ${err.stack || err}`);
  }
}

async function main() {
  const pagesDir = renderPages();
  const xsrfToken = JSON.parse(fs.readFileSync(path.join(SAMPLES, "common.json"), "utf8")).xsrf_token;
  const hub = await startMockHub({ pagesDir, staticDir: path.join(ROOT, "core", "web", "static"), xsrfToken });
  const session = await launch({ baseURL: hub.url });
  const { page } = session;
  const tid = (id) => page.getByTestId(id);

  try {
    for (const name of ["login", "logout", "error", "oauth", "spawn", "not_running", "accept_share"]) {
      await step(`${name} page renders`, async () => {
        await page.goto(`/hub/page/${name}`);
        assert.equal(await page.locator(`[data-page="${name}"]`).count(), 1);
        assert.ok(await page.locator("img.logo").evaluate((img) => img.complete && img.naturalWidth > 0), "logo loads");
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bg, "rgb(245, 246, 248)", "stylesheet applied");
        await screenshot(page, `page-${name}`);
      });
    }

    await step("login form posts username, password, _xsrf and next", async () => {
      await page.goto("/hub/page/login");
      await tid("login-username").fill("alice");
      await tid("login-password").fill("secret");
      await tid("login-submit").click();
      await page.waitForSelector("#posted");
      const post = hub.log.filter((e) => e.method === "POST" && e.path === "/hub/login").pop();
      const form = new URLSearchParams(post.body);
      assert.equal(form.get("username"), "alice");
      assert.equal(form.get("password"), "secret");
      assert.equal(form.get("_xsrf"), xsrfToken);
      assert.equal(form.get("next"), "/hub/home");
    });

    await step("oauth confirm posts every allowed scope", async () => {
      await page.goto("/hub/page/oauth");
      await tid("oauth-authorize").click();
      await page.waitForSelector("#posted");
      const post = hub.log.filter((e) => e.method === "POST" && e.path === "/hub/api/oauth2/authorize").pop();
      const form = new URLSearchParams(post.body);
      assert.equal(form.get("_xsrf"), xsrfToken);
      assert.equal(form.getAll("scopes").length, 5);
    });

    await step("token page: create a token with note, expiry and scopes, then revoke it", async () => {
      await page.goto("/hub/page/token");
      await tid("api-token-row").first().waitFor();
      assert.equal(await tid("oauth-client-row").count(), 1);
      await screenshot(page, "token-before");
      await tid("token-note").fill("ci <b>token</b>");
      await tid("token-expires").selectOption("86400");
      await page.locator('input[value="servers!user=alice"]').check();
      await tid("token-request").click();
      await tid("new-token-box").waitFor({ state: "visible" });
      assert.equal(await tid("new-token-value").textContent(), "0123456789abcdef0123456789abcdef");
      const post = hub.log.filter((e) => e.method === "POST" && e.path === "/hub/api/users/alice/tokens").pop();
      assert.equal(post.headers["x-xsrftoken"], xsrfToken);
      assert.deepEqual(JSON.parse(post.body), { note: "ci <b>token</b>", expires_in: 86400, scopes: ["servers!user=alice"] });
      const row = tid("api-token-row").filter({ hasText: "ci <b>token</b>" });
      await row.waitFor();
      assert.equal(await page.locator("#api-tokens b").count(), 0, "note shown as text");
      await screenshot(page, "token-created");
      await row.getByTestId("api-token-revoke").click();
      await row.waitFor({ state: "detached" });
      await tid("oauth-client-revoke").click();
      await tid("oauth-clients-empty").waitFor({ state: "visible" }).catch(() => page.locator("#oauth-clients-empty").waitFor({ state: "visible" }));
    });

    await step("token page: expiry choices are capped", async () => {
      await page.goto("/hub/page/token-capped");
      const values = await tid("token-expires").locator("option").evaluateAll((os) => os.map((o) => o.value));
      assert.deepEqual(values, ["3600", "86400", "172800"]);
      assert.equal(await tid("token-expires").inputValue(), "172800");
    });

    await step("token page: API errors are shown", async () => {
      await page.goto("/hub/page/token");
      await page.evaluate(() => {
        const box = document.querySelector('input[value="servers!user=alice"]');
        box.value = "admin:users";
      });
      await page.locator('input[value="admin:users"]').check();
      await tid("token-request").click();
      await tid("token-error").waitFor({ state: "visible" });
      assert.match(await tid("token-error").textContent(), /not held/);
      await screenshot(page, "token-error");
    });

    await step("home page: stop and start the default server, follow progress to ready", async () => {
      await page.goto("/hub/page/home");
      await screenshot(page, "page-home");
      const row = tid("server-row-default");
      await row.getByTestId("server-stop").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="server-row-default"]').dataset.state === "stopped");
      // The sample page reuses its rendering, so a fresh load still says "running"; the API state changed.
      assert.equal(Object.keys(hub.state.users.get("alice").servers).length, 0);
    });

    await step("spawn pending page: progress events, then redirect to the server URL", async () => {
      hub.state.users.get("alice").servers.gpu = { name: "gpu", ready: false, pending: "spawn" };
      await page.goto("/hub/page/spawn_pending");
      await screenshot(page, "page-spawn_pending");
      await page.waitForURL("**/hub/page/home");
      const sse = hub.log.filter((e) => e.path.endsWith("/progress")).pop();
      assert.ok(sse, "progress stream opened");
    });

    await step("admin page: users list, paging and search", async () => {
      await page.goto("/hub/page/admin");
      await tid("user-row").first().waitFor();
      assert.equal(await tid("user-row").count(), 50);
      assert.equal(await tid("users-page-info").textContent(), "1–50 of 58");
      await screenshot(page, "admin-users");
      await tid("users-next").click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="user-row"]').length === 8);
      await tid("users-search").fill("car");
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="user-row"]').length === 1);
      assert.equal(await tid("user-name").textContent(), "carol");
    });

    await step("admin page: create a user, make them admin, delete them", async () => {
      await tid("users-search").fill("");
      await tid("add-users-names").fill("dave");
      await tid("add-users-submit").click();
      await tid("admin-status").waitFor({ state: "visible" });
      assert.equal(await tid("admin-status").textContent(), "Added dave");
      await tid("users-search").fill("dave");
      await page.waitForFunction(() => {
        const rows = document.querySelectorAll('[data-testid="user-row"]');
        return rows.length === 1 && rows[0].dataset.user === "dave";
      });
      const row = page.locator('[data-testid="user-row"][data-user="dave"]');
      await row.getByTestId("user-toggle-admin").click();
      await row.getByTestId("user-toggle-admin").filter({ hasText: "✓" }).waitFor();
      assert.equal(hub.state.users.get("dave").admin, true);
      assert.equal(hub.state.users.get("carol").admin, false);
      await row.getByTestId("user-delete").click();
      await row.waitFor({ state: "detached" });
      assert.equal(hub.state.users.has("dave"), false);
    });

    await step("admin page: add a user to a group and remove them", async () => {
      await tid("admin-tab-groups").click();
      await tid("add-group-name").fill("class-b");
      await tid("add-group-submit").click();
      const card = page.locator('[data-testid="group-card"][data-group="class-b"]');
      await card.waitFor();
      await card.getByTestId("group-add-member-name").fill("carol");
      await card.getByTestId("group-add-member").click();
      await card.getByTestId("group-member").filter({ hasText: "carol" }).waitFor();
      assert.deepEqual(hub.state.groups.get("class-b").users, ["carol"]);
      await screenshot(page, "admin-groups");
      await card.getByTestId("group-add-member-name").fill("nobody");
      await card.getByTestId("group-add-member").click();
      await tid("admin-error").waitFor({ state: "visible" });
      assert.match(await tid("admin-error").textContent(), /No such user/);
      await card.getByTestId("group-member-remove").click();
      await page.waitForFunction(() => !document.querySelector('[data-group="class-b"] [data-testid="group-member"]'));
      assert.deepEqual(hub.state.groups.get("class-b").users, []);
    });

    await step("admin page: create a role and assign it to a user and a group", async () => {
      await tid("admin-tab-roles").click();
      await tid("add-role-name").fill("graders");
      await tid("add-role-description").fill("Read grades");
      await tid("add-role-scopes").fill("custom:grades:read\nread:users!group=class-a");
      await tid("add-role-submit").click();
      const card = page.locator('[data-testid="role-card"][data-role="graders"]');
      await card.waitFor();
      await card.getByTestId("role-assign-names").fill("bob");
      await card.getByTestId("role-assign").click();
      await card.getByTestId("role-users").getByText("bob").waitFor();
      await card.getByTestId("role-assign-kind").selectOption("groups");
      await card.getByTestId("role-assign-names").fill("class-a");
      await card.getByTestId("role-assign").click();
      await card.getByTestId("role-groups").getByText("class-a").waitFor();
      assert.deepEqual(hub.state.roles.get("graders").users, ["bob"]);
      assert.deepEqual(hub.state.roles.get("graders").groups, ["class-a"]);
      await screenshot(page, "admin-roles");
      const admin = page.locator('[data-testid="role-card"][data-role="admin"]');
      assert.equal(await admin.getByTestId("role-delete").count(), 0, "default roles cannot be deleted");
    });

    await step("admin page: servers tab lists and stops servers", async () => {
      hub.state.users.get("bob").servers[""] = { name: "", ready: true, pending: null, stopped: false, url: "/user/bob/" };
      await tid("admin-tab-servers").click();
      const row = page.locator('[data-testid="server-row"][data-user="bob"]');
      await row.waitFor();
      await screenshot(page, "admin-servers");
      await row.getByTestId("server-stop").click();
      await row.waitFor({ state: "detached" });
      assert.equal(Object.keys(hub.state.users.get("bob").servers).length, 0);
    });

    await step("no script errors on any page", async () => {
      const unexpected = session.consoleErrors.filter((e) => !/status of (400|403|404)/.test(e));
      assert.deepEqual(unexpected, []);
    });
  } finally {
    await session.close();
    await hub.close();
    fs.rmSync(pagesDir, { recursive: true, force: true });
  }
  const failed = steps.filter(([, r]) => r !== "ok").length;
  console.log(`${steps.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
