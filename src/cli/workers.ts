/**
 * How many worker processes `serve` runs: `--workers`, else the config file's `workers`, else
 * one per core when threads are in a SQLite file or PostgreSQL (every worker reaches them, so a
 * run started on one can be followed, stopped and resumed through any other), else one.
 */
import type { StorageKind } from "../runners/select-runner.js";
import { CliStartupError } from "./errors.js";

/** Where threads are kept, as far as the worker count is concerned. */
export type WorkerStorage = StorageKind | "config-runner" | "config-memory-runner";

export interface WorkerDecision {
  count: number;
  /** The start-up line that says how many and why. */
  line: string;
}

/**
 * Decides the worker count. More than one worker with threads in memory is a start-up error
 * (exit 2), not a warning: each process would keep its own threads, so a client's next request,
 * landing on another worker, would not find its thread.
 *
 * @example
 * ```ts
 * decideWorkers(undefined, "postgres", 8).count; // 8
 * decideWorkers(undefined, "memory", 8).count; // 1
 * decideWorkers(3, "memory", 8); // throws CliStartupError
 * ```
 */
export function decideWorkers(requested: number | undefined, storage: WorkerStorage, cores: number): WorkerDecision {
  if (storage === "memory" || storage === "config-memory-runner") {
    const where = storage === "memory" ? "threads in memory (--memory, or a :memory: database)" : "the config file's InMemoryAgentRunner";
    if (requested !== undefined && requested > 1) {
      throw new CliStartupError(
        `--workers ${requested} needs threads every worker can reach, but ${where} live in one process: a run started on one worker ` +
          `could not be followed, stopped or resumed through another. Keep threads in a SQLite file (--db threads.db) or ` +
          `PostgreSQL (--db postgres://...), or use --workers 1.`,
      );
    }
    return { count: 1, line: `workers: 1 (${where} cannot be shared between processes)` };
  }
  if (storage === "config-runner") {
    if (requested === undefined) return { count: 1, line: "workers: 1 (the config file brings its own runner; set workers (or --workers) to run several on it)" };
    return { count: requested, line: `workers: ${requested} (each with the config file's runner, which must keep threads where every worker reaches them)` };
  }
  if (requested !== undefined) return { count: requested, line: `workers: ${requested}` };
  const count = Math.max(1, cores);
  return { count, line: `workers: ${count} (one per core; --workers to choose)` };
}
