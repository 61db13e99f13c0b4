#!/usr/bin/env node
// Runs the vitest suite and closes with one plain summary line ("Tests: N passed, N failed,
// N skipped") that CI log readers understand whatever the runner. Exits with vitest's code.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";

const report = "test-results/vitest.json";
mkdirSync("test-results", { recursive: true });
const result = spawnSync(
  process.execPath,
  ["node_modules/vitest/vitest.mjs", "run", "--reporter=default", "--reporter=json", `--outputFile=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit" },
);
let code = result.status ?? 1;
if (existsSync(report)) {
  const { numPassedTests = 0, numFailedTests = 0, numPendingTests = 0, numTodoTests = 0, numTotalTests = 0 } = JSON.parse(
    readFileSync(report, "utf8"),
  );
  console.log(`\nTests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
  if (numTotalTests === 0) {
    console.error("No test ran.");
    code = code || 1;
  }
} else {
  console.log("\nTests: 0 passed, 1 failed (vitest wrote no report)");
  code = code || 1;
}
process.exit(code);
