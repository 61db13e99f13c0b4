/**
 * Nothing a 1.75 app passes is silently ignored: every constructor and factory reports, at
 * construction, an unknown option (a warning naming it and where it came from), an option
 * CopilotKit accepts that we do not implement (a warning with the reason), and a known option of
 * the wrong type (a TypeError). The options are untyped objects, as plain JavaScript passes them.
 * The tables are checked against 1.75's own option types, read from its .d.mts by the compiler.
 */
import { afterEach, describe, expect, it } from "vitest";
import ts from "typescript";
import { fileURLToPath } from "node:url";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CopilotRuntime,
  CopilotSseRuntime,
  InMemoryAgentRunner,
  createCopilotEndpointSingleRoute,
  createCopilotHonoHandler,
  createCopilotRuntimeHandler,
  setLogger,
} from "../../src/index.js";
import { createCopilotEndpointSingleRouteExpress, createCopilotExpressHandler } from "../../src/adapters/express.js";
import { createCopilotNodeHandler, createCopilotNodeListener } from "../../src/adapters/node.js";
import { createCopilotNextHandlers } from "../../src/adapters/next.js";
import { SqliteAgentRunner } from "../../src/sqlite.js";
import * as tables from "../../src/options/option-tables.js";
import { ScriptedAgent, longReply, textReply } from "../helpers/agents.js";
import { runInput } from "../helpers/inputs.js";
import { parseSse } from "../helpers/sse.js";

/** A pino-shaped logger that keeps its warnings. */
function captureLogger() {
  const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const log = {
    warnings,
    error: () => {},
    info: () => {},
    debug: () => {},
    warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }),
  };
  return log;
}

const agents = () => ({ default: new ScriptedAgent({ script: textReply("hi") }) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = any;

afterEach(() => setLogger());

describe("new CopilotRuntime(options)", () => {
  it("warns about an unknown option, naming it, where it came from and the close known name", () => {
    const log = captureLogger();
    const options: Untyped = { agents: agents(), logger: log, identifyUsr: () => ({ id: "a" }) };
    new CopilotRuntime(options);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0].msg).toBe('new CopilotRuntime(): unknown option "identifyUsr" is ignored (did you mean "identifyUser"?).');
    expect(log.warnings[0].fields).toEqual({ option: "identifyUsr", source: "new CopilotRuntime()" });
  });

  it("warns that a 1.75 option we do not implement is not supported, with the reason", () => {
    const log = captureLogger();
    const options: Untyped = { agents: agents(), logger: log, memory: { access: () => null }, exposeMemoryRoutes: true, licenseToken: "t" };
    const runtime = new CopilotSseRuntime(options);
    expect(runtime.mode).toBe("sse");
    expect(log.warnings.map((w) => w.msg)).toEqual([
      'new CopilotSseRuntime(): option "memory" is not supported and is ignored: Intelligence Memory is not implemented yet.',
      'new CopilotSseRuntime(): option "exposeMemoryRoutes" is not supported and is ignored: Intelligence Memory is not implemented yet.',
      'new CopilotSseRuntime(): option "licenseToken" is not supported and is ignored: nothing here is licence-gated.',
    ]);
  });

  it("throws a TypeError for a known option of the wrong type", () => {
    const options: Untyped = { agents: agents(), identifyUser: "alice" };
    expect(() => new CopilotRuntime(options)).toThrow(new TypeError('new CopilotRuntime(): option "identifyUser" must be a function, got the string "alice".'));
    expect(() => new CopilotRuntime({ agents: agents(), runner: null } as Untyped)).toThrow(/option "runner" must be an object, got null/);
  });

  it("says nothing for known options and for undefined values", () => {
    const log = captureLogger();
    new CopilotRuntime({ agents: agents(), logger: log, identifyUser: undefined, runner: new InMemoryAgentRunner(), forwardHeaders: {} } as Untyped);
    expect(log.warnings).toEqual([]);
  });
});

describe("the endpoint factories", () => {
  const runtimeWith = (log: ReturnType<typeof captureLogger>) => new CopilotRuntime({ agents: agents(), logger: log });

  it("createCopilotRuntimeHandler: unknown and unsupported options warn through the runtime's logger (supported ones do not)", () => {
    const log = captureLogger();
    const options: Untyped = { runtime: runtimeWith(log), basePath: "/api", hooks: { onRequest: () => {} }, activateChannels: true, corz: true };
    createCopilotRuntimeHandler(options);
    expect(log.warnings.map((w) => w.msg)).toEqual([
      'createCopilotRuntimeHandler(): option "activateChannels" is not supported and is ignored: Intelligence channels are not implemented yet.',
      'createCopilotRuntimeHandler(): unknown option "corz" is ignored (did you mean "cors"?).',
    ]);
  });

  it.each([
    [{ basePath: 5 }, 'option "basePath" must be a string, got number 5'],
    [{ cors: "yes" }, 'option "cors" must be a boolean or an object, got the string "yes"'],
    [{ mode: "single" }, 'option "mode" must be one of "multi-route", "single-route", got the string "single"'],
    [{ maxBodyBytes: "10mb" }, 'option "maxBodyBytes" must be a number, got the string "10mb"'],
  ])("createCopilotRuntimeHandler(%j) is a TypeError", (bad, message) => {
    const options: Untyped = { runtime: runtimeWith(captureLogger()), ...bad };
    expect(() => createCopilotRuntimeHandler(options)).toThrow(TypeError);
    expect(() => createCopilotRuntimeHandler(options)).toThrow(message);
  });

  it.each([
    ["createCopilotHonoHandler()", (options: Untyped) => createCopilotHonoHandler(options)],
    ["createCopilotEndpointSingleRoute()", (options: Untyped) => createCopilotEndpointSingleRoute(options)],
    ["createCopilotExpressHandler()", (options: Untyped) => createCopilotExpressHandler(options)],
    ["createCopilotEndpointSingleRouteExpress()", (options: Untyped) => createCopilotEndpointSingleRouteExpress(options)],
    ["createCopilotNodeListener()", (options: Untyped) => createCopilotNodeListener(options)],
    ["createCopilotNextHandlers()", (options: Untyped) => createCopilotNextHandlers(options)],
  ])("%s warns once, under its own name (the core handler it builds does not repeat it)", (source, create) => {
    const log = captureLogger();
    create({ runtime: runtimeWith(log), basePath: "/api", unheardOf: 1 });
    expect(log.warnings.map((w) => w.msg)).toEqual([`${source}: unknown option "unheardOf" is ignored.`]);
    expect(() => create({ runtime: runtimeWith(log), basePath: 7 })).toThrow(new RegExp(`^${source.replace(/[()]/g, "\\$&")}: option "basePath" must be a string`));
  });

  it("the Express endpoint takes `mode` without a warning; the single-route factories report it as meaningless", () => {
    const log = captureLogger();
    createCopilotExpressHandler({ runtime: runtimeWith(log), basePath: "/api", mode: "single-route" } as Untyped);
    createCopilotEndpointSingleRoute({ runtime: runtimeWith(log), basePath: "/api", mode: "multi-route" } as Untyped);
    expect(log.warnings.map((w) => w.msg)).toEqual([
      expect.stringMatching(/^createCopilotEndpointSingleRoute\(\): option "mode" is not supported and is ignored: this endpoint always serves the single-route envelope/),
    ]);
  });

  it("createCopilotNodeHandler checks its options and its handler", () => {
    const log = captureLogger();
    setLogger(log as Untyped);
    createCopilotNodeHandler(async () => new Response("ok"), { overrideGlobalObject: false } as Untyped);
    expect(log.warnings.map((w) => w.msg)).toEqual(['createCopilotNodeHandler(): unknown option "overrideGlobalObject" is ignored (did you mean "overrideGlobalObjects"?).']);
    expect(() => createCopilotNodeHandler({ runtime: {} } as Untyped)).toThrow(TypeError);
  });
});

describe("the runners", () => {
  it("InMemoryAgentRunner warns about unknown options through the process-wide logger and rejects wrong types", () => {
    const log = captureLogger();
    setLogger(log as Untyped);
    new InMemoryAgentRunner({ maxThread: 10 } as Untyped);
    expect(log.warnings.map((w) => w.msg)).toEqual(['new InMemoryAgentRunner(): unknown option "maxThread" is ignored (did you mean "maxThreads"?).']);
    expect(() => new InMemoryAgentRunner({ busyThread: "queue" } as Untyped)).toThrow(/option "busyThread" must be one of "reject", "interrupt"/);
  });

  it("InMemoryAgentRunner takes CopilotKit's onConcurrentRun: 'supersede' stops the old run and starts the new one", async () => {
    const runtime = new CopilotRuntime({
      agents: { default: new ScriptedAgent({ script: longReply(200), delayMs: 5 }) },
      runner: new InMemoryAgentRunner({ onConcurrentRun: "supersede" }),
    });
    const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api" });
    const post = (runId: string) =>
      handler(new Request("http://h/api/agent/default/run", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(runInput({ threadId: "t-sup", runId, messages: [] })) }));
    const first = await post("old");
    await new Promise((resolve) => setTimeout(resolve, 30));
    const second = await post("new");
    expect(second.status).toBe(200);
    expect(parseSse(await first.text()).at(-1)).toMatchObject({ type: "RUN_FINISHED", runId: "old" });
    expect(parseSse(await second.text()).at(-1)).toMatchObject({ type: "RUN_FINISHED", runId: "new" });
  });

  it("InMemoryAgentRunner with onConcurrentRun: 'throw' refuses a second run on a busy thread (409)", async () => {
    const runtime = new CopilotRuntime({
      agents: { default: new ScriptedAgent({ script: longReply(200), delayMs: 5 }) },
      runner: new InMemoryAgentRunner({ onConcurrentRun: "throw" }),
    });
    const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api" });
    const post = (runId: string) =>
      handler(new Request("http://h/api/agent/default/run", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(runInput({ threadId: "t-throw", runId, messages: [] })) }));
    const first = await post("old");
    const second = await post("new");
    expect(second.status).toBe(409);
    await first.text();
  });

  it("SqliteAgentRunner warns about unknown options and rejects wrong types", () => {
    const log = captureLogger();
    setLogger(log as Untyped);
    new SqliteAgentRunner({ path: ":memory:", filename: "x.db" } as Untyped);
    expect(log.warnings.map((w) => w.msg)).toEqual(['new SqliteAgentRunner(): unknown option "filename" is ignored.']);
    expect(() => new SqliteAgentRunner({ path: 5 } as Untyped)).toThrow(/option "path" must be a string, got number 5/);
  });
});

describe("the option tables know every option CopilotKit 1.75 accepts", () => {
  /** Property names of each type, read from 1.75's declarations by the TypeScript compiler. */
  function optionNamesOf1_75(): Record<string, string[]> {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const dir = mkdtempSync(join(root, ".options-probe-"));
    try {
      const file = join(dir, "probe.ts");
      writeFileSync(
        file,
        `import type * as v2 from "@copilotkit/runtime/v2";
import type { createCopilotNodeListener } from "@copilotkit/runtime/v2/node";
export type RUNTIME_OPTIONS = v2.CopilotRuntimeOptions;
export type HANDLER_OPTIONS = v2.CopilotRuntimeHandlerOptions;
export type HONO_ENDPOINT_OPTIONS = Parameters<typeof v2.createCopilotHonoHandler>[0];
export type HONO_SINGLE_ROUTE_OPTIONS = Parameters<typeof v2.createCopilotEndpointSingleRoute>[0];
export type EXPRESS_ENDPOINT_OPTIONS = v2.CopilotExpressEndpointParams;
export type EXPRESS_SINGLE_ROUTE_OPTIONS = Parameters<typeof v2.createCopilotEndpointSingleRouteExpress>[0];
export type NODE_LISTENER_OPTIONS = Parameters<typeof createCopilotNodeListener>[0];
export type IN_MEMORY_RUNNER_OPTIONS = v2.InMemoryAgentRunnerOptions;
`,
      );
      const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true });
      const checker = program.getTypeChecker();
      const source = program.getSourceFile(file)!;
      const names: Record<string, string[]> = {};
      for (const statement of source.statements) {
        if (!ts.isTypeAliasDeclaration(statement)) continue;
        const type = checker.getTypeAtLocation(statement.name);
        const members = type.isUnion() ? type.types : [type];
        names[statement.name.text] = [...new Set(members.flatMap((member) => checker.getPropertiesOfType(member).map((p) => p.getName())))];
      }
      return names;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("each 1.75 option is in the table (supported, or unsupported with a reason)", () => {
    const theirs = optionNamesOf1_75();
    expect(Object.keys(theirs)).toHaveLength(8);
    // The probe sees real types: the runtime's options include agents and the Intelligence ones.
    expect(theirs.RUNTIME_OPTIONS).toEqual(expect.arrayContaining(["agents", "runner", "intelligence", "lockTtlSeconds", "a2ui"]));
    const missing: string[] = [];
    for (const [table, names] of Object.entries(theirs)) {
      const ours = (tables as Record<string, Record<string, unknown>>)[table];
      for (const name of names) if (!Object.hasOwn(ours, name)) missing.push(`${table}.${name}`);
    }
    expect(missing).toEqual([]);
  }, 60_000);
});

describe("the README's table of options not implemented", () => {
  it("lists exactly the names the tables mark unsupported", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("<!-- unsupported-options:start -->"), readme.indexOf("<!-- unsupported-options:end -->"));
    expect(section.length).toBeGreaterThan(50);
    const listed = new Set<string>();
    for (const line of section.split("\n")) {
      const cells = line.split("|");
      if (cells.length > 3) for (const match of cells[2].matchAll(/`([^`]+)`/g)) listed.add(match[1]);
    }
    const unsupported = new Set<string>();
    for (const table of Object.values(tables) as Array<Record<string, { status: string }>>) {
      for (const [name, spec] of Object.entries(table)) if (spec.status !== "supported") unsupported.add(name);
    }
    expect([...listed].sort()).toEqual([...unsupported].sort());
  });
});
