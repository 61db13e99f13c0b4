/**
 * `/metrics` scraped over real HTTP while runs stream and after they end, parsed with a strict
 * text-format parser: values move as they should, labels are route names (never paths), and
 * the exposition is valid.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PerformanceObserver } from "node:perf_hooks";
import { createCopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../../src/http/handler.js";
import { MetricsRegistry } from "../../src/observability/metrics.js";
import { Counter, Gauge, Histogram } from "../../src/observability/prometheus.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import type { AgentLike } from "../../src/events/agent-contract.js";
import { agentThrows, pauseUntil, ScriptedAgent, type Script } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { parsePrometheusText, type Scrape } from "./prom-text.js";
import { parseSse } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

const BASE = "/api/copilotkit";
const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(agents: Record<string, AgentLike>, options: Partial<CopilotRuntimeHandlerOptions> = {}, runtime?: CopilotRuntime) {
  const metrics = new MetricsRegistry();
  const rt = runtime ?? new CopilotRuntime({ agents });
  const handler = createCopilotRuntimeHandler({ runtime: rt, basePath: BASE, metrics, ...options });
  const server = await startServer({ fetch: handler, basePath: BASE });
  servers.push(server);
  const scrape = async (): Promise<Scrape> => {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return parsePrometheusText(await response.text());
  };
  const run = (agentId: string, body: Record<string, unknown> = runInput()) =>
    fetch(`${server.runtimeUrl}/agent/${agentId}/run`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { server, scrape, run, metrics };
}

const script =
  (middle: Script = () => []): Script =>
  (input) => [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    ...middle(input),
    { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
  ];

describe("/metrics over HTTP", () => {
  it("moves while a run streams and after it ends: requests, open streams, events, active runs, durations", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const agent = new ScriptedAgent({
      script: script((input) => [
        { type: "TEXT_MESSAGE_START", messageId: `m-${input.runId}`, role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: "a" },
        pauseUntil(held),
        { type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: "b" },
        { type: "TEXT_MESSAGE_END", messageId: `m-${input.runId}` },
      ]),
    });
    const { scrape, run } = await serve({ default: agent });
    const before = await scrape();
    // The run series are process-wide: compare with what they were.
    const activeBefore = before.value("copilot_runtime_active_runs")!;
    const finishedBefore = before.value("copilot_runtime_run_duration_seconds_count", { outcome: "finished" }) ?? 0;
    expect(before.value("copilot_runtime_open_streams", { route: "run" })).toBeUndefined();

    const response = await run("default");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes('"delta":"a"')) text += decoder.decode((await reader.read()).value);

    const during = await scrape();
    expect(during.value("copilot_runtime_open_streams", { route: "run" })).toBe(1);
    expect(during.value("copilot_runtime_active_runs")).toBe(activeBefore + 1);
    expect(during.value("copilot_runtime_http_requests_total", { route: "run", method: "POST", status: "200" })).toBe(1);
    expect(during.value("copilot_runtime_time_to_first_event_seconds_count", { route: "run" })).toBe(1);
    const streamedSoFar = during.value("copilot_runtime_events_streamed_total", { route: "run" })!;
    expect(streamedSoFar).toBeGreaterThanOrEqual(3);

    release();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    const events = parseSse(text);
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");

    // The gauges settle once the stream's close is processed: poll, no timing assumptions.
    let after = await scrape();
    for (let i = 0; i < 50 && after.value("copilot_runtime_open_streams", { route: "run" }) !== 0; i++) after = await scrape();
    expect(after.value("copilot_runtime_open_streams", { route: "run" })).toBe(0);
    expect(after.value("copilot_runtime_events_streamed_total", { route: "run" })).toBe(events.length);
    expect(events.length).toBeGreaterThan(streamedSoFar);
    expect(after.value("copilot_runtime_active_runs")).toBe(activeBefore);
    expect(after.value("copilot_runtime_run_duration_seconds_count", { outcome: "finished" })).toBe(finishedBefore + 1);
    expect(after.value("copilot_runtime_time_to_first_event_seconds_count", { route: "run" })).toBe(1);
    // /metrics itself is not counted.
    expect(after.sum("copilot_runtime_http_requests_total")).toBe(1);
  });

  it("labels by route name, never by path: 404s, 405s, ids in paths, unknown agents", async () => {
    const { server, run } = await serve({ default: new ScriptedAgent({ script: script() }) });
    const secret = `id-${Math.random().toString(36).slice(2)}`;
    expect((await fetch(`${server.runtimeUrl}/nothing/${secret}`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/elsewhere/${secret}`)).status).toBe(404);
    expect((await fetch(`${server.runtimeUrl}/threads/${secret}/messages`)).status).toBe(404); // no such thread
    expect((await fetch(`${server.runtimeUrl}/info`, { method: "DELETE" })).status).toBe(405);
    const unknown = await run(`agent-${secret}`);
    expect(unknown.status).toBe(404);
    await unknown.text();

    const response = await fetch(`${server.baseUrl}/metrics`);
    const text = await response.text();
    expect(text).not.toContain(secret);
    const scraped = parsePrometheusText(text);
    expect(scraped.value("copilot_runtime_http_requests_total", { route: "not_found", method: "GET", status: "404" })).toBe(2);
    expect(scraped.value("copilot_runtime_http_requests_total", { route: "thread/messages", method: "GET", status: "404" })).toBe(1);
    expect(scraped.value("copilot_runtime_http_errors_total", { route: "thread/messages", code: "thread_not_found" })).toBe(1);
    expect(scraped.value("copilot_runtime_http_requests_total", { route: "method_not_allowed", method: "DELETE", status: "405" })).toBe(1);
    expect(scraped.value("copilot_runtime_http_requests_total", { route: "run", method: "POST", status: "404" })).toBe(1);
    expect(scraped.value("copilot_runtime_http_errors_total", { route: "run", code: "Agent not found" })).toBe(1);
    expect(scraped.value("copilot_runtime_http_errors_total", { route: "not_found", code: "Not found" })).toBe(2);
    expect(scraped.value("copilot_runtime_http_errors_total", { route: "method_not_allowed", code: "Method not allowed" })).toBe(1);
  });

  it("counts RUN_ERROR by code: the agent's own, and the runtime's AGENT_ERROR when an agent throws", async () => {
    const code = `MY_CODE_${Math.random().toString(36).slice(2, 8)}`;
    const { scrape, run } = await serve({
      failing: new ScriptedAgent({ script: (input) => [{ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId }, { type: "RUN_ERROR", message: "no", code }] }),
      throwing: new ScriptedAgent({ script: (input) => [{ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId }, agentThrows("boom")] }),
    });
    const before = await scrape();
    const agentErrorsBefore = before.value("copilot_runtime_run_errors_total", { code: "AGENT_ERROR" }) ?? 0;
    const errorRunsBefore = before.value("copilot_runtime_run_duration_seconds_count", { outcome: "error" }) ?? 0;
    expect(before.value("copilot_runtime_run_errors_total", { code })).toBeUndefined();

    const first = parseSse(await (await run("failing", runInput({ threadId: "t-fail" }))).text());
    expect(first.at(-1)).toMatchObject({ type: "RUN_ERROR", code });
    const second = parseSse(await (await run("throwing", runInput({ threadId: "t-throw" }))).text());
    expect(second.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "AGENT_ERROR" });

    const after = await scrape();
    expect(after.value("copilot_runtime_run_errors_total", { code })).toBe(1);
    expect(after.value("copilot_runtime_run_errors_total", { code: "AGENT_ERROR" })).toBe(agentErrorsBefore + 1);
    expect(after.value("copilot_runtime_run_duration_seconds_count", { outcome: "error" })).toBe(errorRunsBefore + 2);
  });

  it("is a valid exposition: HELP and TYPE for every family, cumulative buckets with +Inf, _sum and _count", async () => {
    const { scrape, run } = await serve({ default: new ScriptedAgent({ script: script() }) });
    await (await run("default")).text();
    const scraped = await scrape(); // the parser throws on any violation
    const names = [...scraped.families.keys()];
    expect(names).toEqual(
      expect.arrayContaining([
        "copilot_runtime_http_requests_total",
        "copilot_runtime_http_errors_total",
        "copilot_runtime_open_streams",
        "copilot_runtime_events_streamed_total",
        "copilot_runtime_time_to_first_event_seconds",
        "copilot_runtime_active_runs",
        "copilot_runtime_run_duration_seconds",
        "copilot_runtime_run_errors_total",
        "copilot_runtime_store_write_duration_seconds",
      ]),
    );
    for (const family of scraped.families.values()) {
      expect(family.help.length, family.name).toBeGreaterThan(10);
      if (family.type === "counter") expect(family.name).toMatch(/_total$/);
      if (family.type === "histogram") expect(family.name).toMatch(/_seconds$/);
    }
  });

  it("the parser rejects what a scraper would (so the validity test can fail)", () => {
    expect(() => parsePrometheusText("x_total 1\n")).toThrow(/before any # TYPE/);
    expect(() => parsePrometheusText("# TYPE x counter\nx 1\n")).toThrow(/without # HELP/);
    const histogram = (lines: string) => `# HELP h h\n# TYPE h histogram\n${lines}`;
    expect(() => parsePrometheusText(histogram('h_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n'))).toThrow(/cumulative/);
    expect(() => parsePrometheusText(histogram('h_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'))).toThrow(/\+Inf/);
    expect(() => parsePrometheusText(histogram('h_bucket{le="1"} 2\nh_bucket{le="+Inf"} 2\nh_count 2\n'))).toThrow(/_sum/);
  });

  it("times the store's writes for a durable runner", async () => {
    const runner = new SqliteAgentRunner({ path: ":memory:" });
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: script() }) }, runner });
    const { scrape, run } = await serve({}, {}, runtime);
    const before = await scrape();
    const count = (s: Scrape, operation: string) => s.value("copilot_runtime_store_write_duration_seconds_count", { operation }) ?? 0;
    await (await run("default", runInput({ threadId: "t-store" }))).text();
    let after = await scrape();
    for (let i = 0; i < 50 && count(after, "finish_run") === count(before, "finish_run"); i++) after = await scrape();
    expect(count(after, "start_run")).toBe(count(before, "start_run") + 1);
    expect(count(after, "finish_run")).toBe(count(before, "finish_run") + 1);
    await runner.close();
  });

  it("is off unless asked for: no /metrics, and the runtime's own 404 for it", async () => {
    const handler = createCopilotRuntimeHandler({ runtime: new CopilotRuntime({ agents: {} }), basePath: BASE });
    const response = await handler(new Request("http://localhost/metrics"));
    expect(response.status).toBe(404);
  });
});

describe("Prometheus primitives", () => {
  it("escapes label values and folds label sets past the limit into `other`", () => {
    const counter = new Counter({ name: "t_total", help: "a\\b\nc", labelNames: ["code"], maxSeries: 2 });
    counter.labels('quo"te\\back\nline').inc();
    counter.labels("b").inc(2);
    counter.labels("c").inc();
    counter.labels("d").inc();
    const text = counter.render();
    expect(text).toContain("# HELP t_total a\\\\b\\nc\n");
    const scraped = parsePrometheusText(text);
    expect(scraped.value("t_total", { code: 'quo"te\\back\nline' })).toBe(1);
    expect(scraped.value("t_total", { code: "other" })).toBe(2);
  });

  it("renders an unlabelled gauge as 0 before use, and histogram buckets cumulatively", () => {
    expect(new Gauge({ name: "g", help: "help" }).render()).toBe("# HELP g help\n# TYPE g gauge\ng 0\n");
    const histogram = new Histogram({ name: "h_seconds", help: "help", buckets: [1, 2] });
    for (const v of [0.5, 1, 1.5, 3]) histogram.labels().observe(v);
    const scraped = parsePrometheusText(histogram.render());
    expect(scraped.value("h_seconds_bucket", { le: "1" })).toBe(2);
    expect(scraped.value("h_seconds_bucket", { le: "2" })).toBe(3);
    expect(scraped.value("h_seconds_bucket", { le: "+Inf" })).toBe(4);
    expect(scraped.value("h_seconds_sum")).toBe(6);
  });

  it("an event costs a stream no allocation: a million meter.onEvent() calls trigger no garbage collection", async () => {
    const stream = new MetricsRegistry().openStream("run", performance.now());
    const gcsDuring = async (work: () => void) => {
      let count = 0;
      const observer = new PerformanceObserver((list) => (count += list.getEntries().length));
      observer.observe({ entryTypes: ["gc"] });
      work();
      await new Promise((resolve) => setTimeout(resolve, 50)); // entries are delivered asynchronously
      observer.disconnect();
      return count;
    };
    for (let i = 0; i < 10_000; i++) stream.onEvent(); // warm up (and optimise)
    expect(await gcsDuring(() => {
      for (let i = 0; i < 1_000_000; i++) stream.onEvent();
    })).toBe(0);
    // The control: 32 bytes per event is enough for the same check to see collections.
    const sink: unknown[] = [null];
    expect(await gcsDuring(() => {
      for (let i = 0; i < 1_000_000; i++) sink[0] = { i, j: i };
    })).toBeGreaterThan(0);
  });
});
