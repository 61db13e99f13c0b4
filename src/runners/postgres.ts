import type pg from "pg";
import { PostgresStore } from "../storage/postgres/postgres-store.js";
import { PostgresLiveBus, liveChannel } from "../storage/postgres/live-bus.js";
import { DurableAgentRunner, type DurableRunnerOptions } from "./durable/durable-runner.js";
import { logger } from "../logger.js";
import { checkOptions } from "../options/check-options.js";
import { POSTGRES_RUNNER_OPTIONS } from "../options/option-tables.js";

export interface PostgresAgentRunnerOptions extends DurableRunnerOptions {
  /** `postgres://user:password@host:5432/database`. Ignored when `pool` is given. */
  connectionString?: string;
  /** A `pg` pool to use instead; the runner does not end it. */
  pool?: pg.Pool;
  /** Tables live in this schema, created if missing. Default: the connection's `search_path` (usually `public`). */
  schema?: string;
  /** Prepended to every table name. Default `"copilot_"`. */
  tablePrefix?: string;
  /** Connections in the pool the runner opens itself. Default 10. */
  maxConnections?: number;
  /**
   * Cross-instance wake-ups over `LISTEN/NOTIFY` (default true): every write of a run NOTIFYs in
   * its own transaction, and each runner holds one extra connection that LISTENs, so a client
   * following a run another instance streams gets each event as soon as it is committed, and a
   * stop or delete made on any instance reaches the run at once. Followers then read the store
   * only when woken (and every `safetyPollMs`). Every instance on the tables should agree; with
   * `false` nothing is announced and followers poll every `pollMs`. A `liveBus` given (for
   * example `RedisLiveBus` from `copilot-runtime/redis`) replaces it.
   */
  listenNotify?: boolean;
}

/**
 * Threads in PostgreSQL, for several server instances sharing one database. Behaves exactly
 * like `SqliteAgentRunner`: events stored as they stream and numbered for `Last-Event-ID`
 * resumption, one run per thread held as a lease (a run another instance holds can be
 * followed with `connect` and stopped with `stop`), recovery of runs a dead instance left,
 * per-user threads.
 *
 * @example
 * ```ts
 * import { PostgresAgentRunner } from "copilot-runtime/postgres";
 *
 * const runtime = new CopilotRuntime({
 *   agents: { default: myAgent },
 *   runner: new PostgresAgentRunner({ connectionString: process.env.DATABASE_URL }),
 *   identifyUser: (request) => ({ id: userIdFrom(request) }),
 * });
 * ```
 */
export class PostgresAgentRunner extends DurableAgentRunner {
  constructor(options: PostgresAgentRunnerOptions) {
    checkOptions(POSTGRES_RUNNER_OPTIONS, options, "new PostgresAgentRunner()", logger);
    // A bus of the caller's own (Redis) replaces LISTEN/NOTIFY: the store then announces nothing itself.
    const channel = options.listenNotify === false || options.liveBus !== undefined ? undefined : liveChannel(options.schema, options.tablePrefix ?? "copilot_");
    const store = new PostgresStore({
      connectionString: options.connectionString,
      pool: options.pool,
      schema: options.schema,
      tablePrefix: options.tablePrefix,
      maxConnections: options.maxConnections,
      notifyChannel: channel,
    });
    const liveBus =
      options.liveBus ??
      (channel === undefined
        ? undefined
        : new PostgresLiveBus({ connection: options.pool?.options ?? { connectionString: options.connectionString }, channel }));
    super(store, { ...options, liveBus });
  }
}
