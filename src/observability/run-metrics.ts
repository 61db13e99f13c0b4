/**
 * The run series, kept process-wide like `prom-client`'s default registry: every run of every
 * runner in the process (in-memory, SQLite, PostgreSQL, and `suggest`) goes through one
 * `RunSession`, which reports here. Recording costs two clock reads and a few increments per
 * run and nothing per event, so it is always on; a `MetricsRegistry` only renders it.
 */
import { Counter, Gauge, Histogram } from "./prometheus.js";

/** How a run ended, as the metrics label it. */
export type RunMetricOutcome = "finished" | "error" | "stopped";

const ACTIVE_RUNS = new Gauge({ name: "copilot_runtime_active_runs", help: "Runs executing in this process." });
const RUN_DURATION = new Histogram({
  name: "copilot_runtime_run_duration_seconds",
  help: "Time from a run's start to its end, by outcome (finished, error, stopped).",
  labelNames: ["outcome"],
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
});
const RUN_ERRORS = new Counter({
  name: "copilot_runtime_run_errors_total",
  help: "Runs that ended with RUN_ERROR, by its code (the runtime's codes and the agents' own).",
  labelNames: ["code"],
  // Agents choose their own codes: keep a bounded set, the rest reads "other".
  maxSeries: 64,
});

/** The families, for rendering. */
export const RUN_METRIC_FAMILIES = [ACTIVE_RUNS, RUN_DURATION, RUN_ERRORS] as const;

const activeRuns = ACTIVE_RUNS.labels();
const durationByOutcome = {
  finished: RUN_DURATION.labels("finished"),
  error: RUN_DURATION.labels("error"),
  stopped: RUN_DURATION.labels("stopped"),
};

/** A run started; returns its start time for {@link recordRunEnd}. */
export function recordRunStart(): number {
  activeRuns.inc();
  return performance.now();
}

/** A run ended. `errorCode` is the code of the `RUN_ERROR` it ended with, if any. */
export function recordRunEnd(startedAt: number, outcome: RunMetricOutcome, errorCode: string | undefined): void {
  activeRuns.dec();
  durationByOutcome[outcome].observe((performance.now() - startedAt) / 1000);
  if (outcome === "error") RUN_ERRORS.labels(errorCode === undefined || errorCode === "" ? "unknown" : errorCode.slice(0, 64)).inc();
}
