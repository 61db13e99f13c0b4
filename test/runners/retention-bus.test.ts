/**
 * Retention deletes reach the other instances and workers like explicit deletes: on the Redis
 * bus between instances on one PostgreSQL schema (NOTIFY off), and on the IPC bus between the
 * workers of `serve --workers` on one SQLite file. And a run another process starts on a
 * thread between retention's look for idle threads and its delete keeps its thread.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { EventEmitter } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WorkerLiveBus } from "../../src/cli/worker-live-bus.js";
import { setLogger } from "../../src/logger.js";
import type { LiveBus, LiveSignal } from "../../src/runners/durable/live-bus.js";
import { PostgresAgentRunner } from "../../src/runners/postgres.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import type { AgentRunner } from "../../src/runners/agent-runner.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import { RedisLiveBus } from "../../src/storage/redis/live-bus.js";
import { REDIS_URL, findRedis } from "../helpers/redis.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";
import { duckTypedAgent, httpClient, waitFor } from "./support.js";
import { readSseFrames } from "../helpers/sse.js";
import { uid } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-retention-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three finished threads of one user, oldest first. */
async function threeThreads(runner: AgentRunner): Promise<{ user: string; ids: string[] }> {
  const user = uid("alice");
  const client = httpClient(runner, { default: duckTypedAgent("echo") });
  const ids = [uid("t1"), uid("t2"), uid("t3")];
  for (const id of ids) await readSseFrames(await client.run(id, { user }));
  return { user, ids };
}

/** Subscribes `bus` to the thread (as an instance following it would) and resolves once the subscription is in effect. */
function listen(bus: LiveBus, threadId: string, heard: LiveSignal[], waitForResync: boolean): Promise<void> {
  return new Promise((resolve) => {
    bus.subscribe(threadId, (signal) => {
      heard.push(signal);
      if (signal.kind === "resync") resolve();
    });
    if (!waitForResync) resolve();
  });
}

describe("retention on the worker (IPC) bus of serve --workers on one SQLite file", () => {
  it("announces each deleted thread to the other workers, and nothing for the thread it keeps", async () => {
    const file = path.join(dir, "workers.db");
    // Two workers' channels joined the way the primary relays them: to the other worker only.
    const channelA = Object.assign(new EventEmitter(), { connected: true, send: (m: unknown) => channelB.emit("message", m) });
    const channelB = Object.assign(new EventEmitter(), { connected: true, send: (m: unknown) => channelA.emit("message", m) });
    const writer = new SqliteAgentRunner({ path: file });
    const { ids } = await threeThreads(writer);
    await writer.close();

    const otherWorker = new WorkerLiveBus(channelB);
    const heard = new Map(ids.map((id) => [id, [] as LiveSignal[]]));
    for (const id of ids) await listen(otherWorker, id, heard.get(id)!, false);
    const sweeper = new SqliteAgentRunner({ path: file, liveBus: new WorkerLiveBus(channelA), retention: { maxThreadsPerUser: 1 } });
    await sweeper.ready();
    expect(heard.get(ids[0])).toEqual([{ kind: "deleted", threadId: ids[0], seq: 0 }]);
    expect(heard.get(ids[1])).toEqual([{ kind: "deleted", threadId: ids[1], seq: 0 }]);
    expect(heard.get(ids[2])).toEqual([]);
    await sweeper.close();
    await otherWorker.close();
  });
});

describe("SQLite retention against a run started by another process", () => {
  it("keeps a thread whose run started between retention's look for idle threads and its delete", async () => {
    const file = path.join(dir, "race.db");
    const writer = new SqliteAgentRunner({ path: file });
    const { user, ids } = await threeThreads(writer);
    await writer.close();
    const sweeping = new SqliteStore({ path: file });
    const other = new SqliteStore({ path: file });
    await sweeping.migrate();
    await other.migrate();
    // The other process takes the oldest thread's lease right after the sweep read its candidates.
    const lock = (sweeping as unknown as { lock: { write<T>(op: () => T): Promise<T> } }).lock;
    const write = lock.write.bind(lock);
    let raced = false;
    lock.write = async <T>(op: () => T): Promise<T> => {
      if (!raced) {
        raced = true;
        const now = Date.now();
        const started = await other.tryStartRun({
          threadId: ids[0],
          runId: uid("late-run"),
          agentId: "default",
          ownerId: user,
          instanceId: "another-process",
          now,
          leaseExpiresAt: now + 60_000,
          inputMessageIds: [],
          describeInput: () => "{}",
        });
        expect(started.kind).toBe("started");
      }
      return write(op);
    };
    const deleted = await sweeping.applyRetention({ olderThan: Date.now() + 60_000 });
    expect(raced).toBe(true);
    expect(deleted.sort()).toEqual([ids[1], ids[2]].sort());
    expect((await other.activeRun(ids[0])).active?.leaseOwner).toBe("another-process");
    await sweeping.close();
    await other.close();
  });
});

const pgUrl = await findPostgres();
const SUITE = "retention on the Redis bus between instances on one PostgreSQL schema (NOTIFY off)";
const redisUp = await findRedis();
if (!redisUp) {
  if (process.env.CI === "true") {
    describe(SUITE, () => it("needs Redis (CI=true)", () => expect.fail(`Redis is unreachable at ${REDIS_URL}; CI=true requires these tests to run.`)));
  } else {
    console.warn(`\n*** Redis is unreachable at ${REDIS_URL}: SKIPPING ${SUITE}. Set CI=true to make this a failure. ***\n`);
    describe.skip(SUITE, () => it("needs Redis", () => {}));
  }
} else if (requirePostgres(pgUrl, SUITE)) {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(pgUrl, schema));
  const prefix = `copilot-runtime-test:${schema}:`;
  const open = (options: { retention?: { maxThreadsPerUser: number } } = {}) =>
    new PostgresAgentRunner({ connectionString: pgUrl, schema, maxConnections: 2, listenNotify: false, liveBus: new RedisLiveBus({ url: REDIS_URL, prefix }), ...options });

  describe(SUITE, () => {
    it("tells an instance listening to a thread that retention on another instance deleted it", async () => {
      const writer = open();
      const { ids } = await threeThreads(writer);
      await writer.close();

      // The instance that follows the threads: its bus subscriptions, as its runner makes them.
      const follower = new RedisLiveBus({ url: REDIS_URL, prefix });
      const heard = new Map(ids.map((id) => [id, [] as LiveSignal[]]));
      for (const id of ids) await listen(follower, id, heard.get(id)!, true);
      const sweeper = open({ retention: { maxThreadsPerUser: 1 } });
      await sweeper.ready();
      const deletedOf = (id: string) => heard.get(id)!.filter((signal) => signal.kind === "deleted");
      await waitFor(() => deletedOf(ids[0]).length > 0 && deletedOf(ids[1]).length > 0, "the deletions on the Redis bus");
      expect(deletedOf(ids[0])).toEqual([{ kind: "deleted", threadId: ids[0], seq: 0 }]);
      expect(deletedOf(ids[1])).toEqual([{ kind: "deleted", threadId: ids[1], seq: 0 }]);
      // The kept thread is not announced (the sweeper publishes in one connection's order: it would be here by now).
      expect(deletedOf(ids[2])).toEqual([]);
      await sweeper.close();
      await follower.close();
    });
  });
}
