// The load generator, in its own process (forked by run.mjs). It receives
// `{ phase, port, options }` over IPC, drives the server, and answers `{ result }`.
// The idle phase also talks mid-way: `{ stage: "warm" | "open" }` out, `{ cmd: "next" }` in.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { hammerGet, postSse, runInput } from "./lib/sse-client.mjs";

const BASE = "/api/copilotkit";

function waitFor(cmd) {
  return new Promise((resolve) => {
    const on = (msg) => {
      if (msg?.cmd === cmd) {
        process.off("message", on);
        resolve(msg);
      }
    };
    process.on("message", on);
  });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

const median = (values) => quantile([...values].sort((a, b) => a - b), 0.5);

function run(port, agentId, forwardedProps, opts = {}) {
  return postSse(`http://127.0.0.1:${port}${BASE}/agent/${agentId}/run`, runInput(`thread-${randomUUID()}`, forwardedProps), opts);
}

function checkRun(r, expected) {
  if (r.status !== 200) throw new Error(`run answered ${r.status}`);
  if (expected !== undefined && r.count !== expected) throw new Error(`expected ${expected} events, got ${r.count}`);
}

/** The server process's CPU time so far, in µs (a bench-only route, see server.mjs). */
function serverCpuUs(port, agent) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/__bench/cpu", agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(JSON.parse(body).cpuUs));
      })
      .on("error", reject);
  });
}

const phases = {
  /** /info requests per second over keep-alive connections. */
  async info(port, { connections = 50, total = 20_000, warmup = 2_000 }) {
    const target = { host: "127.0.0.1", port, path: `${BASE}/info` };
    await hammerGet({ ...target, connections, total: warmup });
    const cpu0 = await serverCpuUs(port);
    const r = await hammerGet({ ...target, connections, total });
    const serverCpuUsPerRequest = ((await serverCpuUs(port)) - cpu0) / r.ok;
    if (r.failed > 0) throw new Error(`${r.failed} /info requests failed`);
    return { reqPerSec: r.ok / r.seconds, seconds: r.seconds, requests: r.ok, serverCpuUsPerRequest };
  },

  /** One run of N deltas; events/s from sending the request to the end of the stream. */
  async firehose(port, { events = 50_000, reps = 3, warmupEvents = 5_000 }) {
    const agent = new http.Agent({ keepAlive: true });
    checkRun(await run(port, "firehose", { events: warmupEvents }, { agent }), warmupEvents + 4);
    const rates = [];
    const cpuPerEvent = [];
    for (let i = 0; i < reps; i++) {
      const cpu0 = await serverCpuUs(port, agent);
      const r = await run(port, "firehose", { events }, { agent });
      cpuPerEvent.push(((await serverCpuUs(port, agent)) - cpu0) / r.count);
      checkRun(r, events + 4);
      rates.push(r.count / ((r.endAt - r.t0) / 1000));
    }
    agent.destroy();
    return { eventsPerSec: Math.max(...rates), rates, serverCpuUsPerEvent: median(cpuPerEvent) };
  },

  /** `runs` concurrent short runs: total time, and time to first event per run. */
  async concurrent(port, { runs = 500, warmup = 50 }) {
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    for (let i = 0; i < 10; i++) checkRun(await run(port, "short", {}, { agent }), 50);
    await Promise.all(Array.from({ length: warmup }, () => run(port, "short", {}, { agent }).then((r) => checkRun(r, 50))));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const inputs = Array.from({ length: runs }, () => JSON.stringify(runInput(`thread-${randomUUID()}`)));
    const url = `http://127.0.0.1:${port}${BASE}/agent/short/run`;
    const serverCpu0 = await serverCpuUs(port);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const results = await Promise.all(inputs.map((body) => postSse(url, body, { agent })));
    const totalMs = Math.max(...results.map((r) => r.endAt)) - t0;
    const cpu = process.cpuUsage(cpu0);
    const clientCpuMs = (cpu.user + cpu.system) / 1000;
    const serverCpuMs = ((await serverCpuUs(port)) - serverCpu0) / 1000;
    for (const r of results) checkRun(r, 50);
    const inOrder = results.map((r) => r.firstEventAt - r.sentAt);
    const ttfe = [...inOrder].sort((a, b) => a - b);
    // Where the tail sits: time to first event of the first and last tenth of the requests, in
    // the order they were sent (connections reach the server's accept queue in about that order).
    const tenth = Math.max(1, Math.floor(runs / 10));
    const meanOf = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    agent.destroy();
    return {
      clientCpuMs,
      serverCpuMs,
      totalMs,
      meanTtfeMs: ttfe.reduce((a, b) => a + b, 0) / ttfe.length,
      p50TtfeMs: quantile(ttfe, 0.5),
      p99TtfeMs: quantile(ttfe, 0.99),
      firstTenthTtfeMs: meanOf(inOrder.slice(0, tenth)),
      lastTenthTtfeMs: meanOf(inOrder.slice(-tenth)),
    };
  },

  /** Opens idle streams; the orchestrator reads the server's memory between stages. */
  async idle(port, { streams = 1_000, warmup = 20 }) {
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const controller = new AbortController();
    (await import("node:events")).setMaxListeners(0, controller.signal);
    const open = (n) =>
      Promise.all(
        Array.from(
          { length: n },
          () =>
            new Promise((resolve, reject) => {
              run(port, "idle", {}, { agent, signal: controller.signal, onEvent: (e, s) => s.count === 1 && resolve(s) }).then(
                (s) => (s.count === 0 ? reject(new Error(`idle stream ended early (status ${s.status})`)) : undefined),
                reject,
              );
            }),
        ),
      );
    await open(warmup);
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.send({ stage: "warm" });
    await waitFor("next");
    const t0 = performance.now();
    await open(streams);
    const openMs = performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.send({ stage: "open" });
    await waitFor("next");
    controller.abort();
    agent.destroy();
    return { streams, openMs };
  },

  /**
   * The issue's method: `streams` idle streams opened twice over (2 x 1,000), the orchestrator
   * reading the server's memory (after forced GC) at "warm", "half" and "open"; the per-stream
   * figure is the marginal one over the second batch, so one-off warm-up costs (V8's young
   * generation growing, lazily compiled code, Node's first socket pools) fall in the first batch.
   */
  async "idle-marginal"(port, { streams = 1_000, warmup = 20 }) {
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const controller = new AbortController();
    (await import("node:events")).setMaxListeners(0, controller.signal);
    const open = (n) =>
      Promise.all(
        Array.from(
          { length: n },
          () =>
            new Promise((resolve, reject) => {
              run(port, "idle", {}, { agent, signal: controller.signal, onEvent: (e, s) => s.count === 1 && resolve(s) }).then(
                (s) => (s.count === 0 ? reject(new Error(`idle stream ended early (status ${s.status})`)) : undefined),
                reject,
              );
            }),
        ),
      );
    const settle = () => new Promise((resolve) => setTimeout(resolve, 500));
    await open(warmup);
    await settle();
    process.send({ stage: "warm" });
    await waitFor("next");
    const t0 = performance.now();
    await open(streams);
    const firstOpenMs = performance.now() - t0;
    await settle();
    process.send({ stage: "half" });
    await waitFor("next");
    const t1 = performance.now();
    await open(streams);
    const secondOpenMs = performance.now() - t1;
    await settle();
    process.send({ stage: "open" });
    await waitFor("next");
    controller.abort();
    agent.destroy();
    return { streams, firstOpenMs, secondOpenMs };
  },

  /**
   * Cost per event for a short and a long stream: the server's CPU time for a run, minus that
   * of a run with no deltas made just before it (the per-request part), divided by the deltas.
   * CPU time stays honest when other processes share the machine; the client-side wall time
   * between the first and the last event is reported too. Means over `reps` pairs per size (see
   * below for why not medians).
   */
  async growth(port, { small = 2_000, large = 8_000, reps = 30 }) {
    const agent = new http.Agent({ keepAlive: true });
    const measure = async (n) => {
      const before = await serverCpuUs(port, agent);
      const r = await run(port, "firehose", { events: n }, { agent });
      const after = await serverCpuUs(port, agent);
      checkRun(r, n + 4);
      return { cpuUs: after - before, wallUs: ((r.lastEventAt - r.firstEventAt) * 1000) / Math.max(1, n) };
    };
    for (let i = 0; i < 2; i++) for (const n of [0, small, large]) await measure(n);
    // Each sized run is paired with an empty run just before it, so drifts in the machine's
    // load cancel out. The per-event cost is the CPU of all sized runs minus their empty runs,
    // over all their deltas: the mean, not the median, because garbage collection comes in
    // lumps of a millisecond or two that land in some runs and not others. A 2,000-event run
    // usually finishes between two scavenges and an 8,000-event run usually spans one, so a
    // median of per-run costs leaves the lumps out of the short runs and keeps them in the
    // long ones: it reported 1.15-1.2 "growth" for a cost whose mean is flat. The median is
    // still reported, for comparison.
    const runs = { 0: [], [small]: [], [large]: [] };
    const paired = { [small]: [], [large]: [] };
    for (let i = 0; i < reps; i++) {
      for (const n of [small, large]) {
        const empty = await measure(0);
        const sized = await measure(n);
        runs[0].push(empty);
        runs[n].push(sized);
        paired[n].push((sized.cpuUs - empty.cpuUs) / n);
      }
    }
    agent.destroy();
    const base = median(runs[0].map((x) => x.cpuUs));
    const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
    const smallUs = mean(paired[small]);
    const largeUs = mean(paired[large]);
    const smallMedianUs = median(paired[small]);
    const largeMedianUs = median(paired[large]);
    const smallWallUs = median(runs[small].map((x) => x.wallUs));
    const largeWallUs = median(runs[large].map((x) => x.wallUs));
    return {
      baseRunCpuUs: base,
      smallUs,
      largeUs,
      growth: largeUs / smallUs,
      smallMedianUs,
      largeMedianUs,
      medianGrowth: largeMedianUs / smallMedianUs,
      smallWallUs,
      largeWallUs,
      wallGrowth: largeWallUs / smallWallUs,
    };
  },
};

process.on("message", async (msg) => {
  if (msg?.cmd === "exit") process.exit(0);
  if (msg?.phase === undefined) return;
  try {
    const result = await phases[msg.phase](msg.port, msg.options ?? {});
    process.send({ result });
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) });
  }
});
