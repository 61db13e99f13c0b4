/**
 * One suite, every adapter: whatever framework mounts the runtime, a client sees the same
 * info, runs stream while they run, connect replays, stop ends a run, the envelope works,
 * errors are JSON, and CORS allows exactly the configured origin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { ADAPTERS, PUBLIC_BASE, type Mounted } from "./adapters.js";
import { GatedAgent, Gates, userRunInput, SseReader } from "./support.js";

const ALLOWED = "http://allowed.test";
const OTHER = "http://other.test";
const JSON_HEADERS = { "Content-Type": "application/json", Accept: "text/event-stream" };

describe.each(ADAPTERS)("$name", (adapter) => {
  const gates = new Gates();
  /** The request signals the runtime saw, by the `x-test-id` header the test sent. */
  const signals = new Map<string, AbortSignal>();
  let mounted: Mounted;

  beforeAll(async () => {
    const runtime = new CopilotRuntime({
      agents: { default: new GatedAgent(gates) },
      beforeRequestMiddleware: ({ request }) => {
        const id = request.headers.get("x-test-id");
        if (id !== null) signals.set(id, request.signal);
      },
    });
    mounted = await adapter.mount({ runtime, cors: { origin: ALLOWED, credentials: true } });
  });

  afterAll(async () => {
    gates.openAll();
    await mounted.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    mounted.send(`${PUBLIC_BASE}${path}`, { method: "POST", headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body), signal });

  it("answers GET /info with the registered agents", async () => {
    const response = await mounted.send(`${PUBLIC_BASE}/info`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    const info = await response.json();
    expect(info.agents.default).toMatchObject({ name: "default", className: "GatedAgent" });
    expect(info.mode).toBe("sse");
  });

  it("answers HEAD /info with the GET status and headers and no body", async () => {
    const response = await mounted.send(`${PUBLIC_BASE}/info`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.text()).toBe("");
  });

  it("streams a run's events while the run is still going, then finishes it", async () => {
    const threadId = "thread-run";
    const response = await post("/agent/default/run", userRunInput(threadId, "héllo ✓"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const stream = new SseReader(response);
    // The run is parked at its gate: this only resolves if the adapter does not buffer.
    const first = await stream.until((e) => e.type === "TEXT_MESSAGE_CONTENT", "the first delta");
    expect(first.delta).toBe("echo:héllo ✓");
    gates.open(threadId);
    const events = await stream.rest();
    expect(events.map((e) => e.type)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
  });

  it("replays a finished thread on connect, each message once", async () => {
    const threadId = "thread-connect";
    gates.open(threadId);
    await new SseReader(await post("/agent/default/run", userRunInput(threadId, "remember me"))).rest();

    const response = await post("/agent/default/connect", { ...userRunInput(threadId), messages: [] });
    expect(response.status).toBe(200);
    const events = await new SseReader(response).rest();
    const text = events
      .filter((e) => e.type === "TEXT_MESSAGE_CONTENT")
      .map((e) => e.delta)
      .join("");
    expect(text).toBe("echo:remember me done");
    expect(events.filter((e) => e.type === "TEXT_MESSAGE_START")).toHaveLength(1);
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
  });

  it("stops an active run: stop answers stopped:true and the run's stream ends", async () => {
    const threadId = "thread-stop";
    const stream = new SseReader(await post("/agent/default/run", userRunInput(threadId)));
    await stream.until((e) => e.type === "TEXT_MESSAGE_CONTENT", "the first delta");

    const stop = await post(`/agent/default/stop/${threadId}`, {});
    expect(stop.status).toBe(200);
    expect(await stop.json()).toMatchObject({ stopped: true });

    const events = await stream.rest();
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
    expect(events.some((e) => e.delta === " done")).toBe(false);
  });

  it("answers a stop with an empty JSON body (no hang behind body parsers)", async () => {
    const response = await mounted.send(`${PUBLIC_BASE}/agent/default/stop/no-such-thread`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ stopped: false, message: "No active run for thread 'no-such-thread'." });
  });

  it("aborts the request's signal when the client goes away mid-stream", async () => {
    const threadId = "thread-disconnect";
    const client = new AbortController();
    const response = await post("/agent/default/run", userRunInput(threadId), { "x-test-id": threadId }, client.signal);
    const stream = new SseReader(response);
    await stream.until((e) => e.type === "TEXT_MESSAGE_CONTENT", "the first delta");
    const signal = signals.get(threadId);
    expect(signal?.aborted).toBe(false);

    client.abort();
    await stream.cancel();
    await new Promise<void>((resolve) => (signal!.aborted ? resolve() : signal!.addEventListener("abort", () => resolve())));
    expect(signal!.aborted).toBe(true);
    gates.open(threadId);
  });

  it("answers the single-route envelope at POST basePath", async () => {
    const response = await post("", { method: "info" });
    expect(response.status).toBe(200);
    expect((await response.json()).agents.default.name).toBe("default");
  });

  it("runs through the envelope too, with the body intact", async () => {
    const threadId = "thread-envelope";
    gates.open(threadId);
    const response = await post("", { method: "agent/run", params: { agentId: "default" }, body: userRunInput(threadId, "via envelope") });
    const events = await new SseReader(response).rest();
    expect(events.find((e) => e.type === "TEXT_MESSAGE_CONTENT")?.delta).toBe("echo:via envelope");
  });

  it("answers an unknown route under basePath with a JSON 404", async () => {
    const response = await mounted.send(`${PUBLIC_BASE}/no/such/route`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "Not found" });
  });

  it("answers an unknown agent with a JSON 404", async () => {
    const response = await post("/agent/nobody/run", userRunInput("thread-x"));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "Agent not found" });
  });

  it("answers a wrong method with a JSON 405 and an Allow header", async () => {
    const response = await mounted.send(`${PUBLIC_BASE}/agent/default/run`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ error: "Method not allowed" });
  });

  it("answers a CORS preflight from the allowed origin, with credentials", async () => {
    const response = await mounted.send(`${PUBLIC_BASE}/agent/default/run`, {
      method: "OPTIONS",
      headers: { Origin: ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
  });

  it("gives another origin no CORS permission, on preflight or on the request", async () => {
    const preflight = await mounted.send(`${PUBLIC_BASE}/info`, {
      method: "OPTIONS",
      headers: { Origin: OTHER, "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const info = await mounted.send(`${PUBLIC_BASE}/info`, { headers: { Origin: OTHER } });
    expect(info.headers.get("access-control-allow-origin")).toBeNull();
    expect(info.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("labels event streams for the browser too: the stream's own headers plus the allowed origin's", async () => {
    const threadId = "thread-cors-stream";
    gates.open(threadId);
    const allowed = await post("/agent/default/run", userRunInput(threadId, "hi"), { Origin: ALLOWED });
    expect(allowed.headers.get("content-type")).toContain("text/event-stream");
    expect(allowed.headers.get("cache-control")).toBe("no-cache");
    expect(allowed.headers.get("x-accel-buffering")).toBe("no");
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    expect(allowed.headers.get("access-control-expose-headers")).toBe("Content-Type");
    expect(allowed.headers.get("vary")).toContain("Origin");
    await new SseReader(allowed).rest();

    const other = await post("/agent/default/run", userRunInput("thread-cors-other", "hi"), { Origin: OTHER });
    gates.open("thread-cors-other");
    expect(other.headers.get("content-type")).toContain("text/event-stream");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(other.headers.get("vary")).toContain("Origin");
    await new SseReader(other).rest();
  });

  it("labels responses to the allowed origin for the browser", async () => {
    const info = await mounted.send(`${PUBLIC_BASE}/info`, { headers: { Origin: ALLOWED } });
    expect(info.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(info.headers.get("vary")).toContain("Origin");
  });
});
