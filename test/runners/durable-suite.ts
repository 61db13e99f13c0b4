/**
 * What only a durable runner promises, run against SQLite and PostgreSQL: threads survive a
 * restart, runs a dead or stalled process left are recovered as INTERRUPTED, several
 * instances share one database (follow, stop and lock across them), versioned migrations,
 * and retention.
 */
import type { BaseEvent } from "@ag-ui/core";
import type { Observable } from "rxjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { logger } from "../../src/logger.js";
import { InvalidRunInputError } from "../../src/runners/agent-runner.js";
import type { DurableAgentRunner, DurableRunnerOptions } from "../../src/runners/durable/durable-runner.js";
import type { DurableStore } from "../../src/runners/durable/store.js";
import type { LiveBus, LiveSignal } from "../../src/runners/durable/live-bus.js";
import type { RunInput } from "../../src/events/types.js";
import { AgentControl, ControlledAgent, type Ev, eventsOf, httpClient, replyTexts, waitFor } from "./support.js";
import { FrameReader, readSseFrames, types } from "../helpers/sse.js";
import { runBody, uid } from "../helpers/inputs.js";

export interface DurableHarness {
  /** A runner on the harness's database; every call shares it (another "process"). */
  create(options?: DurableRunnerOptions & { tablePrefix?: string }): Promise<DurableAgentRunner>;
  /** A runner on the harness's database whose store is `wrap(store)`: for fault injection. */
  createOn(wrap: (store: DurableStore) => DurableStore, options?: DurableRunnerOptions): Promise<DurableAgentRunner>;
  /** An error this store classifies as transient (a busy database, a lost race). */
  transientError(): Error;
  /** An error this store classifies as permanent (data it refuses). */
  permanentError(): Error;
  /** Runs SQL on the harness's database (for migration tests). */
  exec(sql: string): Promise<void>;
  /** The qualified name of a table of `prefix`, as the store spells it. */
  table(prefix: string, name: string): string;
}

const storeOf = (runner: DurableAgentRunner) => (runner as unknown as { store: DurableStore }).store;

type Method = (...args: any[]) => Promise<any>;
/** The store with some methods replaced; each replacement gets the original as its first argument. */
export function faulty(store: DurableStore, overrides: { [K in keyof DurableStore]?: (original: Method, ...args: any[]) => Promise<any> }): DurableStore {
  // A method replaced on the proxy (the runner times and traces its store's writes in place) is
  // kept here: the replacement already calls the faulty method, and must not be wrapped again.
  const replaced = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    set(_target, key, value) {
      replaced.set(key, value);
      return true;
    },
    get(target, key) {
      if (replaced.has(key)) return replaced.get(key);
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      const original = value.bind(target) as Method;
      const override = overrides[key as keyof DurableStore];
      return override === undefined ? original : (...args: any[]) => override(original, ...args);
    },
  });
}

function collect(observable: Observable<BaseEvent>): Promise<Ev[]> {
  return new Promise((resolve, reject) => {
    const events: Ev[] = [];
    observable.subscribe({ next: (event) => events.push(event as unknown as Ev), error: reject, complete: () => resolve(events) });
  });
}

/** `promise`, or a failure naming what did not happen within `ms`. */
function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const touchesThread = (batches: Array<{ run: { threadId: string } }>, threadId: string) => batches.some((b) => b.run.threadId === threadId);

export function defineDurableSuite(name: string, harness: DurableHarness): void {
  describe(`${name}: durability`, () => {
    const made: DurableAgentRunner[] = [];
    const create = async (options?: DurableRunnerOptions & { tablePrefix?: string }) => {
      const runner = await harness.create(options);
      made.push(runner);
      return runner;
    };
    afterEach(async () => {
      for (const runner of made.splice(0)) await runner.close();
    });
    const echo = () => new ControlledAgent(new AgentControl((input) => [`echo:${String(input.messages.at(-1)?.content)}`]));

    it("keeps threads across a restart: list, messages, replay, and numbering continue", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const before = await create();
      const first = await readSseFrames(await httpClient(before, { default: echo() }).run(thread, { user: alice, text: "remember me" }));
      await before.close();

      const after = await create();
      const client = httpClient(after, { default: echo() });
      expect((await (await client.get("/threads", alice)).json()).threads.map((t: any) => t.id)).toEqual([thread]);
      const { messages } = await (await client.get(`/threads/${thread}/messages`, alice)).json();
      expect(messages.map((m: any) => m.content)).toEqual(["remember me", "echo:remember me"]);
      expect(replyTexts(eventsOf(await readSseFrames(await client.connect(thread, { user: alice }))))).toEqual(["echo:remember me"]);
      const second = await readSseFrames(await client.run(thread, { user: alice, text: "again" }));
      expect(second[0].id).toBe(first.length + 1);
    });

    it("recovers a run a dead process left running: stored events kept, closed as INTERRUPTED, thread usable", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const setupRunner = await create();
      const store = storeOf(setupRunner);
      // A process that started a run, stored three events, and died (its lease already lapsed).
      const started = await store.tryStartRun({
        threadId: thread,
        runId: "dead-run",
        agentId: "default",
        ownerId: alice,
        instanceId: "a-process-that-died",
        now: Date.now(),
        leaseExpiresAt: Date.now() - 1,
        inputMessageIds: ["u1"],
        describeInput: () => JSON.stringify({ threadId: thread, runId: "dead-run", messages: [{ id: "u1", role: "user", content: "q" }] }),
      });
      expect(started.kind).toBe("started");
      const events = [
        { type: "RUN_STARTED", threadId: thread, runId: "dead-run", input: { messages: [{ id: "u1", role: "user", content: "q" }] } },
        { type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "half an ans" },
      ];
      await store.appendEvents("a-process-that-died", [
        {
          run: { threadId: thread, firstSeq: 1 },
          rows: events.map((event, i) => ({ seq: i + 1, runId: "dead-run", type: event.type, data: JSON.stringify(event) })),
        },
      ]);

      const restarted = await create(); // its start-up sweep finds the expired lease
      const client = httpClient(restarted, { default: echo() });
      const replay = await readSseFrames(await client.connect(thread, { user: alice }));
      expect(replay.map((f) => f.id)).toEqual([1, 2, 3, 4, 5]);
      expect(types(eventsOf(replay))).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
      expect(replay[4].event).toMatchObject({ type: "RUN_ERROR", code: "INTERRUPTED" });
      expect(replyTexts(eventsOf(replay))).toEqual(["half an ans"]);
      expect(await restarted.isRunning({ threadId: thread })).toBe(false);
      const next = await readSseFrames(await client.run(thread, { user: alice, text: "retry" }));
      expect(replyTexts(eventsOf(next))).toEqual(["echo:retry"]);
      expect(next[0].id).toBe(6);
    });

    it("recovers a dead run that stored nothing, keeping the user's message from its stored input", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const store = storeOf(await create());
      await store.tryStartRun({
        threadId: thread,
        runId: "silent-run",
        agentId: "default",
        ownerId: alice,
        instanceId: "gone",
        now: Date.now(),
        leaseExpiresAt: Date.now() - 1,
        inputMessageIds: ["u1"],
        describeInput: () => JSON.stringify({ threadId: thread, runId: "silent-run", messages: [{ id: "u1", role: "user", content: "are you there?" }] }),
      });
      const client = httpClient(await create(), { default: echo() });
      const replay = eventsOf(await readSseFrames(await client.connect(thread, { user: alice })));
      expect(types(replay)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
      expect(replay[1]).toMatchObject({ code: "INTERRUPTED" });
      const { messages } = await (await client.get(`/threads/${thread}/messages`, alice)).json();
      expect(messages).toEqual([{ id: "u1", role: "user", content: "are you there?" }]);
    });

    it("fences a stalled holder: once its lease lapses another instance closes the run, and the stalled one stops writing", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const stalled = await create({ leaseMs: 300, heartbeatMs: 50 });
      const control = new AgentControl();
      const stalledClient = httpClient(stalled, { default: new ControlledAgent(control) });
      const running = new FrameReader(await stalledClient.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("before the stall");
      await running.take(3);
      clearInterval((stalled as unknown as { timer: ReturnType<typeof setInterval> }).timer); // its heartbeat stops

      const rescuer = await create({ leaseMs: 300, heartbeatMs: 50, sweepIntervalMs: 50 });
      const rescuerClient = httpClient(rescuer, { default: echo() });
      await waitFor(async () => !(await rescuer.isRunning({ threadId: thread })), "the rescuer to recover the run");
      const replay = eventsOf(await readSseFrames(await rescuerClient.connect(thread, { user: alice })));
      expect(replay.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "INTERRUPTED" });

      run.text(" and after it"); // the stalled process wakes up and writes: refused
      const tail = eventsOf(await running.rest());
      expect(tail.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "LEASE_LOST" });
      expect(run.aborted).toBe(true);
      const stored = eventsOf(await readSseFrames(await rescuerClient.connect(thread, { user: alice })));
      expect(replyTexts(stored)).toEqual(["before the stall"]);
    });

    it("closes a dead process's run within leaseMs of its lease lapsing, though nobody touches the thread", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const leaseMs = 2_000;
      const runner = await harness.createOn((store) => store, { leaseMs });
      made.push(runner);
      const store = storeOf(runner);
      // Right after the start-up sweep: the worst moment for a lease to lapse.
      const expiresAt = Date.now() + 20;
      await store.tryStartRun({
        threadId: thread,
        runId: "dead-run",
        agentId: "default",
        ownerId: alice,
        instanceId: "a-process-that-died",
        now: Date.now(),
        leaseExpiresAt: expiresAt,
        inputMessageIds: [],
        describeInput: () => JSON.stringify({ threadId: thread, runId: "dead-run", messages: [] }),
      });
      await waitFor(async () => (await store.loadRun({ threadId: thread, firstSeq: 1 }))?.row.status !== "running", "the sweep to close the run", 10_000);
      const closedAfter = Date.now() - expiresAt;
      expect(closedAfter).toBeLessThan(leaseMs);
      expect((await store.loadRun({ threadId: thread, firstSeq: 1 }))?.row.status).toBe("interrupted");
    });

    it("writes the events of several runs together, and one run losing its lease does not cost the others theirs", async () => {
      const alice = uid("alice");
      const [lost, kept] = [uid("lost"), uid("kept")];
      const runner = await create();
      const control = new AgentControl();
      const client = httpClient(runner, { default: new ControlledAgent(control) });
      const lostStream = new FrameReader(await client.run(lost, { user: alice }));
      const lostRun = await control.nextRun();
      const keptStream = new FrameReader(await client.run(kept, { user: alice }));
      const keptRun = await control.nextRun();
      lostRun.started();
      keptRun.started();
      await lostStream.take(1);
      await keptStream.take(1);
      // Another process took the first run over; both runs' next events share one write.
      await harness.exec(`UPDATE ${harness.table("copilot_", "runs")} SET lease_owner = 'another-process' WHERE thread_id = '${lost}'`);
      lostRun.textStart();
      keptRun.textStart();
      expect(eventsOf(await lostStream.rest()).at(-1)).toMatchObject({ type: "RUN_ERROR", code: "LEASE_LOST" });
      keptRun.text("still here").textEnd().finish();
      expect(replyTexts(eventsOf(await keptStream.rest()))).toEqual(["still here"]);
      expect(replyTexts(eventsOf(await readSseFrames(await client.connect(kept, { user: alice }))))).toEqual(["still here"]);
    });

    it("shares one database between instances: follow, lock and stop a run another instance holds", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const options = { heartbeatMs: 30, pollMs: 10 };
      const a = await create(options);
      const b = await create(options);
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: echo() });

      const running = new FrameReader(await onA.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("one");
      await running.take(3);

      // B relays what A has stored so far: events are persisted as they stream, not at the end.
      const follower = new FrameReader(await onB.connect(thread, { user: alice }));
      expect(replyTexts(eventsOf(await follower.take(3)))).toEqual(["one"]);
      run.text(" two");
      await follower.take(4);
      expect(await b.isRunning({ threadId: thread })).toBe(true);
      expect((await onB.run(thread, { user: alice })).status).toBe(409);

      // A stop sent to B reaches the run on A, and B answers once the thread is free.
      expect(await (await onB.stop(thread, { user: alice })).json()).toMatchObject({ stopped: true });
      expect(run.aborted).toBe(true);
      expect(types(eventsOf(await running.rest())).slice(-2)).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
      const followed = await follower.rest();
      expect(followed.map((f) => f.id)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(replyTexts(eventsOf(followed))).toEqual(["one two"]);
      expect(replyTexts(eventsOf(await readSseFrames(await onB.run(thread, { user: alice, text: "b's turn" }))))).toEqual(["echo:b's turn"]);
    });

    it("ends a follower on another instance exactly where the owner's follower ends, not in the thread's next run", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      // B reads the store at most every 200 ms without a bus: the next run starts well within that.
      const options = { heartbeatMs: 30, pollMs: 200 };
      const a = await create(options);
      const b = await create(options);
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: echo() });
      const running = new FrameReader(await onA.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("one");
      await running.take(3);
      const onOwner = new FrameReader(await onA.connect(thread, { user: alice }));
      const remote = new FrameReader(await onB.connect(thread, { user: alice }));
      await onOwner.take(3);
      await remote.take(3);

      run.text(" two").textEnd().finish();
      const ownerFrames = await onOwner.rest();
      await running.rest();
      const next = new FrameReader(await onA.run(thread, { user: alice }));
      const nextRun = await control.nextRun();
      nextRun.started().textStart().text("the next run");
      await next.take(3);
      const remoteFrames = await deadline(remote.rest(), 5_000, "the remote follower to end with its run");
      nextRun.textEnd().finish();
      await next.rest();
      expect(types(eventsOf(ownerFrames)).at(-1)).toBe("RUN_FINISHED");
      expect(remoteFrames.map((f) => [f.id, f.event])).toEqual(ownerFrames.map((f) => [f.id, f.event]));
    });

    it("serializes a delete on another instance with the run it streams: THREAD_DELETED, nothing kept, a reused id starts empty", async () => {
      const alice = uid("alice");
      const bob = uid("bob");
      const thread = uid("thread");
      const errors = vi.spyOn(logger, "error");
      try {
        const options = { heartbeatMs: 30, pollMs: 10 };
        const a = await create(options);
        const b = await create(options);
        const control = new AgentControl();
        const onA = httpClient(a, { default: new ControlledAgent(control) });
        const onB = httpClient(b, { default: new ControlledAgent(control) });
        const running = new FrameReader(await onA.run(thread, { user: alice }));
        const run = await control.nextRun();
        run.started().textStart().text("doomed");
        await running.take(3);
        const remote = new FrameReader(await onB.connect(thread, { user: alice }));
        await remote.take(3);

        expect((await onB.send("DELETE", `/threads/${thread}`, { user: alice })).status).toBe(200);
        const ownerEnd = eventsOf(await deadline(running.rest(), 5_000, "the owner's stream to end"));
        expect(ownerEnd.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "THREAD_DELETED" });
        expect(types(ownerEnd).slice(3)).toEqual(["TEXT_MESSAGE_END", "RUN_ERROR"]);
        expect(run.aborted).toBe(true);
        const remoteEnd = await deadline(remote.rest(), 5_000, "the remote follower to end");
        expect(remoteEnd.map((f) => f.event)).toEqual(ownerEnd);
        run.text(" and more"); // the aborted agent carries on: nothing of it is stored
        expect(await storeOf(b).eventsBetween(thread, 0, Number.MAX_SAFE_INTEGER)).toEqual([]);

        // The id, used again by another user on the other instance, starts empty.
        const reused = onB.run(thread, { user: bob });
        (await control.nextRun()).reply(["fresh"]);
        const fresh = await readSseFrames(await reused);
        run.text(" still more");
        expect(replyTexts(eventsOf(fresh))).toEqual(["fresh"]);
        const replay = await readSseFrames(await onA.connect(thread, { user: bob }));
        expect(replyTexts(eventsOf(replay))).toEqual(["fresh"]);
        const stored = await storeOf(a).eventsBetween(thread, 0, Number.MAX_SAFE_INTEGER);
        expect(stored.map(({ event }) => event.type)).toEqual(types(eventsOf(fresh)));
        expect(stored.some(({ event }) => JSON.stringify(event).includes("more") || JSON.stringify(event).includes("doomed"))).toBe(false);
        expect(errors.mock.calls.filter(([message]) => /lease/i.test(String(message)))).toEqual([]);
      } finally {
        errors.mockRestore();
      }
    });

    it("refuses a deleted run's late write into a new run of the same process on the reused thread id", async () => {
      const thread = uid("thread");
      const store = storeOf(await create());
      const start = (runId: string) =>
        store.tryStartRun({
          threadId: thread,
          runId,
          agentId: "default",
          ownerId: "alice",
          instanceId: "this-process",
          now: Date.now(),
          leaseExpiresAt: Date.now() + 60_000,
          inputMessageIds: [],
          describeInput: () => "{}",
        });
      expect(await start("old-run")).toMatchObject({ kind: "started", firstSeq: 1 });
      expect(await store.deleteThread(thread, "alice")).toBe(true);
      expect(await start("new-run")).toMatchObject({ kind: "started", firstSeq: 1 });
      const late = { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "from the deleted run" };
      const results = await store.appendEvents("this-process", [
        { run: { threadId: thread, firstSeq: 1 }, rows: [{ seq: 57, runId: "old-run", type: late.type, data: JSON.stringify(late) }] },
      ]);
      expect(results).toEqual([false]);
      expect(await store.eventsBetween(thread, 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    });

    it("migrates with versions: records them, reopens without redoing them, refuses a newer schema", async () => {
      const prefix = `m${uid("").replace(/[^a-z0-9]/gi, "").slice(-8)}_`;
      await (await create({ tablePrefix: prefix })).close();
      await (await create({ tablePrefix: prefix })).close();
      await harness.exec(`INSERT INTO ${harness.table(prefix, "schema_migrations")} (version, name, applied_at) VALUES (99, 'from the future', 0)`);
      const newer = await harness.create({ tablePrefix: prefix });
      await expect(newer.ready()).rejects.toThrow(/schema is at version 99/);
      await newer.close();
    });

    it("applies retention: threads past the per-user limit or the maximum age are deleted", async () => {
      const prefix = `r${uid("").replace(/[^a-z0-9]/gi, "").slice(-8)}_`;
      const alice = uid("alice");
      const bob = uid("bob");
      const writer = await create({ tablePrefix: prefix });
      const client = httpClient(writer, { default: echo() });
      const ids = [uid("t1"), uid("t2"), uid("t3")];
      for (const id of ids) await readSseFrames(await client.run(id, { user: alice }));
      await readSseFrames(await client.run(uid("b1"), { user: bob }));
      await writer.close();

      const capped = await create({ tablePrefix: prefix, retention: { maxThreadsPerUser: 2 } });
      const afterCap = httpClient(capped, { default: echo() });
      expect((await (await afterCap.get("/threads", alice)).json()).threads.map((t: any) => t.id)).toEqual([ids[2], ids[1]]);
      expect((await (await afterCap.get("/threads", bob)).json()).threads).toHaveLength(1);
      expect((await afterCap.get(`/threads/${ids[0]}/events`, alice)).status).toBe(404);
      await capped.close();

      await new Promise((resolve) => setTimeout(resolve, 20));
      const aged = await create({ tablePrefix: prefix, retention: { maxAgeMs: 10 } });
      expect((await (await httpClient(aged, { default: echo() }).get("/threads", alice)).json()).threads).toEqual([]);
    });

    it("announces every thread retention deletes on its live bus, as a delete does, and none it keeps", async () => {
      const prefix = `a${uid("").replace(/[^a-z0-9]/gi, "").slice(-8)}_`;
      const alice = uid("alice");
      const writer = await create({ tablePrefix: prefix });
      const client = httpClient(writer, { default: echo() });
      const ids = [uid("t1"), uid("t2"), uid("t3")];
      for (const id of ids) await readSseFrames(await client.run(id, { user: alice }));
      await writer.close();

      // What the Redis, NATS and worker (IPC) buses would carry to the other instances.
      const published: LiveSignal[] = [];
      const bus: LiveBus = { publish: (signal) => published.push(signal), subscribe: () => () => {}, close: async () => {} };
      const capped = await create({ tablePrefix: prefix, liveBus: bus, retention: { maxThreadsPerUser: 1 } });
      const deletions = published.filter((signal) => signal.kind === "deleted");
      expect(deletions.every((signal) => signal.seq === 0)).toBe(true);
      expect(deletions.map((signal) => signal.threadId).sort()).toEqual([ids[0], ids[1]].sort());
      expect((await (await httpClient(capped, { default: echo() }).get("/threads", alice)).json()).threads.map((t: any) => t.id)).toEqual([ids[2]]);
      await capped.close();
    });
  });

  describe(`${name}: no input breaks a thread`, () => {
    const made: DurableAgentRunner[] = [];
    const keep = (runner: DurableAgentRunner) => {
      made.push(runner);
      return runner;
    };
    afterEach(async () => {
      for (const runner of made.splice(0)) await runner.close();
    });
    const create = (options?: DurableRunnerOptions) => harness.create(options);
    const direct = (threadId: string, agent: ControlledAgent, input: Record<string, unknown>, ids: { agentId?: string; ownerId?: string } = {}) => ({
      threadId,
      agent,
      input: input as unknown as RunInput,
      agentId: ids.agentId ?? "default",
      ownerId: ids.ownerId ?? "alice",
    });

    it("refuses, with InvalidRunInputError and before storing anything, ids no store can keep unchanged", async () => {
      const calls: string[] = [];
      const counting = (store: DurableStore) =>
        new Proxy(store, {
          get(target, key) {
            const value = Reflect.get(target, key, target);
            if (typeof value !== "function") return value;
            return (...args: unknown[]) => {
              calls.push(String(key));
              return value.apply(target, args);
            };
          },
        });
      const runner = keep(await harness.createOn(counting));
      const control = new AgentControl();
      const agent = new ControlledAgent(control);
      const thread = uid("thread");
      const cases: Array<[field: string, threadId: string, input: Record<string, unknown>, ids?: { agentId?: string; ownerId?: string }]> = [
        ["threadId", `${thread}\u0000`, runBody(`${thread}\u0000`)],
        ["threadId", `${thread}\ud800`, runBody(`${thread}\ud800`)],
        ["threadId", "t".repeat(3000), runBody("t".repeat(3000))],
        ["runId", thread, runBody(thread, { runId: "run\u0000" })],
        ["runId", thread, runBody(thread, { runId: "r".repeat(257) })],
        ["messages[1].id", thread, runBody(thread, { messages: [{ id: uid("m"), role: "user", content: "ok" }, { id: "m".repeat(3000), role: "user", content: "long id" }] })],
        ["messages[0].id", thread, runBody(thread, { messages: [{ id: "m\u0000", role: "user", content: "nul" }] })],
        ["messages[0].id", thread, runBody(thread, { messages: [{ id: "m\udc00", role: "user", content: "lone surrogate" }] })],
        ["agentId", thread, runBody(thread), { agentId: "agent\u0000" }],
        ["ownerId", thread, runBody(thread), { ownerId: "owner\ud800" }],
      ];
      calls.length = 0;
      for (const [field, threadId, input, ids] of cases) {
        const refused = await runner.run(direct(threadId, agent, input, ids)).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(refused, field).toBeInstanceOf(InvalidRunInputError);
        expect(refused).toMatchObject({ name: "InvalidRunInputError", code: "invalid_run_input", field });
        expect((refused as InvalidRunInputError).problem).toBeTruthy();
      }
      expect(calls.filter((call) => call !== "expiredRuns" && call !== "renewLeases")).toEqual([]);
      expect(control.runs).toHaveLength(0);
      expect(await runner.getThread({ threadId: thread, ownerId: "alice" })).toBeUndefined();

      // At the limit is fine.
      const fine = collect(await runner.run(direct(thread, agent, runBody(thread, { messages: [{ id: "m".repeat(256), role: "user", content: "ok" }] }))));
      (await control.nextRun()).reply(["fine"]);
      expect(replyTexts(await fine)).toEqual(["fine"]);
    });

    it("answers thread calls on ids no store can hold as for a missing thread, without asking the store", async () => {
      const runner = keep(await harness.create());
      for (const threadId of ["t\u0000", "t\ud800", "t".repeat(3000)]) {
        const request = { threadId, ownerId: "alice" };
        expect(await runner.getThread(request)).toBeUndefined();
        expect(await runner.getThreadEvents(request)).toBeUndefined();
        expect(await runner.getThreadMessages(request)).toBeUndefined();
        expect(await runner.getThreadState(request)).toBeUndefined();
        expect(await runner.deleteThread(request)).toBe(false);
        expect(await runner.isRunning({ threadId })).toBe(false);
        expect(await runner.stop({ threadId, ownerId: "alice" })).toBe(false);
        await expect(runner.updateThread({ threadId, ownerId: "alice", name: "x" })).rejects.toThrow(/not found|does not exist/i);
        const replay: unknown[] = [];
        await new Promise<void>((resolve, reject) =>
          runner.connect({ threadId, ownerId: "alice" }).subscribe({ next: (e) => replay.push(e), error: reject, complete: resolve }),
        );
        expect(replay).toEqual([]);
      }
    });

    it("refuses a thread name no store can keep (NUL, lone surrogate) with InvalidRunInputError", async () => {
      const runner = keep(await harness.create());
      const control = new AgentControl();
      const thread = uid("thread");
      const done = collect(await runner.run(direct(thread, new ControlledAgent(control), runBody(thread))));
      (await control.nextRun()).reply(["hi"]);
      await done;
      for (const name of ["a\u0000b", "a\udc00"]) {
        await expect(runner.updateThread({ threadId: thread, ownerId: "alice", name })).rejects.toBeInstanceOf(InvalidRunInputError);
      }
      expect((await runner.getThread({ threadId: thread, ownerId: "alice" }))?.name).toBeNull();
    });

    it("stores and replays content, state and payloads holding NUL and lone surrogates unchanged", async () => {
      const odd = "nul:\u0000 high:\ud800 low:\udc00 pair:\ud83d\ude00 end";
      const thread = uid("thread");
      const control = new AgentControl();
      const agent = new ControlledAgent(control);
      const runner = keep(await create());
      const live = collect(
        await runner.run(direct(thread, agent, runBody(thread, { messages: [{ id: uid("m"), role: "user", content: odd }] }))),
      );
      const run = await control.nextRun();
      run.started();
      run.emit({ type: "STATE_SNAPSHOT", snapshot: { note: odd, [odd]: [odd] } });
      run.emit({ type: "CUSTOM", name: "odd", value: { odd } });
      run.textStart().text(odd).textEnd().finish();
      const events = await live;
      expect(replyTexts(events)).toEqual([odd]);
      await runner.close();

      const restarted = keep(await create());
      const { messages } = { messages: await restarted.getThreadMessages({ threadId: thread, ownerId: "alice" }) };
      expect(messages!.map((m) => (m as { content?: unknown }).content)).toEqual([odd, odd]);
      expect(await restarted.getThreadState({ threadId: thread, ownerId: "alice" })).toEqual({ state: { note: odd, [odd]: [odd] } });
      const replay = await collect(restarted.connect({ threadId: thread, ownerId: "alice" }));
      expect(replyTexts(replay)).toEqual([odd]);
      expect(replay[0].input.messages[0].content).toBe(odd);
      expect(replay.find((e) => e.type === "CUSTOM")!.value).toEqual({ odd });
      const raw = await storeOf(restarted).eventsBetween(thread, 0, Number.MAX_SAFE_INTEGER);
      expect(raw.map(({ event }) => event)).toEqual(JSON.parse(JSON.stringify(events)));
    });

    it("retries transient write failures: the run completes with every event stored once, in order", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      let appendFailures = 2;
      let finishFailures = 1;
      const runner = keep(
        await harness.createOn((store) =>
          faulty(store, {
            appendEvents: async (original, instanceId, batches) => {
              if (appendFailures > 0 && touchesThread(batches, thread)) {
                appendFailures--;
                throw harness.transientError();
              }
              return original(instanceId, batches);
            },
            finishRun: async (original, request) => {
              if (finishFailures > 0 && request.run.threadId === thread) {
                finishFailures--;
                throw harness.transientError();
              }
              return original(request);
            },
          }),
        ),
      );
      const control = new AgentControl();
      const client = httpClient(runner, { default: new ControlledAgent(control) });
      const stream = new FrameReader(await client.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started();
      await stream.take(1);
      run.textStart().text("one");
      await stream.take(3);
      run.text(" two").textEnd().finish();
      const frames = await stream.rest();
      expect([appendFailures, finishFailures]).toEqual([0, 0]);
      expect(types(eventsOf(frames))).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(frames.map((f) => f.id)).toEqual([1, 2, 3, 4, 5, 6]);
      const stored = await storeOf(runner).eventsBetween(thread, 0, Number.MAX_SAFE_INTEGER);
      expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(stored.map((e) => e.event.type)).toEqual(types(eventsOf(frames)));
      expect(replyTexts(eventsOf(await readSseFrames(await client.connect(thread, { user: alice }))))).toEqual(["one two"]);
    });

    it("takes a write whose answer was lost (it did commit) as written: no failure, no event twice", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      let lose = 1;
      let loseFinish = 1;
      const runner = keep(
        await harness.createOn((store) =>
          faulty(store, {
            appendEvents: async (original, instanceId, batches) => {
              const results = await original(instanceId, batches);
              const content = batches.some((b: any) => b.run.threadId === thread && b.rows.some((r: any) => r.type === "TEXT_MESSAGE_CONTENT"));
              if (content && lose-- > 0) throw harness.transientError(); // committed, but the connection dropped before the answer
              return results;
            },
            finishRun: async (original, request) => {
              const stored = await original(request);
              if (request.run.threadId === thread && loseFinish-- > 0) throw harness.transientError(); // the same, for the run's end
              return stored;
            },
          }),
        ),
      );
      const control = new AgentControl();
      const client = httpClient(runner, { default: new ControlledAgent(control) });
      const stream = new FrameReader(await client.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started();
      await stream.take(1);
      run.textStart().text("once");
      await stream.take(3);
      run.textEnd().finish();
      const frames = await stream.rest();
      expect([lose, loseFinish].every((n) => n < 0)).toBe(true);
      expect(types(eventsOf(frames))).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(frames.map((f) => f.id)).toEqual([1, 2, 3, 4, 5]);
      const stored = await storeOf(runner).eventsBetween(thread, 0, Number.MAX_SAFE_INTEGER);
      expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(replyTexts(stored.map((e) => e.event as Ev))).toEqual(["once"]);
    });

    it("ends a run whose write is refused with PERSISTENCE_FAILED and frees the thread at once", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      let refuse = true;
      const runner = keep(
        await harness.createOn(
          (store) =>
            faulty(store, {
              appendEvents: async (original, instanceId, batches) => {
                const content = batches.some((b: any) => b.run.threadId === thread && b.rows.some((r: any) => r.type === "TEXT_MESSAGE_CONTENT"));
                if (refuse && content) {
                  refuse = false;
                  throw harness.permanentError();
                }
                return original(instanceId, batches);
              },
            }),
          { leaseMs: 60_000 },
        ),
      );
      const control = new AgentControl();
      const client = httpClient(runner, { default: new ControlledAgent(control) });
      const stream = new FrameReader(await client.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started();
      await stream.take(1);
      run.textStart().text("never stored");
      const frames = await stream.rest();
      expect(eventsOf(frames).at(-1)).toMatchObject({ type: "RUN_ERROR", code: "PERSISTENCE_FAILED" });
      expect(frames.map((f) => f.id)).toEqual([1, 2]);
      expect(run.aborted).toBe(true);

      // The very next run is accepted, well within the lease.
      expect(await runner.isRunning({ threadId: thread })).toBe(false);
      const next = await client.run(thread, { user: alice, text: "again" });
      expect(next.status).toBe(200);
      (await control.nextRun()).reply(["back"]);
      const nextFrames = await readSseFrames(next);
      expect(replyTexts(eventsOf(nextFrames))).toEqual(["back"]);
      expect(nextFrames[0].id).toBe(3);
      const history = (await runner.getThreadEvents({ threadId: thread, ownerId: alice }))!;
      expect(types(history as Ev[])).toEqual(["RUN_STARTED", "RUN_ERROR", "RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(history[1]).toMatchObject({ code: "PERSISTENCE_FAILED" });
    });

    for (const via of ["run", "stop"] as const) {
      it(`closes at once a run it gave up on whose closing write failed too, instead of answering busy (${via})`, async () => {
        const alice = uid("alice");
        const thread = uid("thread");
        let refuse = true;
        let down = false;
        const runner = keep(
          await harness.createOn(
            (store) =>
              faulty(store, {
                appendEvents: async (original, instanceId, batches) => {
                  const content = batches.some((b: any) => b.run.threadId === thread && b.rows.some((r: any) => r.type === "TEXT_MESSAGE_CONTENT"));
                  if (refuse && content) {
                    refuse = false;
                    down = true; // and the database goes away for a moment
                    throw harness.permanentError();
                  }
                  return original(instanceId, batches);
                },
                finishRun: async (original, request) => {
                  if (down && request.run.threadId === thread) throw harness.transientError();
                  return original(request);
                },
              }),
            { leaseMs: 60_000, stopTimeoutMs: 60_000 }, // waiting out either would fail the test by its timeout
          ),
        );
        const control = new AgentControl();
        const client = httpClient(runner, { default: new ControlledAgent(control) });
        const stream = new FrameReader(await client.run(thread, { user: alice }));
        const run = await control.nextRun();
        run.started();
        await stream.take(1);
        run.textStart().text("never stored");
        const frames = await stream.rest();
        expect(eventsOf(frames).at(-1)).toMatchObject({ type: "RUN_ERROR", code: "PERSISTENCE_FAILED" });
        expect(frames[1].id).toBeUndefined(); // not stored: no resumption point

        down = false;
        expect(await runner.isRunning({ threadId: thread })).toBe(false);
        if (via === "stop") expect(await runner.stop({ threadId: thread, ownerId: alice })).toBe(true);
        const next = await client.run(thread, { user: alice, text: "again" });
        expect(next.status).toBe(200);
        (await control.nextRun()).reply(["back"]);
        expect(replyTexts(eventsOf(await readSseFrames(next)))).toEqual(["back"]);
        const history = (await runner.getThreadEvents({ threadId: thread, ownerId: alice }))!;
        expect(types(history as Ev[]).slice(0, 3)).toEqual(["RUN_STARTED", "RUN_ERROR", "RUN_STARTED"]);
        expect(history[1]).toMatchObject({ code: "PERSISTENCE_FAILED" });
      });
    }

    it("is not left holding a thread by a start whose answer was lost", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      let lose = 1;
      const runner = keep(
        await harness.createOn(
          (store) =>
            faulty(store, {
              tryStartRun: async (original, request) => {
                const result = await original(request);
                if (request.threadId === thread && lose-- > 0) throw harness.transientError(); // committed, but the answer is lost
                return result;
              },
            }),
          { leaseMs: 60_000 },
        ),
      );
      const client = httpClient(runner, { default: new ControlledAgent(new AgentControl(() => ["hello"])) });
      const first = await client.run(thread, { user: alice, text: "hi" });
      expect(first.status).toBe(200);
      const frames = await readSseFrames(first);
      expect(lose).toBeLessThan(0); // the lost answer happened
      expect(replyTexts(eventsOf(frames))).toEqual(["hello"]);
      expect(eventsOf(frames)[0].input.messages.map((m: any) => m.content)).toEqual(["hi"]);
      const history = (await runner.getThreadEvents({ threadId: thread, ownerId: alice }))!;
      expect(types(history as Ev[])).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
      const second = await readSseFrames(await client.run(thread, { user: alice, text: "and again" }));
      expect(replyTexts(eventsOf(second))).toEqual(["hello"]);
      expect(second[0].id).toBe(frames.at(-1)!.id! + 1);
    });

    it("recovers a dead run whose data the store refuses: closed without it, thread usable, not retried", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const setup = storeOf(keep(await create()));
      await setup.tryStartRun({
        threadId: thread,
        runId: "dead-run",
        agentId: "default",
        ownerId: alice,
        instanceId: "a-process-that-died",
        now: Date.now(),
        leaseExpiresAt: Date.now() - 1,
        inputMessageIds: ["u1"],
        describeInput: () => JSON.stringify({ threadId: thread, runId: "dead-run", messages: [{ id: "u1", role: "user", content: "q" }] }),
      });
      const events = [
        { type: "RUN_STARTED", threadId: thread, runId: "dead-run", input: { messages: [{ id: "u1", role: "user", content: "q" }] } },
        { type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "half" },
      ];
      await setup.appendEvents("a-process-that-died", [
        { run: { threadId: thread, firstSeq: 1 }, rows: events.map((event, i) => ({ seq: i + 1, runId: "dead-run", type: event.type, data: JSON.stringify(event) })) },
      ]);

      // This store refuses the run's message ids for good (as PostgreSQL refuses an index row over its limit).
      let finishCalls = 0;
      const rescuer = keep(
        await harness.createOn(
          (store) =>
            faulty(store, {
              finishRun: async (original, request) => {
                if (request.run.threadId !== thread) return original(request);
                finishCalls++;
                if (request.messageIds.length > 0) throw harness.permanentError();
                return original(request);
              },
            }),
          { sweepIntervalMs: 20, heartbeatMs: 10 },
        ),
      );
      await waitFor(async () => !(await rescuer.isRunning({ threadId: thread })), "the run to be recovered");
      const calls = finishCalls;
      await new Promise((resolve) => setTimeout(resolve, 150)); // several sweeps
      expect(finishCalls).toBe(calls);
      expect(calls).toBeLessThanOrEqual(2);

      const client = httpClient(rescuer, { default: new ControlledAgent(new AgentControl((input) => [`echo:${String(input.messages.at(-1)?.content)}`])) });
      const replay = await readSseFrames(await client.connect(thread, { user: alice }));
      expect(types(eventsOf(replay))).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
      expect(replay.at(-1)!.event).toMatchObject({ code: "INTERRUPTED" });
      const next = await readSseFrames(await client.run(thread, { user: alice, text: "still here?" }));
      expect(replyTexts(eventsOf(next))).toEqual(["echo:still here?"]);
      expect(next[0].id).toBe(6);
    });
  });
}
