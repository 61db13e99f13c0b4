import type Database from "better-sqlite3";
import { SqliteStore } from "../storage/sqlite/sqlite-store.js";
import { DurableAgentRunner, type DurableRunnerOptions } from "./durable/durable-runner.js";
import { logger } from "../logger.js";
import { checkOptions } from "../options/check-options.js";
import { SQLITE_RUNNER_OPTIONS } from "../options/option-tables.js";

export interface SqliteAgentRunnerOptions extends DurableRunnerOptions {
  /**
   * The database file, created with its schema if missing. Default `"copilot-runtime.db"` in
   * the working directory; `":memory:"` keeps threads only as long as the process.
   */
  path?: string;
  /** An open `better-sqlite3` database to use instead of `path`; the runner does not close it. */
  database?: Database.Database;
  /** Prepended to every table name. Default `"copilot_"`. */
  tablePrefix?: string;
  /**
   * How long a read or write waits, in total, while another process holds the database's
   * write lock. The wait is spent on timers (the event loop keeps serving); past it the
   * operation fails, so a streaming run ends with `RUN_ERROR` `PERSISTENCE_FAILED` and a run
   * start with an error response. Default 5000 ms.
   */
  busyTimeoutMs?: number;
}

/**
 * Threads in a SQLite file: the durable default. Every event is written as it streams (a
 * killed process loses nothing a client already saw), SSE frames carry `id: <seq>` so
 * `connect` resumes after `Last-Event-ID`, one run per thread is held as a lease that a
 * restarted process recovers (closing the dead run as `INTERRUPTED`), and threads are
 * owned by the user `identifyUser` names. Several processes may share one file: they take
 * turns at writing, and one waiting for another's lock waits on timers, not by blocking.
 *
 * @example
 * ```ts
 * import { SqliteAgentRunner } from "copilot-runtime/sqlite";
 *
 * const runtime = new CopilotRuntime({
 *   agents: { default: myAgent },
 *   runner: new SqliteAgentRunner({ path: "./data/threads.db", retention: { maxAgeMs: 30 * 86_400_000 } }),
 *   identifyUser: (request) => ({ id: userIdFrom(request) }),
 * });
 * ```
 */
export class SqliteAgentRunner extends DurableAgentRunner {
  constructor(options: SqliteAgentRunnerOptions = {}) {
    checkOptions(SQLITE_RUNNER_OPTIONS, options, "new SqliteAgentRunner()", logger);
    super(
      new SqliteStore({
        path: options.path ?? "copilot-runtime.db",
        database: options.database,
        tablePrefix: options.tablePrefix,
        busyTimeoutMs: options.busyTimeoutMs,
      }),
      options,
    );
  }
}
