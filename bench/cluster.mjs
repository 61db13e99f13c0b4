// `node bench/cluster.mjs [--quick] [--phases follow,idle,workers] [--json out.json]`: several
// instances and workers (needs a build: npx tsup; PostgreSQL at 127.0.0.1:5432 db `test` or
// BENCH_DATABASE_URL; Redis at 127.0.0.1:6379 or REDIS_URL for the Redis rows).
//
//   follow   cross-instance follow latency: a run on instance A paces 300 unique deltas 5 ms apart;
//            one client follows it on A (the owner) and one on B; per delta, B's arrival minus A's
//            (p50/p99), with LISTEN/NOTIFY, Redis and NATS.
//   idle     cost of 100 idle remote followers: an `idle` run on A, 100 clients following it on B;
//            B's CPU and PostgreSQL queries per second over 10 s, with LISTEN/NOTIFY, Redis, NATS and
//            polling (no bus, the 100 ms default) as the baseline.
//   workers  runs/s through one port: `copilot-runtime serve --workers 1` vs `--workers N` (N = cores),
//            short runs (~50 events) on new threads, 32 at a time over 32 keep-alive connections,
//            on a SQLite file and on PostgreSQL (and in memory, one process, as the baseline).
import { spawn } from "node:child_process";
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { BENCH_DIR, REPO_DIR, requireFromRepo } from "./lib/paths.mjs";
import { postSse, runInput } from "./lib/sse-client.mjs";

const pg = requireFromRepo("pg");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const phases = (args.includes("--phases") ? args[args.indexOf("--phases") + 1] : "follow,idle,workers").split(",");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const results = {};
const children = [];
process.on("exit", () => children.forEach((child) => child.kill("SIGKILL")));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function sql(text) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function spawnUntil(command, argv, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: BENCH_DIR, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let output = "";
    const onData = (chunk) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match) resolve({ child, match, output: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`${argv.join(" ")} exited (${code}):\n${output}`)));
  });
}

async function startInstance(bus, schema) {
  const { child, match } = await spawnUntil(process.execPath, ["cluster-server.mjs"], { BUS: bus, SCHEMA: schema, DATABASE_URL, REDIS_URL, NATS_URL }, /LISTENING (\d+)/);
  const origin = `http://127.0.0.1:${match[1]}`;
  return { child, origin, url: `${origin}/api/copilotkit`, stats: async () => (await fetch(`${origin}/__bench/stats`)).json() };
}

async function withInstances(bus, count, body) {
  const schema = `bench_cluster_${process.pid}_${bus}`;
  const instances = [];
  try {
    for (let i = 0; i < count; i++) instances.push(await startInstance(bus, schema));
    return await body(instances);
  } finally {
    for (const instance of instances) instance.child.kill("SIGKILL");
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

async function redisUp() {
  const { Redis } = requireFromRepo("ioredis");
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
async function natsUp() {
  const { hostname, port } = new URL(NATS_URL);
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: hostname, port: Number(port) });
    socket.once("connect", () => (socket.end(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

const buses = ["notify"];
if (await redisUp()) buses.push("redis");
else console.warn(`Redis unreachable at ${REDIS_URL}: Redis rows skipped`);
if (await natsUp()) buses.push("nats");
else console.warn(`NATS unreachable at ${NATS_URL}: NATS rows skipped`);

async function followPhase() {
  const rows = [];
  for (const bus of buses) {
    const lags = await withInstances(bus, 2, async ([a, b]) => {
      const all = [];
      for (let round = 0; round < (quick ? 1 : 3); round++) {
        const threadId = `follow-${bus}-${round}-${Date.now()}`;
        const run = postSse(`${a.url}/agent/paced/run`, runInput(threadId, { events: 300, delayMs: 5, startMs: 800 }));
        await sleep(200);
        const arrivals = [new Map(), new Map()];
        const follow = (instance, index) =>
          postSse(`${instance.url}/agent/paced/connect`, runInput(threadId), {
            onEvent: (event) => {
              if (event.type === "TEXT_MESSAGE_CONTENT") arrivals[index].set(event.delta, performance.now());
            },
          });
        await Promise.all([run, follow(a, 0), follow(b, 1)]);
        for (const [delta, at] of arrivals[1]) {
          const ownerAt = arrivals[0].get(delta);
          if (ownerAt !== undefined) all.push(at - ownerAt);
        }
      }
      return all;
    });
    rows.push({ bus, events: lags.length, p50: percentile(lags, 50), p99: percentile(lags, 99) });
  }
  results.follow = rows;
  console.log("\ncross-instance follow: remote follower (B) behind the owner's own follower (A), per event");
  console.table(rows.map((r) => ({ bus: r.bus, events: r.events, "p50 ms": r.p50.toFixed(2), "p99 ms": r.p99.toFixed(2) })));
}

async function idlePhase() {
  const rows = [];
  const seconds = quick ? 5 : 10;
  for (const bus of [...buses, "poll"]) {
    const row = await withInstances(bus, 2, async ([a, b]) => {
      const threadId = `idle-${bus}-${Date.now()}`;
      const controller = new AbortController();
      setMaxListeners(200, controller.signal);
      const run = postSse(`${a.url}/agent/idle/run`, runInput(threadId), { signal: controller.signal });
      await sleep(300);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
      const followers = [];
      for (let i = 0; i < 100; i++) followers.push(postSse(`${b.url}/agent/idle/connect`, runInput(threadId), { agent, signal: controller.signal }));
      await sleep(2_000); // every follower attached
      const before = await b.stats();
      const t0 = performance.now();
      await sleep(seconds * 1_000);
      const after = await b.stats();
      const elapsed = (performance.now() - t0) / 1_000;
      await fetch(`${a.url}/agent/idle/stop/${threadId}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      await Promise.allSettled([run, ...followers]);
      controller.abort();
      agent.destroy();
      const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1_000;
      return { bus, "B CPU ms/s": (cpuMs / elapsed).toFixed(2), "B queries/s": ((after.queries - before.queries) / elapsed).toFixed(1) };
    });
    rows.push(row);
  }
  results.idle = rows;
  console.log(`\n100 idle remote followers on B of a run on A, over ${seconds} s`);
  console.table(rows);
}

async function runsPerSecond(url, total, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let started = 0;
  let failed = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (started < total) {
      const i = started++;
      const result = await postSse(`${url}/agent/default/run`, runInput(`w-${process.pid}-${Date.now()}-${i}`), { agent });
      if (result.status !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { perSecond: total / ((performance.now() - t0) / 1_000), failed };
}

function freePort() {
  return new Promise((resolve) => {
    const server = http.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** /readyz answers 200 on 4 x workers fresh connections in a row (the cluster hands them round). */
async function readyOnEveryWorker(url, workers) {
  for (let ok = 0, tries = 0; ok < 4 * workers; tries++) {
    if (tries > 600) throw new Error(`${url} never became ready`);
    const status = await new Promise((resolve) => {
      http.get(url, { agent: false }, (res) => resolve(res.statusCode)).on("error", () => resolve(0)).end?.();
    });
    ok = status === 200 ? ok + 1 : 0;
    if (status !== 200) await sleep(100);
  }
}

async function workersPhase() {
  const cores = availableParallelism();
  const total = quick ? 400 : 2_000;
  const rows = [];
  const dir = mkdtempSync(path.join(tmpdir(), "bench-workers-"));
  try {
    for (const store of ["memory", "sqlite", "postgres"]) {
      // Threads in memory cannot be shared between workers: the one-process baseline only.
      for (const workers of store === "memory" ? [1] : [...new Set([1, cores])]) {
        const schema = `bench_workers_${process.pid}_${workers}`;
        let db = path.join(dir, `w${workers}.db`);
        const storage = store === "memory" ? ["--memory"] : ["--db", db];
        if (store === "postgres") {
          await sql(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
          const url = new URL(DATABASE_URL);
          url.searchParams.set("options", `-c search_path=${schema}`);
          db = url.toString();
          storage[1] = db;
        }
        const cli = path.join(REPO_DIR, "dist", "cli", "main.js");
        const port = await freePort();
        const child = spawn(
          process.execPath,
          [cli, "serve", "--port", String(port), "--host", "127.0.0.1", "--workers", String(workers), ...storage, "--config", "cluster-config.mjs", "--log-level", "warn", "--no-metrics"],
          { cwd: BENCH_DIR, stdio: ["ignore", "ignore", "inherit"] },
        );
        children.push(child);
        const url = `http://127.0.0.1:${port}/api/copilotkit`;
        await readyOnEveryWorker(`http://127.0.0.1:${port}/readyz`, workers);
        try {
          await runsPerSecond(url, 100, 32); // warm-up
          const { perSecond, failed } = await runsPerSecond(url, total, 32);
          rows.push({ store, workers, "runs/s": perSecond.toFixed(0), failed });
        } finally {
          child.kill("SIGTERM");
          await new Promise((resolve) => child.once("exit", resolve));
          if (store === "postgres") await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  results.workers = rows;
  console.log(`\nruns/s through one port (${total} short runs of ~50 events, 32 at a time), ${cores} cores`);
  console.table(rows);
}

if (phases.includes("follow")) await followPhase();
if (phases.includes("idle")) await idlePhase();
if (phases.includes("workers")) await workersPhase();
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
process.exit(0);
