// `node bench/durable.mjs [--quick] [--json out.json]`: the durable runners (SQLite, PostgreSQL)
// against the in-memory runner, through the runtime's fetch handler (routing, runner, SSE
// encoding, reading the whole body; no sockets, so the runner's cost is what differs).
//
//   run starts/s   POST /agent/default/run of a tiny reply (3 deltas) on a new thread each time,
//                  one at a time and 32 at a time
//   events/s       one run of N text deltas: all in one synchronous burst (worst case for a
//                  store), 100 per macrotask (bench/run.mjs's "firehose" pacing), or one per
//                  event-loop turn ("trickle", a model streaming tokens); and 8 trickling runs at once
//   replay         POST /connect of a stored thread of 1,000 events (one run, and 50 runs of 20)
//                  to the last byte, on a freshly started runner (nothing cached), median of reps
//
// Needs a build (npx tsup). PostgreSQL: 127.0.0.1:5432 database `test` (or BENCH_DATABASE_URL);
// skipped when unreachable. Each runner gets a fresh database (temp file / fresh schema).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { CopilotRuntime, InMemoryAgentRunner, createCopilotRuntimeHandler, setLogger } from "../dist/index.js";
import { PostgresAgentRunner } from "../dist/postgres.js";
import { SqliteAgentRunner } from "../dist/sqlite.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const jsonOut = args.includes("--json") ? args[args.indexOf("--json") + 1] : undefined;
const SIZES = quick
  ? { serialStarts: 200, concurrentStarts: 320, events: 5_000, parallelEvents: 1_000, replayReps: 10 }
  : { serialStarts: 1_000, concurrentStarts: 3_200, events: 20_000, parallelEvents: 5_000, replayReps: 30 };

setLogger({ info() {}, warn() {}, error() {} });

/** A dependency-free AG-UI agent: one text reply of `deltas` deltas, in a burst or one per turn. */
class BenchAgent {
  constructor(options) {
    this.options = options;
  }
  clone() {
    return new BenchAgent(this.options);
  }
  run(input) {
    const { deltas, mode } = this.options;
    const messageId = `m-${input.runId}`;
    return {
      subscribe: (observer) => {
        let cancelled = false;
        let i = -2;
        const total = deltas();
        const next = () => {
          if (i === -2) observer.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
          else if (i === -1) observer.next({ type: "TEXT_MESSAGE_START", messageId, role: "assistant" });
          else if (i < total) observer.next({ type: "TEXT_MESSAGE_CONTENT", messageId, delta: ` tok${i}` });
          else if (i === total) observer.next({ type: "TEXT_MESSAGE_END", messageId });
          else {
            observer.next({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
            observer.complete();
            return false;
          }
          i++;
          return true;
        };
        if (mode === "burst") {
          while (next());
        } else if (mode === "firehose") {
          const step = () => {
            for (let n = 0; n < 100; n++) if (cancelled || !next()) return;
            setImmediate(step);
          };
          step();
        } else {
          const step = () => !cancelled && next() && setImmediate(step);
          setImmediate(step);
        }
        return { unsubscribe: () => (cancelled = true) };
      },
    };
  }
}

function client(runner) {
  let deltas = 3;
  let mode = "burst";
  const agent = new BenchAgent({ deltas: () => deltas, get mode() { return mode; } });
  const runtime = new CopilotRuntime({ runner, agents: { default: agent } });
  const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api" });
  let n = 0;
  const post = async (route, threadId, extra = {}) => {
    const response = await handler(
      new Request(`http://bench/api/agent/default/${route}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          threadId,
          runId: `r${n++}`,
          messages: route === "run" ? [{ id: `u${n}`, role: "user", content: "go" }] : [],
          tools: [],
          context: [],
          ...extra,
        }),
      }),
    );
    if (response.status !== 200) throw new Error(`${route} ${threadId}: HTTP ${response.status} ${await response.text()}`);
    const body = await response.text();
    if (!body.includes(route === "run" ? "RUN_FINISHED" : "data:")) throw new Error(`${route} ${threadId}: no terminal event`);
    return body;
  };
  return {
    set: (next) => ({ deltas, mode } = { deltas, mode, ...next }),
    run: (threadId) => post("run", threadId),
    connect: (threadId) => post("connect", threadId),
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const since = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const now = () => process.hrtime.bigint();

async function measure(kind, open) {
  const out = {};
  let runner = await open();
  let c = client(runner);
  const tag = `${kind}-${process.pid}`;

  // warm-up: JIT, prepared statements, pool connections
  c.set({ deltas: 3, mode: "burst" });
  for (let i = 0; i < 50; i++) await c.run(`${tag}-warm-${i}`);

  let start = now();
  for (let i = 0; i < SIZES.serialStarts; i++) await c.run(`${tag}-s-${i}`);
  out.startsPerSecSerial = (SIZES.serialStarts / since(start)) * 1000;

  start = now();
  let next = 0;
  const worker = async () => {
    while (next < SIZES.concurrentStarts) await c.run(`${tag}-c-${next++}`);
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  out.startsPerSecConcurrent32 = (SIZES.concurrentStarts / since(start)) * 1000;

  for (const mode of ["burst", "firehose", "trickle"]) {
    c.set({ deltas: SIZES.events, mode });
    start = now();
    await c.run(`${tag}-ev-${mode}`);
    out[`eventsPerSec_${mode}`] = ((SIZES.events + 4) / since(start)) * 1000;
  }
  c.set({ deltas: SIZES.parallelEvents, mode: "trickle" });
  start = now();
  await Promise.all(Array.from({ length: 8 }, (_, i) => c.run(`${tag}-par-${i}`)));
  out.eventsPerSec_trickle_8runs = ((8 * (SIZES.parallelEvents + 4)) / since(start)) * 1000;

  // Threads to replay: 1,000 events in one run (996 deltas + 4), and 50 runs of 20 events.
  c.set({ deltas: 996, mode: "trickle" });
  await c.run(`${tag}-replay-1`);
  c.set({ deltas: 16, mode: "burst" });
  for (let i = 0; i < 50; i++) await c.run(`${tag}-replay-50`);

  if (kind !== "in-memory") {
    // From storage: a new runner (as after a restart) has nothing of these threads in memory.
    await runner.close();
    runner = await open();
    c = client(runner);
  }
  for (const [name, thread] of [
    ["replay1000_1run_ms", `${tag}-replay-1`],
    ["replay1000_50runs_ms", `${tag}-replay-50`],
  ]) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < SIZES.replayReps; i++) {
      start = now();
      bytes = (await c.connect(thread)).length;
      times.push(since(start));
    }
    out[name] = median(times);
    out[`${name}_first`] = times[0];
    out[`${name.replace("_ms", "")}_bytes`] = bytes;
  }
  await runner.close?.();
  return out;
}

async function findPostgres() {
  for (const url of [process.env.BENCH_DATABASE_URL, "postgres://postgres@127.0.0.1:5432/test", "postgres://root@127.0.0.1:5432/test"]) {
    if (!url) continue;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.end();
      return url;
    } catch {
      await c.end().catch(() => {});
    }
  }
  return undefined;
}

const results = {};
results["in-memory"] = await measure("in-memory", async () => new InMemoryAgentRunner({ maxThreads: 100_000 }));

const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-bench-"));
try {
  const file = path.join(dir, "bench.db");
  results.sqlite = await measure("sqlite", async () => {
    const runner = new SqliteAgentRunner({ path: file });
    await runner.ready();
    return runner;
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const url = await findPostgres();
if (url) {
  const schema = `cr_bench_${process.pid}`;
  try {
    results.postgres = await measure("postgres", async () => {
      const runner = new PostgresAgentRunner({ connectionString: url, schema });
      await runner.ready();
      return runner;
    });
  } finally {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
} else {
  console.warn("PostgreSQL unreachable: skipped");
}

const rows = [
  ["run starts/s, one at a time", "startsPerSecSerial", "rate"],
  ["run starts/s, 32 at a time", "startsPerSecConcurrent32", "rate"],
  [`events/s, 1 run x ${SIZES.events}, burst`, "eventsPerSec_burst", "rate"],
  [`events/s, 1 run x ${SIZES.events}, firehose (100/turn)`, "eventsPerSec_firehose", "rate"],
  [`events/s, 1 run x ${SIZES.events}, trickle`, "eventsPerSec_trickle", "rate"],
  [`events/s, 8 runs x ${SIZES.parallelEvents}, trickle`, "eventsPerSec_trickle_8runs", "rate"],
  ["replay 1,000 events (1 run), ms median", "replay1000_1run_ms", "ms"],
  ["replay 1,000 events (50 runs), ms median", "replay1000_50runs_ms", "ms"],
  ["replay 1,000 events (1 run), ms first", "replay1000_1run_ms_first", "ms"],
];
const kinds = Object.keys(results);
const fmt = (value, unit) => (unit === "rate" ? Math.round(value).toLocaleString("en-US") : value.toFixed(2));
console.log(`node ${process.version}, ${quick ? "quick" : "full"} sizes\n`);
console.log(["metric", ...kinds.flatMap((k) => (k === "in-memory" ? [k] : [k, `${k}/mem`]))].join(" | "));
for (const [label, key, unit] of rows) {
  const base = results["in-memory"][key];
  console.log(
    [label, ...kinds.flatMap((k) => (k === "in-memory" ? [fmt(results[k][key], unit)] : [fmt(results[k][key], unit), unit === "rate" ? `${Math.round((results[k][key] / base) * 100)}%` : ""]))].join(" | "),
  );
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ node: process.version, sizes: SIZES, results }, null, 2));
