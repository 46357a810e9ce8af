// Launches Debian's chromium through playwright-core (nothing downloaded) with a fresh profile,
// and keeps screenshots in tests/e2e/artifacts/ as test artifacts.
//
//   const { launch, screenshot } = require("./lib/browser");
//   const session = await launch();           // { browser, context, page, close() }
//   await session.page.goto(url);
//   await screenshot(session.page, "login");  // tests/e2e/artifacts/login.png
//   await session.close();
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const CHROMIUM = process.env.HUBD_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS_DIR = process.env.HUBD_E2E_ARTIFACTS || path.resolve(__dirname, "..", "artifacts");

// Everything that would make chromium talk to the network on its own, or need a GPU or a
// sandbox the test machine does not have, is off.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function ensureArtifactsDir() {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return ARTIFACTS_DIR;
}

// A persistent context is how playwright takes --user-data-dir (it refuses the flag in `args` and
// passes the folder itself); each launch gets its own throwaway profile, so no cookie or cache
// survives between tests.
async function launch(options = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium, or set HUBD_CHROMIUM)`);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hubd-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport || { width: 1280, height: 860 },
    acceptDownloads: false,
    baseURL: options.baseURL,
    timeout: options.launchTimeout || 60000,
  });
  context.setDefaultTimeout(options.timeout || 15000);
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
  // Pages ask before destructive actions (window.confirm); tests accept unless told otherwise.
  page.on("dialog", (dialog) => (options.dismissDialogs ? dialog.dismiss() : dialog.accept()));
  return {
    browser: context.browser(),
    context,
    page,
    consoleErrors,
    userDataDir,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// Saves a full-page PNG under artifacts/ and returns its path.
async function screenshot(page, name) {
  const file = path.join(ensureArtifactsDir(), `${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

module.exports = { launch, screenshot, ensureArtifactsDir, ARTIFACTS_DIR, CHROMIUM, CHROMIUM_ARGS };
