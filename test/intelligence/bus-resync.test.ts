/**
 * What an instance does when its shared bus says `resync` (its LISTEN connection was lost, so
 * wake-ups may have been missed): followed threads are re-read from the store and subscribers
 * end up exactly where a lossless bus would have left them. A "deaf" bus drops every message,
 * standing in for notifications sent while the connection was down.
 */
import { type BaseEvent, verifyEvents } from "@ag-ui/client";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PlatformBus, PlatformBusListener, PlatformBusMessage } from "../../src/intelligence/bus.js";
import type { ClientAssigns } from "../../src/intelligence/channels/thread-channel.js";
import { PROJECT, type TestCore, createTestCore, eventually, joinFake, runnerEvents } from "../helpers/intelligence.js";

const verified = (events: unknown[]) => lastValueFrom(from(events as BaseEvent[]).pipe(verifyEvents(), toArray()));

/** A shared-looking bus that can go deaf (drop everything) and announce a resync. */
function lossyBus() {
  const listeners = new Set<PlatformBusListener>();
  const bus = {
    shared: true,
    deaf: false,
    dropped: [] as PlatformBusMessage[],
    async publish(message: PlatformBusMessage) {
      await Promise.resolve();
      if (bus.deaf) {
        bus.dropped.push(message);
        return;
      }
      for (const listener of [...listeners]) listener(message);
    },
    subscribe(listener: PlatformBusListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
    /** The connection is back: hearing again, and listeners are told to resync. */
    reconnect() {
      bus.deaf = false;
      for (const listener of [...listeners]) listener({ type: "resync" });
    },
  };
  return bus satisfies PlatformBus;
}

describe("fan-out after a bus resync", () => {
  let core: TestCore;
  let bus: ReturnType<typeof lossyBus>;
  beforeEach(async () => {
    bus = lossyBus();
    core = await createTestCore({ bus });
    await core.api("POST", "/api/threads", { threadId: "t1", userId: "alice", agentId: "agent-a" });
  });
  afterEach(() => core.dispose());

  async function lock(runId: string) {
    const response = await core.api("POST", "/api/threads/t1/lock", { runId, userId: "alice", agentId: "agent-a", ttlSeconds: 20 });
    expect(response.status).toBe(200);
    return response.json as { joinToken: string };
  }
  const joinRunner = (runId: string) => joinFake(core.runnerSocket, `ingestion:${runId}`, { projectId: PROJECT }, { thread_id: "t1", run_id: runId });
  async function joinClient(token: string, payload: Record<string, unknown>) {
    const assigns = (await core.clientSocket.connect({ params: { join_token: token }, headers: new Headers(), authToken: null, transport: "websocket" })) as ClientAssigns;
    return (await joinFake(core.clientSocket, "thread:t1", assigns, payload)).channel;
  }

  it("connect mode: events and the run's end missed while deaf arrive after the resync, once, then stream_idle", async () => {
    const { joinToken } = await lock("r1");
    const { channel: runner } = await joinRunner("r1");
    const events = runnerEvents("t1", "r1").textRun("hi", "hello");
    await runner.send("events", { events: events.slice(0, 2) });
    const connect = await joinClient(joinToken, { stream_mode: "connect", last_seen_event_id: null });
    const run = await joinClient(joinToken, { stream_mode: "run", run_id: "r1" });
    await eventually(() => expect(connect.types()).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "replay_complete"]));
    await eventually(() => expect(run.events()).toHaveLength(2));

    bus.deaf = true;
    await runner.send("events", { events: events.slice(2) });
    await eventually(() => expect(bus.dropped.some((m) => m.type === "thread_events" && m.endedRunIds?.includes("r1"))).toBe(true));
    await core.fanOut.settle();
    expect(connect.types()).toHaveLength(3); // really missed

    bus.reconnect();
    await eventually(() => expect(connect.types().at(-1)).toBe("stream_idle"));
    await eventually(() => expect(run.events()).toHaveLength(5));
    expect(connect.types()).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "replay_complete", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED", "stream_idle"]);
    expect(connect.pushes.at(-1)?.payload).toEqual({ latestEventId: events[4].metadata.cpki_event_id });
    expect(run.events().map((e) => e.metadata.cpki_event_id)).toEqual(events.map((e) => e.metadata.cpki_event_id));
    await verified(run.events());
    // A second resync changes nothing.
    bus.reconnect();
    await core.fanOut.settle();
    expect(connect.types()).toHaveLength(7);
    expect(run.events()).toHaveLength(5);
  });

  it("connect mode: a run that ended WITHOUT events while deaf (released lock) still yields stream_idle after the resync", async () => {
    const { joinToken } = await lock("r2");
    const connect = await joinClient(joinToken, { stream_mode: "connect", last_seen_event_id: null });
    await eventually(() => expect(connect.types()).toEqual(["replay_complete"]));
    bus.deaf = true;
    const run = await core.store.getRun(PROJECT, "r2");
    expect(await core.finalizer.finalize(run!, "released")).toBe(true);
    await core.fanOut.settle();
    expect(connect.types()).toEqual(["replay_complete"]);
    bus.reconnect();
    await eventually(() => expect(connect.types()).toEqual(["replay_complete", "stream_idle"]));
  });

  it("connect mode: a run still running at the resync keeps the subscriber waiting (no early stream_idle)", async () => {
    const { joinToken } = await lock("r3");
    const { channel: runner } = await joinRunner("r3");
    const events = runnerEvents("t1", "r3").textRun("hi", "hello");
    await runner.send("events", { events: events.slice(0, 1) });
    const connect = await joinClient(joinToken, { stream_mode: "connect", last_seen_event_id: null });
    await eventually(() => expect(connect.types()).toEqual(["RUN_STARTED", "replay_complete"]));
    bus.deaf = true;
    await runner.send("events", { events: events.slice(1, 3) });
    bus.reconnect();
    await eventually(() => expect(connect.events()).toHaveLength(3));
    await core.fanOut.settle();
    expect(connect.types()).not.toContain("stream_idle");
    await runner.send("events", { events: events.slice(3) });
    await eventually(() => expect(connect.types().at(-1)).toBe("stream_idle"));
    expect(connect.types().filter((t) => t === "stream_idle")).toHaveLength(1);
  });

  it("a thread deleted while deaf closes its subscribers at the resync", async () => {
    const { joinToken } = await lock("r4");
    const connect = await joinClient(joinToken, { stream_mode: "connect", last_seen_event_id: null });
    await eventually(() => expect(connect.types()).toEqual(["replay_complete"]));
    bus.deaf = true;
    expect((await core.api("DELETE", "/api/threads/t1", { userId: "alice", agentId: "agent-a", reason: "test" })).status).toBeLessThan(300);
    await core.fanOut.settle();
    expect(connect.closedWith).toBeUndefined();
    bus.reconnect();
    await eventually(() => expect(connect.closedWith).toBe("close"));
    expect(core.fanOut.threadSubscriberCount(PROJECT, "t1")).toBe(0);
  });
});
