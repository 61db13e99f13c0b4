/**
 * GET <basePath>/cpk-debug-events: the live feed CopilotKit's inspector reads. Gated like
 * CopilotKit's, one envelope per event of every run and connect stream, bounded per reader,
 * ended when the reader goes away, on every adapter.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { setLogger } from "../../src/logger.js";
import { ScriptedAgent, textReply, type Script } from "../helpers/agents.js";
import { ADAPTERS, PUBLIC_BASE, type Mounted } from "../adapters/adapters.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Reads SSE `data:` frames from a body as they come. */
function frameReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const frames: any[] = [];
  let done = false;
  const pump = (async () => {
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
        if (data) frames.push(JSON.parse(data));
      }
    }
    done = true;
  })();
  return { frames, isDone: () => done, ended: pump, cancel: () => reader.cancel() };
}

describe("gating", () => {
  const original = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = original;
  });

  it("answers 404 (as an unknown path) without debug outside development, including NODE_ENV unset and production", async () => {
    for (const env of [undefined, "production", "test"]) {
      if (env === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = env;
      const { get } = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) } });
      const response = await get("/cpk-debug-events");
      expect(response.status, String(env)).toBe(404);
      expect(await response.json()).toMatchObject({ error: "Not found" });
    }
  });

  it("is served with debug: true (or an object), and in development without it", async () => {
    process.env.NODE_ENV = "production";
    for (const debug of [true, { events: false }]) {
      const { get } = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) }, debug });
      const response = await get("/cpk-debug-events");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      await response.body!.cancel();
    }
    process.env.NODE_ENV = "development";
    const { get, post } = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) } });
    const response = await get("/cpk-debug-events");
    expect(response.status).toBe(200);
    await response.body!.cancel();
    expect((await post("/cpk-debug-events", {})).status).toBe(405);
  });

  it("rejects a debug option it cannot honour", () => {
    expect(() => new CopilotRuntime({ agents: {}, debug: "yes" as any })).toThrow(/debug/);
    expect(() => new CopilotRuntime({ agents: {}, debug: { event: true } as any })).toThrow(/debug\.event/);
  });
});

describe("the feed", () => {
  it("carries one envelope per event of every run and connect stream, with the stream's agent, thread and run", async () => {
    const { runtime, get, post } = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("hello world"), delayMs: 1 }) }, debug: true });
    const feed = frameReader((await get("/cpk-debug-events")).body!);
    await waitFor(() => runtime.debugEvents!.size === 1, "the subscriber");
    const before = Date.now();
    const run = await readSse(await post("/agent/default/run", runInput({ threadId: "t-feed", runId: "r-feed" })));
    const replay = await readSse(await post("/agent/default/connect", runInput({ threadId: "t-feed", runId: "c-feed", messages: [] })));
    await waitFor(() => feed.frames.length === run.length + replay.length, "every envelope");
    expect(feed.frames.map((f) => f.event)).toEqual([...run, ...replay]);
    for (const frame of feed.frames) {
      expect(Object.keys(frame).sort()).toEqual(["agentId", "event", "runId", "threadId", "timestamp"]);
      expect(frame).toMatchObject({ agentId: "default", threadId: "t-feed", runId: "r-feed" });
      expect(frame.timestamp).toBeGreaterThanOrEqual(before);
    }
    await feed.cancel();
    await waitFor(() => runtime.debugEvents!.size === 0, "the reader to leave");
  });

  it("with identifyUser, a reader must be identified and sees only its own user's streams", async () => {
    // No x-user header: an empty id, which the runtime answers with 401 unauthenticated.
    const identifyUser = (request: Request) => ({ id: request.headers.get("x-user") ?? "" });
    const { runtime, get, post } = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("hello world"), delayMs: 1 }) }, debug: true, identifyUser });
    const anonymous = await get("/cpk-debug-events");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: "unauthenticated" });
    const alice = frameReader((await get("/cpk-debug-events", { "x-user": "alice" })).body!);
    await waitFor(() => runtime.debugEvents!.size === 1, "alice's reader");
    const aliceRun = await readSse(await post("/agent/default/run", runInput({ threadId: "t-alice", runId: "r-alice" }), { "x-user": "alice" }));
    const bobRun = await readSse(await post("/agent/default/run", runInput({ threadId: "t-bob", runId: "r-bob" }), { "x-user": "bob" }));
    expect(bobRun.at(-1)?.type).toBe("RUN_FINISHED");
    await waitFor(() => alice.frames.length >= aliceRun.length, "alice's envelopes");
    // Bob's run finished after Alice's; a leak would have arrived by now, in order, after hers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alice.frames.map((f) => f.event)).toEqual(aliceRun);
    expect(alice.frames.every((f) => f.threadId === "t-alice")).toBe(true);
    await alice.cancel();
  });

  it("cuts off a reader that stops reading, instead of buffering without bound", async () => {
    const delta = "x".repeat(16 * 1024);
    const script: Script = (input) => [
      { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
      { type: "TEXT_MESSAGE_START", messageId: "m", role: "assistant" },
      ...Array.from({ length: 200 }, () => ({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta })),
      { type: "TEXT_MESSAGE_END", messageId: "m" },
      { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
    ];
    const { runtime, get, post } = makeHandler({ agents: { default: new ScriptedAgent({ script, delayMs: 0 }) }, debug: true });
    const stalled = (await get("/cpk-debug-events")).body!; // never read until the run is over
    await waitFor(() => runtime.debugEvents!.size === 1, "the subscriber");
    const run = await readSse(await post("/agent/default/run", runInput({ threadId: "t-slow" })));
    expect(run).toHaveLength(204); // the run itself is unaffected
    expect(runtime.debugEvents!.size).toBe(0); // dropped, so no longer buffered for
    // What it still gets is bounded (the buffer limit plus a frame), then the stream ends.
    const feed = frameReader(stalled);
    await feed.ended;
    expect(feed.frames.length).toBeGreaterThan(0);
    expect(feed.frames.length).toBeLessThan(run.length);
    expect(JSON.stringify(feed.frames).length).toBeLessThan(1.2 * 1024 * 1024);
  });
});

describe("the debug option's log lines", () => {
  function capture() {
    const lines: Array<{ fields: Record<string, any>; msg: string }> = [];
    const logger = {
      info() {},
      warn() {},
      error() {},
      debug: (fields: Record<string, any>, msg: string) => void lines.push({ fields, msg }),
    };
    return { lines, logger };
  }

  it("true: a line per stream opened and ended and per event, with ids but no payload", async () => {
    const { lines, logger } = capture();
    const { post } = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("secret words") }) }, debug: true, logger });
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-log" })));
    const emitted = lines.filter((l) => l.msg === "Event emitted");
    expect(emitted.map((l) => l.fields.type)).toEqual(events.map((e) => e.type));
    expect(JSON.stringify(lines)).not.toContain("secret");
    expect(lines[0].msg).toBe("SSE stream opened");
    await waitFor(() => lines.some((l) => l.msg === "SSE stream completed"), "the closing line");
    expect(lines.find((l) => l.msg === "SSE stream completed")!.fields.events).toBe(events.length);
  });

  it("verbose logs whole events; events: false and lifecycle: false leave those lines out", async () => {
    const verbose = capture();
    const a = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("secret words") }) }, debug: { verbose: true }, logger: verbose.logger });
    await readSse(await a.post("/agent/default/run", runInput({ threadId: "t-verbose" })));
    expect(JSON.stringify(verbose.lines)).toContain("secret");
    const quiet = capture();
    const b = makeHandler({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) }, debug: { events: false, lifecycle: false }, logger: quiet.logger });
    await readSse(await b.post("/agent/default/run", runInput({ threadId: "t-quiet" })));
    expect(quiet.lines.filter((l) => l.msg === "Event emitted" || l.msg.startsWith("SSE stream"))).toEqual([]);
  });
});

describe.each(ADAPTERS)("$name", (adapter) => {
  let mounted: Mounted | undefined;
  afterEach(async () => {
    await mounted?.close();
    mounted = undefined;
  });

  it("serves the feed, and forgets a reader that goes away", async () => {
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("hi"), delayMs: 1 }) }, debug: true });
    mounted = await adapter.mount({ runtime, cors: {} as any });
    const controller = new AbortController();
    // The head arrives at once, before any event (not with the first heartbeat, 15 s later).
    const response = await Promise.race([
      mounted.send(`${PUBLIC_BASE}/cpk-debug-events`, { signal: controller.signal }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no response head within 5 s")), 5000)),
    ]);
    expect(response.status).toBe(200);
    const feed = frameReader(response.body!);
    await waitFor(() => runtime.debugEvents!.size === 1, "the subscriber");
    const run = await mounted.send(`${PUBLIC_BASE}/agent/default/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(runInput({ threadId: `t-${adapter.name}` })),
    });
    const events = await readSse(run);
    await waitFor(() => feed.frames.length === events.length, "the envelopes");
    expect(feed.frames.map((f) => f.event.type)).toEqual(events.map((e) => e.type));
    controller.abort();
    await feed.cancel().catch(() => {});
    await waitFor(() => runtime.debugEvents!.size === 0, "the reader to be forgotten");
  });
});
