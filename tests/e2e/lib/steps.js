// The step runner of the browser tests: each step is timed and logged as ok/FAIL/skip, and the
// closing line is the "N passed, N failed" line CI reads.
//   const { step, required, results, summary } = createSteps({ stopOnFailure: false });
"use strict";

function createSteps({ stopOnFailure = false } = {}) {
  const results = [];  // [name, "ok" | "FAILED" | "skipped"]
  let stopped = false;

  async function step(name, fn) {
    if (stopped) {
      results.push([name, "skipped"]);
      console.log(`skip ${name}`);
      return;
    }
    const t0 = Date.now();
    try {
      await fn();
      results.push([name, "ok"]);
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      results.push([name, "FAILED"]);
      if (stopOnFailure) stopped = true;  // every step builds on the previous one
      console.log(`FAIL ${name}\n     ${(err.stack || String(err)).split("\n").join("\n     ")}`);
    }
  }

  // Later steps build on this one: when it fails, they are skipped rather than failing confusingly.
  async function required(name, fn) {
    await step(name, fn);
    if (results[results.length - 1][1] !== "ok") stopped = true;
  }

  const failedCount = () => results.filter(([, r]) => r !== "ok").length;
  function summary(label = "failed or skipped") {
    console.log(`${results.length - failedCount()} passed, ${failedCount()} ${label}`);
    return failedCount();
  }
  return { step, required, results, failedCount, summary };
}

module.exports = { createSteps };
