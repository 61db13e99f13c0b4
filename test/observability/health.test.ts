/**
 * `/healthz` and `/readyz` over real HTTP: readiness follows the runner's database (a
 * PostgreSQL runner pointed at a closed port, and one whose database goes away and comes back
 * through a TCP proxy), times out a check that hangs, and flips on `drain()`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import { createHealthHandler, type HealthHandler } from "../../src/observability/health.js";
import { setLogger } from "../../src/logger.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { PostgresAgentRunner } from "../../src/runners/postgres.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "../runners/postgres-env.js";

// Readiness changes are logged with the database's error; keep the output readable.
beforeAll(() => setLogger({ info() {}, warn() {}, error() {} }));
afterAll(() => setLogger());

const servers: TestServer[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function serveHealth(runtime: CopilotRuntime, health: boolean | HealthHandler = true) {
  const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit", health });
  const server = await startServer({ fetch: handler });
  servers.push(server);
  const probe = async (path: "/healthz" | "/readyz") => {
    const response = await fetch(`${server.baseUrl}${path}`);
    expect(response.headers.get("cache-control")).toBe("no-store");
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { server, probe };
}

function runtimeWith(runner: CopilotRuntime["runner"]): CopilotRuntime {
  return new CopilotRuntime({ agents: {}, runner });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("/healthz and /readyz", () => {
  it("answer 200 with a stable body for a ready runner; /healthz stays 200 and /readyz turns 503 once drained", async () => {
    const health = createHealthHandler({ runtime: runtimeWith(new InMemoryAgentRunner()) });
    const { probe } = await serveHealth(runtimeWith(new InMemoryAgentRunner()), health);
    expect(await probe("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await probe("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
    health.drain();
    expect(await probe("/readyz")).toEqual({ status: 503, body: { status: "unready", reason: "shutting_down", message: expect.any(String) } });
    expect(await probe("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("are not served unless asked for (the runtime's 404)", async () => {
    const handler = createCopilotRuntimeHandler({ runtime: runtimeWith(new InMemoryAgentRunner()), basePath: "/api/copilotkit" });
    expect((await handler(new Request("http://localhost/readyz"))).status).toBe(404);
  });

  it("answer 503 check_timeout when the runner's check hangs, and do not pile up checks", async () => {
    let checks = 0;
    const runner = new InMemoryAgentRunner();
    runner.checkReady = () => {
      checks++;
      return new Promise<void>(() => {});
    };
    const health = createHealthHandler({ runtime: runtimeWith(runner), timeoutMs: 100 });
    const { probe } = await serveHealth(runtimeWith(runner), health);
    const answers = await Promise.all([probe("/readyz"), probe("/readyz"), probe("/readyz")]);
    for (const answer of answers) expect(answer).toEqual({ status: 503, body: { status: "unready", reason: "check_timeout", message: expect.any(String) } });
    expect(await probe("/readyz")).toMatchObject({ status: 503 });
    expect(checks).toBe(1); // the hung check is shared, not repeated per probe
  });

  it("follow a SQLite runner: ready once migrated, unready once closed", async () => {
    const runner = new SqliteAgentRunner({ path: ":memory:" });
    const { probe } = await serveHealth(runtimeWith(runner));
    expect(await probe("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
    await runner.close();
    expect(await probe("/readyz")).toMatchObject({ status: 503, body: { status: "unready", reason: "runner_unavailable" } });
    expect(await probe("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("run extra checks after the runner, reporting a failed one's own reason; work without a runtime", async () => {
    let storeUp = true;
    const checks = [
      {
        reason: "intelligence_unavailable",
        message: "The platform's store is down.",
        check: async () => {
          if (!storeUp) throw new Error("store closed");
        },
      },
    ];
    const health = createHealthHandler({ runtime: runtimeWith(new InMemoryAgentRunner()), checks });
    const { probe } = await serveHealth(runtimeWith(new InMemoryAgentRunner()), health);
    expect(await probe("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
    storeUp = false;
    expect(await probe("/readyz")).toEqual({ status: 503, body: { status: "unready", reason: "intelligence_unavailable", message: "The platform's store is down." } });
    storeUp = true;
    expect((await probe("/readyz")).status).toBe(200);

    const alone = createHealthHandler({ checks });
    expect(await alone.check()).toEqual({ status: "ready" });
    storeUp = false;
    expect(await alone.check()).toMatchObject({ status: "unready", reason: "intelligence_unavailable" });
    alone.drain();
    expect(await alone.check()).toMatchObject({ status: "unready", reason: "shutting_down" });
  });
});

const url = await findPostgres();
if (requirePostgres(url, "/readyz with PostgreSQL")) {
  describe("/readyz with PostgreSQL", () => {
    const schema = uniqueSchema();
    afterAll(() => dropSchema(url, schema));

    it("is 503 runner_unavailable while the database is unreachable (a closed port), 200 with the real one", async () => {
      const port = await closedPort();
      const unreachable = new PostgresAgentRunner({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, schema });
      cleanups.push(() => unreachable.close());
      const down = await serveHealth(runtimeWith(unreachable));
      expect(await down.probe("/readyz")).toEqual({
        status: 503,
        body: { status: "unready", reason: "runner_unavailable", message: expect.stringContaining("database") },
      });
      expect(await down.probe("/healthz")).toEqual({ status: 200, body: { status: "ok" } });

      const reachable = new PostgresAgentRunner({ connectionString: url, schema });
      cleanups.push(() => reachable.close());
      const up = await serveHealth(runtimeWith(reachable));
      expect(await up.probe("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
    });

    it("goes unready when the database stops answering and ready again when it is back (through a TCP proxy)", async () => {
      const target = new URL(url);
      const proxy = await startProxy(Number(target.port || 5432), target.hostname);
      cleanups.push(() => proxy.stop());
      const proxied = new URL(url);
      proxied.port = String(proxy.port);
      const runner = new PostgresAgentRunner({ connectionString: proxied.toString(), schema });
      cleanups.push(() => runner.close());
      const { probe } = await serveHealth(runtimeWith(runner));
      expect(await probe("/readyz")).toEqual({ status: 200, body: { status: "ready" } });

      await proxy.stop(); // refuses new connections and cuts the pool's open ones
      expect(await probe("/readyz")).toMatchObject({ status: 503, body: { status: "unready", reason: "runner_unavailable" } });
      expect(await probe("/healthz")).toEqual({ status: 200, body: { status: "ok" } });

      await proxy.start();
      let answer = await probe("/readyz");
      for (let i = 0; i < 20 && answer.status !== 200; i++) answer = await probe("/readyz");
      expect(answer).toEqual({ status: 200, body: { status: "ready" } });
    });
  });
}

/** A TCP proxy on a fixed port that can be stopped (cutting every connection) and started again. */
async function startProxy(targetPort: number, targetHost: string) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;
  const { connect } = await import("node:net");
  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = async () => {
    if (server === undefined) return;
    const closing = new Promise((resolve) => server!.close(resolve));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closing;
    server = undefined;
  };
  await start();
  return {
    get port() {
      return port;
    },
    start,
    stop,
  };
}
