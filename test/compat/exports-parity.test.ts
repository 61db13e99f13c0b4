/**
 * Switching from `@copilotkit/runtime` is replacing the package name in the import: every value
 * `@copilotkit/runtime@1.75.0` exports from `/v2`, `/v2/express`, `/v2/hono` and `/v2/node` is
 * exported by the same subpath of ours, as the same kind of thing (class, function, object,
 * string), or is on the allow-list below with its reason, and the README lists exactly those
 * names. Runs against dist/ (`npx tsup` first), through the package's own `exports` map.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Our subpath for each of CopilotKit's. */
const ENTRIES = {
  "@copilotkit/runtime/v2": "copilot-runtime/v2",
  "@copilotkit/runtime/v2/express": "copilot-runtime/v2/express",
  "@copilotkit/runtime/v2/hono": "copilot-runtime/v2/hono",
  "@copilotkit/runtime/v2/node": "copilot-runtime/v2/node",
} as const;

type Entry = keyof typeof ENTRIES;

const INTERNAL = "ɵ-prefixed: CopilotKit's internal in-memory store, not public API";

/**
 * The 1.75 names we do not export, each with why. A name that is exported after all fails the
 * test until it is taken off this list (so the list and the README stay true). "pending: <branch>"
 * marks names another branch is adding; they go when it is merged.
 */
const ABSENT: Record<Entry, Record<string, string>> = {
  "@copilotkit/runtime/v2": {
    // CopilotKit's own internals, exported for its tests.
    ɵBoundedThreadStore: INTERNAL,
    ɵGLOBAL_STORE: INTERNAL,
    ɵINMEMORY_DEFAULTS: INTERNAL,
    ɵestimateBytes: INTERNAL,
    ɵnormalizeLimits: INTERNAL,
  },
  "@copilotkit/runtime/v2/express": {},
  "@copilotkit/runtime/v2/hono": {},
  "@copilotkit/runtime/v2/node": {},
};

type Kind = "class" | "function" | "object" | "string" | "number" | "boolean" | "undefined" | "symbol" | "bigint";

/** Each value export of `specifier` and what it is, from a separate Node process (as an app resolves it). */
function exportsOf(specifier: string): Record<string, Kind> {
  const script = `const m = await import(${JSON.stringify(specifier)});
const kind = (v) => typeof v === "function" ? (/^class\\b/.test(Function.prototype.toString.call(v)) ? "class" : "function") : typeof v;
console.log(JSON.stringify(Object.fromEntries(Object.keys(m).map((k) => [k, kind(m[k])]))));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "--no-warnings", "-e", script], { cwd: ROOT, encoding: "utf8" });
  return JSON.parse(out) as Record<string, Kind>;
}

/** The names in the README's table of absent names, by CopilotKit entry. */
function readmeAbsentNames(): Record<string, string[]> {
  const readme = readFileSync(`${ROOT}/README.md`, "utf8");
  const start = readme.indexOf("<!-- absent-names:start -->");
  const end = readme.indexOf("<!-- absent-names:end -->");
  expect(start, "README.md has no <!-- absent-names:start --> marker").toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const listed: Record<string, string[]> = {};
  for (const line of readme.slice(start, end).split("\n")) {
    // | `@copilotkit/runtime/v2` | `BasicAgent`, `InterruptSignal` | reason |
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells.length < 4 || !cells[1].startsWith("`@copilotkit/")) continue;
    const entry = cells[1].replaceAll("`", "");
    const names = [...cells[2].matchAll(/`([^`]+)`/g)].map((match) => match[1]);
    listed[entry] = [...(listed[entry] ?? []), ...names];
  }
  return listed;
}

describe("the export surface of @copilotkit/runtime 1.75's /v2 entries", () => {
  it("is built (dist/ exists)", () => {
    expect(existsSync(`${ROOT}/dist/v2/index.js`), "dist/ is missing: run `npx tsup`").toBe(true);
  });

  describe.each(Object.entries(ENTRIES) as Array<[Entry, string]>)("%s -> %s", (theirs, ours) => {
    const reference = exportsOf(theirs);
    const mine = exportsOf(ours);

    it("the reference entry loads and has names (the comparison is not empty)", () => {
      expect(Object.keys(reference).length).toBeGreaterThan(0);
    });

    it("every name is exported by ours or allow-listed with a reason", () => {
      const missing = Object.keys(reference).filter((name) => !(name in mine) && !(name in ABSENT[theirs]));
      expect(missing).toEqual([]);
    });

    it("no allow-listed name is exported by ours (take it off the list and the README)", () => {
      const stale = Object.keys(ABSENT[theirs]).filter((name) => name in mine);
      expect(stale).toEqual([]);
    });

    it("no allow-listed name is unknown to 1.75 (a typo would hide nothing)", () => {
      expect(Object.keys(ABSENT[theirs]).filter((name) => !(name in reference))).toEqual([]);
    });

    it("each shared name is the same kind of value (class, function, object, string)", () => {
      const differing = Object.keys(reference)
        .filter((name) => name in mine && mine[name] !== reference[name])
        .map((name) => `${name}: 1.75 ${reference[name]}, ours ${mine[name]}`);
      expect(differing).toEqual([]);
    });
  });

  it("the README lists exactly the allow-listed names, entry by entry", () => {
    const listed = readmeAbsentNames();
    for (const entry of Object.keys(ENTRIES) as Entry[]) {
      expect((listed[entry] ?? []).sort(), entry).toEqual(Object.keys(ABSENT[entry]).sort());
    }
  });
});
