/**
 * Every entry of the packed package, installed in an app: `require()` works for each (Node's
 * require of ES modules, 20.19+: no entry may use top-level await), each exports what the README
 * says, and importing the main entry loads none of the backends and no Node built-in of ours.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanUp, makeApp, packTarball, runNode } from "./packed-app.js";

const ENTRIES: Record<string, string[]> = {
  "copilot-runtime": [
    "CopilotRuntime",
    "createCopilotRuntimeHandler",
    "createCopilotEndpoint",
    "createCopilotEndpointSingleRoute",
    "createCopilotHonoHandler",
    "toFetchCorsConfig",
    "CopilotSseRuntime",
    "resolveAgents",
    "isIntelligenceRuntime",
    "supportsLocalThreadEndpoints",
    "InMemoryAgentRunner",
    "AgentRunner",
    "ThreadBusyError",
    "DemoAgent",
    "OpenAITranscriptionService",
    "MissingDependencyError",
    "setSseLoadProbe",
    "setLogger",
    "fromConsoleLogger",
    "VERSION",
  ],
  "copilot-runtime/sqlite": ["SqliteAgentRunner", "DurableAgentRunner"],
  "copilot-runtime/postgres": ["PostgresAgentRunner", "DurableAgentRunner"],
  "copilot-runtime/redis": ["RedisLiveBus"],
  "copilot-runtime/nats": ["NatsLiveBus"],
  "copilot-runtime/built-in": ["BuiltInAgent", "BuiltInAgentError", "defineTool"],
  "copilot-runtime/config": ["defineConfig"],
  "copilot-runtime/intelligence": ["createIntelligencePlatform", "serveIntelligencePlatform", "MemoryIntelligenceStore", "createInProcessBus", "SELF_HOSTED_ENTITLEMENT"],
  "copilot-runtime/intelligence/sqlite": ["SqliteIntelligenceStore"],
  "copilot-runtime/intelligence/postgres": ["PostgresIntelligenceStore", "PostgresPlatformBus"],
  "copilot-runtime/express": ["createCopilotEndpointExpress"],
  "copilot-runtime/hono": ["createCopilotEndpoint"],
  "copilot-runtime/next": ["createCopilotNextHandlers"],
  "copilot-runtime/node": ["createCopilotNodeListener", "applyServerLimits", "installProcessGuard", "createNodeFetchHandler"],
  // CopilotKit's subpaths, name for name (test/compat/exports-parity.test.ts compares them with 1.75's).
  "copilot-runtime/v2": ["CopilotRuntime", "CopilotSseRuntime", "createCopilotHonoHandler", "createCopilotExpressHandler", "BuiltInAgent", "defineTool", "resolveAgents"],
  "copilot-runtime/v2/express": ["createCopilotEndpointExpress", "createCopilotEndpointSingleRouteExpress", "createCopilotExpressHandler"],
  "copilot-runtime/v2/hono": ["createCopilotEndpoint", "createCopilotEndpointSingleRoute", "createCopilotHonoHandler", "toFetchCorsConfig"],
  "copilot-runtime/v2/node": ["createCopilotNodeHandler", "createCopilotNodeListener", "createNodeFetchHandler"],
};

/** What the main entry used to export and now lives elsewhere: gone from it, on purpose. */
const MOVED = ["SqliteAgentRunner", "PostgresAgentRunner", "DurableAgentRunner", "BuiltInAgent", "defineTool", "defineConfig"];

let app: string;
beforeAll(() => {
  app = makeApp(packTarball());
  // Records every module resolution with the module that asked for it.
  writeFileSync(
    join(app, "trace-hooks.mjs"),
    `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stderr.write("RESOLVED " + JSON.stringify({ url: result.url, parent: context.parentURL ?? null }) + "\\n");
  return result;
}`,
  );
  writeFileSync(join(app, "trace.mjs"), `import { register } from "node:module"; register("./trace-hooks.mjs", import.meta.url);`);
});
afterAll(cleanUp);

describe("the entries of the installed package", () => {
  it.each(Object.entries(ENTRIES))("require(%j) works and exports its names", (specifier, names) => {
    const script = `const m = require(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
    const { status, stdout, stderr } = runNode(app, ["-e", script]);
    expect(status, stderr).toBe(0);
    expect(stderr).not.toMatch(/ExperimentalWarning|ERR_REQUIRE/);
    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining(names));
  });

  it.each(Object.entries(ENTRIES))("import(%j) exports the same names", (specifier, names) => {
    const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
    const { status, stdout, stderr } = runNode(app, ["--input-type=module", "-e", script]);
    expect(status, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining(names));
  });

  it("no longer exports the backends from the main entry", () => {
    const { stdout } = runNode(app, ["-e", `console.log(JSON.stringify(Object.keys(require("copilot-runtime"))))`]);
    const exported = JSON.parse(stdout) as string[];
    expect(exported.filter((name) => MOVED.includes(name))).toEqual([]);
  });

  it("import('copilot-runtime') loads no backend package and none of our modules imports a Node built-in", () => {
    // The resolve hook sees imports; CommonJS loads (require, createRequire) show in require.cache.
    const script = `await import("copilot-runtime");
const { createRequire } = await import("node:module");
console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
    const { status, stdout, stderr } = runNode(app, ["--import", "./trace.mjs", "--input-type=module", "-e", script]);
    expect(status, stderr).toBe(0);
    const required = (JSON.parse(stdout) as string[]).map((file) => ({ url: file, parent: null }));
    const resolved = stderr
      .split("\n")
      .filter((line) => line.startsWith("RESOLVED "))
      .map((line) => JSON.parse(line.slice("RESOLVED ".length)) as { url: string; parent: string | null })
      .concat(required);
    // The trace works: the entry and its dependencies were seen.
    expect(resolved.some(({ url }) => url.includes("/node_modules/copilot-runtime/dist/index.js"))).toBe(true);
    expect(resolved.some(({ url }) => url.includes("/node_modules/hono/"))).toBe(true);
    const packages = new Set(resolved.map(({ url }) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter(Boolean));
    for (const heavy of ["better-sqlite3", "pg", "ai", "@ai-sdk/openai", "@ai-sdk/anthropic", "@ai-sdk/google", "@modelcontextprotocol/sdk"]) {
      expect(packages.has(heavy), `${heavy} was loaded`).toBe(false);
    }
    const ours = resolved.filter(({ parent }) => parent?.includes("/node_modules/copilot-runtime/"));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter(({ url }) => url.startsWith("node:")).map(({ url, parent }) => `${parent} -> ${url}`)).toEqual([]);
  });
});
