/**
 * What only a durable runner promises, run against SQLite and PostgreSQL: threads survive a
 * restart, runs a dead or stalled process left are recovered as INTERRUPTED, several
 * instances share one database (follow, stop and lock across them), versioned migrations,
 * and retention.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { DurableAgentRunner, DurableRunnerOptions } from "../../src/runners/durable/durable-runner.js";
import type { DurableStore } from "../../src/runners/durable/store.js";
import { AgentControl, ControlledAgent, FrameReader, eventsOf, httpClient, readFrames, replyTexts, types, uid, waitFor } from "./support.js";

export interface DurableHarness {
  /** A runner on the harness's database; every call shares it (another "process"). */
  create(options?: DurableRunnerOptions & { tablePrefix?: string }): Promise<DurableAgentRunner>;
  /** Runs SQL on the harness's database (for migration tests). */
  exec(sql: string): Promise<void>;
  /** The qualified name of a table of `prefix`, as the store spells it. */
  table(prefix: string, name: string): string;
}

const storeOf = (runner: DurableAgentRunner) => (runner as unknown as { store: DurableStore }).store;

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
      const first = await readFrames(await httpClient(before, { default: echo() }).run(thread, { user: alice, text: "remember me" }));
      await before.close();

      const after = await create();
      const client = httpClient(after, { default: echo() });
      expect((await (await client.get("/threads", alice)).json()).threads.map((t: any) => t.id)).toEqual([thread]);
      const { messages } = await (await client.get(`/threads/${thread}/messages`, alice)).json();
      expect(messages.map((m: any) => m.content)).toEqual(["remember me", "echo:remember me"]);
      expect(replyTexts(eventsOf(await readFrames(await client.connect(thread, { user: alice }))))).toEqual(["echo:remember me"]);
      const second = await readFrames(await client.run(thread, { user: alice, text: "again" }));
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
      const replay = await readFrames(await client.connect(thread, { user: alice }));
      expect(replay.map((f) => f.id)).toEqual([1, 2, 3, 4, 5]);
      expect(types(eventsOf(replay))).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
      expect(replay[4].event).toMatchObject({ type: "RUN_ERROR", code: "INTERRUPTED" });
      expect(replyTexts(eventsOf(replay))).toEqual(["half an ans"]);
      expect(await restarted.isRunning({ threadId: thread })).toBe(false);
      const next = await readFrames(await client.run(thread, { user: alice, text: "retry" }));
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
      const replay = eventsOf(await readFrames(await client.connect(thread, { user: alice })));
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
      const replay = eventsOf(await readFrames(await rescuerClient.connect(thread, { user: alice })));
      expect(replay.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "INTERRUPTED" });

      run.text(" and after it"); // the stalled process wakes up and writes: refused
      const tail = eventsOf(await running.rest());
      expect(tail.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "LEASE_LOST" });
      expect(run.aborted).toBe(true);
      const stored = eventsOf(await readFrames(await rescuerClient.connect(thread, { user: alice })));
      expect(replyTexts(stored)).toEqual(["before the stall"]);
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
      expect(replyTexts(eventsOf(await readFrames(await client.connect(kept, { user: alice }))))).toEqual(["still here"]);
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
      expect(replyTexts(eventsOf(await readFrames(await onB.run(thread, { user: alice, text: "b's turn" }))))).toEqual(["echo:b's turn"]);
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
      for (const id of ids) await readFrames(await client.run(id, { user: alice }));
      await readFrames(await client.run(uid("b1"), { user: bob }));
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
  });
}
