/**
 * Several Intelligence platform instances on one PostgreSQL: three `serveIntelligencePlatform`
 * servers (A, B, C) on loopback ports, each with its own PostgreSQL store pool on the SAME tables
 * and its own PostgreSQL bus, like three processes behind a load balancer.
 *
 * CopilotKit's real 1.75 runtime is configured against A only (its runner's long-poll session
 * lives in one process); browsers are the real `phoenix` client over WebSocket on B and C.
 */
import { randomUUID } from "node:crypto";
import { type BaseEvent, type AbstractAgent, verifyEvents } from "@ag-ui/client";
import { Socket } from "phoenix";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as WsWebSocket } from "ws";
import { type ServedIntelligencePlatform, serveIntelligencePlatform } from "../../src/intelligence/platform.js";
import { type PostgresPlatformBus, createPostgresPlatformBus } from "../../src/intelligence/postgres-bus.js";
import type { PostgresIntelligenceStore } from "../../src/intelligence/store/postgres.js";
import { ScriptedAgent, longReply, textReply } from "../helpers/agents.js";
import {
  API_KEY,
  PROJECT,
  TOKEN_SECRET,
  copilotKitIntelligenceRuntime,
  eventually,
  followThread,
  quietLogger,
  runInput,
  runnerEvents,
} from "../helpers/intelligence.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "../runners/postgres-env.js";

const verified = (events: unknown[]) => lastValueFrom(from(events as BaseEvent[]).pipe(verifyEvents(), toArray()));
const url = await findPostgres();

interface Instance {
  name: string;
  served: ServedIntelligencePlatform;
  store: PostgresIntelligenceStore;
  bus: PostgresPlatformBus;
  clientUrl: string;
  /** Calls this instance's REST API like CopilotKit's runtime would. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

if (requirePostgres(url, "Intelligence platform: several instances on one PostgreSQL")) {
  describe("Intelligence platform: several instances on one PostgreSQL (PG store + PG bus)", () => {
    const schema = uniqueSchema();
    const tablePrefix = "mi_";
    const instances: Instance[] = [];
    let A: Instance;
    let B: Instance;
    let C: Instance;
    let release: () => void = () => {};
    let runtimeFetch: (request: Request) => Promise<Response>;

    async function startInstance(name: string): Promise<Instance> {
      const { PostgresIntelligenceStore } = await import("../../src/intelligence/store/postgres.js");
      const store = new PostgresIntelligenceStore({ connectionString: url!, schema, tablePrefix, maxConnections: 4 });
      const bus = createPostgresPlatformBus({ connectionString: url!, schema, tablePrefix, logger: quietLogger() });
      // The periodic sweep is off (an hour): the orphan test runs every instance's sweep at once itself.
      const served = await serveIntelligencePlatform({ store, bus, apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger(), sweepIntervalMs: 3_600_000 });
      await bus.listening();
      const instance: Instance = {
        name,
        served,
        store,
        bus,
        clientUrl: `${served.wsUrl}/client`,
        async api(method, path, body) {
          const response = await fetch(`${served.apiUrl}${path}`, {
            method,
            headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          const text = await response.text();
          return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
        },
      };
      instances.push(instance);
      return instance;
    }

    /** Calls CopilotKit's runtime (configured against A) like a browser of alice. */
    async function browser(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
      const response = await runtimeFetch(
        new Request(`http://runtime.test/api/copilotkit${path}`, {
          method,
          headers: { "content-type": "application/json", "x-user": "alice" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
      );
      const text = await response.text();
      return { status: response.status, json: text === "" ? undefined : JSON.parse(text), text };
    }

    beforeAll(async () => {
      // One after the other: the first migrates the shared tables.
      A = await startInstance("A");
      B = await startInstance("B");
      C = await startInstance("C");
      const held = new ScriptedAgent({
        // "Holding", then a pause until the test calls release(), then " done".
        script: textReply("Holding done", { pauseAfterFirstWord: () => new Promise<void>((resolve) => (release = resolve)) }),
      });
      const agents: Record<string, AbstractAgent> = { held, long: new ScriptedAgent({ script: longReply(3000), delayMs: 5 }) };
      const v2: any = await import("@copilotkit/runtime/v2");
      const intelligence = new v2.CopilotKitIntelligence({ apiUrl: A.served.apiUrl, wsUrl: A.served.wsUrl, apiKey: API_KEY });
      const identifyUser = (request: Request) => {
        const id = request.headers.get("x-user") ?? "alice";
        return { id, name: id };
      };
      runtimeFetch = await copilotKitIntelligenceRuntime({ intelligence, agents, identifyUser, generateThreadNames: false });
    }, 60_000);

    afterAll(async () => {
      release();
      for (const instance of instances) {
        await instance.served.close();
        await instance.bus.close();
        await instance.store.close();
      }
      await dropSchema(url!, schema);
    });

    it("a run ingested on A streams live, exactly once, to a run-mode subscriber on B and a connect-mode subscriber on C", async () => {
      const run = await browser("POST", "/agent/held/run", runInput("mi-1", "mi-run-1", "Hello across instances"));
      expect(run.status, run.text).toBe(200);
      const onB = followThread(B.clientUrl, run.json.joinToken, "thread:mi-1", { stream_mode: "run", run_id: "mi-run-1" }, "websocket");
      const connect = await browser("POST", "/agent/held/connect", runInput("mi-1", "c-1", "x"));
      expect(connect.status, connect.text).toBe(200);
      const onC = followThread(C.clientUrl, connect.json.joinToken, "thread:mi-1", { stream_mode: "connect", last_seen_event_id: null }, "websocket");
      await Promise.all([onB.join, onC.join]);
      // Both see the run while the agent (behind A's runner) is still holding: live, not a replay.
      await eventually(() => {
        expect(onB.sequence).toContain("TEXT_MESSAGE_CONTENT");
        expect(onC.sequence).toContain("TEXT_MESSAGE_CONTENT");
      });
      expect(onC.sequence).not.toContain("stream_idle");
      expect(A.served.platform.core.fanOut.hasLocalRunner(PROJECT, "mi-run-1")).toBe(true);
      expect(B.served.platform.core.fanOut.hasLocalRunner(PROJECT, "mi-run-1")).toBe(false);
      release();
      await Promise.all([onB.done, onC.done]);

      const stored = await A.store.runEvents(PROJECT, "mi-run-1", 0, 1000);
      const storedIds = stored.map((event) => event.id);
      expect(stored.at(-1)?.type).toBe("RUN_FINISHED");
      // Run mode on B: the whole run from RUN_STARTED, each event once, in seq order.
      expect(onB.events.map((e) => e.metadata.cpki_event_id)).toEqual(storedIds);
      expect(onB.events.map((e) => e.metadata.cpki_event_seq)).toEqual(stored.map((_, i) => i + 1));
      await verified(onB.events);
      // Connect mode on C: every event once, replay_complete once, stream_idle once after RUN_FINISHED.
      expect(onC.events.map((e) => e.metadata.cpki_event_id)).toEqual(storedIds);
      expect(onC.sequence.filter((s) => s === "replay_complete")).toHaveLength(1);
      expect(onC.sequence.slice(-2)).toEqual(["RUN_FINISHED", "stream_idle"]);
      expect(onC.control.at(-1)?.payload).toEqual({ latestEventId: storedIds.at(-1) });
      await verified(onC.events);
      // Nothing arrives twice later either (a late duplicate wake-up re-reads nothing new).
      await B.bus.publish({ type: "thread_events", projectId: PROJECT, threadId: "mi-1" });
      await Promise.all(instances.map((instance) => instance.served.platform.core.fanOut.settle()));
      expect(onC.events).toHaveLength(stored.length);
      onB.leave();
      onC.leave();
    });

    it("a run-mode browser whose socket drops on B and reconnects to C resumes there after the last event B sent (no second RUN_STARTED)", async () => {
      const run = await browser("POST", "/agent/held/run", runInput("mi-blip", "mi-blip-1", "hold on"));
      expect(run.status, run.text).toBe(200);
      const live = followThread(B.clientUrl, run.json.joinToken, "thread:mi-blip", { stream_mode: "run", run_id: "mi-blip-1" }, "websocket");
      await eventually(() => expect(live.sequence).toContain("TEXT_MESSAGE_CONTENT"));
      const before = live.events.length;
      // The balancer sends the reconnect elsewhere: phoenix.js reconnects to C and rejoins with the same params and token.
      (live.socket as any).endPoint = `${C.clientUrl}/websocket`;
      (live.socket as any).conn.close(4000, "blip");
      await eventually(() => expect(live.joinCount).toBe(2));
      await eventually(() => expect(C.served.platform.core.fanOut.threadSubscriberCount(PROJECT, "mi-blip")).toBe(1));
      release();
      await live.done;
      live.leave();
      const stored = await C.store.runEvents(PROJECT, "mi-blip-1", 0, 1000);
      expect(live.events.length).toBeGreaterThan(before);
      expect(live.events.map((e) => e.metadata.cpki_event_id)).toEqual(stored.map((e) => e.id));
      await verified(live.events);
    });

    it("a connect-mode join on B after the run replays it, then replay_complete and stream_idle", async () => {
      const connect = await browser("POST", "/agent/held/connect", runInput("mi-1", "c-2", "x"));
      expect(connect.status, connect.text).toBe(200);
      const onB = followThread(B.clientUrl, connect.json.joinToken, "thread:mi-1", { stream_mode: "connect", last_seen_event_id: null }, "websocket");
      await onB.done;
      onB.leave();
      const stored = await B.store.runEvents(PROJECT, "mi-run-1", 0, 1000);
      expect(onB.events.map((e) => e.metadata.cpki_event_id)).toEqual(stored.map((e) => e.id));
      expect(onB.sequence.slice(-3)).toEqual(["RUN_FINISHED", "replay_complete", "stream_idle"]);
      await verified(onB.events);
    });

    it("stop_run pushed on C reaches the runner on A: the run ends with RUN_FINISHED and its lock is released", async () => {
      const run = await browser("POST", "/agent/long/run", runInput("mi-stop", "mi-stop-1", "talk a lot"));
      expect(run.status, run.text).toBe(200);
      const connect = await browser("POST", "/agent/long/connect", runInput("mi-stop", "c-3", "x"));
      const watcher = followThread(B.clientUrl, connect.json.joinToken, "thread:mi-stop", { stream_mode: "connect", last_seen_event_id: null }, "websocket");
      await eventually(() => expect(watcher.events.length).toBeGreaterThan(3));
      const stopper = followThread(C.clientUrl, run.json.joinToken, "thread:mi-stop", { stream_mode: "run", run_id: "mi-stop-1" }, "websocket");
      await stopper.join;
      expect(C.served.platform.core.fanOut.hasLocalRunner(PROJECT, "mi-stop-1")).toBe(false);
      const reply = await new Promise((resolve) => {
        stopper.channel.push("stop_run", { run_id: "mi-stop-1" }).receive("ok", () => resolve("ok")).receive("error", () => resolve("error"));
      });
      expect(reply).toBe("ok");
      await watcher.done;
      watcher.leave();
      stopper.leave();
      expect(watcher.sequence.slice(-2)).toEqual(["RUN_FINISHED", "stream_idle"]);
      expect(watcher.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length).toBeLessThan(3000);
      await verified(watcher.events);
      await eventually(async () => expect((await C.store.getRun(PROJECT, "mi-stop-1"))?.status).toBe("finished"));
      expect(await C.store.activeRun(PROJECT, "mi-stop")).toBeUndefined();
    });

    it("a rename through the runtime (REST on A) reaches alice's user_meta socket on B", async () => {
      const list = await browser("GET", "/threads?agentId=long");
      expect(list.status, list.text).toBe(200);
      const subscribe = await browser("POST", "/threads/subscribe", {});
      expect(subscribe.status, subscribe.text).toBe(200);
      const meta = followThread(B.clientUrl, subscribe.json.joinToken, `user_meta:${list.json.joinCode}`, {}, "websocket");
      const renamed = new Promise<any>((resolve) =>
        meta.channel.on("thread_metadata", (payload: any) => {
          if (payload.operation === "renamed") resolve(payload);
        }),
      );
      await meta.join;
      const name = `Renamed on A ${randomUUID()}`;
      const patched = await browser("PATCH", "/threads/mi-stop", { agentId: "long", name });
      expect(patched.status, patched.text).toBe(200);
      expect((await renamed).thread).toMatchObject({ id: "mi-stop", name, agentId: "long" });
      meta.leave();
    });

    it("a thread deleted through B's REST API closes its subscriber on C", async () => {
      const connect = await browser("POST", "/agent/held/connect", runInput("mi-1", "c-4", "x"));
      const onC = followThread(C.clientUrl, connect.json.joinToken, "thread:mi-1", { stream_mode: "connect", last_seen_event_id: null }, "websocket");
      const closed = new Promise<void>((resolve) => onC.channel.onClose(() => resolve()));
      await onC.done;
      expect(C.served.platform.core.fanOut.threadSubscriberCount(PROJECT, "mi-1")).toBe(1);
      const deleted = await B.api("DELETE", "/api/threads/mi-1", { userId: "alice", agentId: "held", reason: "test" });
      expect(deleted.status).toBeLessThan(300);
      await closed;
      await eventually(() => expect(C.served.platform.core.fanOut.threadSubscriberCount(PROJECT, "mi-1")).toBe(0));
      onC.leave();
    });

    it("a runner that dies mid-run on A is finalized exactly once although every instance sweeps at the same time", async () => {
      const threadId = "mi-orphan";
      const runId = "mi-orphan-1";
      expect((await A.api("POST", "/api/threads", { threadId, userId: "alice", agentId: "held" })).status).toBeLessThan(300);
      const lock = await A.api("POST", `/api/threads/${threadId}/lock`, { runId, userId: "alice", agentId: "held", ttlSeconds: 1 });
      expect(lock.status).toBe(200);

      // A runner as CopilotKit's: the API key as authToken, ingestion:<runId>, a batch of events.
      const runnerSocket = new Socket(`${A.served.wsUrl}/runner`, { transport: WsWebSocket as any, authToken: API_KEY, reconnectAfterMs: () => 60_000 } as any);
      runnerSocket.connect();
      const ingestion = runnerSocket.channel(`ingestion:${runId}`, { thread_id: threadId, run_id: runId });
      await new Promise((resolve, reject) => ingestion.join().receive("ok", resolve).receive("error", reject).receive("timeout", reject));
      const make = runnerEvents(threadId, runId);
      const events = [
        make.make({ type: "RUN_STARTED", input: { threadId, runId, messages: [{ id: `u-${runId}`, role: "user", content: "hi" }], tools: [], context: [] } }),
        make.make({ type: "TEXT_MESSAGE_START", messageId: `m-${runId}`, role: "assistant" }),
        make.make({ type: "TEXT_MESSAGE_CONTENT", messageId: `m-${runId}`, delta: "cut short" }),
      ];
      await new Promise((resolve, reject) => ingestion.push("events", { events }).receive("ok", resolve).receive("error", reject).receive("timeout", reject));

      const connect = await B.api("POST", `/api/threads/${threadId}/connect`, { userId: "alice", agentId: "held" });
      expect(connect.status).toBe(200);
      const onB = followThread(B.clientUrl, connect.json.joinToken, `thread:${threadId}`, { stream_mode: "connect", last_seen_event_id: null }, "websocket");
      await eventually(() => expect(onB.sequence).toContain("replay_complete"));

      // The runtime "crashes": its socket goes away without a terminal event.
      runnerSocket.disconnect();
      await eventually(() => expect(A.served.platform.core.fanOut.hasLocalRunner(PROJECT, runId)).toBe(false));
      await eventually(async () => {
        const run = await A.store.getRun(PROJECT, runId);
        expect(run?.status).toBe("running");
        expect(run!.lockExpiresAt).toBeLessThan(Date.now());
      });
      const closed = await Promise.all(instances.map((instance) => instance.served.platform.core.finalizer.sweep()));
      expect(closed.reduce((sum, n) => sum + n, 0)).toBe(1);

      await onB.done;
      onB.leave();
      const stored = await C.store.runEvents(PROJECT, runId, 0, 1000);
      expect(stored.map((event) => event.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
      expect((await C.store.getRun(PROJECT, runId))?.status).toBe("error");
      expect(onB.events.map((e) => e.metadata.cpki_event_id)).toEqual(stored.map((e) => e.id));
      expect(onB.sequence.slice(-2)).toEqual(["RUN_ERROR", "stream_idle"]);
      await verified(onB.events);
      // A second round of sweeps finds nothing left to close.
      expect(await Promise.all(instances.map((instance) => instance.served.platform.core.finalizer.sweep()))).toEqual([0, 0, 0]);
    });
  });
}
