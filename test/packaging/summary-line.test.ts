/**
 * `npm test`'s closing line counts a test file that could not run (a load error) as a failure
 * and exits non-zero, instead of reporting "0 failed".
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
// Inside node_modules so the files resolve `vitest` from the repository, outside the suite's include.
const dir = path.join(REPO, "node_modules", ".cache", `summary-line-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the test runner's summary line", () => {
  it("counts a file that failed to load as failed and exits non-zero", () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "ok.test.mjs"), 'import { it, expect } from "vitest";\nit("passes", () => expect(1).toBe(1));\n');
    writeFileSync(path.join(dir, "broken.test.mjs"), 'import { it } from "vitest";\nthrow new Error("broken at load");\nit("never", () => {});\n');
    writeFileSync(path.join(dir, "vitest.config.mjs"), 'export default { test: { include: ["*.test.mjs"] } };\n');
    const result = spawnSync(process.execPath, [path.join(REPO, "scripts/run-tests.mjs"), "--root", dir], {
      cwd: dir,
      env: { ...process.env, SKIP_E2E: "1" },
      encoding: "utf8",
    });
    expect(result.stdout).toMatch(/^Tests: 1 passed, 1 failed, 0 skipped$/m);
    expect(result.status).not.toBe(0);
  });
});
