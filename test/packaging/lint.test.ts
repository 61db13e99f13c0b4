/**
 * The packed tarball passes publint (strict: warnings count) and Are The Types Wrong. attw's one
 * ignored rule is `cjs-resolves-to-esm`: the package is ESM only, and `require()` of it works
 * through Node's require(esm) (20.19+), which entries.test.ts checks by requiring every entry.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanUp, packTarball, ROOT } from "./packed-app.js";

let tarball: string;
beforeAll(() => {
  tarball = packTarball();
});
afterAll(cleanUp);

function run(bin: string, args: string[]): { status: number; output: string } {
  try {
    const output = execFileSync(join(ROOT, "node_modules", ".bin", bin), args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { status: 0, output };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: `${failed.stdout}\n${failed.stderr}` };
  }
}

describe("the packed package", () => {
  it("passes publint --strict with nothing to report", () => {
    const { status, output } = run("publint", ["--strict", tarball]);
    expect(output).toContain("All good!");
    expect(status, output).toBe(0);
  });

  it("passes @arethetypeswrong/cli for every entry, node10 and bundlers included", () => {
    const { status, output } = run("attw", [tarball, "--format", "json", "--ignore-rules", "cjs-resolves-to-esm"]);
    const report = JSON.parse(output.slice(output.indexOf("{"))) as {
      analysis: { entrypoints: Record<string, unknown> };
      problems?: Record<string, Array<{ kind: string; entrypoint: string }>>;
    };
    // The JSON lists ignored problems too, grouped by kind: only the ignored kind may appear.
    const problems = Object.values(report.problems ?? {}).flat();
    expect(problems.filter((problem) => problem.kind !== "CJSResolvesToESM"), output).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(
      [
        ".", "./built-in", "./config", "./express", "./hono", "./intelligence", "./intelligence/postgres", "./intelligence/sqlite", "./nats", "./next", "./node", "./package.json", "./postgres", "./redis", "./sqlite",
        "./v2", "./v2/express", "./v2/hono", "./v2/node",
      ].sort(),
    );
    expect(status, output).toBe(0);
  });

  it("ships dist/ and no sources, tests or databases", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], { cwd: ROOT, encoding: "utf8" });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((file) => file.path);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("package.json");
    expect(files.filter((file) => !/^(dist\/|package\.json$|README\.md$|LICENSE)/.test(file))).toEqual([]);
  });
});
