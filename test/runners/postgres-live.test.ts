/**
 * Several PostgresAgentRunner instances on one schema (in one process: each has its own pool,
 * its own LISTEN connection and its own instance id, exactly as separate servers would):
 * cross-instance following is pushed over LISTEN/NOTIFY, costs nothing while idle, stop and
 * delete reach the owner at once, and a delete during a run leaves no row behind.
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { setLogger } from "../../src/logger.js";
import { PostgresAgentRunner, type PostgresAgentRunnerOptions } from "../../src/runners/postgres.js";
import { liveChannel } from "../../src/storage/postgres/live-bus.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";
import { AgentControl, ControlledAgent, eventsOf, httpClient, replyTexts, waitFor } from "./support.js";
import { type SseFrame, FrameReader, readSseFrames, types } from "../helpers/sse.js";
import { uid } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Reads a stream to its end in the background, noting when each frame arrived. */
function timed(reader: FrameReader): { arrivals: Map<number, number>; done: Promise<SseFrame[]> } {
  const arrivals = new Map<number, number>();
  const done = (async () => {
    for (let frame = await reader.next(); frame !== undefined; frame = await reader.next()) {
      if (frame.id !== undefined) arrivals.set(frame.id, performance.now());
    }
    return reader.seen;
  })();
  return { arrivals, done };
}

const url = await findPostgres();
if (requirePostgres(url, "PostgresAgentRunner across instances (LISTEN/NOTIFY)")) {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(url, schema));

  describe("PostgresAgentRunner across instances (LISTEN/NOTIFY)", () => {
    const runners: PostgresAgentRunner[] = [];
    const pools: pg.Pool[] = [];
    afterEach(async () => {
      for (const runner of runners.splice(0)) await runner.close();
      for (const pool of pools.splice(0)) await pool.end();
    });
    const open = async (options: Partial<PostgresAgentRunnerOptions> = {}) => {
      const runner = new PostgresAgentRunner({ connectionString: url, schema, maxConnections: 4, ...options });
      runners.push(runner);
      await runner.ready();
      return runner;
    };
    /** A runner whose every query (not its LISTEN connection) is counted. */
    const openCounted = async (options: Partial<PostgresAgentRunnerOptions> = {}) => {
      const pool = new pg.Pool({ connectionString: url, max: 4 });
      pools.push(pool);
      const counter = { queries: 0 };
      pool.on("connect", (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          counter.queries++;
          return query(...args);
        };
      });
      const runner = await open({ ...options, pool });
      return { runner, counter };
    };
    const sql = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<T>(text, values)).rows;
      } finally {
        await client.end();
      }
    };
    const eventRows = async (threadId: string) =>
      Number((await sql<{ n: string }>(`SELECT COUNT(*) AS n FROM "${schema}".copilot_events WHERE thread_id = $1`, [threadId]))[0].n);

    it("pushes every event of a run on A to a follower on B once, in order, within milliseconds of A's own follower", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const a = await open();
      const b = await open(); // default pollMs: 100 ms, were it still polling
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const running = new FrameReader(await onA.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart();
      await running.take(2);
      const local = timed(new FrameReader(await onA.connect(thread, { user: alice })));
      const remote = timed(new FrameReader(await onB.connect(thread, { user: alice })));
      await waitFor(() => local.arrivals.size >= 2 && remote.arrivals.size >= 2, "both followers to catch up");

      const deltas = Array.from({ length: 120 }, (_, i) => `w${i} `);
      for (const delta of deltas) {
        run.text(delta);
        await sleep(3);
      }
      run.textEnd().finish();
      const [localFrames, remoteFrames] = await Promise.all([local.done, remote.done]);
      await running.rest();

      expect(remoteFrames.map((f) => f.id)).toEqual(localFrames.map((f) => f.id));
      expect(remoteFrames.map((f) => f.event)).toEqual(localFrames.map((f) => f.event));
      expect(replyTexts(eventsOf(remoteFrames))).toEqual([deltas.join("")]);
      const lags: number[] = [];
      for (const [id, at] of remote.arrivals) {
        const ownerAt = local.arrivals.get(id);
        if (ownerAt !== undefined && id > 2) lags.push(at - ownerAt);
      }
      const p50 = percentile(lags, 50);
      console.log(`remote follower lag behind the owner's follower over ${lags.length} events: p50 ${p50.toFixed(2)} ms, p90 ${percentile(lags, 90).toFixed(2)} ms, p99 ${percentile(lags, 99).toFixed(2)} ms, max ${Math.max(...lags).toFixed(2)} ms`);
      expect(p50).toBeLessThan(50); // a sanity bound on a shared machine; the real figures are logged
    });

    it("costs no queries on B while 60 followers of 3 runs on A sit idle", async () => {
      const alice = uid("alice");
      const threads = [uid("idle"), uid("idle"), uid("idle")];
      const a = await open();
      const { runner: b, counter } = await openCounted();
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const runs = [];
      const streams: FrameReader[] = [];
      for (const thread of threads) {
        streams.push(new FrameReader(await onA.run(thread, { user: alice })));
        const run = await control.nextRun();
        run.started().textStart().text("waiting");
        runs.push(run);
      }
      for (const stream of streams) await stream.take(3);
      const followers: FrameReader[] = [];
      for (let i = 0; i < 60; i++) followers.push(new FrameReader(await onB.connect(threads[i % 3], { user: alice })));
      for (const follower of followers) await follower.take(3);

      await sleep(100); // the last joins' own reads settle
      const before = counter.queries;
      await sleep(1_500);
      const idleQueries = counter.queries - before;
      console.log(`queries issued by B while 60 followers of 3 runs sat idle for 1.5 s: ${idleQueries}`);
      expect(idleQueries).toBeLessThanOrEqual(1); // the safety net (every 5 s) at most once

      // And they still follow: one more event reaches all 60, with one read per run.
      const beforeEvent = counter.queries;
      for (const run of runs) run.text(" done").textEnd().finish();
      for (const follower of followers) expect(replyTexts(eventsOf(await follower.rest()))).toEqual(["waiting done"]);
      for (const stream of streams) await stream.rest();
      console.log(`queries issued by B to deliver the last events of 3 runs to 60 followers: ${counter.queries - beforeEvent}`);
      expect(counter.queries - beforeEvent).toBeLessThan(60);
    });

    it("looks at all its followed runs with one query per safety-net tick, however many there are", async () => {
      // A user per thread: each user's open streams stay under the HTTP layer's per-user cap.
      const threads = Array.from({ length: 20 }, () => uid("many"));
      const users = threads.map(() => uid("user"));
      const a = await open();
      const { runner: b, counter } = await openCounted({ safetyPollMs: 300 });
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const runs = [];
      const streams: FrameReader[] = [];
      for (const [i, thread] of threads.entries()) {
        streams.push(new FrameReader(await onA.run(thread, { user: users[i] })));
        const run = await control.nextRun();
        run.started();
        runs.push(run);
      }
      for (const stream of streams) await stream.take(1);
      const followers: FrameReader[] = [];
      for (let i = 0; i < 100; i++) followers.push(new FrameReader(await onB.connect(threads[i % threads.length], { user: users[i % threads.length] })));
      for (const follower of followers) await follower.take(1);

      await sleep(100);
      const before = counter.queries;
      await sleep(1_500);
      const idleQueries = counter.queries - before;
      console.log(`queries issued by B while 100 followers of 20 runs sat idle for 1.5 s with safetyPollMs 300: ${idleQueries}`);
      expect(idleQueries).toBeLessThanOrEqual(8); // about one per tick, not one per run per tick (~100)
      for (const run of runs) run.finish();
      for (const follower of followers) expect(types(eventsOf(await follower.rest()))).toEqual(["RUN_STARTED", "RUN_FINISHED"]);
    });

    it("wakes the owner at once when a stop is requested on another instance (not at its next heartbeat)", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const slowHeartbeat = { heartbeatMs: 5_000, leaseMs: 20_000 };
      const a = await open(slowHeartbeat);
      const b = await open(slowHeartbeat);
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const running = new FrameReader(await onA.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("stop me");
      await running.take(3);

      const asked = performance.now();
      expect(await (await onB.stop(thread, { user: alice })).json()).toMatchObject({ stopped: true });
      const answeredIn = performance.now() - asked;
      console.log(`stop on B answered, the run on A stopped and stored, in ${answeredIn.toFixed(1)} ms`);
      expect(run.aborted).toBe(true);
      expect(answeredIn).toBeLessThan(2_500); // half the heartbeat: a heartbeat could not have done it
      expect(types(eventsOf(await running.rest())).slice(-2)).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
    });

    it("gets a stop to the owner whose LISTEN connection was down when it was requested, once it listens again", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const slowHeartbeat = { heartbeatMs: 5_000, leaseMs: 20_000 };
      const a = await open(slowHeartbeat);
      const b = await open(slowHeartbeat);
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const running = new FrameReader(await onA.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started();
      await running.take(1);
      const listen = `LISTEN "${liveChannel(schema, "copilot_")}"`;
      await waitFor(async () => (await sql(`SELECT pid FROM pg_stat_activity WHERE query = $1`, [listen])).length >= 2, "both instances to listen");
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [listen]);
      const asked = performance.now();
      expect(await (await onB.stop(thread, { user: alice })).json()).toMatchObject({ stopped: true });
      const answeredIn = performance.now() - asked;
      console.log(`stop requested while the LISTEN connections were down answered in ${answeredIn.toFixed(1)} ms`);
      expect(run.aborted).toBe(true);
      expect(answeredIn).toBeLessThan(2_500); // the catch-up after reconnecting, not the 5 s heartbeat
    });

    it("still follows, stops and deletes across instances with listenNotify: false, by polling every pollMs", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const polling = { listenNotify: false, pollMs: 20, heartbeatMs: 30 };
      const a = await open(polling);
      const { runner: b, counter } = await openCounted(polling);
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const running = new FrameReader(await onA.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("polled");
      await running.take(3);
      const followers = [new FrameReader(await onB.connect(thread, { user: alice })), new FrameReader(await onB.connect(thread, { user: alice }))];
      for (const follower of followers) await follower.take(3);
      const before = counter.queries;
      await sleep(500);
      // One look per pollMs for both followers together (not three queries per follower per poll).
      expect(counter.queries - before).toBeLessThan(40);
      run.text(" twice");
      expect(await (await onB.stop(thread, { user: alice })).json()).toMatchObject({ stopped: true });
      const ownerFrames = await running.rest();
      for (const follower of followers) expect((await follower.rest()).map((f) => f.id)).toEqual(ownerFrames.map((f) => f.id));
      expect(replyTexts(eventsOf(ownerFrames))).toEqual(["polled twice"]);
      expect((await onB.send("DELETE", `/threads/${thread}`, { user: alice })).status).toBe(200);
      expect(await eventRows(thread)).toBe(0);
    });

    it("leaves no row of a thread deleted on B while A streams into it fast, and the reused id gets nothing of the old run", async () => {
      const alice = uid("alice");
      const bob = uid("bob");
      const a = await open({ writeWindowMs: 0 });
      const b = await open();
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const leftovers: number[] = [];
      for (let trial = 0; trial < 8; trial++) {
        const thread = uid("deleted");
        const running = new FrameReader(await onA.run(thread, { user: alice }));
        const run = await control.nextRun();
        run.started().textStart();
        await running.take(2);
        let streaming = true;
        const pump = (async () => {
          for (let i = 0; streaming; i++) {
            run.text(`old${i} `);
            await sleep(0);
          }
        })();
        await sleep(15 + trial * 3);
        expect((await onB.send("DELETE", `/threads/${thread}`, { user: alice })).status).toBe(200);
        const ended = eventsOf(await running.rest());
        streaming = false;
        await pump;
        expect(ended.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "THREAD_DELETED" });
        await sleep(20); // any write still in flight lands (or is refused) by now
        leftovers.push(await eventRows(thread));

        const reused = onB.run(thread, { user: bob });
        (await control.nextRun()).reply(["fresh"]);
        expect(replyTexts(eventsOf(await readSseFrames(await reused)))).toEqual(["fresh"]);
        const replay = eventsOf(await readSseFrames(await onA.connect(thread, { user: bob })));
        expect(replyTexts(replay)).toEqual(["fresh"]);
        expect(JSON.stringify(replay)).not.toContain("old");
      }
      expect(leftovers).toEqual(leftovers.map(() => 0));
    });

    it("keeps following across a dropped LISTEN connection: it reconnects, and one catch-up read delivers what was missed", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const a = await open();
      const b = await open({ safetyPollMs: 60_000 }); // the catch-up read, not the safety net, must deliver
      const control = new AgentControl();
      const onA = httpClient(a, { default: new ControlledAgent(control) });
      const onB = httpClient(b, { default: new ControlledAgent(control) });
      const running = new FrameReader(await onA.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("before");
      await running.take(3);
      const remote = new FrameReader(await onB.connect(thread, { user: alice }));
      await remote.take(3);

      const channel = liveChannel(schema, "copilot_");
      const listeners = () =>
        sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`, [`LISTEN "${channel}"`]);
      await waitFor(async () => (await listeners()).length >= 2, "both instances to listen");
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${channel}"`]);
      run.text(" during"); // announced while nobody listens
      await running.take(4);
      await waitFor(async () => (await listeners()).length >= 2, "both instances to listen again");
      await remote.take(4);
      run.text(" after").textEnd().finish();
      expect(replyTexts(eventsOf(await remote.rest()))).toEqual(["before during after"]);
    });
  });
}
