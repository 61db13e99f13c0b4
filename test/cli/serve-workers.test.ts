/**
 * `copilot-runtime serve --workers N`, as a process: every worker serves the one port, a run
 * started on one worker is followed, stopped and resumed through another (SQLite file and
 * PostgreSQL), a worker killed with SIGKILL is replaced, SIGTERM stops them all, and threads in
 * memory refuse several workers. Which worker answered is read from the access log (`pid`,
 * `worker`, `requestId` = the response's `X-Request-Id`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchFresh, postFresh } from "../helpers/fresh-connection.js";
import { REDIS_URL, findRedis } from "../helpers/redis.js";
import { dropSchema, findPostgres, uniqueSchema } from "../runners/postgres-env.js";
import { eventsOf } from "../runners/support.js";
import { parsePrometheusText } from "../observability/prom-text.js";
import { killAllClis, runCliToExit, startCli, type RunningCli } from "./helpers/cli-process.js";
import { FrameReader, types } from "../helpers/sse.js";
import { runBody, uid } from "../helpers/inputs.js";

interface AccessLine {
  pid: number;
  worker: number;
  requestId: string;
  route: string;
}

function accessLines(cli: RunningCli): AccessLine[] {
  return cli
    .rawOutput()
    .split("\n")
    .filter((line) => line.startsWith("{") && line.includes('"requestId"'))
    .map((line) => JSON.parse(line) as AccessLine);
}

/** The worker that answered a request: its `X-Copilot-Runtime-Worker` header, checked against its access line when that is written. */
async function servedBy(response: Response): Promise<number> {
  const worker = Number(response.headers.get("x-copilot-runtime-worker"));
  expect([1, 2]).toContain(worker);
  return worker;
}

/** The pid of the worker whose access line has this request's id (a stream's line is written when it ends). */
async function pidOf(cli: RunningCli, response: Response): Promise<number> {
  const requestId = response.headers.get("x-request-id");
  expect(requestId).toBeTruthy();
  for (let i = 0; i < 200; i++) {
    const line = accessLines(cli).find((entry) => entry.requestId === requestId);
    if (line !== undefined) {
      expect(String(line.worker)).toBe(response.headers.get("x-copilot-runtime-worker"));
      return line.pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no access line for request ${requestId}`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts a long demo run; returns its stream and the pid of the worker that owns it. */
async function startRun(cli: RunningCli, thread: string) {
  const response = await postFresh(`${cli.url}/agent/default/run`, runBody(thread, { text: "tell me something long" }));
  expect(response.status).toBe(200);
  const reader = new FrameReader(response);
  await reader.take(3);
  return { reader, owner: await servedBy(response) };
}

/** Sends `send` on fresh connections until another worker than `owner` answers it; the answers that reached `owner` are returned too. */
async function onAnotherWorker(cli: RunningCli, owner: number, send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const response = await send();
    if ((await servedBy(response)) !== owner) return response;
    await response.body?.cancel();
  }
  throw new Error("every request reached the run's own worker");
}

/** The follow, stop and resume checks, against a server with two workers on a shared store. */
function crossWorkerSuite(start: () => Promise<RunningCli>) {
  let cli: RunningCli;
  beforeAll(async () => {
    cli = await start();
  }, 120_000);
  afterAll(() => killAllClis());

  it("spreads runs over both workers through the one port", async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const response = await postFresh(`${cli.url}/agent/default/run`, runBody(uid("spread")));
      await response.text();
      pids.add(await pidOf(cli, response));
    }
    expect(pids.size).toBe(2);
    expect(cli.output()).toMatch(/worker 1 \(pid \d+\) is listening/);
    expect(cli.output()).toMatch(/worker 2 \(pid \d+\) is listening/);
  });

  it("follows a run through the other worker: the same frames, ending where the run ends", async () => {
    const thread = uid("follow");
    const { reader, owner } = await startRun(cli, thread);
    const follower = new FrameReader(await onAnotherWorker(cli, owner, () => postFresh(`${cli.url}/agent/default/connect`, runBody(thread, { messages: [] }))));
    const [ownerFrames, followerFrames] = await Promise.all([reader.rest(), follower.rest()]);
    expect(types(eventsOf(ownerFrames)).at(-1)).toBe("RUN_FINISHED");
    expect(followerFrames.map((f) => [f.id, f.event])).toEqual(ownerFrames.map((f) => [f.id, f.event]));
  });

  it("stops a run through the other worker", async () => {
    const unstopped = startRun(cli, uid("unstopped")).then(({ reader }) => reader.rest());
    const thread = uid("stop");
    const { reader, owner } = await startRun(cli, thread);
    const stop = await onAnotherWorker(cli, owner, () => postFresh(`${cli.url}/agent/default/stop/${thread}`, {}));
    expect(stop.status).toBe(200);
    const events = eventsOf(await reader.rest());
    expect(types(events).at(-1)).toBe("RUN_FINISHED");
    // Cut short: fewer words than the same reply left to run.
    const words = (list: typeof events) => list.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length;
    expect(words(events)).toBeLessThan(words(eventsOf(await unstopped)));
  });

  it("resumes after Last-Event-ID through the other worker once the run ended", async () => {
    const thread = uid("resume");
    const { reader, owner } = await startRun(cli, thread);
    const all = await reader.rest();
    const after = all[4].id!;
    const resumed = new FrameReader(
      await onAnotherWorker(cli, owner, () => postFresh(`${cli.url}/agent/default/connect`, runBody(thread, { messages: [] }), { "last-event-id": String(after) })),
    );
    const frames = await resumed.rest();
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((f) => f.id === undefined || f.id > after)).toBe(true);
    expect(types(eventsOf(frames)).at(-1)).toBe("RUN_FINISHED");
  });
}

describe("serve --workers 2 on a SQLite file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cr-workers-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  crossWorkerSuite(() => startCli(["--workers", "2", "--db", path.join(dir, "threads.db"), "--log-format", "json"]));
});

const postgresUrl = await findPostgres();
describe.skipIf(postgresUrl === undefined && process.env.CI !== "true")("serve --workers 2 on PostgreSQL", () => {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(postgresUrl!, schema));
  crossWorkerSuite(async () => {
    if (postgresUrl === undefined) throw new Error("PostgreSQL is unreachable; CI=true requires these tests to run.");
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.end();
    const url = new URL(postgresUrl);
    url.searchParams.set("options", `-c search_path=${schema}`);
    return startCli(["--workers", "2", "--db", url.toString(), "--log-format", "json"]);
  });
});

describe("serve --workers: supervision", () => {
  afterEach(() => killAllClis());
  const dir = mkdtempSync(path.join(tmpdir(), "cr-workers-life-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("replaces a worker killed with SIGKILL, and SIGTERM stops the primary and every worker", async () => {
    const cli = await startCli(["--workers", "2", "--db", path.join(dir, "life.db"), "--log-format", "json"]);
    const workerPids = () => [...cli.output().matchAll(/worker \d \(pid (\d+)\) is listening/g)].map((m) => Number(m[1]));
    const [first, second] = workerPids();
    process.kill(first, "SIGKILL");
    await waitUntil(() => workerPids().length === 3, "a new worker to listen");
    expect(cli.output()).toMatch(new RegExp(`worker \\d \\(pid ${first}\\) exited \\(signal SIGKILL\\); starting a new one in \\d+ ms`));
    const replacement = workerPids()[2];
    // The port keeps answering, from both the survivor and the replacement.
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const response = await fetchFresh(`${cli.url}/info`);
      expect(response.status).toBe(200);
      await response.text();
      pids.add(await pidOf(cli, response));
    }
    expect([...pids].sort()).toEqual([second, replacement].sort());

    const exited = new Promise<number | null>((resolve) => cli.child.once("exit", (code) => resolve(code)));
    cli.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await waitUntil(() => !alive(second) && !alive(replacement), "every worker to exit", 15_000);
    expect(cli.output()).toContain("every worker has stopped");
  }, 120_000);

  it("--metrics-port: the primary answers /metrics with every worker's series, labelled by worker", async () => {
    const cli = await startCli(["--workers", "2", "--db", path.join(dir, "metrics.db"), "--log-format", "json", "--metrics-port", "0"]);
    await waitUntil(() => /metrics: (http:\/\/\S+)\/metrics/.test(cli.output()), "the metrics line");
    const metricsOrigin = /metrics: (http:\/\/\S+)\/metrics/.exec(cli.output())![1];
    const answeredBy = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const response = await fetchFresh(`${cli.url}/info`);
      await response.text();
      answeredBy.add(response.headers.get("x-copilot-runtime-worker")!);
    }
    expect(answeredBy.size).toBe(2);
    const scrape = parsePrometheusText(await (await fetch(`${metricsOrigin}/metrics`)).text());
    const info = { route: "info", method: "GET", status: "200" };
    expect(scrape.sum("copilot_runtime_http_requests_total", info)).toBe(6);
    expect(scrape.value("copilot_runtime_http_requests_total", { ...info, worker: "1" })).toBeGreaterThan(0);
    expect(scrape.value("copilot_runtime_http_requests_total", { ...info, worker: "2" })).toBeGreaterThan(0);
    const ready = await fetch(`${metricsOrigin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ workers: { listening: 2, configured: 2 } });
  }, 60_000);

  it("refuses several workers with threads in memory, and runs one with a line that says why", async () => {
    const refused = await runCliToExit(["--memory", "--workers", "3"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--workers 3 needs threads every worker can reach");
    const single = await startCli(["--memory"]);
    expect(single.output()).toContain("workers: 1 (threads in memory (--memory, or a :memory: database) cannot be shared between processes)");
  }, 60_000);
});

const redisUrl = REDIS_URL;
const redisUp = await findRedis();
if (!redisUp && process.env.CI !== "true") console.warn(`\n*** Redis is unreachable at ${redisUrl}: SKIPPING serve --bus. Set CI=true to make this a failure. ***\n`);

describe.skipIf((!redisUp || postgresUrl === undefined) && process.env.CI !== "true")("serve --bus redis:// (two instances on one PostgreSQL)", () => {
  const schema = uniqueSchema();
  const clis: RunningCli[] = [];
  beforeAll(async () => {
    if (!redisUp || postgresUrl === undefined) throw new Error("Redis and PostgreSQL are required (CI=true).");
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.end();
    const url = new URL(postgresUrl);
    url.searchParams.set("options", `-c search_path=${schema}`);
    for (let i = 0; i < 2; i++) clis.push(await startCli(["--workers", "1", "--db", url.toString(), "--bus", redisUrl, "--log-format", "json"]));
  }, 120_000);
  afterAll(async () => {
    killAllClis();
    if (postgresUrl !== undefined) await dropSchema(postgresUrl, schema);
  });

  it("says which bus it uses, and a run on one instance is followed and stopped through the other", async () => {
    const [a, b] = clis;
    expect(a.output()).toContain(`live bus: Redis ${redisUrl}`);
    const thread = uid("bus-follow");
    const owner = new FrameReader(await postFresh(`${a.url}/agent/default/run`, runBody(thread, { text: "tell me something long" })));
    await owner.take(3);
    const follower = new FrameReader(await postFresh(`${b.url}/agent/default/connect`, runBody(thread, { messages: [] })));
    await follower.take(3);
    expect((await postFresh(`${b.url}/agent/default/stop/${thread}`, {})).status).toBe(200);
    const ownerFrames = await owner.rest();
    expect(types(eventsOf(ownerFrames)).at(-1)).toBe("RUN_FINISHED");
    expect((await follower.rest()).map((f) => [f.id, f.event])).toEqual(ownerFrames.map((f) => [f.id, f.event]));
  }, 60_000);

  it("runs on a NATS bus the same way (--bus nats://)", async () => {
    const natsUrl = process.env.COPILOT_RUNTIME_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
    const url = new URL(postgresUrl!);
    url.searchParams.set("options", `-c search_path=${schema}`);
    const [a, b] = [
      await startCli(["--workers", "1", "--db", url.toString(), "--bus", natsUrl, "--log-format", "json"]),
      await startCli(["--workers", "1", "--db", url.toString(), "--bus", natsUrl, "--log-format", "json"]),
    ];
    expect(a.output()).toContain(`live bus: NATS ${natsUrl}`);
    const thread = uid("nats-follow");
    const owner = new FrameReader(await postFresh(`${a.url}/agent/default/run`, runBody(thread, { text: "tell me something long" })));
    await owner.take(3);
    const follower = new FrameReader(await postFresh(`${b.url}/agent/default/connect`, runBody(thread, { messages: [] })));
    await follower.take(3);
    expect((await postFresh(`${b.url}/agent/default/stop/${thread}`, {})).status).toBe(200);
    const ownerFrames = await owner.rest();
    expect((await follower.rest()).map((f) => [f.id, f.event])).toEqual(ownerFrames.map((f) => [f.id, f.event]));
  }, 90_000);

  it("stops the start (exit 1) when the --bus Redis does not answer", async () => {
    const unreachable = "redis://127.0.0.1:1";
    const failed = await runCliToExit(["--workers", "1", "--db", postgresUrl!, "--bus", unreachable]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`--bus ${unreachable}: cannot reach Redis`);
  }, 30_000);

  it("refuses --bus with threads in memory", async () => {
    const refused = await runCliToExit(["--memory", "--bus", redisUrl]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--bus carries wake-ups between instances that share a database, but threads are kept in memory");
  }, 30_000);
});
