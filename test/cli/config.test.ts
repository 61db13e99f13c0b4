import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { HttpAgent } from "@ag-ui/client";
import { DemoAgent } from "../../src/agents/demo.js";
import { BuiltInAgent } from "../../src/agents/built-in/agent.js";
import { checkConfig, findConfigFile, loadConfig } from "../../src/cli/config.js";
import { defineConfig } from "../../src/config.js";
import { CliStartupError } from "../../src/cli/errors.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "copilot-runtime-config-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const DIST_INDEX = pathToFileURL(join(import.meta.dirname, "../../dist/index.js")).href;
const DIST_CONFIG = pathToFileURL(join(import.meta.dirname, "../../dist/config.js")).href;

async function rejection(promise: Promise<unknown>): Promise<CliStartupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CliStartupError);
    return error as CliStartupError;
  }
  throw new Error("expected a CliStartupError");
}

describe("checkConfig", () => {
  it("accepts BuiltInAgents, HttpAgents and custom agents, and runtime options", async () => {
    const config = defineConfig({
      agents: {
        default: new BuiltInAgent({ model: "openai/gpt-4o" }),
        remote: new HttpAgent({ url: "http://127.0.0.1:1/agent" }),
        custom: new DemoAgent(),
      },
      runtime: { identifyUser: () => ({ id: "u" }), transcriptionService: false },
      basePath: "/copilot",
      port: 4000,
      cors: { origin: ["https://app.example.com"], credentials: true },
      endpoint: { heartbeatMs: 5000 },
    });
    const checked = await checkConfig(config, "inline");
    expect(Object.keys(checked.agents as object)).toEqual(["default", "remote", "custom"]);
    expect(checked.basePath).toBe("/copilot");
    expect(checked.runtime?.transcriptionService).toBe(false);
  });

  it("passes the generative UI options (a2ui, mcpApps, openGenerativeUI) through to the runtime", async () => {
    const runtime = {
      a2ui: { agents: ["default"] },
      openGenerativeUI: true,
      mcpApps: { servers: [{ type: "http" as const, url: "http://127.0.0.1:1/mcp" }] },
    };
    const checked = await checkConfig({ agents: { default: new DemoAgent() }, runtime }, "inline");
    expect(checked.runtime).toMatchObject(runtime);
  });

  it("awaits a promise of agents and keeps a per-request factory as it is", async () => {
    const checked = await checkConfig({ agents: Promise.resolve({ default: new DemoAgent() }) }, "inline");
    expect(Object.keys(checked.agents as object)).toEqual(["default"]);
    const factory = () => ({ default: new DemoAgent() });
    expect((await checkConfig({ agents: factory }, "inline")).agents).toBe(factory);
  });

  it("accepts a duck-typed agent with clone() and runAgent() only (CopilotKit's contract), and a debug option", async () => {
    const duck = { clone: () => duck, runAgent: async () => ({ newMessages: [] }) };
    const checked = await checkConfig({ agents: { default: duck }, runtime: { debug: true } }, "inline");
    expect((checked.agents as Record<string, unknown>).default).toBe(duck);
    expect(checked.runtime?.debug).toBe(true);
  });

  it("rejects agents that are not AG-UI agents, naming the agent and what it got", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ default: "openai/gpt-4o" }, /agent "default" is not an AG-UI agent \(an object with clone\(\) and run\(\) or runAgent\(\)\); got the string "openai\/gpt-4o"/],
      [{ a: new DemoAgent(), b: { run() {} } }, /agent "b" is not an AG-UI agent .*got an object with keys run/],
      [{ default: DemoAgent }, /agent "default" is not an AG-UI agent .*got a function \(DemoAgent\)\. Register an instance \(new DemoAgent\(\.\.\.\)\), not the class/],
      [{ default: null }, /agent "default" is not an AG-UI agent .*got null/],
      [{}, /`agents` is empty/],
      [[new DemoAgent()], /`agents` must be a record of agents by id/],
      [{ "a/b": new DemoAgent() }, /agent id "a\/b" cannot be used in a URL/],
    ];
    for (const [agents, message] of cases) {
      const error = await rejection(checkConfig({ agents }, "/srv/copilot-runtime.config.mjs"));
      expect(error.message).toMatch(/^Config \/srv\/copilot-runtime\.config\.mjs: /);
      expect(error.message).toMatch(message);
    }
  });

  it("rejects unknown options and options of the wrong type", async () => {
    const cases: Array<[unknown, RegExp]> = [
      ["not an object", /the default export must be an object/],
      [{ agent: {} }, /unknown option `agent`\. Known: agents, runtime, basePath/],
      [{ runtime: { identifyuser: () => ({ id: "x" }) } }, /unknown option `runtime\.identifyuser`/],
      [{ runtime: { identifyUser: "x" } }, /runtime\.identifyUser must be a function, got the string "x"/],
      [{ runtime: { runner: {} } }, /runtime\.runner must be an AgentRunner/],
      [{ runtime: { transcriptionService: true } }, /runtime\.transcriptionService must be a TranscriptionService/],
      [{ basePath: "api" }, /`basePath` must be a path starting with "\/"/],
      [{ port: 70000 }, /`port` must be a port number/],
      [{ cors: { origin: "*", credentials: true } }, /cors: `credentials: true` needs explicit origins/],
      [{ endpoint: { maxBodyBytes: -1 } }, /endpoint\.maxBodyBytes must be a positive number/],
      [{ endpoint: { limits: 5 } }, /endpoint\.limits must be an object/],
      [{ endpoint: { limits: { maxStreams: -1 } } }, /endpoint\.limits\.maxStreams must be a whole number/],
      [{ endpoint: { limits: { maxStream: 1 } } }, /unknown option `endpoint\.limits\.maxStream`/],
      [{ endpoint: { hooks: { onRequets: () => {} } } }, /unknown option `endpoint\.hooks\.onRequets`/],
      [{ endpoint: { hooks: { onRequest: "yes" } } }, /endpoint\.hooks\.onRequest must be a function/],
      [{ endpoint: { hooks: [] } }, /endpoint\.hooks must be an object/],
      [{ server: { requestTimeoutMs: 1.5 } }, /server\.requestTimeoutMs must be a whole number/],
      [{ server: { backlog: 0 } }, /server\.backlog must be at least 1/],
      [{ server: { timeout: 1 } }, /unknown option `server\.timeout`\. Known: server\.headersTimeoutMs/],
      // made when checked, so the rejection is never left unhandled
      [() => ({ agents: Promise.reject(new Error("db down")) }), /the agents promise was rejected: Error: db down/],
    ];
    for (const [config, message] of cases) {
      const value = typeof config === "function" ? (config as () => unknown)() : config;
      expect((await rejection(checkConfig(value, "x"))).message).toMatch(message);
    }
  });
});

describe("findConfigFile", () => {
  it("finds copilot-runtime.config.* in the directory, preferring .ts, and checks --config", () => {
    expect(findConfigFile(tempDir({}))).toBeUndefined();
    const dir = tempDir({ "copilot-runtime.config.mjs": "", "copilot-runtime.config.ts": "" });
    expect(findConfigFile(dir)).toBe(join(dir, "copilot-runtime.config.ts"));
    expect(findConfigFile(dir, "copilot-runtime.config.mjs")).toBe(join(dir, "copilot-runtime.config.mjs"));
    expect(() => findConfigFile(dir, "missing.mjs")).toThrow(`--config: no such file: ${join(dir, "missing.mjs")}`);
  });
});

describe("loadConfig", () => {
  it("loads a .mjs config whose default export is a function of the environment", async () => {
    const dir = tempDir({
      "copilot-runtime.config.mjs": `import { DemoAgent } from ${JSON.stringify(DIST_INDEX)};
import { defineConfig } from ${JSON.stringify(DIST_CONFIG)};
export default defineConfig(async ({ env }) => ({ agents: { [env.AGENT_ID]: new DemoAgent() } }));`,
    });
    const config = await loadConfig(join(dir, "copilot-runtime.config.mjs"), { AGENT_ID: "helper" });
    expect(Object.keys(config.agents as object)).toEqual(["helper"]);
    expect(config.loadedWith).toBe("import");
  });

  it("says what to write when there is no default export, and shows a config's own error", async () => {
    const dir = tempDir({
      "none.mjs": "export const agents = {};",
      "throws.mjs": "throw new Error('missing SECRET');",
      "factory-throws.mjs": "export default () => { throw new Error('no tenant'); };",
    });
    expect((await rejection(loadConfig(join(dir, "none.mjs"), {}))).message).toMatch(
      /has no default export\. Write: export default defineConfig\(\{ agents: \{ default: \.\.\. \} \}\)/,
    );
    expect((await rejection(loadConfig(join(dir, "throws.mjs"), {}))).message).toMatch(/^Could not load config .*throws\.mjs:\nError: missing SECRET/);
    expect((await rejection(loadConfig(join(dir, "factory-throws.mjs"), {}))).message).toMatch(/its default export \(a function\) threw: Error: no tenant/);
  });

  // Vitest's own loader runs .ts files; these tests stand in Node 20's import(), which refuses them.
  const nodeImport = async (url: string) => {
    if (url.endsWith(".ts")) throw Object.assign(new TypeError(`Unknown file extension ".ts" for ${url}`), { code: "ERR_UNKNOWN_FILE_EXTENSION" });
    return import(url);
  };

  it("transpiles a .ts config with typescript when Node cannot import it, and removes the temporary file", async () => {
    const dir = tempDir({
      "copilot-runtime.config.ts": `import { DemoAgent } from ${JSON.stringify(DIST_INDEX)};
import { defineConfig, type CopilotRuntimeConfig } from ${JSON.stringify(DIST_CONFIG)};
const id: string = "typed";
const config: CopilotRuntimeConfig = { agents: { [id]: new DemoAgent() } };
export default defineConfig(config);`,
    });
    const config = await loadConfig(join(dir, "copilot-runtime.config.ts"), {}, { importModule: nodeImport });
    expect(config.loadedWith).toBe("typescript");
    expect(Object.keys(config.agents as object)).toEqual(["typed"]);
    expect(readdirSync(dir)).toEqual(["copilot-runtime.config.ts"]);
  });

  it("without typescript, explains how to load a .ts config", async () => {
    const dir = tempDir({ "copilot-runtime.config.ts": "export default {};" });
    const error = await rejection(
      loadConfig(join(dir, "copilot-runtime.config.ts"), {}, { importModule: nodeImport, loadTypeScript: () => undefined }),
    );
    expect(error.message).toContain(`does not run TypeScript files by itself`);
    expect(error.message).toContain("rename it to copilot-runtime.config.mjs");
    expect(error.message).toContain("TypeScript loader");
    expect(error.message).toContain("npm install -D typescript");
  });
});
