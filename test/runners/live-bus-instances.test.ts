/**
 * Three server processes on one PostgreSQL schema, woken by a Redis (then a NATS) live bus
 * (LISTEN/NOTIFY off), behind a round-robin proxy with no stickiness: a run started anywhere is
 * followed, stopped and resumed through any instance; each instance holds one subscription per
 * thread however many of its clients follow it; idle remote followers cost no PostgreSQL query.
 */
import { createConnection } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_URL, findRedis } from "../helpers/redis.js";
import { startRoundRobinProxy, type RoundRobinProxy } from "../helpers/round-robin-proxy.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";
import { type ServerProcess, buildRuntime, kill, post, startServer } from "./server-process.js";
import { eventsOf, waitFor } from "./support.js";
import { FrameReader, types } from "../helpers/sse.js";
import { runBody, uid } from "../helpers/inputs.js";

const pgUrl = await findPostgres();
const NATS_URL = process.env.COPILOT_RUNTIME_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

/** True when something accepts TCP connections at the URL's host and port (enough to tell a missing NATS). */
function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.setTimeout(2_000, () => (socket.destroy(), resolve(false)));
    socket.once("connect", () => (socket.end(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

busSuite("Redis", REDIS_URL, await findRedis());
busSuite("NATS", NATS_URL, await reachable(NATS_URL));

function busSuite(engine: "Redis" | "NATS", busUrl: string, up: boolean): void {
const SUITE = `${engine}LiveBus: three instances on one PostgreSQL behind a round-robin proxy`;
if (!up) {
  if (process.env.CI === "true") {
    describe(SUITE, () => it(`needs ${engine} (CI=true)`, () => expect.fail(`${engine} is unreachable at ${busUrl}; CI=true requires these tests to run.`)));
  } else {
    console.warn(`\n*** ${engine} is unreachable at ${busUrl}: SKIPPING ${SUITE}. Set CI=true to make this a failure. ***\n`);
    describe.skip(SUITE, () => it(`needs ${engine}`, () => {}));
  }
} else if (requirePostgres(pgUrl, SUITE)) {
  const schema = uniqueSchema();
  const prefix = engine === "Redis" ? `copilot-runtime-test:${schema}:` : `copilot-runtime-test.${schema}`;
  let runtimeDir = "";
  let removeBuild = () => {};
  const servers: ServerProcess[] = [];
  let proxy: RoundRobinProxy;
  const origin = (server: ServerProcess) => server.url.replace(/\/api\/copilotkit$/, "");
  const env = {
    DB_KIND: "postgres",
    DATABASE_URL: pgUrl,
    DB_SCHEMA: schema,
    LISTEN_NOTIFY: "false",
    BUS_URL: busUrl,
    BUS_PREFIX: prefix,
    LEASE_MS: "30000",
    // Only the bus may wake a follower here: the periodic looks are out of the tests' reach.
    SAFETY_POLL_MS: "600000",
    SWEEP_MS: "600000",
  };
  beforeAll(async () => {
    ({ runtimeDir, remove: removeBuild } = await buildRuntime(`${engine.toLowerCase()}-bus-test`));
    for (let i = 0; i < 3; i++) servers.push(await startServer(runtimeDir, env));
    proxy = await startRoundRobinProxy(servers.map(origin));
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    for (const server of servers) await kill(server, "SIGKILL");
    removeBuild();
    await dropSchema(pgUrl, schema);
  });
  const queries = async (server: ServerProcess) => ((await (await fetch(`${origin(server)}/__queries`)).json()) as { queries: number }).queries;
  const connectBody = (thread: string) => runBody(thread, { messages: [] });

  describe(SUITE, () => {
    it("gives followers on the two other instances, and through the proxy, exactly the owner's stream", async () => {
      const [a, b, c] = servers;
      const thread = uid("followed");
      const owner = new FrameReader(await post(`${a.url}/agent/default/run`, runBody(thread, { text: "tell me something long" })));
      await owner.take(2);
      const followers = [
        new FrameReader(await post(`${b.url}/agent/default/connect`, connectBody(thread))),
        new FrameReader(await post(`${c.url}/agent/default/connect`, connectBody(thread))),
        new FrameReader(await post(`${proxy.origin}/api/copilotkit/agent/default/connect`, connectBody(thread))),
      ];
      const ownerFrames = await owner.rest();
      expect(types(eventsOf(ownerFrames)).at(-1)).toBe("RUN_FINISHED");
      for (const follower of followers) {
        const frames = await follower.rest();
        expect(frames.map((f) => [f.id, f.event])).toEqual(ownerFrames.map((f) => [f.id, f.event]));
      }
    });

    it("stops a run from either other instance, and from whichever instance the proxy picks", async () => {
      for (const [ownerIndex, stopperUrl] of [
        [0, servers[1].url],
        [1, servers[2].url],
        [2, `${proxy.origin}/api/copilotkit`],
      ] as const) {
        const thread = uid("stopped");
        const owner = new FrameReader(await post(`${servers[ownerIndex].url}/agent/slow/run`, runBody(thread)));
        await owner.take(2);
        const stop = await post(`${stopperUrl}/agent/slow/stop/${thread}`, {});
        expect(stop.status).toBe(200);
        const events = eventsOf(await owner.rest());
        expect(types(events).at(-1)).toBe("RUN_FINISHED");
      }
    });

    it("resumes after Last-Event-ID on any instance", async () => {
      const [a] = servers;
      const thread = uid("resumed");
      const all = await new FrameReader(await post(`${a.url}/agent/default/run`, runBody(thread, { text: "hello there" }))).rest();
      const after = all[3].id!;
      for (let i = 0; i < 3; i++) {
        const frames = await new FrameReader(await post(`${proxy.origin}/api/copilotkit/agent/default/connect`, connectBody(thread), { "last-event-id": String(after) })).rest();
        // The rest of the run, replayed compacted (text deltas joined), ending where it ended.
        expect(frames.every((f) => f.id === undefined || f.id > after)).toBe(true);
        expect(frames.at(-1)!.id).toBe(all.at(-1)!.id);
        expect(types(eventsOf(frames)).at(-1)).toBe("RUN_FINISHED");
      }
    });

    it("holds one subscription per thread per instance (counted on Redis), and idle remote followers cost no PostgreSQL query", async () => {
      const [a, b, c] = servers;
      const thread = uid("idle");
      const owner = new FrameReader(await post(`${a.url}/agent/slow/run`, runBody(thread)));
      await owner.take(2);
      const followers: FrameReader[] = [];
      for (const server of [b, c]) {
        for (let i = 0; i < 10; i++) followers.push(new FrameReader(await post(`${server.url}/agent/slow/connect`, connectBody(thread))));
      }
      for (const follower of followers) await follower.take(2);

      if (engine === "Redis") {
        const redis = new Redis(REDIS_URL);
        try {
          // A (the owner, for stop signals), B and C: three subscribers, not twenty-one.
          await waitFor(async () => Number((await redis.pubsub("NUMSUB", `${prefix}${thread}`))[1]) === 3, "one subscription per instance");
        } finally {
          redis.disconnect();
        }
      }

      const before = await Promise.all([b, c].map(queries));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const after = await Promise.all([b, c].map(queries));
      expect(after).toEqual(before);

      // The idle subscriptions still work: a stop through the proxy ends every follower's stream.
      expect((await post(`${proxy.origin}/api/copilotkit/agent/slow/stop/${thread}`, {})).status).toBe(200);
      const ending = eventsOf(await owner.rest());
      for (const follower of followers) expect(eventsOf(await follower.rest())).toEqual(ending);
    });
  });

  describe(`${SUITE}: the same followers polling instead (control)`, () => {
    it("costs PostgreSQL queries while idle without a bus", async () => {
      const poller = await startServer(runtimeDir, { ...env, BUS_URL: "", POLL_MS: "100" });
      try {
        const thread = uid("polled");
        const owner = new FrameReader(await post(`${servers[0].url}/agent/slow/run`, runBody(thread)));
        await owner.take(2);
        const follower = new FrameReader(await post(`${poller.url}/agent/slow/connect`, connectBody(thread)));
        await follower.take(2);
        const before = await queries(poller);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(await queries(poller)).toBeGreaterThan(before);
        await post(`${servers[0].url}/agent/slow/stop/${thread}`, {});
        await owner.rest();
        await follower.rest();
      } finally {
        await kill(poller, "SIGKILL");
      }
    });
  });
}
}
