/**
 * Open event streams are bounded per handler and per user: past a limit the caller gets 429
 * `too_many_streams` with `Retry-After`, and a slot comes back when the stream ends or the
 * client goes away. Checked over real sockets through the native Node path and the web-stream
 * (Hono) path, directly and through the single-route envelope.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { serve } from "@hono/node-server";
import { createCopilotEndpoint } from "../../src/adapters/hono.js";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import type { CopilotRuntimeHandlerOptions } from "../../src/http/handler.js";
import { StreamLimiter } from "../../src/http/stream-limits.js";
import { CopilotRuntime, type CopilotRuntimeOptions } from "../../src/runtime.js";
import { GatedAgent, Gates, userRunInput, SseReader } from "../adapters/support.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse } from "../helpers/sse.js";
import { runInput as scriptedInput } from "../helpers/inputs.js";

describe("StreamLimiter", () => {
  it("counts in total and per user, refuses past either limit, and releases once", async () => {
    const limiter = new StreamLimiter({ maxStreams: 3, maxStreamsPerUser: 2, retryAfterSeconds: 7 });
    const a1 = limiter.acquire("a");
    limiter.acquire("a");
    let refused: unknown;
    try {
      limiter.acquire("a");
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(Response);
    const response = refused as Response;
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(await response.json()).toMatchObject({ error: "too_many_streams", limit: 2, scope: "user" });
    limiter.acquire(undefined);
    expect(() => limiter.acquire("b")).toThrow(Response);
    a1();
    a1();
    expect(limiter.openStreams).toBe(2);
    expect(limiter.openStreamsOf("a")).toBe(1);
    limiter.acquire("b");
    expect(limiter.openStreams).toBe(3);
  });

  it("treats 0 as no limit and refuses nonsense", () => {
    const limiter = new StreamLimiter({ maxStreams: 0, maxStreamsPerUser: 0 });
    for (let i = 0; i < 100; i++) limiter.acquire("a");
    expect(limiter.openStreams).toBe(100);
    expect(() => new StreamLimiter({ maxStreams: -1 })).toThrow(/maxStreams/);
    expect(() => new StreamLimiter({ maxStreamsPerUser: 1.5 })).toThrow(/maxStreamsPerUser/);
  });
});

describe("the fetch handler", () => {
  it("releases a slot when the stream ends, and when a route answers without a stream", async () => {
    const { post } = makeHandler({}, { limits: { maxStreams: 1 } });
    for (let i = 0; i < 3; i++) {
      const response = await post("/agent/default/run", scriptedInput({ threadId: `t-end-${i}` }));
      expect(response.status).toBe(200);
      expect((await readSse(response)).at(-1)?.type).toBe("RUN_FINISHED");
    }
    expect((await post("/agent/nobody/run", scriptedInput())).status).toBe(404);
    expect((await post("/agent/default/run", "{not json")).status).toBe(400);
    expect((await post("/agent/default/run", scriptedInput({ threadId: "t-after-errors" }))).status).toBe(200);
  });

  it("lifts both limits with 0", async () => {
    const { post } = makeHandler({}, { limits: { maxStreams: 0, maxStreamsPerUser: 0 } });
    const open = await Promise.all([0, 1, 2].map((i) => post("/agent/default/run", scriptedInput({ threadId: `t-off-${i}` }))));
    expect(open.map((r) => r.status)).toEqual([200, 200, 200]);
    await Promise.all(open.map((r) => r.text()));
  });
});

interface Host {
  name: string;
  start(runtime: CopilotRuntime, options: Partial<CopilotRuntimeHandlerOptions>): Promise<Server>;
}

const HOSTS: Host[] = [
  {
    name: "Node listener (native SSE)",
    start: (runtime, options) => listen(createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", ...options }))),
  },
  {
    name: "Hono (web stream)",
    start: async (runtime, options) => {
      const app = createCopilotEndpoint({ runtime, basePath: "/api/copilotkit", ...options });
      return listen(serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server);
    },
  },
];

const servers: Server[] = [];
const gateSets: Gates[] = [];
afterEach(() => {
  for (const gates of gateSets.splice(0)) gates.openAll();
  for (const server of servers.splice(0)) {
    server.close();
    server.closeAllConnections();
  }
});

async function listen(server: Server): Promise<Server> {
  servers.push(server);
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  else await Promise.resolve();
  return server;
}

describe.each(HOSTS)("$name", (host) => {
  async function setup(limits: CopilotRuntimeHandlerOptions["limits"], runtimeOptions: Partial<CopilotRuntimeOptions> = {}) {
    const gates = new Gates();
    gateSets.push(gates);
    const runtime = new CopilotRuntime({ agents: { default: new GatedAgent(gates) }, ...runtimeOptions });
    const server = await host.start(runtime, { limits });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/copilotkit`;
    const open = async (threadId: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
      fetch(`${base}/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
        body: JSON.stringify(userRunInput(threadId)),
        signal,
      });
    /** Opens a run and waits for its first delta: the stream is established and parked at its gate. */
    const openParked = async (threadId: string, headers: Record<string, string> = {}) => {
      const controller = new AbortController();
      const response = await open(threadId, headers, controller.signal);
      expect(response.status, `stream ${threadId}`).toBe(200);
      const reader = new SseReader(response);
      await reader.until((e) => e.type === "TEXT_MESSAGE_CONTENT");
      return { reader, abort: () => controller.abort() };
    };
    /** Retries a new stream until it is accepted (the slot may come back a moment after the event that frees it). */
    const eventuallyOpens = async (prefix: string, headers: Record<string, string> = {}) => {
      const deadline = Date.now() + 10_000;
      for (let i = 0; ; i++) {
        const response = await open(`${prefix}-${i}`, headers);
        if (response.status === 200) return new SseReader(response);
        expect(response.status).toBe(429);
        await response.body?.cancel();
        if (Date.now() > deadline) throw new Error("the slot never came back");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    return { gates, base, open, openParked, eventuallyOpens };
  }

  it("answers 429 too_many_streams with Retry-After past maxStreams, and frees the slot on disconnect and on end", { timeout: 30_000 }, async () => {
    const { gates, open, openParked, eventuallyOpens } = await setup({ maxStreams: 2 });
    const first = await openParked("p-1");
    await openParked("p-2");

    const refused = await open("p-3");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(refused.headers.get("content-type")).toContain("application/json");
    expect(await refused.json()).toMatchObject({ error: "too_many_streams", limit: 2, scope: "process", message: expect.any(String) });

    // The client goes away: its slot comes back.
    first.abort();
    const third = await eventuallyOpens("p-after-abort");
    await third.until((e) => e.type === "TEXT_MESSAGE_CONTENT");
    expect((await open("p-full-again")).status).toBe(429);

    // A stream that ends gives its slot back too.
    gates.open("p-2");
    const after = await eventuallyOpens("p-after-end");
    await after.cancel();
  });

  it("counts the single-route envelope's agent/run like /run", { timeout: 30_000 }, async () => {
    const { base, openParked } = await setup({ maxStreams: 1 });
    await openParked("e-1");
    const refused = await fetch(base, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: "agent/run", params: { agentId: "default" }, body: userRunInput("e-2") }),
    });
    expect(refused.status).toBe(429);
    expect((await refused.json()).error).toBe("too_many_streams");
  });

  it("limits each identifyUser id to maxStreamsPerUser, and leaves anonymous callers to maxStreams", { timeout: 30_000 }, async () => {
    const identified = await setup(
      { maxStreams: 10, maxStreamsPerUser: 1 },
      { identifyUser: (request) => ({ id: request.headers.get("x-user-id") ?? "" }) },
    );
    const alice = await identified.openParked("u-a1", { "x-user-id": "alice" });
    const refused = await identified.open("u-a2", { "x-user-id": "alice" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await refused.json()).toMatchObject({ error: "too_many_streams", limit: 1, scope: "user" });
    await identified.openParked("u-b1", { "x-user-id": "bob" });
    // No id: the route answers 401 as before, not a 429.
    expect((await identified.open("u-none")).status).toBe(401);
    alice.abort();
    const again = await identified.eventuallyOpens("u-a3", { "x-user-id": "alice" });
    await again.cancel();

    const anonymous = await setup({ maxStreams: 10, maxStreamsPerUser: 1 });
    await anonymous.openParked("anon-1");
    await anonymous.openParked("anon-2");
  });
});
