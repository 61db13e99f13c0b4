#!/usr/bin/env node
// `npm test` after typecheck and build: prepares what the suite needs on a fresh clone (the
// example app's dependencies, Debian's Chromium where it can be installed), runs vitest, and
// closes with one plain summary line ("Tests: N passed, N failed, N skipped") that CI log readers
// understand. A test file that fails without running its tests (a load error, a failing hook) is
// counted as a failure, never hidden. Exits non-zero on any failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const CI = process.env.CI === "true";

/** Runs a set-up command in the open, so a newcomer sees what is being installed and why. */
function setUp(why, command, args, options = {}) {
  console.log(`\n> ${why}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  return result.status === 0;
}

// 1. The example app the browser tests build (its own lock file, its own Vite).
if (process.env.SKIP_E2E !== "1" && !existsSync("examples/chat/node_modules/vite/bin/vite.js")) {
  const ok = setUp("the browser tests build examples/chat; installing its dependencies", "npm", ["ci", "--prefix", "examples/chat", "--no-audit", "--no-fund"]);
  if (!ok) {
    console.error("\nCould not install examples/chat's dependencies (see above).");
    console.log("\nTests: 0 passed, 1 failed (set-up)");
    process.exit(1);
  }
}

// 2. Chromium for the browser tests: Debian's package (no test tool can download a browser here).
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (process.env.SKIP_E2E !== "1" && !existsSync(chromium)) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = existsSync("/usr/bin/apt-get");
  if (isRoot && hasApt) {
    const ok =
      setUp("the browser tests drive Debian's Chromium; updating package lists", "apt-get", ["update", "-qq"]) &&
      setUp("installing Chromium", "apt-get", ["install", "-y", "-qq", "chromium"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (!ok) console.error("\nCould not install Chromium (see above); the browser tests will fail.");
  } else {
    console.warn(
      `\n*** Chromium is missing at ${chromium}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH. ` +
        `The browser tests will ${CI ? "FAIL (CI=true)" : "be SKIPPED"}. ***\n`,
    );
    if (!CI) process.env.SKIP_E2E = "1";
  }
}

// 3. The suite.
const report = "test-results/vitest.json";
mkdirSync("test-results", { recursive: true });
const result = spawnSync(
  process.execPath,
  [fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url)), "run", "--reporter=default", "--reporter=json", `--outputFile=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit" },
);
let code = result.status ?? 1;
if (existsSync(report)) {
  const { numPassedTests = 0, numFailedTests = 0, numPendingTests = 0, numTodoTests = 0, numTotalTests = 0, testResults = [] } = JSON.parse(
    readFileSync(report, "utf8"),
  );
  // A file that failed with none of its tests failing (it did not load, or a hook threw) hides
  // its tests from the counts: count the file itself as one failure.
  const brokenFiles = testResults.filter((file) => file.status === "failed" && !file.assertionResults.some((t) => t.status === "failed"));
  for (const file of brokenFiles) console.error(`FAILED FILE (no test ran to completion): ${file.name}\n${(file.message ?? "").slice(0, 2_000)}`);
  const failed = numFailedTests + brokenFiles.length;
  console.log(`\nTests: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped`);
  if (failed > 0) code = code || 1;
  if (numTotalTests === 0) {
    console.error("No test ran.");
    code = code || 1;
  }
} else {
  console.log("\nTests: 0 passed, 1 failed (vitest wrote no report)");
  code = code || 1;
}
process.exit(code);
