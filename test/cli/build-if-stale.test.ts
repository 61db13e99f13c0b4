import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without types
import { isStale } from "../../scripts/build-if-stale.mjs";

const dir = mkdtempSync(path.join(tmpdir(), "stale-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(rel: string, mtimeSeconds: number): string {
  const p = path.join(dir, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, "x");
  utimesSync(p, mtimeSeconds, mtimeSeconds);
  return p;
}

describe("npm start builds only what is stale", () => {
  it("builds when dist is missing or older than any source, and not when it is newer", () => {
    const src = path.join(dir, "src");
    file("src/a.ts", 1_000);
    file("src/deep/b.ts", 2_000);
    const output = path.join(dir, "dist", "main.js");
    expect(isStale([src], output)).toBe(true); // missing
    file("dist/main.js", 3_000);
    expect(isStale([src], output)).toBe(false);
    file("src/deep/b.ts", 4_000); // a source edited after the build
    expect(isStale([src], output)).toBe(true);
    expect(isStale([src, path.join(dir, "missing.json")], file("dist/main.js", 5_000))).toBe(false);
  });
});
