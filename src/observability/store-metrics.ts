/**
 * Store write latency for durable runners: `DurableAgentRunner.observeStoreWrites(observer)`
 * times each write of its store (starting a run, appending a batch of events, finishing a run,
 * renewing leases) and reports it. The series is process-wide, like the run series.
 */
import type { DurableStore } from "../runners/durable/store.js";
import { Histogram } from "./prometheus.js";

export type StoreWriteOperation = "start_run" | "append_events" | "finish_run" | "renew_leases";

/** Called once per store write with its duration in seconds (failed writes included, with their error). */
export type StoreWriteObserver = (operation: StoreWriteOperation, seconds: number, error?: unknown) => void;

const WRITES = {
  tryStartRun: "start_run",
  appendEvents: "append_events",
  finishRun: "finish_run",
  renewLeases: "renew_leases",
} as const satisfies Partial<Record<keyof DurableStore, StoreWriteOperation>>;

const STORE_WRITE_DURATION = new Histogram({
  name: "copilot_runtime_store_write_duration_seconds",
  help: "Time a durable runner's store takes per write (one transaction), by operation.",
  labelNames: ["operation"],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

export const STORE_METRIC_FAMILIES = [STORE_WRITE_DURATION] as const;

const byOperation: Record<StoreWriteOperation, ReturnType<Histogram["labels"]>> = {
  start_run: STORE_WRITE_DURATION.labels("start_run"),
  append_events: STORE_WRITE_DURATION.labels("append_events"),
  finish_run: STORE_WRITE_DURATION.labels("finish_run"),
  renew_leases: STORE_WRITE_DURATION.labels("renew_leases"),
};

/** The observer that records into `copilot_runtime_store_write_duration_seconds`. */
export const recordStoreWrite: StoreWriteObserver = (operation, seconds) => byOperation[operation].observe(seconds);

const observed = new WeakMap<DurableStore, StoreWriteObserver[]>();

/**
 * Wraps the store's write methods in place (every holder of the store, such as the runner's
 * group-commit writer, then goes through the wrapper). Adding the same observer twice does nothing.
 */
export function timeStoreWrites(store: DurableStore, observer: StoreWriteObserver): void {
  const existing = observed.get(store);
  if (existing !== undefined) {
    if (!existing.includes(observer)) existing.push(observer);
    return;
  }
  const observers = [observer];
  observed.set(store, observers);
  const report = (operation: StoreWriteOperation, startedAt: number, error?: unknown) => {
    const seconds = (performance.now() - startedAt) / 1000;
    for (const notify of observers) notify(operation, seconds, error);
  };
  for (const [method, operation] of Object.entries(WRITES) as Array<[keyof typeof WRITES, StoreWriteOperation]>) {
    const original = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const startedAt = performance.now();
      return original(...args).then(
        (result) => (report(operation, startedAt), result),
        (error: unknown) => {
          report(operation, startedAt, error);
          throw error;
        },
      );
    };
  }
}
