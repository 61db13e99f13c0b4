/**
 * An app without an optional peer dependency: the entry that needs it fails at import with a
 * message naming the package and the install command; everything else still loads; and
 * `copilot-runtime serve` says what to install or how to start without it.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanUp, makeApp, OPTIONAL_PEERS, packTarball, runNode } from "./packed-app.js";

let tarball: string;
/** One app per set of missing packages, made on first use. */
const apps = new Map<string, string>();
function appWithout(...missing: string[]): string {
  const key = missing.sort().join(",");
  let app = apps.get(key);
  if (!app) {
    app = makeApp(tarball, missing);
    apps.set(key, app);
  }
  return app;
}

beforeAll(() => {
  tarball = packTarball();
});
afterAll(cleanUp);

/** Imports (or requires) `specifier`, then runs `then`; prints the error's code and message. */
function load(app: string, specifier: string, how: "import" | "require", then = ""): { status: number | null; out: string } {
  const body = `${how === "import" ? `const m = await import(${JSON.stringify(specifier)});` : `const m = require(${JSON.stringify(specifier)});`} ${then}`;
  const script = `try { ${body} console.log("LOADED"); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, packageName: e.packageName })); process.exitCode = 3; }`;
  const { status, stdout, stderr } = runNode(app, how === "import" ? ["--input-type=module", "-e", script] : ["-e", script]);
  return { status, out: stdout + stderr };
}

function failure(out: string): { code: string; message: string; packageName: string } {
  return JSON.parse(out.trim().split("\n").pop()!);
}

describe("an app without the optional peer dependencies", () => {
  it.each(["import", "require"] as const)("loads the main entry and the adapters with none of them installed (%s)", (how) => {
    const app = appWithout(...OPTIONAL_PEERS);
    const entries = ["copilot-runtime", "copilot-runtime/config", "copilot-runtime/node", "copilot-runtime/hono", "copilot-runtime/next", "copilot-runtime/express"];
    for (const specifier of [...entries, "copilot-runtime/v2", "copilot-runtime/v2/express", "copilot-runtime/v2/hono", "copilot-runtime/v2/node"]) {
      const { status, out } = load(app, specifier, how);
      expect(out, specifier).toContain("LOADED");
      expect(status, out).toBe(0);
    }
  });

  it.each(["import", "require"] as const)("without phoenix, an Intelligence run fails to start with the install command (%s)", (how) => {
    const app = appWithout("phoenix");
    const then = `const runner = new m.IntelligenceAgentRunner({ url: "ws://127.0.0.1:9/runner" });
const agent = { clone() { return this; }, runAgent: async () => {} };
const { events, startup } = runner.runWithStartupBoundary({ threadId: "t", agent, input: { threadId: "t", runId: "r", messages: [], tools: [], context: [] } });
events.subscribe({ next() {}, error() {}, complete() {} });
try { await startup; } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, packageName: e.packageName })); process.exitCode = 3; }`;
    const script = how === "import" ? `const m = await import("copilot-runtime"); ${then}` : `(async () => { const m = require("copilot-runtime"); ${then} })();`;
    const { status, stdout, stderr } = runNode(app, how === "import" ? ["--input-type=module", "-e", script] : ["-e", script]);
    expect(status, stdout + stderr).toBe(3);
    const error = failure(stdout);
    expect(error).toEqual({
      code: "ERR_COPILOT_RUNTIME_MISSING_DEPENDENCY",
      packageName: "phoenix",
      message: expect.stringContaining("IntelligenceAgentRunner needs phoenix, which is not installed: npm install phoenix@1.8"),
    });
  });

  it.each([
    ["copilot-runtime/sqlite", "better-sqlite3", "SqliteAgentRunner needs better-sqlite3, which is not installed: npm install better-sqlite3@12"],
    ["copilot-runtime/postgres", "pg", "PostgresAgentRunner needs pg, which is not installed: npm install pg@8"],
    ["copilot-runtime/built-in", "ai", "BuiltInAgent needs ai, which is not installed: npm install ai@6"],
    ["copilot-runtime/redis", "ioredis", "RedisLiveBus needs ioredis, which is not installed: npm install ioredis@5"],
    ["copilot-runtime/nats", "nats", "NatsLiveBus needs nats, which is not installed: npm install nats@2"],
  ])("%s without %s fails at import, naming the package and the command", (specifier, missing, message) => {
    const app = appWithout(missing);
    // The error is the main entry's MissingDependencyError, for instanceof checks around an import.
    const checked = runNode(app, [
      "--input-type=module",
      "-e",
      `const { MissingDependencyError } = await import("copilot-runtime");
try { await import(${JSON.stringify(specifier)}); } catch (e) { console.log(e instanceof MissingDependencyError); }`,
    ]);
    expect(checked.stdout.trim(), checked.stderr).toBe("true");
    for (const how of ["import", "require"] as const) {
      const { status, out } = load(app, specifier, how);
      expect(status, out).toBe(3);
      const error = failure(out);
      expect(error.code).toBe("ERR_COPILOT_RUNTIME_MISSING_DEPENDENCY");
      expect(error.packageName).toBe(missing);
      expect(error.message).toContain(message);
    }
    // Every other entry still loads in that app.
    const others = ["copilot-runtime/sqlite", "copilot-runtime/postgres", "copilot-runtime/built-in"].filter((other) => other !== specifier);
    for (const other of others) expect(load(app, other, "import").out, other).toContain("LOADED");
  });

  it("BuiltInAgent names the provider package a model string needs, when the agent is created", () => {
    const app = appWithout("@ai-sdk/anthropic", "@modelcontextprotocol/sdk");
    // The entry loads, and a model of an installed provider works.
    expect(load(app, "copilot-runtime/built-in", "import", `new m.BuiltInAgent({ model: "openai/gpt-4.1" });`).out).toContain("LOADED");
    const anthropic = load(app, "copilot-runtime/built-in", "import", `new m.BuiltInAgent({ model: "anthropic/claude-sonnet-4-5" });`);
    expect(anthropic.status, anthropic.out).toBe(3);
    expect(failure(anthropic.out).message).toContain(
      'BuiltInAgent with a "anthropic/..." model needs @ai-sdk/anthropic, which is not installed: npm install @ai-sdk/anthropic@3',
    );
    const mcp = load(app, "copilot-runtime/built-in", "import", `new m.BuiltInAgent({ model: "openai/gpt-4.1", mcpServers: [{ type: "http", url: "http://127.0.0.1:1/mcp" }] });`);
    expect(mcp.status, mcp.out).toBe(3);
    expect(failure(mcp.out)).toMatchObject({
      code: "ERR_COPILOT_RUNTIME_MISSING_DEPENDENCY",
      packageName: "@modelcontextprotocol/sdk",
      message: expect.stringContaining("BuiltInAgent with mcpServers needs @modelcontextprotocol/sdk, which is not installed: npm install @modelcontextprotocol/sdk@1"),
    });
  });

  it("copilot-runtime/v2 loads without ai and serves; creating a BuiltInAgent there names the package", () => {
    const app = appWithout("ai");
    const served = load(
      app,
      "copilot-runtime/v2",
      "import",
      `const runtime = new m.CopilotRuntime({ agents: { default: new m.DemoAgent() } });
const response = await m.createCopilotHonoHandler({ runtime, basePath: "/api" }).fetch(new Request("http://h/api/info"));
if (response.status !== 200) throw new Error("info answered " + response.status);`,
    );
    expect(served.out).toContain("LOADED");
    for (const how of ["import", "require"] as const) {
      const { status, out } = load(app, "copilot-runtime/v2", how, `new m.BuiltInAgent({ model: "openai/gpt-4.1" });`);
      expect(status, out).toBe(3);
      expect(failure(out)).toMatchObject({
        code: "ERR_COPILOT_RUNTIME_MISSING_DEPENDENCY",
        packageName: "ai",
        message: expect.stringContaining("BuiltInAgent needs ai, which is not installed: npm install ai@6"),
      });
    }
  });

  it.each([
    ["a2ui: {}", "@ag-ui/a2ui-middleware", "CopilotRuntime's `a2ui` option needs @ag-ui/a2ui-middleware, which is not installed: npm install @ag-ui/a2ui-middleware@0.0.10"],
    ["openGenerativeUI: true", "@copilotkit/shared", "CopilotRuntime's `openGenerativeUI` option needs @copilotkit/shared, which is not installed: npm install @copilotkit/shared@1"],
    [
      'mcpApps: { servers: [{ type: "http", url: "http://127.0.0.1:1/mcp" }] }',
      "@ag-ui/mcp-apps-middleware",
      "CopilotRuntime's `mcpApps` option needs @ag-ui/mcp-apps-middleware, which is not installed: npm install @ag-ui/mcp-apps-middleware@0.1",
    ],
  ])("a runtime with %s and no %s starts, logs the install command, and a run answers 500 missing_dependency with it", (option, missing, message) => {
    const app = appWithout(missing);
    // The first line the runtime logs arrives before any request is made: it loads what its options need when built.
    const script = `const m = await import("copilot-runtime");
let firstError;
const logged = new Promise((resolve) => (firstError = resolve));
const logger = { info() {}, warn() {}, debug() {}, error: (_fields, msg) => firstError(msg) };
const runtime = new m.CopilotRuntime({ agents: { default: new m.DemoAgent() }, ${option}, logger });
const startupLog = await logged;
const handler = m.createCopilotRuntimeHandler({ runtime, basePath: "/api" });
const body = JSON.stringify({ threadId: "t", runId: "r", messages: [], tools: [], context: [], state: {}, forwardedProps: {} });
const run = await handler(new Request("http://app/api/agent/default/run", { method: "POST", headers: { "content-type": "application/json" }, body }));
const info = await handler(new Request("http://app/api/info"));
console.log(JSON.stringify({ startupLog, status: run.status, body: await run.json(), info: info.status }));`;
    const { status, stdout, stderr } = runNode(app, ["--input-type=module", "-e", script]);
    expect(status, stderr).toBe(0);
    const result = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(result.info).toBe(200);
    expect(result.status).toBe(500);
    expect(result.body).toMatchObject({ error: "missing_dependency", packageName: missing });
    expect(result.body.message).toContain(message);
    expect(result.startupLog).toContain(message);
  });

  it("a client with its own A2UI catalog still runs on a server without a2ui and without @ag-ui/a2ui-middleware", () => {
    const app = appWithout("@ag-ui/a2ui-middleware");
    const script = `const m = await import("copilot-runtime");
const runtime = new m.CopilotRuntime({ agents: { default: new m.DemoAgent() } });
const handler = m.createCopilotRuntimeHandler({ runtime, basePath: "/api" });
const body = JSON.stringify({ threadId: "t", runId: "r", messages: [{ id: "u1", role: "user", content: "hi" }], tools: [], context: [], state: {}, forwardedProps: { a2uiCatalogAvailable: true } });
const run = await handler(new Request("http://app/api/agent/default/run", { method: "POST", headers: { "content-type": "application/json" }, body }));
const text = await run.text();
console.log(JSON.stringify({ status: run.status, finished: text.includes('"RUN_FINISHED"') }));`;
    const { status, stdout, stderr } = runNode(app, ["--input-type=module", "-e", script]);
    expect(status, stderr).toBe(0);
    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({ status: 200, finished: true });
  });

  it("a vertex/ model names @ai-sdk/google-vertex when it is missing, and nothing else loads it", () => {
    const app = appWithout("@ai-sdk/google-vertex");
    expect(load(app, "copilot-runtime/built-in", "import", `new m.BuiltInAgent({ model: "openai/gpt-4.1" });`).out).toContain("LOADED");
    const vertex = load(app, "copilot-runtime/built-in", "import", `new m.BuiltInAgent({ model: "vertex/gemini-2.5-pro" });`);
    expect(vertex.status, vertex.out).toBe(3);
    expect(failure(vertex.out)).toMatchObject({
      code: "ERR_COPILOT_RUNTIME_MISSING_DEPENDENCY",
      packageName: "@ai-sdk/google-vertex",
      message: expect.stringContaining('BuiltInAgent with a "vertex/..." model needs @ai-sdk/google-vertex, which is not installed: npm install @ai-sdk/google-vertex@3'),
    });
  });

  it("rethrows other load failures as they are (only a missing package gets the install hint)", () => {
    // An app whose better-sqlite3 is a directory without the package: its main cannot load.
    const app = makeApp(tarball, ["better-sqlite3"]);
    const broken = join(app, "node_modules", "better-sqlite3");
    runNode(app, ["-e", `const fs = require("fs"); fs.mkdirSync(${JSON.stringify(broken)}); fs.writeFileSync(${JSON.stringify(join(broken, "package.json"))}, JSON.stringify({ name: "better-sqlite3", main: "index.js" })); fs.writeFileSync(${JSON.stringify(join(broken, "index.js"))}, "require('bindings-that-is-not-there')");`]);
    const { status, out } = load(app, "copilot-runtime/sqlite", "import");
    expect(status, out).toBe(3);
    const error = failure(out);
    expect(error.code).toBe("MODULE_NOT_FOUND");
    expect(error.message).toContain("bindings-that-is-not-there");
  });
});

describe("copilot-runtime serve without the optional peer dependencies", () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  /** Starts the installed CLI; resolves with its output once it listens or exits. */
  function serve(app: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
    const { NODE_PATH: _path, NODE_OPTIONS: _options, OPENAI_API_KEY: _o, ANTHROPIC_API_KEY: _a, GOOGLE_API_KEY: _g, GOOGLE_GENERATIVE_AI_API_KEY: _gg, COPILOT_RUNTIME_MODEL: _m, DATABASE_URL: _d, COPILOT_RUNTIME_DB: _db, PORT: _p, ...inherited } = process.env;
    const child = spawn(process.execPath, [join(app, "node_modules", "copilot-runtime", "dist", "cli", "main.js"), "serve", "--port", "0", "--host", "127.0.0.1", ...args], {
      cwd: app,
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    return new Promise((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/listening on http/.test(output)) resolve({ code: null, output });
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("exit", (code) => resolve({ code, output }));
    });
  }

  it("serves the demo agent in memory with none of them installed", async () => {
    const { code, output } = await serve(appWithout(...OPTIONAL_PEERS), ["--memory"]);
    expect(code, output).toBeNull();
    expect(output).toContain("demo agent");
    expect(output).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\/api\/copilotkit/);
  });

  it("stops with the install command and --memory as the way out when the default SQLite file needs better-sqlite3", async () => {
    const { code, output } = await serve(appWithout(...OPTIONAL_PEERS), []);
    expect(code, output).toBe(1);
    expect(output).toContain("SqliteAgentRunner needs better-sqlite3, which is not installed: npm install better-sqlite3@12");
    expect(output).toContain("--memory");
  });

  it("stops with exit code 2 naming ai when a provider key asks for a BuiltInAgent", async () => {
    const { code, output } = await serve(appWithout("ai"), ["--memory"], { OPENAI_API_KEY: "sk-test" });
    expect(code, output).toBe(2);
    expect(output).toContain("BuiltInAgent needs ai, which is not installed: npm install ai@6");
    expect(output).toContain("COPILOT_RUNTIME_MODEL=demo");
  });
});
