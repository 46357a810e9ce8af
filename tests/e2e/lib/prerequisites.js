// What a browser test needs before it can run at all. A missing piece is a skip (exit 77, CTest's
// SKIP_RETURN_CODE for these tests), never a pass and never a crash on a failed require().
//   require("./lib/prerequisites").needBrowser();            // playwright-core and chromium
//   require("./lib/prerequisites").needFiles(["/usr/bin/x"]);  // programs the test starts
"use strict";

const fs = require("fs");

const SKIP = 77;

function skip(reason) {
  console.log(`skip: ${reason}`);
  process.exit(SKIP);
}

function needBrowser() {
  try {
    require.resolve("playwright-core");
  } catch (e) {
    skip("playwright-core is not installed: run `npm ci` in tests/e2e (scripts/dev.sh test does)");
  }
  const chromium = process.env.HUBD_CHROMIUM || "/usr/bin/chromium";
  if (!fs.existsSync(chromium)) skip(`chromium not found at ${chromium} (apt-get install chromium)`);
}

function needFiles(files) {
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length) skip(`needs ${missing.join(" and ")}`);
}

module.exports = { SKIP, skip, needBrowser, needFiles };
