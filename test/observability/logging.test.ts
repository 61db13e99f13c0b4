import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import { fromConsoleLogger, setLogger, type Logger, type LogFields } from "../../src/logger.js";
import { makeHandler } from "../helpers/handler.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { createHealthHandler } from "../../src/observability/health.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { parseSse, readSse } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, helloScript } from "../helpers/agents.js";

interface Call {
  level: string;
  fields: LogFields;
  msg: string;
  /** The bindings of the child the line was written through. */
  bindings: LogFields;
}

/** A logger of pino's shape that records every call, children included (bindings kept apart, as pino does). */
function fakePino(calls: Call[] = [], bindings: LogFields = {}): Logger & { calls: Call[] } {
  const record = (level: string) => (fields: LogFields, msg: string) => void calls.push({ level, fields, msg, bindings });
  return {
    calls,
    error: record("error"),
    warn: record("warn"),
    info: record("info"),
    debug: record("debug"),
    child: (more: LogFields) => fakePino(calls, { ...bindings, ...more }),
  };
}

/** Every field of a line, bindings included, as pino would write them. */
const merged = (call: Call) => ({ ...call.bindings, ...call.fields });

class FailingAgent extends ScriptedAgent {
  constructor(readonly failure: Error) {
    super({ script: helloScript, delayMs: 0 });
  }
  override clone(): FailingAgent {
    return new FailingAgent(this.failure);
  }
  override run(): never {
    throw this.failure;
  }
}

afterEach(() => setLogger());

describe("the runtime's logger option (pino's shape)", () => {
  it("gets an agent's failure under `err`, the original Error, with the run's ids and the request id", async () => {
    const log = fakePino();
    const failure = new Error("agent exploded");
    const { post } = makeHandler({ agents: { default: new FailingAgent(failure) }, logger: log });
    const response = await post("/agent/default/run", runInput({ threadId: "t-fail", runId: "r-fail" }));
    const events = await readSse(response);
    expect(events.at(-1)).toMatchObject({ type: "RUN_ERROR" });
    const errors = log.calls.filter((call) => call.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0].fields.err).toBe(failure);
    expect(typeof errors[0].msg).toBe("string");
    expect(merged(errors[0])).toMatchObject({ agentId: "default", threadId: "t-fail", runId: "r-fail", requestId: response.headers.get("x-request-id") });
    const ended = log.calls.find((call) => call.msg === "run ended");
    expect(merged(ended!)).toMatchObject({ outcome: "error", code: "AGENT_ERROR", threadId: "t-fail", runId: "r-fail" });
  });

  it("gives the request id to the access line, the run lines and the X-Request-Id header", async () => {
    const log = fakePino();
    const { post } = makeHandler({ logger: log });
    const response = await post("/agent/default/run", runInput({ threadId: "t-1", runId: "r-1" }));
    const requestId = response.headers.get("x-request-id")!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const events = await readSse(response);
    const lines = log.calls.map((call): Record<string, unknown> => ({ msg: call.msg, ...merged(call) }));
    const started = lines.find((line) => line.msg === "run started");
    const ended = lines.find((line) => line.msg === "run ended");
    const access = lines.find((line) => line.msg === "request");
    expect(started).toMatchObject({ requestId, agentId: "default", threadId: "t-1", runId: "r-1" });
    expect(ended).toMatchObject({ requestId, agentId: "default", threadId: "t-1", runId: "r-1", outcome: "finished", events: events.length });
    expect(ended!.durationMs).toEqual(expect.any(Number));
    expect(ended).not.toHaveProperty("code");
    expect(access).toMatchObject({ requestId, method: "POST", route: "run", path: "/api/copilotkit/agent/default/run", status: 200, events: events.length });
    expect(access!.durationMs).toEqual(expect.any(Number));
    // the child logger carries the id: it is bound once, not repeated by every call site
    expect(log.calls.every((call) => call.bindings.requestId === requestId)).toBe(true);
  });

  it("logs one access line for a JSON answer, with the route name and the path without its query", async () => {
    const log = fakePino();
    const { get } = makeHandler({ logger: log });
    const response = await get("/info?token=secret");
    expect(response.status).toBe(200);
    const access = log.calls.filter((call) => call.msg === "request");
    expect(access).toHaveLength(1);
    expect(merged(access[0])).toMatchObject({ method: "GET", route: "info", path: "/api/copilotkit/info", status: 200, requestId: response.headers.get("x-request-id") });
    expect(JSON.stringify(log.calls)).not.toContain("secret");
    expect(access[0].fields).not.toHaveProperty("events");
  });

  it("honours a sane incoming X-Request-Id and replaces one that is not", async () => {
    const log = fakePino();
    const { get } = makeHandler({ logger: log });
    const honoured = await get("/info", { "x-request-id": "abc.DEF_123-xyz" });
    expect(honoured.headers.get("x-request-id")).toBe("abc.DEF_123-xyz");
    expect(merged(log.calls.at(-1)!).requestId).toBe("abc.DEF_123-xyz");

    for (const bad of ["x".repeat(10 * 1024), "a".repeat(129), 'a"}, {"level":60', "a b", "a\tb", "é"]) {
      const response = await get("/info", { "x-request-id": bad });
      const id = response.headers.get("x-request-id")!;
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(merged(log.calls.at(-1)!).requestId).toBe(id);
    }
    expect(JSON.stringify(log.calls)).not.toContain("x".repeat(200));
  });

  it("writes a stream's access line when the stream ends, with its event count", async () => {
    const log = fakePino();
    const { post } = makeHandler({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 20 }) }, logger: log });
    const response = await post("/agent/default/run", runInput());
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(log.calls.filter((call) => call.msg === "request")).toHaveLength(0);
    const events = await readSse(response);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const access = log.calls.filter((call) => call.msg === "request");
    expect(access).toHaveLength(1);
    expect(access[0].fields).toMatchObject({ status: 200, route: "run", events: events.length });
    expect(events.length).toBe(6);
  });

  it("gives runs through the single-route envelope the same lines", async () => {
    const log = fakePino();
    const { handler } = makeHandler({ logger: log });
    const response = await handler(
      new Request("http://localhost/api/copilotkit", {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "envelope-1" },
        body: JSON.stringify({ method: "agent/run", params: { agentId: "default" }, body: runInput({ threadId: "t-env", runId: "r-env" }) }),
      }),
    );
    expect(response.headers.get("x-request-id")).toBe("envelope-1");
    const events = await readSse(response);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(merged(log.calls.find((call) => call.msg === "run ended")!)).toMatchObject({ requestId: "envelope-1", threadId: "t-env", runId: "r-env" });
    expect(merged(log.calls.find((call) => call.msg === "request")!)).toMatchObject({ requestId: "envelope-1", route: "run", events: events.length });
  });

  it("binds the fields itself when the logger has no child(), and survives a logger that throws", async () => {
    const calls: Array<[LogFields, string]> = [];
    const flat: Logger = {
      info: (fields, msg) => void calls.push([fields, msg]),
      warn: (fields, msg) => void calls.push([fields, msg]),
      error: () => {
        throw new Error("logger down");
      },
    };
    const { post } = makeHandler({ agents: { default: new FailingAgent(new Error("boom")) }, logger: flat });
    const response = await post("/agent/default/run", runInput({ threadId: "t-flat" }), { "x-request-id": "flat-1" });
    expect(response.status).toBe(200);
    expect((await readSse(response)).at(-1)).toMatchObject({ type: "RUN_ERROR" });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls.find(([, msg]) => msg === "run ended")?.[0]).toMatchObject({ requestId: "flat-1", threadId: "t-flat", outcome: "error" });
  });
});

describe("readiness lines", () => {
  it("go to the runtime's logger, the runner's failure under err", async () => {
    const log = fakePino();
    const failure = new Error("database down");
    const runner = Object.assign(new InMemoryAgentRunner(), { checkReady: async () => Promise.reject(failure) });
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) }, runner, logger: log });
    const health = createHealthHandler({ runtime });
    expect((await health(new Request("http://localhost/readyz"))).status).toBe(503);
    const warn = log.calls.find((call) => call.level === "warn")!;
    expect(warn.fields).toMatchObject({ reason: "runner_unavailable", err: failure });
  });
});

describe("setLogger", () => {
  it("takes a pino-shaped logger: details arrive under err with the original Error", async () => {
    const log = fakePino();
    setLogger(log);
    const failure = new Error("from the factory");
    const { get } = makeHandler({
      agents: () => {
        throw failure;
      },
    });
    const response = await get("/info");
    expect(response.status).toBe(500);
    const error = log.calls.find((call) => call.level === "error")!;
    expect(error.msg).toBe("the agents factory failed");
    expect(error.fields.err).toBe(failure);
    expect(merged(error).requestId).toBe(response.headers.get("x-request-id"));
  });

  it("gives a console-shaped logger passed as it is every detail (fields first, message second)", async () => {
    const seen: unknown[][] = [];
    setLogger({ info() {}, warn() {}, error: (...args: unknown[]) => void seen.push(args) });
    const failure = new Error("nothing dropped");
    const { get } = makeHandler({
      agents: () => {
        throw failure;
      },
    });
    await get("/info");
    expect(seen).toHaveLength(1);
    expect((seen[0][0] as LogFields).err).toBe(failure);
    expect(seen[0][1]).toBe("the agents factory failed");
  });

  it("adapts a console-shaped logger through fromConsoleLogger: (message, fields)", () => {
    const seen: unknown[][] = [];
    const target = {
      info: (...args: unknown[]) => void seen.push(["info", ...args]),
      warn: (...args: unknown[]) => void seen.push(["warn", ...args]),
      error: (...args: unknown[]) => void seen.push(["error", ...args]),
    };
    const adapted = fromConsoleLogger(target, { level: "warn" });
    const failure = new Error("kept");
    adapted.error({ err: failure, threadId: "t" }, "something failed");
    adapted.info({ requestId: "r" }, "request");
    adapted.warn({}, "bare");
    expect(seen).toEqual([
      ["error", "[copilot-runtime] something failed", { err: failure, threadId: "t" }],
      ["warn", "[copilot-runtime] bare"],
    ]);
  });

  it("recognises the console object itself and adapts it", async () => {
    const [original, originalInfo] = [console.error, console.info];
    const seen: unknown[][] = [];
    const info: unknown[][] = [];
    console.error = (...args: unknown[]) => void seen.push(args);
    console.info = (...args: unknown[]) => void info.push(args);
    try {
      setLogger(console);
      const failure = new Error("to the console");
      const { get } = makeHandler({
        agents: () => {
          throw failure;
        },
      });
      await get("/info");
    } finally {
      console.error = original;
      console.info = originalInfo;
    }
    expect(info.map((args) => args[0])).toEqual(["[copilot-runtime] request"]);
    expect(seen).toHaveLength(1);
    expect(seen[0][0]).toBe("[copilot-runtime] the agents factory failed");
    expect((seen[0][1] as LogFields).err).toBeInstanceOf(Error);
    expect((seen[0][1] as LogFields).requestId).toEqual(expect.any(String));
  });

  it("is the default for runtimes without a logger option; the option wins where given", async () => {
    const global = fakePino();
    const own = fakePino();
    setLogger(global);
    await makeHandler().get("/info");
    await makeHandler({ logger: own }).get("/info");
    expect(global.calls.filter((call) => call.msg === "request")).toHaveLength(1);
    expect(own.calls.filter((call) => call.msg === "request")).toHaveLength(1);
  });
});

describe("request ids on the Node adapter's native streams", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("sends X-Request-Id on an event stream and logs its access line when it ends", async () => {
    const log = fakePino();
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) }, logger: log });
    server = createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit" }));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const post = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/api/copilotkit/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(runInput()),
      });

    const honoured = await post({ "x-request-id": "native-1" });
    expect(honoured.headers.get("x-request-id")).toBe("native-1");
    const events = parseSse(await honoured.text());
    const replaced = await post({ "x-request-id": "y".repeat(10 * 1024) });
    const id = replaced.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await replaced.text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const access = log.calls.filter((call) => call.msg === "request").map(merged);
    expect(access).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ requestId: "native-1", route: "run", status: 200, events: events.length }),
        expect.objectContaining({ requestId: id, route: "run", status: 200 }),
      ]),
    );
  });

  it("sends X-Request-Id on JSON answers and errors too, set on the response the adapter writes", async () => {
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) } });
    server = createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", cors: true }));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}/api/copilotkit`;
    const info = await fetch(`${base}/info`, { headers: { "x-request-id": "info-1" } });
    expect(info.headers.get("x-request-id")).toBe("info-1");
    expect((await info.json()).agents.default).toBeDefined();
    const missing = await fetch(`${base}/agent/nobody/run`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(missing.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.status).toBe(404);
    await missing.text();
    const preflight = await fetch(`${base}/info`, { method: "OPTIONS", headers: { origin: "http://app.example", "access-control-request-method": "GET" } });
    expect(preflight.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
