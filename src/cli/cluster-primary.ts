/**
 * The primary process of `serve --workers N`: it forks the workers (Node's `cluster`: they share
 * the listening port, the primary hands each new connection to the next worker), relays the
 * live-bus signals between them, restarts one that crashes (with a growing pause), gathers their
 * metrics for the metrics port, and on SIGTERM/SIGINT lets every worker drain and exit before it
 * does. It serves no request of its own.
 */
import cluster, { type Worker } from "node:cluster";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HTTP_ERRORS } from "../errors.js";
import type { Logger } from "../logger.js";
import { isLiveMessage } from "./worker-live-bus.js";
import { mergeWorkerMetrics } from "./merge-metrics.js";

/** The environment variable that tells a forked process which worker slot (1..N) it fills. */
export const WORKER_SLOT_VARIABLE = "COPILOT_RUNTIME_WORKER";

/** Primary -> worker: render your metrics. Worker -> primary: `{ ...reply, text }`. */
export interface MetricsRequest {
  type: "copilot-runtime:metrics";
  id: number;
}
export interface MetricsReply {
  type: "copilot-runtime:metrics-reply";
  id: number;
  text: string;
}

export function isMetricsRequest(message: unknown): message is MetricsRequest {
  return typeof message === "object" && message !== null && (message as MetricsRequest).type === "copilot-runtime:metrics";
}

export interface PrimaryOptions {
  count: number;
  log: Logger;
  /** Each worker's own shutdown deadline; the primary waits this long plus 5 s before killing one. */
  shutdownTimeoutMs: number;
  /** Serve the workers' merged `/metrics` (with `/healthz`, `/readyz`) on this port. */
  metricsPort?: number;
  host: string;
  /** Every worker listens: print the listening lines (the port is the shared one). */
  onListening(port: number): void;
  /** A worker failed before listening: clean up what the start created; the primary then exits 1. */
  onStartFailed(): Promise<void>;
}

const FIRST_RESTART_PAUSE_MS = 100;
const LONGEST_RESTART_PAUSE_MS = 10_000;
/** A worker that stayed up this long crashed "for the first time" again: its pause starts over. */
const STABLE_AFTER_MS = 10_000;

/**
 * Forks and supervises the workers (see the module comment).
 *
 * @example
 * ```ts
 * if (cluster.isPrimary && workers > 1) return runPrimary({ count: workers, log, shutdownTimeoutMs: 10_000, host, onListening, onStartFailed });
 * ```
 */
export function runPrimary(options: PrimaryOptions): void {
  const { log } = options;
  const slots = new Map<number, { worker: Worker; startedAt: number; pauseMs: number; listening: boolean }>();
  let started = false;
  let stopping = false;
  let metricsServer: Server | undefined;
  let nextRequestId = 0;
  const pendingMetrics = new Map<number, (text: string) => void>();

  const fork = (slot: number, pauseMs: number) => {
    const worker = cluster.fork({ [WORKER_SLOT_VARIABLE]: String(slot) });
    slots.set(slot, { worker, startedAt: Date.now(), pauseMs, listening: false });
    worker.on("message", (message: unknown) => {
      if (isLiveMessage(message)) {
        // A signal for the other workers (its sender already knows).
        for (const { worker: other } of slots.values()) if (other !== worker && other.isConnected()) other.send(message, () => {});
      } else if (isMetricsReplyMessage(message)) {
        pendingMetrics.get(message.id)?.(message.text);
      }
    });
    worker.on("listening", (address) => {
      const entry = slots.get(slot);
      if (entry?.worker === worker) entry.listening = true;
      log.info({ worker: slot, workerPid: worker.process.pid }, `worker ${slot} (pid ${worker.process.pid}) is listening`);
      if (!started && [...slots.values()].length === options.count && [...slots.values()].every((s) => s.listening)) {
        started = true;
        options.onListening(address.port);
      }
    });
    worker.on("exit", (code, signal) => {
      const entry = slots.get(slot);
      if (entry?.worker !== worker) return;
      entry.listening = false;
      if (stopping) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!started) {
        log.error({ worker: slot, code, signal }, `worker ${slot} exited (${how}) before it could listen; stopping`);
        void failStart();
        return;
      }
      const stable = Date.now() - entry.startedAt >= STABLE_AFTER_MS;
      const pause = stable ? FIRST_RESTART_PAUSE_MS : entry.pauseMs;
      log.warn({ worker: slot, workerPid: worker.process.pid, code, signal }, `worker ${slot} (pid ${worker.process.pid}) exited (${how}); starting a new one in ${pause} ms`);
      setTimeout(() => {
        if (!stopping) fork(slot, Math.min(pause * 2, LONGEST_RESTART_PAUSE_MS));
      }, pause).unref();
    });
  };

  const failStart = async () => {
    if (stopping) return;
    stopping = true;
    for (const { worker } of slots.values()) worker.process.kill("SIGKILL");
    await options.onStartFailed();
    process.exit(1);
  };

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal} received: stopping ${slots.size} workers (each drains its open runs, up to ${options.shutdownTimeoutMs / 1000} s)`);
    const exits = [...slots.values()].map(
      ({ worker }) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once("exit", () => resolve());
          worker.process.kill("SIGTERM");
        }),
    );
    const deadline = setTimeout(() => {
      for (const { worker } of slots.values()) {
        if (worker.isDead()) continue;
        log.warn({ workerPid: worker.process.pid }, `worker pid ${worker.process.pid} did not stop in time; killing it`);
        worker.process.kill("SIGKILL");
      }
    }, options.shutdownTimeoutMs + 5_000);
    deadline.unref();
    await Promise.all(exits);
    clearTimeout(deadline);
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    log.info({}, "every worker has stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  /** Every live worker's metrics, merged; a worker that does not answer in 2 s is left out. */
  const gatherMetrics = async (): Promise<string> => {
    const parts = await Promise.all(
      [...slots.entries()].map(async ([slot, { worker }]) => {
        if (!worker.isConnected()) return undefined;
        const id = ++nextRequestId;
        const text = await new Promise<string | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), 2_000);
          pendingMetrics.set(id, (reply) => {
            clearTimeout(timer);
            resolve(reply);
          });
          const request: MetricsRequest = { type: "copilot-runtime:metrics", id };
          worker.send(request, (error: Error | null) => error && resolve(undefined));
        });
        pendingMetrics.delete(id);
        return text === undefined ? undefined : { worker: String(slot), text };
      }),
    );
    return mergeWorkerMetrics(parts.filter((part) => part !== undefined));
  };

  if (options.metricsPort !== undefined) {
    metricsServer = createServer((req, res) => {
      const path = (req.url ?? "/").split("?", 1)[0];
      if (path === "/metrics") {
        void gatherMetrics().then((text) => {
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
          res.end(text);
        });
        return;
      }
      if (path === "/healthz" || path === "/readyz") {
        const up = [...slots.values()].filter((s) => s.listening).length;
        const ok = path === "/healthz" ? up > 0 : !stopping && up === options.count;
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: ok ? "ok" : "unavailable", workers: { listening: up, configured: options.count } }));
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: HTTP_ERRORS.notFound.code, message: "The metrics port answers /metrics, /healthz and /readyz." }));
    });
    metricsServer.on("error", (error) => {
      log.error({ err: error }, `copilot-runtime could not listen for metrics on ${options.host}:${options.metricsPort}: ${error.message}`);
      void failStart();
    });
    metricsServer.listen({ port: options.metricsPort, host: options.host }, () => {
      const info = metricsServer!.address() as AddressInfo;
      const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
      log.info({}, `metrics: http://${shownHost}:${info.port}/metrics (every worker's series, labelled worker="1".."${options.count}"; also /healthz, /readyz)`);
    });
  }

  for (let slot = 1; slot <= options.count; slot++) fork(slot, FIRST_RESTART_PAUSE_MS);
}

function isMetricsReplyMessage(message: unknown): message is MetricsReply {
  return typeof message === "object" && message !== null && (message as MetricsReply).type === "copilot-runtime:metrics-reply";
}
