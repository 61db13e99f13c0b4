/**
 * OpenTelemetry spans, captured with the SDK's in-memory exporter: a request span per request, a
 * run span under it, the agent span inside the run, store writes under the run for a durable
 * runner, and errors recorded with a safe status message.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpanStatusCode, context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse, types } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, helloScript } from "../helpers/agents.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const dir = mkdtempSync(join(tmpdir(), "copilot-runtime-tracing-"));

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await provider.shutdown();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => exporter.reset());

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((span) => span.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

/** Waits until a span named `name` has ended (a stream's request span ends as the stream closes). */
async function ended(name: string, count = 1): Promise<ReadableSpan[]> {
  await vi.waitFor(() => expect(named(name).length).toBeGreaterThanOrEqual(count), { timeout: 5_000, interval: 5 });
  return named(name);
}

/** True when `ancestor` is `span`'s parent, grandparent, ... */
function descendsFrom(span: ReadableSpan, ancestor: ReadableSpan): boolean {
  const byId = new Map(spans().map((s) => [idOf(s), s]));
  for (let parent = parentOf(span); parent !== undefined; parent = byId.get(parent) && parentOf(byId.get(parent)!)) {
    if (parent === idOf(ancestor)) return true;
  }
  return false;
}

describe("tracing", () => {
  it("makes a request span with the route name, a run span under it and the agent span inside", async () => {
    const { post } = makeHandler();
    const input = runInput({ threadId: "t-trace" });
    const response = await post("/agent/default/run", input, { "x-request-id": "req-trace-1" });
    expect(types(await readSse(response))).toContain("RUN_FINISHED");

    const [request] = await ended("copilot_runtime.request");
    const [run] = await ended("copilot_runtime.run");
    const [agent] = await ended("copilot_runtime.agent");
    expect(request.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "run",
      "http.response.status_code": 200,
      "copilot_runtime.request_id": "req-trace-1",
    });
    expect(JSON.stringify(request.attributes)).not.toContain("/api/copilotkit");
    expect(run.attributes).toMatchObject({
      "ag_ui.thread_id": "t-trace",
      "ag_ui.run_id": input.runId,
      "copilot_runtime.agent_id": "default",
      "copilot_runtime.run.outcome": "finished",
      "copilot_runtime.run.events": 6,
    });
    expect(parentOf(run)).toBe(idOf(request));
    expect(parentOf(agent)).toBe(idOf(run));
    expect(run.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(run.status.code).toBe(SpanStatusCode.UNSET);
    expect(request.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("names routes, never paths, for answers without a run", async () => {
    const { get, post } = makeHandler();
    await (await get("/info")).text();
    await (await post("/agent/nope/run", runInput())).text();
    await (await get("/no/such/route")).text();
    const requests = await ended("copilot_runtime.request", 3);
    expect(requests.map((span) => [span.attributes["http.route"], span.attributes["http.response.status_code"]])).toEqual([
      ["info", 200],
      ["run", 404],
      ["not_found", 404],
    ]);
    expect(named("copilot_runtime.run")).toEqual([]);
  });

  it("records a failing agent on the agent and run spans, with a safe message", async () => {
    const failing = new ScriptedAgent({ script: () => {
      throw new Error("secret-token-123 leaked in a stack");
    }, delayMs: 0 });
    const { post } = makeHandler({ agents: { default: failing } });
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-fail" })));
    expect(types(events)).toContain("RUN_ERROR");

    const [run] = await ended("copilot_runtime.run");
    const [agent] = await ended("copilot_runtime.agent");
    expect(agent.status.code).toBe(SpanStatusCode.ERROR);
    expect(agent.status.message).not.toContain("secret");
    expect(agent.events.map((event) => event.name)).toContain("exception");
    expect(run.status.code).toBe(SpanStatusCode.ERROR);
    expect(run.status.message).toMatch(/^RUN_ERROR /);
    expect(run.attributes["copilot_runtime.run.outcome"]).toBe("error");
    expect(run.attributes["copilot_runtime.run.error_code"]).toBeTypeOf("string");
  });

  it("marks a failed request (5xx) as an error", async () => {
    const { get } = makeHandler({
      beforeRequestMiddleware: () => {
        throw new Error("middleware broke");
      },
    });
    expect((await get("/info")).status).toBe(500);
    const [request] = await ended("copilot_runtime.request");
    expect(request.status).toEqual({ code: SpanStatusCode.ERROR, message: "internal_error" });
    expect(request.events.map((event) => event.name)).toContain("exception");
  });

  it("puts a durable runner's store writes under the run", async () => {
    const runner = new SqliteAgentRunner({ path: join(dir, "trace.db") });
    try {
      // Events apart in time, so some are appended before the run's end is written.
      const { post } = makeHandler({ runner, agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 15 }) } });
      const input = runInput({ threadId: "t-durable" });
      const events = await readSse(await post("/agent/default/run", input));
      expect(types(events)).toContain("RUN_FINISHED");

      const [request] = await ended("copilot_runtime.request");
      const [run] = await ended("copilot_runtime.run");
      await ended("copilot_runtime.store.finish_run");
      expect(parentOf(run)).toBe(idOf(request));
      expect(run.attributes).toMatchObject({ "ag_ui.thread_id": "t-durable", "ag_ui.run_id": input.runId, "copilot_runtime.run.outcome": "finished" });

      const appends = named("copilot_runtime.store.append_events");
      expect(appends.length).toBeGreaterThan(0);
      for (const write of [...appends, ...named("copilot_runtime.store.finish_run")]) {
        expect(descendsFrom(write, run)).toBe(true);
        expect(write.attributes["copilot_runtime.store.operation"]).toBeTypeOf("string");
        expect(write.status.code).toBe(SpanStatusCode.UNSET);
      }
      // Starting the run is written before the run exists: it belongs to the request.
      for (const write of named("copilot_runtime.store.start_run")) expect(descendsFrom(write, request)).toBe(true);
      expect(named("copilot_runtime.store.renew_leases")).toEqual([]);
    } finally {
      await runner.close();
    }
  });
});
