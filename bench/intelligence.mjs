// Intelligence benchmarks (issue 14): our runtime in Intelligence mode -> our platform -> phoenix.js
// subscribers over WebSocket, against our runtime's own SSE path, in the same run and the same
// server process (`intelligence-server.mjs`, forked per phase). This process is the client.
//
//   node intelligence.mjs [--phases throughput,fanout,idle] [--events 20000] [--fanout-events 2000]
//                         [--subscribers 100] [--idle 1000] [--rounds 1] [--stores memory,sqlite]
//
// throughput  one run of N `stamped` deltas; events/s from sending POST /agent/stamped/run until the
//             subscriber has RUN_FINISHED, and the server's CPU per event. Intelligence: one phoenix.js
//             socket (WebSocket via `ws`) joined to thread:<id> in run mode with the run's join token.
//             SSE: the same agent through /agent/stamped/run on the plain runtime, read by node:http.
// fanout      one run of M deltas on one thread, held (gate) until 100 subscribers are in: 100 connect-mode
//             phoenix.js sockets vs 100 SSE /connect followers of the running run; deliveries/s in total
//             from opening the gate to the last RUN_FINISHED, and per-event lag (receive time minus the
//             agent's emit time, stamped in each delta) p50/p99 over all deliveries.
// idle        a fresh server per kind (--expose-gc): 20 warm-up clients, then 2 x N/2; RSS after forced
//             GCs before and after each batch; marginal RSS per client over the second batch.
//             WebSocket: a phoenix.js socket joined to one thread in connect mode (replay done, idle).
//             SSE: a POST /agent/idle/run stream held open (the agent emits RUN_STARTED and pauses).
import { fork } from "node:child_process";
import http from "node:http";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { requireFromRepo } from "./lib/paths.mjs";
import { postSse, runInput } from "./lib/sse-client.mjs";

const { Socket } = requireFromRepo("phoenix");
const { WebSocket } = requireFromRepo("ws");
const HERE = path.dirname(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const PHASES = flag("phases", "throughput,fanout,idle").split(",");
const EVENTS = Number(flag("events", 20_000));
const FANOUT_EVENTS = Number(flag("fanout-events", 2_000));
const SUBSCRIBERS = Number(flag("subscribers", 100));
const IDLE = Number(flag("idle", 1_000));
const ROUNDS = Number(flag("rounds", 1));
const STORES = flag("stores", "memory,sqlite").split(",");

// ---------------------------------------------------------------------------------------------
// The server process

async function startServer(store, { exposeGc = false } = {}) {
  const child = fork(path.join(HERE, "intelligence-server.mjs"), [store], { execArgv: exposeGc ? ["--expose-gc"] : [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting = [];
  child.on("message", (msg) => waiting.shift()?.(msg));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const info = await next();
  return {
    ...info,
    async ask(cmd) {
      const reply = next();
      child.send({ cmd });
      return reply;
    },
    async cpu() {
      return (await this.ask("cpu")).cpu;
    },
    async stop() {
      child.send({ cmd: "exit" });
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients

async function postJson(url, body) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-user": "bench" }, body: JSON.stringify(body) });
  const json = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * A phoenix.js socket over `ws` joined to `topic`. `onEvent(payload, now)` sees every ag_ui_event.
 * Resolves `joined` on the join reply; `finished` on RUN_FINISHED (run mode) or stream_idle (connect).
 */
function subscribe(clientWsUrl, joinToken, topic, params, onEvent = () => {}) {
  const socket = new Socket(clientWsUrl, { params: { join_token: joinToken }, transport: WebSocket, reconnectAfterMs: () => 1000, heartbeatIntervalMs: 30_000 });
  socket.connect();
  const channel = socket.channel(topic, params);
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  channel.on("ag_ui_event", (payload) => {
    const now = performance.timeOrigin + performance.now();
    onEvent(payload, now);
    if (payload.type === "RUN_FINISHED" || payload.type === "RUN_ERROR") finish();
  });
  channel.on("stream_idle", () => finish());
  const joined = new Promise((resolve, reject) => {
    channel.join(30_000).receive("ok", resolve).receive("error", (e) => reject(new Error(`join refused: ${JSON.stringify(e)}`))).receive("timeout", () => reject(new Error("join timed out")));
  });
  return { socket, channel, joined, finished, close: () => socket.disconnect() };
}

const progress = (what) => process.env.BENCH_VERBOSE && console.error(`${new Date().toISOString()} ${what}`);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

// ---------------------------------------------------------------------------------------------
// Phases

async function throughputIntelligence(server, events) {
  const threadId = `tp-${randomUUID()}`;
  const runId = randomUUID();
  const cpu0 = await server.cpu();
  const t0 = performance.now();
  const started = await postJson(`${server.intelligenceUrl}/agent/stamped/run`, runInput(threadId, { events }, runId));
  let count = 0;
  const sub = subscribe(server.clientWsUrl, started.joinToken, started.realtime?.topic ?? `thread:${threadId}`, { stream_mode: "run", run_id: started.runId ?? runId }, () => count++);
  await sub.joined;
  await sub.finished;
  const wall = performance.now() - t0;
  const cpu = (await server.cpu()) - cpu0;
  sub.close();
  return { count, wall, cpu };
}

async function throughputSse(server, events) {
  const cpu0 = await server.cpu();
  const t0 = performance.now();
  const result = await postSse(`${server.sseUrl}/agent/stamped/run`, runInput(`tp-${randomUUID()}`, { events }));
  const wall = performance.now() - t0;
  const cpu = (await server.cpu()) - cpu0;
  return { count: result.count, wall, cpu };
}

async function throughput(store) {
  const server = await startServer(store);
  const rows = [];
  try {
    // Warm-up: both paths once with a small run (JIT, connections, the platform's first thread).
    await throughputIntelligence(server, 500);
    await throughputSse(server, 500);
    for (let round = 0; round < ROUNDS; round++) {
      const ws = await throughputIntelligence(server, EVENTS);
      const sse = await throughputSse(server, EVENTS);
      rows.push({ store, round, ws, sse });
    }
  } finally {
    await server.stop();
  }
  return rows;
}

async function fanout() {
  const server = await startServer("memory");
  try {
    // Intelligence: one gated run, 100 run-mode sockets joined before its deltas flow.
    const threadId = `fan-${randomUUID()}`;
    const runId = randomUUID();
    const started = await postJson(`${server.intelligenceUrl}/agent/stamped/run`, runInput(threadId, { events: FANOUT_EVENTS, gate: true }, runId));
    const wsLags = [];
    let wsCount = 0;
    const subs = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      subs.push(
        // Connect mode: a run-mode join token carries one delivery cursor (a rejoin resumes after the
        // last event sent on it), so 100 sockets sharing one run token would share that cursor.
        subscribe(server.clientWsUrl, started.joinToken, started.realtime?.topic ?? `thread:${threadId}`, { stream_mode: "connect", last_seen_event_id: null }, (payload, now) => {
          wsCount++;
          if (payload.type === "TEXT_MESSAGE_CONTENT") wsLags.push(now - Number(payload.delta));
        }),
      );
    }
    await Promise.all(subs.map((s) => s.joined));
    progress("fanout: websocket subscribers joined");
    // Every subscriber has the run's first two events before the gate opens.
    while (wsCount < 2 * SUBSCRIBERS) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      progress(`fanout: ${wsCount} first events`);
    }
    wsCount = 0;
    let cpu0 = await server.cpu();
    let t0 = performance.now();
    await server.ask("open-gate");
    let finishedCount = 0;
    await Promise.all(subs.map((s) => s.finished.then(() => progress(`fanout: ${++finishedCount} finished, ${wsCount} deliveries`))));
    const ws = { wall: performance.now() - t0, cpu: (await server.cpu()) - cpu0, count: wsCount, lags: wsLags.sort((a, b) => a - b) };
    for (const s of subs) s.close();
    progress("fanout: websocket run done");

    // SSE: the same gated run on the plain runtime; 100 /connect followers of it.
    const sseThread = `fan-sse-${randomUUID()}`;
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const sseLags = [];
    let sseCount = 0;
    let firstEvents = 0;
    const runner = postSse(`${server.sseUrl}/agent/stamped/run`, runInput(sseThread, { events: FANOUT_EVENTS, gate: true }), { agent });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the run is registered before anyone connects
    const followers = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      let seen = 0;
      followers.push(
        postSse(`${server.sseUrl}/agent/stamped/connect`, runInput(sseThread), {
          agent,
          onEvent: (event) => {
            if (++seen === 1) firstEvents++;
            sseCount++;
            if (event.type === "TEXT_MESSAGE_CONTENT") sseLags.push(performance.timeOrigin + performance.now() - Number(event.delta));
          },
        }),
      );
    }
    progress("fanout: SSE followers connecting");
    while (firstEvents < SUBSCRIBERS) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the replayed START frames have arrived too
    sseCount = 0;
    cpu0 = await server.cpu();
    t0 = performance.now();
    await server.ask("open-gate");
    await Promise.all(followers);
    const sse = { wall: performance.now() - t0, cpu: (await server.cpu()) - cpu0, count: sseCount, lags: sseLags.sort((a, b) => a - b) };
    await runner;
    agent.destroy();
    return { ws, sse };
  } finally {
    await server.stop();
  }
}

async function idleWebSockets() {
  const server = await startServer("memory", { exposeGc: true });
  const subs = [];
  try {
    const threadId = `idle-${randomUUID()}`;
    const started = await postJson(`${server.intelligenceUrl}/agent/stamped/run`, runInput(threadId, { events: 1 }));
    const done = subscribe(server.clientWsUrl, started.joinToken, started.realtime.topic, { stream_mode: "run", run_id: started.runId });
    await done.joined;
    await done.finished;
    done.close();
    const open = async (n) => {
      const batch = [];
      for (let i = 0; i < n; i++) batch.push(subscribe(server.clientWsUrl, started.joinToken, started.realtime.topic, { stream_mode: "connect", last_seen_event_id: null }));
      subs.push(...batch);
      await Promise.all(batch.map((s) => s.joined));
      await Promise.all(batch.map((s) => s.finished)); // replay + stream_idle: now idle
    };
    return await measureBatches(server, open);
  } finally {
    for (const s of subs) s.close();
    await server.stop();
  }
}

async function idleSse() {
  const server = await startServer("memory", { exposeGc: true });
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const controller = new AbortController();
  try {
    const open = async (n) => {
      const firsts = [];
      for (let i = 0; i < n; i++) {
        firsts.push(
          new Promise((resolve) => {
            postSse(`${server.sseUrl}/agent/idle/run`, runInput(`idle-${randomUUID()}`), { agent, signal: controller.signal, onEvent: resolve }).catch(() => {});
          }),
        );
      }
      await Promise.all(firsts);
    };
    return await measureBatches(server, open);
  } finally {
    controller.abort();
    agent.destroy();
    await server.stop();
  }
}

/** 20 warm-up clients, then two batches of IDLE/2; RSS (after forced GCs) before and after each. */
async function measureBatches(server, open) {
  const half = IDLE / 2;
  await open(20);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 500));
  await settle();
  const m0 = (await server.ask("mem")).mem;
  await open(half);
  await settle();
  const m1 = (await server.ask("mem")).mem;
  await open(half);
  await settle();
  const m2 = (await server.ask("mem")).mem;
  return {
    first: (m1.rss - m0.rss) / half,
    second: (m2.rss - m1.rss) / half,
    heapSecond: (m2.heapUsed - m1.heapUsed) / half,
  };
}

// ---------------------------------------------------------------------------------------------

const { loadavg, cpus } = await import("node:os");
console.log(`Intelligence benchmarks: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
const lines = [];
const row = (what, ws, sse, ratio = "") => {
  const line = `| ${what} | ${ws} | ${sse} | ${ratio} |`;
  lines.push(line);
  console.error(line);
};

if (PHASES.includes("throughput")) {
  for (const store of STORES) {
    for (const r of await throughput(store)) {
      const wsRate = r.ws.count / (r.ws.wall / 1000);
      const sseRate = r.sse.count / (r.sse.wall / 1000);
      row(`throughput, ${fmt(EVENTS)} deltas, platform on ${store} store: events/s (round ${r.round + 1})`, fmt(wsRate), fmt(sseRate), `${(wsRate / sseRate).toFixed(2)}x`);
      row(`  server CPU per event`, `${fmt(r.ws.cpu / r.ws.count, 2)} us`, `${fmt(r.sse.cpu / r.sse.count, 2)} us`, `${(r.ws.cpu / r.ws.count / (r.sse.cpu / r.sse.count)).toFixed(2)}x`);
    }
  }
}
if (PHASES.includes("fanout")) {
  for (let round = 0; round < ROUNDS; round++) {
    const { ws, sse } = await fanout();
    const wsRate = ws.count / (ws.wall / 1000);
    const sseRate = sse.count / (sse.wall / 1000);
    row(`fan-out, ${SUBSCRIBERS} subscribers x ${fmt(FANOUT_EVENTS)} deltas: deliveries/s (round ${round + 1})`, fmt(wsRate), fmt(sseRate), `${(wsRate / sseRate).toFixed(2)}x`);
    row(`  deliveries counted`, fmt(ws.count), fmt(sse.count));
    row(`  lag p50 / p99`, `${fmt(percentile(ws.lags, 50), 1)} / ${fmt(percentile(ws.lags, 99), 1)} ms`, `${fmt(percentile(sse.lags, 50), 1)} / ${fmt(percentile(sse.lags, 99), 1)} ms`);
    row(`  server CPU per delivery`, `${fmt(ws.cpu / ws.count, 2)} us`, `${fmt(sse.cpu / sse.count, 2)} us`, `${(ws.cpu / ws.count / (sse.cpu / sse.count)).toFixed(2)}x`);
  }
}
if (PHASES.includes("idle")) {
  for (let round = 0; round < ROUNDS; round++) {
    const ws = await idleWebSockets();
    const sse = await idleSse();
    const kb = (bytes) => `${fmt(bytes / 1024, 1)} KB`;
    row(`idle: marginal RSS per client, clients ${fmt(IDLE / 2 + 1)}-${fmt(IDLE)} (round ${round + 1})`, kb(ws.second), kb(sse.second), `${(ws.second / sse.second).toFixed(2)}x`);
    row(`  (of which JS heap used)`, kb(ws.heapSecond), kb(sse.heapSecond));
    row(`  (RSS per client, first ${fmt(IDLE / 2)})`, kb(ws.first), kb(sse.first));
  }
}
console.log(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
console.log("| | WebSocket via the platform | our SSE path | ratio |\n|:--|--:|--:|--:|");
console.log(lines.join("\n"));
process.exit(0);
