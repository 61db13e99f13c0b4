/**
 * CopilotKit's unmodified 1.54.1 runtime (`@copilotkitnext/runtime`, configured with
 * `new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey, organizationId })`) against our platform,
 * driven like a browser; the browser's realtime side is the real `phoenix` JS client joining
 * `thread:<threadId>` on `/info`'s `intelligence.wsUrl`, as `@copilotkitnext/core@1.54.1` does.
 * The 1.75 runtime shares the platform in the same file.
 *
 * 1.54.1's runner takes whatever `globalThis.WebSocket` is (Node ≥ 22 has one) and falls back to
 * Phoenix long-poll (Node 20). Over long-poll it disconnects without flushing what it pushed in
 * the run's last moments, so the main suite gives it a WebSocket (`ws`), and a separate test shows
 * what the platform does with a long-poll run whose tail never arrived.
 */
import { AbstractAgent, type BaseEvent, type RunAgentInput, verifyEvents } from "@ag-ui/client";
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { Observable, from, lastValueFrom, toArray } from "rxjs";
import { WebSocket as WsWebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptedAgent, replyMessageId, textReply } from "../helpers/agents.js";
import { API_KEY, PROJECT, TOKEN_SECRET, copilotKitIntelligenceRuntime, eventually, followThread, quietLogger, runInput } from "../helpers/intelligence.js";
import { disableCopilotKitTelemetry } from "../helpers/runtimes.js";
import { type ServedIntelligencePlatform, serveIntelligencePlatform } from "../../src/intelligence/platform.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/index.js";
import type { IntelligenceStore } from "../../src/intelligence/store/types.js";

const verified = (events: unknown[]) => lastValueFrom(from(events as BaseEvent[]).pipe(verifyEvents(), toArray()));

interface Runtime154 {
  app: { fetch(request: Request): Promise<Response> };
  browser(method: string, path: string, body?: unknown, user?: string): Promise<{ status: number; json: any; text: string }>;
}

/** The real 1.54.1 runtime (Hono endpoint under /api/copilotkit) on `platform`; identifyUser reads `x-user`. */
async function runtime154(platform: ServedIntelligencePlatform, agents: Record<string, unknown>): Promise<Runtime154> {
  disableCopilotKitTelemetry();
  const rt: any = await import("@copilotkitnext/runtime");
  const intelligence = new rt.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: API_KEY, organizationId: "org-154" });
  const runtime = new rt.CopilotRuntime({ agents, intelligence, identifyUser: (request: Request) => ({ id: request.headers.get("x-user") ?? "alice" }), generateThreadNames: false });
  const app = rt.createCopilotEndpoint({ runtime, basePath: "/api/copilotkit" });
  return {
    app,
    async browser(method, path, body, user = "alice") {
      const response: Response = await app.fetch(
        new Request(`http://runtime.test/api/copilotkit${path}`, {
          method,
          headers: { "content-type": "application/json", "x-user": user },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
      );
      const text = await response.text();
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    },
  };
}

/**
 * Streams `words` words, one every 5 ms, and ends its stream when aborted, as an `HttpAgent`
 * whose request is aborted does. (1.54.1's runner stops a run by aborting the agent and closes
 * the run itself only once the agent's stream has ended; the 1.75 runner does not wait.)
 */
class StreamingAgent extends AbstractAgent {
  #stop: (() => void) | undefined;
  constructor(private readonly words: number) {
    super();
  }
  override clone(): StreamingAgent {
    return new StreamingAgent(this.words);
  }
  override abortRun(): void {
    this.#stop?.();
  }
  run(input: RunAgentInput): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      const messageId = replyMessageId(input);
      subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId } as BaseEvent);
      subscriber.next({ type: "TEXT_MESSAGE_START", messageId, role: "assistant" } as BaseEvent);
      let sent = 0;
      const timer = setInterval(() => {
        subscriber.next({ type: "TEXT_MESSAGE_CONTENT", messageId, delta: `word${sent} ` } as BaseEvent);
        if (++sent < this.words) return;
        clearInterval(timer);
        subscriber.next({ type: "TEXT_MESSAGE_END", messageId } as BaseEvent);
        subscriber.next({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId } as BaseEvent);
        subscriber.complete();
      }, 5);
      this.#stop = () => {
        clearInterval(timer);
        subscriber.complete();
      };
      return () => clearInterval(timer);
    });
  }
}

const ids = (events: Array<{ metadata: { cpki_event_id: string } }>) => events.map((event) => event.metadata.cpki_event_id);

describe("CopilotKit runtime 1.54.1 against our Intelligence platform (runner over WebSocket, as on Node ≥ 22)", () => {
  let store: IntelligenceStore;
  let platform: ServedIntelligencePlatform;
  let legacy: Runtime154;
  let release: () => void = () => {};
  const hadWebSocket = "WebSocket" in globalThis;

  beforeAll(async () => {
    // What Node 22 provides natively; phoenix picks it when each run's socket is created.
    if (!hadWebSocket) (globalThis as any).WebSocket = WsWebSocket;
    store = new MemoryIntelligenceStore();
    platform = await serveIntelligencePlatform({ store, apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger(), sweepIntervalMs: 500 });
    const held = new ScriptedAgent({
      // "Holding", then a pause until the test calls release(), then " done".
      script: textReply("Holding done", { pauseAfterFirstWord: () => new Promise<void>((resolve) => (release = resolve)) }),
    });
    legacy = await runtime154(platform, {
      default: new ScriptedAgent({ script: textReply("Hello from 1.54") }),
      held,
      long: new StreamingAgent(400),
    });
  });
  afterAll(async () => {
    release();
    if (!hadWebSocket) delete (globalThis as any).WebSocket;
    await platform?.close();
    await store?.close();
  });

  it("/info advertises our /client socket; a run streams to a thread:<id> subscriber; connect afterwards answers a bootstrap plan", async () => {
    const info = await legacy.browser("GET", "/info");
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ version: "1.54.1", mode: "intelligence", intelligence: { wsUrl: `${platform.wsUrl}/client` } });

    const run = await legacy.browser("POST", "/agent/default/run", runInput("old-1", "old-run-1", "Hi there"));
    expect(run.status, run.text).toBe(200);
    // 1.54.1's /run answers the join token only; the browser uses /info's wsUrl and topic thread:<threadId>.
    expect(Object.keys(run.json)).toEqual(["joinToken"]);
    const live = followThread(info.json.intelligence.wsUrl, run.json.joinToken, "thread:old-1", { stream_mode: "run", run_id: "old-run-1" });
    await live.done;
    live.leave();
    expect(live.sequence[0]).toBe("RUN_STARTED");
    expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
    expect(live.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("")).toBe("Hello from 1.54");
    expect(live.events[0].input.messages.map((m: { id: string }) => m.id)).toEqual(["msg-old-run-1"]);
    expect(live.events.map((e) => e.metadata.cpki_event_seq)).toEqual(live.events.map((_, i) => i + 1));
    await verified(live.events);
    // The lock 1.54.1 never releases was freed by the terminal event.
    await eventually(async () => expect(await store.activeRun(PROJECT, "old-1")).toBeUndefined());

    const bootstrap = await legacy.browser("POST", "/agent/default/connect", { ...runInput("old-1", "c-1", "x"), lastSeenEventId: null });
    expect(bootstrap.status, bootstrap.text).toBe(200);
    expect(bootstrap.json).toEqual({ mode: "bootstrap", latestEventId: ids(live.events).at(-1), events: live.events });

    // A cursor: only what came after it.
    const resumed = await legacy.browser("POST", "/agent/default/connect", { ...runInput("old-1", "c-2", "x"), lastSeenEventId: ids(live.events)[2] });
    expect(resumed.status, resumed.text).toBe(200);
    expect(ids(resumed.json.events)).toEqual(ids(live.events).slice(3));

    // A second run: H1 (no userId in 1.54.1) told the runtime which messages are new.
    const history = [{ id: "msg-old-run-1", role: "user", content: "Hi there" }];
    const second = await legacy.browser("POST", "/agent/default/run", runInput("old-1", "old-run-2", "Again", history));
    expect(second.status, second.text).toBe(200);
    const follow2 = followThread(info.json.intelligence.wsUrl, second.json.joinToken, "thread:old-1", { stream_mode: "run", run_id: "old-run-2" }, "websocket");
    await follow2.done;
    follow2.leave();
    expect(follow2.events[0].input.messages.map((m: { id: string }) => m.id)).toEqual(["msg-old-run-2"]);
    await verified(follow2.events);
  });

  it("connect on a thread that does not exist is 204", async () => {
    const connect = await legacy.browser("POST", "/agent/default/connect", { ...runInput("old-none", "c", "x"), lastSeenEventId: null });
    expect(connect.status).toBe(204);
  });

  it("during a run: a second run is 409 and connect answers a live plan whose join delivers the active run to its end", async () => {
    const first = await legacy.browser("POST", "/agent/default/run", runInput("old-held", "held-0", "earlier"));
    expect(first.status, first.text).toBe(200);
    await eventually(async () => expect(await store.activeRun(PROJECT, "old-held")).toBeUndefined());
    const before = (await legacy.browser("POST", "/agent/held/connect", { ...runInput("old-held", "c", "x"), lastSeenEventId: null })).json.events;

    const run = await legacy.browser("POST", "/agent/held/run", runInput("old-held", "held-1", "wait", [{ id: "msg-held-0", role: "user", content: "earlier" }]));
    expect(run.status, run.text).toBe(200);
    const live = followThread(`${platform.wsUrl}/client`, run.json.joinToken, "thread:old-held", { stream_mode: "run", run_id: "held-1" }, "websocket");
    await eventually(() => expect(live.sequence).toContain("TEXT_MESSAGE_CONTENT"));

    const denied = await legacy.browser("POST", "/agent/held/run", runInput("old-held", "held-2", "me too"));
    expect(denied.status).toBe(409);
    expect(denied.json).toEqual({ error: "Thread lock denied" });

    const plan = await legacy.browser("POST", "/agent/held/connect", { ...runInput("old-held", "c", "x"), lastSeenEventId: null });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json).toMatchObject({ mode: "live", joinToken: expect.any(String) });
    // The history before the active run travels over HTTP; the socket picks up from its last event.
    expect(ids(plan.json.events)).toEqual(ids(before));
    expect(plan.json.joinFromEventId).toBe(ids(before).at(-1));
    const watcher = followThread(`${platform.wsUrl}/client`, plan.json.joinToken, "thread:old-held", { stream_mode: "connect", last_seen_event_id: plan.json.joinFromEventId });
    await eventually(() => expect(watcher.sequence).toContain("TEXT_MESSAGE_CONTENT"));

    release();
    await live.done;
    await watcher.done;
    live.leave();
    watcher.leave();
    // What 1.54.1's client completes on: the active run from RUN_STARTED to RUN_FINISHED, nothing older.
    expect(watcher.events.every((e) => e.run_id === "held-1")).toBe(true);
    expect(watcher.events[0].type).toBe("RUN_STARTED");
    expect(watcher.events.at(-1).type).toBe("RUN_FINISHED");
    await verified(watcher.events);
    await eventually(async () => expect(await store.activeRun(PROJECT, "old-held")).toBeUndefined());
  });

  it("stop_run from the browser reaches 1.54.1's runner: the run ends with RUN_FINISHED and the thread is free", async () => {
    // 1.54.1's runner aborts the agent and leaves, then pushes its closers on the channel it already
    // left: the platform, knowing the stop, closes the run itself (closers + RUN_FINISHED).
    const run = await legacy.browser("POST", "/agent/long/run", runInput("old-stop", "stop-1", "talk a lot"));
    expect(run.status, run.text).toBe(200);
    const live = followThread(`${platform.wsUrl}/client`, run.json.joinToken, "thread:old-stop", { stream_mode: "run", run_id: "stop-1" }, "websocket");
    await eventually(() => expect(live.events.length).toBeGreaterThan(3));
    const reply = await new Promise((resolve) => {
      live.channel.push("stop_run", { run_id: "stop-1" }).receive("ok", () => resolve("ok")).receive("error", () => resolve("error"));
    });
    expect(reply).toBe("ok");
    await live.done;
    live.leave();
    expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
    expect(live.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length).toBeLessThan(400);
    await verified(live.events);
    await eventually(async () => expect((await store.getRun(PROJECT, "stop-1"))?.status).toBe("finished"));
    const again = await legacy.browser("POST", "/agent/default/run", runInput("old-stop", "stop-2", "go on"));
    expect(again.status, again.text).toBe(200);
    await eventually(async () => expect(await store.activeRun(PROJECT, "old-stop")).toBeUndefined());
  });

  it("another user's thread: 1.54.1's run is refused and its connect finds nothing", async () => {
    const bobRun = await legacy.browser("POST", "/agent/default/run", runInput("old-1", "bob-run", "mine now"), "bob");
    expect(bobRun.status).toBe(409); // 1.54.1 reports any lock failure as 409
    expect((await legacy.browser("POST", "/agent/default/connect", { ...runInput("old-1", "c", "x"), lastSeenEventId: null }, "bob")).status).toBe(204);
  });

  it("the 1.75 runtime keeps working on the same platform (credentials, not plans)", async () => {
    const modern = await copilotKitIntelligenceRuntime({
      intelligence: new (await import("@copilotkit/runtime/v2") as any).CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: API_KEY }),
      agents: { default: new ScriptedAgent({ script: textReply("Hello from 1.75") }) },
      identifyUser: () => ({ id: "alice", name: "alice" }),
      generateThreadNames: false,
    });
    const call = async (path: string, body: unknown) => {
      const response = await modern(new Request(`http://runtime.test/api/copilotkit${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
      return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
    };
    const run = await call("/agent/default/run", runInput("new-1", "new-run-1", "Hi"));
    expect(run.status).toBe(200);
    expect(run.json).toMatchObject({ threadId: "new-1", runId: "new-run-1", realtime: { topic: "thread:new-1" } });
    const live = followThread(run.json.realtime.clientUrl, run.json.joinToken, "thread:new-1", { stream_mode: "run", run_id: "new-run-1" });
    await live.done;
    live.leave();
    await verified(live.events);
    await eventually(async () => expect(await store.activeRun(PROJECT, "new-1")).toBeUndefined());
    const connect = await call("/agent/default/connect", runInput("new-1", "c", "x"));
    expect(connect.status).toBe(200);
    expect(connect.json).toMatchObject({ threadId: "new-1", joinToken: expect.any(String) });
    expect(connect.json.mode).toBeUndefined();
  });

  it("@copilotkitnext/core 1.54.1's IntelligenceAgent runs a turn, then a fresh agent hydrates the thread from a bootstrap plan", async () => {
    const server = serve({ fetch: legacy.app.fetch, port: 0, hostname: "127.0.0.1" });
    try {
      await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
      const runtimeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/copilotkit`;
      const { IntelligenceAgent } = (await import("@copilotkitnext/core")) as any;
      const browserAgent = () => {
        const agent = new IntelligenceAgent({ url: `${platform.wsUrl}/client`, runtimeUrl, agentId: "default", headers: { "x-user": "carol" } });
        agent.threadId = "old-core-1";
        return agent;
      };
      const agent = browserAgent();
      agent.addMessage({ id: "core-user-1", role: "user", content: "Hello?" });
      await agent.runAgent({ runId: "core-run-1" });
      const texts = (messages: Array<{ role: string; content?: unknown }>) => messages.map((m) => `${m.role}:${String(m.content ?? "")}`);
      expect(texts(agent.messages)).toEqual(["user:Hello?", "assistant:Hello from 1.54"]);
      await eventually(async () => expect(await store.activeRun(PROJECT, "old-core-1")).toBeUndefined());

      const reloaded = browserAgent();
      await reloaded.connectAgent();
      expect(texts(reloaded.messages)).toEqual(["user:Hello?", "assistant:Hello from 1.54"]);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as any).closeAllConnections?.();
      });
    }
  });
});

describe("CopilotKit runtime 1.54.1 on Node 20 (runner over long-poll)", () => {
  it("a run whose runner left before its last events arrived is closed by the platform, and the thread is free again", async () => {
    // phoenix long-poll sends pushes on the next timer tick; 1.54.1 disconnects right after an
    // agent that emits synchronously completes, so nothing it pushed ever leaves the process, and
    // it never renews nor releases its lock.
    expect("WebSocket" in globalThis).toBe(false);
    const store = new MemoryIntelligenceStore();
    const platform = await serveIntelligencePlatform({ store, apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger(), sweepIntervalMs: 200 });
    try {
      const legacy = await runtime154(platform, { burst: new ScriptedAgent({ script: textReply("Too fast"), delayMs: 0 }) });
      const run = await legacy.browser("POST", "/agent/burst/run", runInput("old-lp", "lp-1", "quick"));
      expect(run.status, run.text).toBe(200);
      // The lock lapses a grace period after the runner went away; the sweep then ends the run.
      // When the runner's last poll was not waiting on the server, only the long-poll session timeout (30 s) tells it is gone.
      await eventually(async () => expect((await store.getRun(PROJECT, "lp-1"))?.status).toBe("error"), 80_000);
      expect(await store.activeRun(PROJECT, "old-lp")).toBeUndefined();
      const again = await legacy.browser("POST", "/agent/burst/run", runInput("old-lp", "lp-2", "again"));
      expect(again.status, again.text).toBe(200);
    } finally {
      await platform.close();
      await store.close();
    }
  }, 120_000);
});
