/**
 * The lapsed-lock finalizer with a shared bus (several instances on one store): an instance
 * cannot see another's joined runners, so the instance holding a runner keeps its lock ahead of
 * the others' sweeps; once the runner is gone, any instance finalizes the run, and only once.
 * Two platform cores on one memory store and one shared-looking bus stand in for two instances.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PlatformBus, createInProcessBus } from "../../src/intelligence/bus.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/memory.js";
import { PROJECT, type TestCore, TestClock, createTestCore, joinFake, runnerEvents } from "../helpers/intelligence.js";

const SWEEP_MS = 5_000;

describe("finalizer across instances (shared bus)", () => {
  let clock: TestClock;
  let a: TestCore;
  let b: TestCore;
  beforeEach(async () => {
    clock = new TestClock();
    const store = new MemoryIntelligenceStore();
    await store.migrate();
    const local = createInProcessBus();
    const bus: PlatformBus = { shared: true, publish: local.publish, subscribe: local.subscribe, close: local.close };
    a = await createTestCore({ store, bus, clock: clock.now, sweepIntervalMs: SWEEP_MS });
    b = await createTestCore({ store, bus, clock: clock.now, sweepIntervalMs: SWEEP_MS });
    expect((await a.api("POST", "/api/threads", { threadId: "t1", userId: "alice", agentId: "agent-a" })).status).toBeLessThan(300);
  });
  afterEach(async () => {
    a.close();
    await b.dispose();
  });

  it("a runner joined on A keeps its run alive through a late heartbeat; B finalizes it once after the runner left", async () => {
    expect((await a.api("POST", "/api/threads/t1/lock", { runId: "r1", userId: "alice", agentId: "agent-a", ttlSeconds: 20 })).status).toBe(200);
    const { channel: runner } = await joinFake(a.runnerSocket, "ingestion:r1", { projectId: PROJECT }, { thread_id: "t1", run_id: "r1" });
    const events = runnerEvents("t1", "r1").textRun("hi", "hello");
    expect(await runner.send("events", { events: events.slice(0, 2) })).toMatchObject({ status: "ok" });

    // Far from expiry, A's sweep leaves the runtime's own TTL alone.
    const initial = (await a.store.getRun(PROJECT, "r1"))!.lockExpiresAt;
    expect(await a.finalizer.sweep()).toBe(0);
    expect((await a.store.getRun(PROJECT, "r1"))!.lockExpiresAt).toBe(initial);

    // The runtime's heartbeat is late: near expiry, A's sweep extends the lock of its joined runner.
    clock.advance(18_000);
    expect(await a.finalizer.sweep()).toBe(0);
    expect((await a.store.getRun(PROJECT, "r1"))!.lockExpiresAt).toBe(clock.ms + 3 * SWEEP_MS);
    clock.advance(7_000); // past the runtime's 20 s
    expect(await b.finalizer.sweep()).toBe(0);
    expect((await b.store.getRun(PROJECT, "r1"))?.status).toBe("running");

    // The runner goes away without a terminal event: the lock lapses and B closes the run, once.
    runner.end("closed");
    clock.advance(3 * SWEEP_MS + 1);
    const closed = await Promise.all([a.finalizer.sweep(), b.finalizer.sweep()]);
    expect(closed[0] + closed[1]).toBe(1);
    const stored = await b.store.runEvents(PROJECT, "r1", 0, 100);
    expect(stored.map((event) => event.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_END", "RUN_ERROR"]);
  });

  it("a stop asked on B for a run with no runner anywhere ends it with RUN_FINISHED when A's sweep finalizes it", async () => {
    expect((await a.api("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice", agentId: "agent-a", ttlSeconds: 20 })).status).toBe(200);
    const { channel: runner } = await joinFake(a.runnerSocket, "ingestion:r2", { projectId: PROJECT }, { thread_id: "t1", run_id: "r2" });
    await runner.send("events", { events: runnerEvents("t1", "r2").textRun("hi", "hello").slice(0, 2) });
    runner.end("closed"); // the runtime died
    await b.finalizer.requestStop(PROJECT, "t1", "r2"); // published: no runner on B, maybe elsewhere
    expect((await a.store.getRun(PROJECT, "r2"))?.status).toBe("running");
    clock.advance(21_000);
    expect(await a.finalizer.sweep()).toBe(1);
    const stored = await a.store.runEvents(PROJECT, "r2", 0, 100);
    expect(stored.at(-1)?.type).toBe("RUN_FINISHED");
    expect((await a.store.getRun(PROJECT, "r2"))?.status).toBe("finished");
  });
});
