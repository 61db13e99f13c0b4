/**
 * Two server processes on one PostgreSQL schema: a client following on B a run that A streams
 * gets exactly A's stream (pushed over LISTEN/NOTIFY), and a thread deleted on B while A streams
 * its run ends A's stream with THREAD_DELETED and leaves no row behind.
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";
import { type ServerProcess, buildRuntime, kill, post, startServer } from "./server-process.js";
import { eventsOf } from "./support.js";
import { type SseFrame, FrameReader, types } from "../helpers/sse.js";
import { runBody, uid } from "../helpers/inputs.js";

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
if (requirePostgres(url, "PostgresAgentRunner in two processes")) {
  const schema = uniqueSchema();
  let runtimeDir = "";
  let removeBuild = () => {};
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    ({ runtimeDir, remove: removeBuild } = await buildRuntime("multi-process-test"));
    const env = { DB_KIND: "postgres", DATABASE_URL: url, DB_SCHEMA: schema, LEASE_MS: "5000" };
    servers.push(await startServer(runtimeDir, env));
    servers.push(await startServer(runtimeDir, env));
  }, 120_000);
  afterAll(async () => {
    for (const server of servers) await kill(server, "SIGKILL");
    removeBuild();
    await dropSchema(url, schema);
  });

  describe("PostgresAgentRunner in two processes", () => {
    it("gives a follower on B exactly the stream A sends, pushed as A commits, ending where A's ends", async () => {
      const [a, b] = servers;
      const thread = uid("followed");
      const response = await post(`${a.url}/agent/default/run`, runBody(thread, { text: "tell me something long" }));
      expect(response.status).toBe(200);
      const owner = timed(new FrameReader(response));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const follower = timed(new FrameReader(await post(`${b.url}/agent/default/connect`, runBody(thread, { messages: [] }))));
      const [ownerFrames, followerFrames] = await Promise.all([owner.done, follower.done]);

      expect(types(eventsOf(ownerFrames)).at(-1)).toBe("RUN_FINISHED");
      expect(followerFrames.map((f) => [f.id, f.event])).toEqual(ownerFrames.map((f) => [f.id, f.event]));
      const lags: number[] = [];
      const firstLive = Math.max(...follower.arrivals.keys()) > 10 ? 10 : 1; // past B's catch-up read
      for (const [id, at] of follower.arrivals) {
        const ownerAt = owner.arrivals.get(id);
        if (ownerAt !== undefined && id > firstLive) lags.push(at - ownerAt);
      }
      console.log(
        `two processes: follower on B behind the run's own stream on A over ${lags.length} events: p50 ${percentile(lags, 50).toFixed(2)} ms, p99 ${percentile(lags, 99).toFixed(2)} ms`,
      );
      expect(percentile(lags, 50)).toBeLessThan(50); // a sanity bound; the figures are logged
    });

    it("ends A's run with THREAD_DELETED when B deletes the thread, and keeps no row of it", async () => {
      const [a, b] = servers;
      const thread = uid("deleted");
      const reader = new FrameReader(await post(`${a.url}/agent/default/run`, runBody(thread, { text: "tell me something long" })));
      await reader.take(5);
      const deleted = await fetch(`${b.url}/threads/${thread}`, { method: "DELETE" });
      expect(deleted.status).toBe(200);
      const ended = eventsOf(await reader.rest());
      expect(ended.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "THREAD_DELETED" });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await new Promise((resolve) => setTimeout(resolve, 50));
        for (const table of ["threads", "runs", "events", "thread_messages"]) {
          const column = table === "threads" ? "id" : "thread_id";
          const { rows } = await client.query(`SELECT COUNT(*)::int AS n FROM "${schema}".copilot_${table} WHERE ${column} = $1`, [thread]);
          expect(rows[0].n, table).toBe(0);
        }
      } finally {
        await client.end();
      }
    });
  });
}
