import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresIntelligenceStore } from "../../src/intelligence/store/postgres.js";
import { setLogger } from "../../src/logger.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "../runners/postgres-env.js";
import { describeIntelligenceStore } from "./store-conformance.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const T0 = 1_700_000_000_000;
const url = await findPostgres();
if (requirePostgres(url, "PostgresIntelligenceStore")) {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(url, schema));
  const open = async (options: { tablePrefix?: string; maxConnections?: number } = {}) => {
    const store = new PostgresIntelligenceStore({ connectionString: url, schema, maxConnections: 4, ...options });
    await store.migrate();
    return store;
  };

  // Every test opens its own store (and pool) on the one schema; the suite keeps tests apart by project.
  describeIntelligenceStore("PostgresIntelligenceStore", () => open());

  describe("PostgresIntelligenceStore: several instances on one schema", () => {
    it("migrates once when several instances start together", async () => {
      const fresh = uniqueSchema();
      const stores = Array.from({ length: 4 }, () => new PostgresIntelligenceStore({ connectionString: url, schema: fresh, maxConnections: 2 }));
      try {
        await Promise.all(stores.map((store) => store.migrate()));
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const { rows } = await client.query(`SELECT version FROM "${fresh}"."cpki_schema_migrations"`);
          expect(rows).toEqual([{ version: 1 }]);
        } finally {
          await client.end();
        }
      } finally {
        await Promise.all(stores.map((store) => store.close()));
        await dropSchema(url, fresh);
      }
    });

    it("lets exactly one of several runs racing from two instances take a thread's lock", async () => {
      const a = await open();
      const b = await open();
      try {
        for (let i = 0; i < 15; i++) {
          const project = `race-${i}-${Date.now()}`;
          await a.createThread({ projectId: project, threadId: "t", userId: "u", agentId: "agent", name: null, now: T0 });
          const attempt = (store: PostgresIntelligenceStore, runId: string) =>
            store.acquireLock({ projectId: project, threadId: "t", runId, userId: "u", agentId: "agent", ttlMs: 20_000, now: T0 });
          const results = await Promise.all([attempt(a, "run-a1"), attempt(b, "run-b1"), attempt(a, "run-a2"), attempt(b, "run-b2")]);
          const acquired = results.filter((r) => r.status === "acquired");
          expect(acquired).toHaveLength(1);
          const winner = acquired[0].run.runId;
          for (const r of results.filter((r) => r.status !== "acquired")) expect(r).toMatchObject({ status: "held", run: { runId: winner } });
          expect((await b.activeRun(project, "t"))?.runId).toBe(winner);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("ends a run once when two instances append its terminal batch at once, storing each event once", async () => {
      const a = await open();
      const b = await open();
      try {
        const project = `terminal-${Date.now()}`;
        await a.createThread({ projectId: project, threadId: "t", userId: "u", agentId: "agent", name: null, now: T0 });
        await a.acquireLock({ projectId: project, threadId: "t", runId: "r", userId: "u", agentId: "agent", ttlMs: 20_000, now: T0 });
        const events = [1, 2, 3].map((seq) => ({ id: `e${seq}`, seq, type: seq === 3 ? "RUN_FINISHED" : "CUSTOM", json: `{"seq":${seq}}` }));
        const append = (store: PostgresIntelligenceStore, now: number) =>
          store.appendRunEvents({ projectId: project, threadId: "t", runId: "r", events, terminal: "finished", now });
        const results = await Promise.all([append(a, T0 + 1), append(b, T0 + 2)]);
        const stored = results.flatMap((r) => (r.status === "ok" ? r.stored.map((e) => e.id) : []));
        expect(stored.sort()).toEqual(["e1", "e2", "e3"]);
        expect(results.every((r) => r.status === "ok")).toBe(true);
        expect((await a.eventsAfter(project, "t", null, 10))?.map((e) => e.id)).toEqual(["e1", "e2", "e3"]);
        expect((await a.getRun(project, "r"))?.status).toBe("finished");
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("uses a shared pool without ending it, and keeps two prefixes apart", async () => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        const one = new PostgresIntelligenceStore({ pool, schema, tablePrefix: "one_" });
        const two = new PostgresIntelligenceStore({ pool, schema, tablePrefix: "two_" });
        await one.migrate();
        await two.migrate();
        await one.createThread({ projectId: "1", threadId: "t", userId: "u", agentId: "agent", name: null, now: T0 });
        expect(await two.getThread("1", "t")).toBeUndefined();
        await one.close();
        await two.close();
        expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      } finally {
        await pool.end();
      }
    });

    it("stores event JSON as text, byte for byte", async () => {
      const store = await open();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'cpki_events' AND column_name = 'json'`,
          [schema],
        );
        expect(rows).toEqual([{ data_type: "text" }]);
      } finally {
        await client.end();
        await store.close();
      }
    });

    it("refuses options without a connection, and a schema that is not an identifier", () => {
      expect(() => new PostgresIntelligenceStore({})).toThrow(/connectionString/);
      expect(() => new PostgresIntelligenceStore({ connectionString: url, schema: 'x"; DROP' })).toThrow(/schema/);
    });
  });
}
