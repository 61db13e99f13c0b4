/**
 * `/healthz` and `/readyz`. Liveness says the process answers; readiness says it should get
 * traffic: the runner is ready (for durable runners, its database answers a trivial query
 * within the timeout), so is every other dependency given as a check (the Intelligence
 * platform's store, say), and the process is not shutting down.
 */
import { logger, toLogger } from "../logger.js";
import type { CopilotRuntime } from "../runtime.js";

/**
 * Why `/readyz` answers 503: a stable code for alerts, and a sentence for people. A failed
 * {@link ReadinessCheck} reports its own `reason`.
 */
export type UnreadyReason = "shutting_down" | "runner_unavailable" | "check_timeout" | (string & {});

/** The JSON body of `/readyz`. */
export type Readiness = { status: "ready" } | { status: "unready"; reason: UnreadyReason; message: string };

/** A dependency `/readyz` waits for besides the runner, e.g. the Intelligence platform's store. */
export interface ReadinessCheck {
  /** The stable code `/readyz` reports when `check` fails, e.g. `intelligence_unavailable`. */
  reason: string;
  /** The sentence that goes with it. */
  message: string;
  /** Resolves when the dependency can serve; rejects (or outlasts `timeoutMs`) when it cannot. */
  check(): Promise<void>;
}

export interface HealthHandlerOptions {
  /** The runtime whose runner is checked (its optional `checkReady()`). Left out, only `checks` are (a process without a runtime). */
  runtime?: CopilotRuntime;
  /** More dependencies to check, after the runner. */
  checks?: readonly ReadinessCheck[];
  /** Longest a readiness check may take before `/readyz` answers 503 `check_timeout`. Default 2,000 ms. */
  timeoutMs?: number;
}

/** A fetch handler for `/healthz` and `/readyz`, which can also be told that the process is stopping. */
export interface HealthHandler {
  /** Answers a path ending in `/healthz` or `/readyz` (GET or HEAD); anything else gets 404. */
  (request: Request): Promise<Response>;
  /** Flips `/readyz` to 503 `shutting_down`, for good: call it first when the process is asked to stop. */
  drain(): void;
  /** True once {@link HealthHandler.drain} was called. */
  readonly draining: boolean;
  /** The readiness `/readyz` reports. */
  check(): Promise<Readiness>;
}

const NO_STORE = { "Content-Type": "application/json", "Cache-Control": "no-store" };
const LIVE_BODY = JSON.stringify({ status: "ok" });
const READY_BODY = JSON.stringify({ status: "ready" });

const MESSAGES: Record<"shutting_down" | "runner_unavailable" | "check_timeout", string> = {
  shutting_down: "The process is shutting down: open runs are finishing, new work should go elsewhere.",
  runner_unavailable: "The runner cannot take runs: its database is unreachable or it failed to start (see the server logs).",
  check_timeout: "The runner (or another dependency /readyz checks) did not answer the readiness check in time.",
};

/**
 * Liveness and readiness for load balancers and orchestrators. `GET .../healthz` answers 200
 * `{"status":"ok"}` while the process runs; `GET .../readyz` answers 200 `{"status":"ready"}`,
 * or 503 `{"status":"unready","reason":...,"message":...}` when the runner's `checkReady()` or
 * one of `checks` fails or takes longer than `timeoutMs`, or once `drain()` was called. Checks
 * never pile up: probes arriving while one runs share it.
 *
 * @example
 * ```ts
 * const health = createHealthHandler({ runtime });
 * Bun.serve({ port: 8080, fetch: (request) => health(request) });
 * process.on("SIGTERM", () => { health.drain(); ... });
 * ```
 */
export function createHealthHandler(options: HealthHandlerOptions): HealthHandler {
  const runner = options.runtime?.runner;
  const runtimeLogger = options.runtime?.logger;
  const log = runtimeLogger === undefined ? logger : toLogger(runtimeLogger);
  const checks: ReadinessCheck[] = [];
  if (runner?.checkReady !== undefined) {
    checks.push({ reason: "runner_unavailable", message: MESSAGES.runner_unavailable, check: () => runner.checkReady!() });
  }
  checks.push(...(options.checks ?? []));
  const timeoutMs = options.timeoutMs ?? 2_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError("timeoutMs must be a positive number of milliseconds");
  let draining = false;
  let running: Promise<void> | undefined;
  let lastReason: UnreadyReason | undefined;

  /** Runs every check in order; rejects with the first failure, tagged with its check. */
  const runChecks = async (): Promise<void> => {
    for (const item of checks) {
      try {
        await item.check();
      } catch (error) {
        throw new FailedCheck(item, error);
      }
    }
  };

  const report = (readiness: Readiness, error?: unknown): Readiness => {
    const reason = readiness.status === "ready" ? undefined : readiness.reason;
    if (reason !== lastReason) {
      if (reason === undefined) log.info({}, "readiness: ready again");
      else if (reason !== "shutting_down") log.warn(error === undefined ? { reason } : { reason, err: error }, `readiness: unready (${reason})`);
      lastReason = reason;
    }
    return readiness;
  };

  const check = async (): Promise<Readiness> => {
    if (draining) return report(unready("shutting_down"));
    if (checks.length === 0) return report({ status: "ready" });
    running ??= runChecks().finally(() => (running = undefined));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, timeoutMs, "timeout")));
    try {
      const outcome = await Promise.race([running.then(() => "ready" as const), timedOut]);
      if (draining) return report(unready("shutting_down"));
      return report(outcome === "ready" ? { status: "ready" } : unready("check_timeout"));
    } catch (error) {
      if (draining) return report(unready("shutting_down"), error);
      const failed = error as FailedCheck;
      return report({ status: "unready", reason: failed.item.reason, message: failed.item.message }, failed.cause);
    } finally {
      clearTimeout(timer);
    }
  };

  const handler = async function healthHandler(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname.replace(/\/+$/, "");
    const kind = path.endsWith("/healthz") ? "live" : path.endsWith("/readyz") ? "ready" : undefined;
    if (kind === undefined) return json(404, { error: "Not found", message: `No route for ${request.method} ${path}.` }, request);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { error: "Method not allowed", message: `${request.method} is not allowed here; use GET.` }, request, { Allow: "GET, HEAD" });
    }
    if (kind === "live") return text(200, LIVE_BODY, request);
    const readiness = await check();
    return readiness.status === "ready" ? text(200, READY_BODY, request) : json(503, readiness, request);
  };

  return Object.defineProperties(handler, {
    drain: { value: () => void (draining = true) },
    draining: { get: () => draining },
    check: { value: check },
  }) as HealthHandler;
}

/** A check that failed, and why (for the log line). */
class FailedCheck extends Error {
  constructor(
    readonly item: ReadinessCheck,
    override readonly cause: unknown,
  ) {
    super(item.message);
  }
}

function unready(reason: keyof typeof MESSAGES): Readiness {
  return { status: "unready", reason, message: MESSAGES[reason] };
}

function json(status: number, body: unknown, request: Request, headers?: Record<string, string>): Response {
  return text(status, JSON.stringify(body), request, headers);
}

function text(status: number, body: string, request: Request, headers?: Record<string, string>): Response {
  return new Response(request.method === "HEAD" ? null : body, { status, headers: { ...NO_STORE, ...headers } });
}
