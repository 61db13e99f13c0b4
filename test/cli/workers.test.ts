/**
 * The worker count `serve` decides on, the `--workers`/`--bus` flags and config keys, the
 * primary's merge of the workers' metrics, and the workers' IPC live bus.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { checkConfig } from "../../src/cli/config.js";
import { mergeWorkerMetrics } from "../../src/cli/merge-metrics.js";
import { WorkerLiveBus } from "../../src/cli/worker-live-bus.js";
import { decideWorkers } from "../../src/cli/workers.js";
import type { LiveSignal } from "../../src/runners/durable/live-bus.js";
import { parsePrometheusText } from "../observability/prom-text.js";

describe("decideWorkers", () => {
  it("runs one per core with a SQLite file or PostgreSQL, and what --workers asks for", () => {
    expect(decideWorkers(undefined, "sqlite", 8)).toEqual({ count: 8, line: "workers: 8 (one per core; --workers to choose)" });
    expect(decideWorkers(undefined, "postgres", 2).count).toBe(2);
    expect(decideWorkers(3, "postgres", 8)).toEqual({ count: 3, line: "workers: 3" });
  });

  it("keeps threads in memory to one process: several is a start-up error (exit 2), not a silent downgrade", () => {
    expect(decideWorkers(undefined, "memory", 8).count).toBe(1);
    expect(decideWorkers(1, "memory", 8).count).toBe(1);
    expect(() => decideWorkers(3, "memory", 8)).toThrow(/--workers 3 needs threads every worker can reach/);
    expect(() => decideWorkers(2, "config-memory-runner", 8)).toThrow(/InMemoryAgentRunner/);
    try {
      decideWorkers(2, "memory", 8);
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it("runs one with a config file's own runner unless told otherwise", () => {
    expect(decideWorkers(undefined, "config-runner", 8).count).toBe(1);
    expect(decideWorkers(4, "config-runner", 8).count).toBe(4);
  });
});

describe("--workers and --bus", () => {
  it("parses them, and refuses what is not a positive count or a redis:// or nats:// URL", () => {
    expect(parseArgs(["serve", "--workers", "4"], {}).workers).toBe(4);
    expect(parseArgs(["serve", "-w2"], {}).workers).toBe(2);
    expect(() => parseArgs(["serve", "--workers", "0"], {})).toThrow("--workers must be at least 1, got '0'");
    expect(() => parseArgs(["serve", "--workers", "two"], {})).toThrow("--workers must be a whole number of processes");
    expect(parseArgs(["serve", "--bus", "redis://127.0.0.1:6379"], {}).bus).toBe("redis://127.0.0.1:6379");
    expect(parseArgs(["serve", "--bus", "nats://127.0.0.1:4222"], {}).bus).toBe("nats://127.0.0.1:4222");
    expect(() => parseArgs(["serve", "--bus", "amqp://127.0.0.1:5672"], {})).toThrow("--bus must be a redis://, rediss:// or nats:// URL");
  });

  it("takes workers and bus from a config file, checked", async () => {
    await expect(checkConfig({ workers: 3, bus: "redis://localhost:6379" }, "inline")).resolves.toMatchObject({ workers: 3, bus: "redis://localhost:6379" });
    await expect(checkConfig({ workers: 0 }, "inline")).rejects.toThrow("`workers` must be a whole number of processes, at least 1, got number 0.");
    await expect(checkConfig({ bus: "amqp://x" }, "inline")).rejects.toThrow("must be a redis://, rediss:// or nats:// URL");
    await expect(checkConfig({ bus: 5 }, "inline")).rejects.toThrow("`bus` must be a redis:// or nats:// URL, got number 5.");
  });
});

describe("mergeWorkerMetrics", () => {
  it("labels every sample with its worker under one HELP/TYPE per family, a valid exposition", () => {
    const text = (n: number) =>
      `# HELP reqs_total Requests.\n# TYPE reqs_total counter\nreqs_total{route="run"} ${n}\n` +
      `# HELP lat Latency.\n# TYPE lat histogram\nlat_bucket{le="+Inf"} ${n}\nlat_sum 0.5\nlat_count ${n}\n# HELP up Up.\n# TYPE up gauge\nup 1\n`;
    const merged = mergeWorkerMetrics([
      { worker: "1", text: text(3) },
      { worker: "2", text: text(4) },
    ]);
    expect(merged.match(/# TYPE reqs_total/g)).toHaveLength(1);
    expect(merged).toContain('reqs_total{worker="1",route="run"} 3\nreqs_total{worker="2",route="run"} 4\n');
    expect(merged).toContain('lat_sum{worker="1"} 0.5');
    expect(merged).toContain('up{worker="2"} 1');
    const parsed = parsePrometheusText(merged);
    expect(parsed.sum("reqs_total")).toBe(7);
    expect(parsed.value("lat_count", { worker: "2" })).toBe(4);
  });
});

describe("WorkerLiveBus", () => {
  /** Two workers' channels joined the way the primary relays: a message goes to the others only. */
  function pair() {
    const a = new EventEmitter() as EventEmitter & { send: (m: unknown, cb?: (error: Error | null) => void) => boolean; connected: boolean };
    const b = new EventEmitter() as typeof a;
    a.connected = b.connected = true;
    a.send = (message) => b.emit("message", message);
    b.send = (message) => a.emit("message", message);
    return [a, b] as const;
  }

  it("carries a signal to the other worker's subscribers of the thread, not to its own, and not after unsubscribe", async () => {
    const [channelA, channelB] = pair();
    const busA = new WorkerLiveBus(channelA);
    const busB = new WorkerLiveBus(channelB);
    const heardOnA: LiveSignal[] = [];
    const heardOnB: LiveSignal[] = [];
    busA.subscribe("t1", (signal) => heardOnA.push(signal));
    const stop = busB.subscribe("t1", (signal) => heardOnB.push(signal));
    busB.subscribe("t2", () => heardOnB.push({ kind: "events", threadId: "wrong", seq: 0 }));
    busA.publish({ kind: "events", threadId: "t1", seq: 7 });
    busA.publish({ kind: "stop", threadId: "t1", seq: 3 });
    expect(heardOnB).toEqual([
      { kind: "events", threadId: "t1", seq: 7 },
      { kind: "stop", threadId: "t1", seq: 3 },
    ]);
    expect(heardOnA).toEqual([]);
    stop();
    busA.publish({ kind: "ended", threadId: "t1", seq: 9 });
    expect(heardOnB).toHaveLength(2);
    await busA.close();
    await busB.close();
  });
});
