/**
 * The PostgreSQL PlatformBus on the local PostgreSQL: two buses (two "instances") on one
 * channel; delivery across, local delivery exactly once, the overflow path for payloads over
 * NOTIFY's 8000 bytes, and recovery after the LISTEN connection is killed server-side.
 */
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { PlatformBusMessage } from "../../src/intelligence/bus.js";
import { PostgresPlatformBus, createPostgresPlatformBus, platformBusChannel } from "../../src/intelligence/postgres-bus.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "../runners/postgres-env.js";
import { eventually, quietLogger } from "../helpers/intelligence.js";

const url = await findPostgres();

if (requirePostgres(url, "PostgreSQL platform bus")) {
  const schema = uniqueSchema();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  afterAll(async () => {
    await admin.end();
    await dropSchema(url, schema);
  });

  describe("PostgreSQL platform bus", () => {
    const open: PostgresPlatformBus[] = [];
    const pools: pg.Pool[] = [];
    afterEach(async () => {
      for (const bus of open.splice(0)) await bus.close();
      for (const pool of pools.splice(0)) await pool.end();
    });

    /** A bus and the messages it delivered (resyncs kept apart). */
    function start(options: { pool?: pg.Pool; tablePrefix?: string } = {}) {
      const bus = createPostgresPlatformBus({ ...(options.pool ? { pool: options.pool } : { connectionString: url }), schema, tablePrefix: options.tablePrefix ?? "bus_", reconnectMs: 20, logger: quietLogger() });
      open.push(bus);
      const received: PlatformBusMessage[] = [];
      let resyncs = 0;
      bus.subscribe((message) => {
        if (message.type === "resync") resyncs++;
        else received.push(message);
      });
      return { bus, received, resyncs: () => resyncs };
    }

    it("derives one channel per schema and table prefix, and rejects bad options", async () => {
      expect(platformBusChannel("a", "x_")).toBe(platformBusChannel("a", "x_"));
      expect(platformBusChannel("a", "x_")).not.toBe(platformBusChannel("b", "x_"));
      // Other ways to name the deployment: an explicit namespace, or the channel itself.
      const named = (options: Record<string, unknown>) => new PostgresPlatformBus({ connection: url!, ...options });
      const buses = [named({ namespace: "prod" }), named({ namespace: "prod" }), named({ namespace: "staging" }), named({ channel: "my_channel" })];
      open.push(...buses);
      expect(buses[0].channel).toBe(buses[1].channel);
      expect(buses[0].channel).not.toBe(buses[2].channel);
      expect(buses[3].channel).toBe("my_channel");
      expect(() => createPostgresPlatformBus({} as never)).toThrow(/connectionString/);
      expect(() => createPostgresPlatformBus({ connectionString: url!, channel: "bad channel" })).toThrow(/channel/);
      expect(() => createPostgresPlatformBus({ connectionString: url!, schema: "no;way" })).toThrow(/schema/);
    });

    it("a message published on one instance reaches the other, and its own listeners exactly once", async () => {
      const a = start();
      const b = start();
      await Promise.all([a.bus.ready, b.bus.ready]);
      const message: PlatformBusMessage = { type: "thread_events", projectId: "7", threadId: "t-1", endedRunIds: ["r-1"] };
      await a.bus.publish(message);
      await eventually(() => expect(b.received).toEqual([message]));
      await a.bus.publish({ type: "stop_run", projectId: "7", threadId: "t-1", runId: "r-1" });
      await eventually(() => expect(b.received).toHaveLength(2));
      // A's own notifications come back over LISTEN too; they must not be delivered twice.
      await eventually(() => expect(a.received).toHaveLength(2));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(a.received).toEqual(b.received);
    });

    it("buses on another table prefix (another deployment) hear nothing", async () => {
      const a = start({ tablePrefix: "one_" });
      const other = start({ tablePrefix: "two_" });
      const same = start({ tablePrefix: "one_" });
      await Promise.all([a.bus.listening(), other.bus.listening(), same.bus.listening()]);
      await a.bus.publish({ type: "thread_deleted", projectId: "7", threadId: "t-2" });
      await eventually(() => expect(same.received).toHaveLength(1));
      expect(other.received).toEqual([]);
    });

    it("a user_meta message over NOTIFY's 8000 bytes arrives whole, in order with the messages around it", async () => {
      const a = start();
      const b = start();
      await Promise.all([a.bus.listening(), b.bus.listening()]);
      const name = "ü".repeat(12_000); // 24 kB of UTF-8
      const big: PlatformBusMessage = {
        type: "user_meta",
        projectId: "7",
        userId: "alice",
        event: "thread_metadata",
        payload: { operation: "renamed", threadId: "t-3", thread: { id: "t-3", name } },
      };
      await a.bus.publish({ type: "thread_events", projectId: "7", threadId: "before" });
      await a.bus.publish(big);
      await a.bus.publish({ type: "thread_events", projectId: "7", threadId: "after" });
      await eventually(() => expect(b.received).toHaveLength(3));
      expect(b.received[1]).toEqual(big);
      expect(b.received.map((m) => (m.type === "thread_events" ? m.threadId : m.type))).toEqual(["before", "user_meta", "after"]);
      expect(a.received[1]).toEqual(big);
    });

    it("works on a caller's pool (LISTEN on a client checked out of it) and leaves the pool open", async () => {
      const pool = new pg.Pool({ connectionString: url, max: 3 });
      pools.push(pool);
      const a = start({ pool });
      const b = start();
      await Promise.all([a.bus.listening(), b.bus.listening()]);
      await b.bus.publish({ type: "thread_deleted", projectId: "7", threadId: "t-4" });
      await eventually(() => expect(a.received).toHaveLength(1));
      await a.bus.close();
      expect((await pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    });

    it("after its LISTEN connection is terminated, the bus reconnects, tells its listeners to resync, and hears again", async () => {
      const a = start();
      const b = start();
      await Promise.all([a.bus.listening(), b.bus.listening()]);
      const before = b.resyncs();
      const { rows } = await admin.query<{ terminated: boolean }>("SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1", [b.bus.applicationName]);
      expect(rows.map((row) => row.terminated)).toEqual([true]);
      await eventually(() => expect(b.resyncs()).toBeGreaterThan(before));
      await b.bus.listening();
      await a.bus.publish({ type: "thread_events", projectId: "7", threadId: "after-reconnect" });
      await eventually(() => expect(b.received.some((m) => m.type === "thread_events" && m.threadId === "after-reconnect")).toBe(true));
      // A message published BY the reconnected bus still reaches the other instance.
      await b.bus.publish({ type: "thread_events", projectId: "7", threadId: "from-b" });
      await eventually(() => expect(a.received.some((m) => m.type === "thread_events" && m.threadId === "from-b")).toBe(true));
    });
  });
}
