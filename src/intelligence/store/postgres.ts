import type pg from "pg";
import { logger } from "../../logger.js";
import { requireOptional } from "../../optional-dependency.js";
import { ThreadNotFoundError } from "./errors.js";
import { newJoinCode } from "./join-code.js";
import { migratePostgresIntelligence } from "./postgres-schema.js";
import { DEFAULT_TABLE_PREFIX, type IntelligenceTables, intelligenceTables } from "./table-names.js";
import { decodeThreadCursor, encodeThreadCursor } from "./thread-order.js";
import type {
  AcquireLockRequest,
  AcquireLockResult,
  AppendRunEventsRequest,
  AppendRunEventsResult,
  CreateThreadRequest,
  IntelligenceStore,
  NewEvent,
  PlatformThread,
  RunRecord,
  RunStatus,
  StoredEvent,
  ThreadListQuery,
  ThreadPatch,
} from "./types.js";

/** Loaded when this module is: without pg the import fails, saying what to install. */
const { Pool } = requireOptional<typeof pg>({ specifier: "pg", packageName: "pg", version: "8", neededBy: "PostgresIntelligenceStore" });

export interface PostgresIntelligenceStoreOptions {
  /** `postgres://user:password@host:5432/database`. Ignored when `pool` is given. */
  connectionString?: string;
  /** A `pg` pool to use (for example the agent runner's); the store does not end it. */
  pool?: pg.Pool;
  /** Tables live in this schema (created if missing). Default: the connection's `search_path`. */
  schema?: string;
  /** Prepended to every table name. Default `"cpki_"`. */
  tablePrefix?: string;
  /** Connections in the pool the store opens itself. Default 10. */
  maxConnections?: number;
}

const THREAD_COLUMNS = "project_id, id, user_id, agent_id, name, archived, created_at, updated_at, last_run_at";
const RUN_COLUMNS = "project_id, run_id, thread_id, user_id, agent_id, status, lock_expires_at, started_at, ended_at, last_seq";
const EVENT_COLUMNS = "position, id, thread_id, run_id, seq, type, json";

/** Deadlock and serialization failures: the transaction lost a race and may simply run again. */
const RETRYABLE_SQLSTATES = new Set(["40001", "40P01"]);
const TRANSACTION_ATTEMPTS = 3;

// BIGINT columns arrive as strings (pg keeps 64-bit integers exact); every value here is an
// epoch millisecond, a seq or a position, all far below 2^53.
interface ThreadRow {
  project_id: string;
  id: string;
  user_id: string;
  agent_id: string;
  name: string | null;
  archived: boolean;
  created_at: string;
  updated_at: string;
  last_run_at: string | null;
}

interface RunRow {
  project_id: string;
  run_id: string;
  thread_id: string;
  user_id: string;
  agent_id: string;
  status: string;
  lock_expires_at: string;
  started_at: string;
  ended_at: string | null;
  last_seq: string;
}

interface EventRow {
  position: string;
  id: string;
  thread_id: string;
  run_id: string;
  seq: string;
  type: string;
  json: string;
}

/**
 * `IntelligenceStore` on PostgreSQL through a `pg` pool, for several platform instances on one
 * database. Every operation on a thread's runs (taking its lock, appending events, deleting it)
 * first locks the thread's row, always before any run row, so instances never decide on the
 * same thread at once and never deadlock each other; renewing and releasing a lock are single
 * statements on the run row. A partial unique index keeps at most one running run per thread
 * as a backstop. Events are appended with a `bigserial` position, which orders each thread's
 * log: a thread's appends are serialized by its row lock, so its positions commit in order.
 *
 * @example
 * ```ts
 * const store = new PostgresIntelligenceStore({ connectionString: process.env.DATABASE_URL, schema: "intelligence" });
 * await store.migrate();
 * ```
 */
export class PostgresIntelligenceStore implements IntelligenceStore {
  readonly kind = "postgres";
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly t: IntelligenceTables;
  private readonly schema: string | undefined;

  constructor(options: PostgresIntelligenceStoreOptions) {
    this.schema = options.schema;
    this.t = intelligenceTables(options.tablePrefix ?? DEFAULT_TABLE_PREFIX, options.schema);
    if (options.pool === undefined && options.connectionString === undefined) {
      throw new TypeError("PostgresIntelligenceStore needs `connectionString` (postgres://...) or `pool`.");
    }
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? new Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    if (this.ownsPool) this.pool.on("error", (error) => logger.warn({ err: error }, "a PostgreSQL connection of the Intelligence store failed while idle"));
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migratePostgresIntelligence(client, this.t, this.schema);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  async getThread(projectId: string, threadId: string): Promise<PlatformThread | undefined> {
    const { rows } = await this.pool.query<ThreadRow>(`SELECT ${THREAD_COLUMNS} FROM ${this.t.threads} WHERE project_id = $1 AND id = $2`, [
      projectId,
      threadId,
    ]);
    return rows[0] && toThread(rows[0]);
  }

  async createThread(request: CreateThreadRequest): Promise<{ thread: PlatformThread; created: boolean }> {
    const { t } = this;
    // Insert-or-read without a transaction; a delete slipping between the two just means another try.
    for (;;) {
      const inserted = await this.pool.query<ThreadRow>(
        `INSERT INTO ${t.threads} (project_id, id, user_id, agent_id, name, archived, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) ON CONFLICT (project_id, id) DO NOTHING RETURNING ${THREAD_COLUMNS}`,
        [request.projectId, request.threadId, request.userId, request.agentId, request.name, request.now],
      );
      if (inserted.rows[0] !== undefined) return { thread: toThread(inserted.rows[0]), created: true };
      const existing = await this.getThread(request.projectId, request.threadId);
      if (existing !== undefined) return { thread: existing, created: false };
    }
  }

  async listThreads(query: ThreadListQuery): Promise<{ threads: PlatformThread[]; nextCursor: string | null }> {
    const after = decodeThreadCursor(query.cursor);
    const limit = Math.max(0, Math.floor(query.limit));
    // One more than asked tells whether another page follows.
    const params: unknown[] = [query.projectId, query.userId, query.agentId, query.includeArchived, limit + 1];
    let keyset = "";
    if (after !== null) {
      params.push(after.activity, after.id);
      keyset = "AND (activity, id) < ($6, $7)";
    }
    const { rows } = await this.pool.query<ThreadRow & { activity: string }>(
      `SELECT ${THREAD_COLUMNS}, activity FROM ${this.t.threads}
       WHERE project_id = $1 AND user_id = $2 AND agent_id = $3 AND ($4 OR NOT archived) ${keyset}
       ORDER BY activity DESC, id DESC LIMIT $5`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last !== undefined ? encodeThreadCursor({ activity: Number(last.activity), id: last.id }) : null;
    return { threads: page.map(toThread), nextCursor };
  }

  async updateThread(projectId: string, threadId: string, patch: ThreadPatch, now: number): Promise<PlatformThread | undefined> {
    const { rows } = await this.pool.query<ThreadRow>(
      `UPDATE ${this.t.threads}
       SET name = CASE WHEN $3 THEN $4 ELSE name END,
           archived = CASE WHEN $5 THEN $6 ELSE archived END,
           updated_at = $7
       WHERE project_id = $1 AND id = $2 RETURNING ${THREAD_COLUMNS}`,
      [projectId, threadId, patch.name !== undefined, patch.name ?? null, patch.archived !== undefined, patch.archived ?? false, now],
    );
    return rows[0] && toThread(rows[0]);
  }

  deleteThread(projectId: string, threadId: string): Promise<boolean> {
    const { t } = this;
    return this.transaction(async (client) => {
      // The thread row first, as every other writer of this thread's runs locks it.
      const deleted = await client.query(`DELETE FROM ${t.threads} WHERE project_id = $1 AND id = $2`, [projectId, threadId]);
      await client.query(`DELETE FROM ${t.runs} WHERE project_id = $1 AND thread_id = $2`, [projectId, threadId]);
      await client.query(`DELETE FROM ${t.events} WHERE project_id = $1 AND thread_id = $2`, [projectId, threadId]);
      return (deleted.rowCount ?? 0) > 0;
    });
  }

  acquireLock(request: AcquireLockRequest): Promise<AcquireLockResult> {
    const { t } = this;
    const { projectId, threadId, runId, now } = request;
    const expiresAt = now + request.ttlMs;
    return this.transaction(async (client) => {
      if (!(await lockThread(client, t, projectId, threadId))) throw new ThreadNotFoundError(projectId, threadId);
      // This run (wherever it is) and the thread's running run, read after the thread lock.
      const { rows } = await client.query<RunRow>(
        `SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE project_id = $1 AND (run_id = $2 OR (thread_id = $3 AND status = 'running'))`,
        [projectId, runId, threadId],
      );
      const existing = rows.find((row) => row.run_id === runId);
      if (existing !== undefined) {
        // A run id is unique in its project: the same id on another thread is a conflict.
        if (existing.thread_id !== threadId) return { status: "held", run: toRun(existing) };
        if (existing.status !== "running") return { status: "ended", run: toRun(existing) };
        await client.query(`UPDATE ${t.runs} SET lock_expires_at = $3 WHERE project_id = $1 AND run_id = $2`, [projectId, runId, expiresAt]);
        return { status: "acquired", run: toRun({ ...existing, lock_expires_at: String(expiresAt) }) };
      }
      const active = rows.find((row) => row.thread_id === threadId && row.status === "running");
      if (active !== undefined) return { status: Number(active.lock_expires_at) < now ? "stale" : "held", run: toRun(active) };
      const inserted = await client.query<RunRow>(
        `INSERT INTO ${t.runs} (project_id, run_id, thread_id, user_id, agent_id, status, lock_expires_at, started_at, ended_at, last_seq)
         VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, NULL, 0) ON CONFLICT DO NOTHING RETURNING ${RUN_COLUMNS}`,
        [projectId, runId, threadId, request.userId, request.agentId, expiresAt, now],
      );
      if (inserted.rows[0] !== undefined) return { status: "acquired", run: toRun(inserted.rows[0]) };
      // The same run id was just taken on another thread (that thread's lock is not ours).
      const { rows: clash } = await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE project_id = $1 AND run_id = $2`, [
        projectId,
        runId,
      ]);
      if (clash[0] === undefined) throw new Error(`run '${runId}' could not be created and does not exist`);
      return { status: "held", run: toRun(clash[0]) };
    });
  }

  async renewLock(projectId: string, threadId: string, runId: string, ttlMs: number, now: number): Promise<"renewed" | "ended" | "missing"> {
    // One statement: the update, and what the run was when it did not apply. A run that was
    // running in the snapshot but could not be renewed had just ended (or been deleted): a
    // heartbeat racing the terminal event, which the port calls `ended`.
    const { rows } = await this.pool.query<{ renewed: boolean; status: string | null }>(
      `WITH renewed AS (
         UPDATE ${this.t.runs} SET lock_expires_at = $4
         WHERE project_id = $1 AND run_id = $2 AND thread_id = $3 AND status = 'running' RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM renewed) AS renewed,
              (SELECT status FROM ${this.t.runs} WHERE project_id = $1 AND run_id = $2 AND thread_id = $3) AS status`,
      [projectId, runId, threadId, now + ttlMs],
    );
    const { renewed, status } = rows[0];
    if (renewed) return "renewed";
    return status === null ? "missing" : "ended";
  }

  async releaseLock(projectId: string, threadId: string, runId: string, _now: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.t.runs} SET lock_expires_at = 0 WHERE project_id = $1 AND run_id = $2 AND thread_id = $3 AND status = 'running'`, [
      projectId,
      runId,
      threadId,
    ]);
  }

  async expiredRuns(now: number, limit: number): Promise<RunRecord[]> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM ${this.t.runs} WHERE status = 'running' AND lock_expires_at < $1 ORDER BY lock_expires_at, started_at LIMIT $2`,
      [now, Math.max(0, Math.floor(limit))],
    );
    return rows.map(toRun);
  }

  async getRun(projectId: string, runId: string): Promise<RunRecord | undefined> {
    const { rows } = await this.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${this.t.runs} WHERE project_id = $1 AND run_id = $2`, [projectId, runId]);
    return rows[0] && toRun(rows[0]);
  }

  async activeRun(projectId: string, threadId: string): Promise<RunRecord | undefined> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM ${this.t.runs} WHERE project_id = $1 AND thread_id = $2 AND status = 'running'`,
      [projectId, threadId],
    );
    return rows[0] && toRun(rows[0]);
  }

  appendRunEvents(request: AppendRunEventsRequest): Promise<AppendRunEventsResult> {
    const { t } = this;
    const { projectId, threadId, runId, now } = request;
    const batch = uniqueById(request.events);
    return this.transaction(async (client): Promise<AppendRunEventsResult> => {
      // The thread lock serializes this thread's writers; the run is read after it, so its
      // status is the one the last writer committed.
      const threadExists = await lockThread(client, t, projectId, threadId);
      const { rows } = threadExists
        ? await client.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE project_id = $1 AND run_id = $2 AND thread_id = $3`, [
            projectId,
            runId,
            threadId,
          ])
        : { rows: [] as RunRow[] };
      const run = rows[0];
      if (run === undefined || run.status !== "running") {
        if (batch.length === 0) return { status: "ok", stored: [] };
        const { rows: known } = await client.query<{ n: number }>(
          `SELECT COUNT(*)::int AS n FROM ${t.events} WHERE project_id = $1 AND id = ANY($2::text[])`,
          [projectId, batch.map((event) => event.id)],
        );
        return known[0].n === batch.length ? { status: "ok", stored: [] } : { status: "not_running" };
      }

      let stored: StoredEvent[] = [];
      if (batch.length > 0) {
        // Rows are inserted (and numbered by the sequence) in the batch's order.
        const inserted = await client.query<{ position: string; id: string }>(
          `INSERT INTO ${t.events} (project_id, id, thread_id, run_id, seq, type, json)
           SELECT $1, e.id, $2, $3, e.seq, e.type, e.json
           FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[]) WITH ORDINALITY AS e(id, seq, type, json, ord)
           ORDER BY e.ord
           ON CONFLICT (project_id, id) DO NOTHING RETURNING position, id`,
          [projectId, threadId, runId, batch.map((e) => e.id), batch.map((e) => e.seq), batch.map((e) => e.type), batch.map((e) => e.json)],
        );
        const positions = new Map(inserted.rows.map((row) => [row.id, Number(row.position)]));
        stored = batch
          .filter((event) => positions.has(event.id))
          .map((event) => ({ id: event.id, seq: event.seq, json: event.json, type: event.type, threadId, runId, position: positions.get(event.id)! }));
      }
      const lastSeq = stored.reduce((max, event) => Math.max(max, event.seq), Number(run.last_seq));
      if (request.terminal !== undefined) {
        await client.query(
          `UPDATE ${t.runs} SET last_seq = $3, status = $4, lock_expires_at = 0, ended_at = $5 WHERE project_id = $1 AND run_id = $2`,
          [projectId, runId, lastSeq, request.terminal, now],
        );
        await client.query(`UPDATE ${t.threads} SET last_run_at = $3, updated_at = $3 WHERE project_id = $1 AND id = $2`, [projectId, threadId, now]);
      } else if (lastSeq !== Number(run.last_seq)) {
        await client.query(`UPDATE ${t.runs} SET last_seq = $3 WHERE project_id = $1 AND run_id = $2`, [projectId, runId, lastSeq]);
      }
      return { status: "ok", stored };
    });
  }

  async eventsAfter(projectId: string, threadId: string, afterEventId: string | null, limit: number): Promise<StoredEvent[] | undefined> {
    const { t } = this;
    const max = Math.max(0, Math.floor(limit));
    if (afterEventId === null) {
      const { rows } = await this.pool.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${t.events} WHERE project_id = $1 AND thread_id = $2 ORDER BY position LIMIT $3`,
        [projectId, threadId, max],
      );
      return rows.map(toEvent);
    }
    // One statement: the cursor's position and the page, plus whether the cursor was found
    // (a LEFT JOIN keeps one row for a found cursor with nothing after it).
    const { rows } = await this.pool.query<Partial<EventRow> & { found: boolean }>(
      `WITH cursor AS (SELECT position FROM ${t.events} WHERE project_id = $1 AND id = $3 AND thread_id = $2),
            page AS (
              SELECT ${EVENT_COLUMNS} FROM ${t.events}
              WHERE project_id = $1 AND thread_id = $2 AND position > (SELECT position FROM cursor)
              ORDER BY position LIMIT $4
            )
       SELECT TRUE AS found, page.* FROM cursor LEFT JOIN page ON TRUE ORDER BY page.position`,
      [projectId, threadId, afterEventId, max],
    );
    if (rows.length === 0) return undefined;
    return rows.filter((row) => row.position !== null && row.position !== undefined).map((row) => toEvent(row as EventRow));
  }

  async runEvents(projectId: string, runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.t.events} WHERE project_id = $1 AND run_id = $2 AND seq > $3 ORDER BY seq, position LIMIT $4`,
      [projectId, runId, afterSeq, Math.max(0, Math.floor(limit))],
    );
    return rows.map(toEvent);
  }

  async latestEventId(projectId: string, threadId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM ${this.t.events} WHERE project_id = $1 AND thread_id = $2 ORDER BY position DESC LIMIT 1`,
      [projectId, threadId],
    );
    return rows[0]?.id ?? null;
  }

  async joinCodeFor(projectId: string, userId: string): Promise<string> {
    const { t } = this;
    for (;;) {
      const { rows } = await this.pool.query<{ code: string }>(`SELECT code FROM ${t.joinCodes} WHERE project_id = $1 AND user_id = $2`, [projectId, userId]);
      if (rows[0] !== undefined) return rows[0].code;
      // Nothing inserted means another instance gave this user a code first (read it on the
      // next turn) or, with 96 random bits, almost never, the code was taken (draw again).
      const inserted = await this.pool.query<{ code: string }>(
        `INSERT INTO ${t.joinCodes} (project_id, user_id, code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING code`,
        [projectId, userId, newJoinCode()],
      );
      if (inserted.rows[0] !== undefined) return inserted.rows[0].code;
    }
  }

  async userForJoinCode(projectId: string, joinCode: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ user_id: string }>(`SELECT user_id FROM ${this.t.joinCodes} WHERE project_id = $1 AND code = $2`, [
      projectId,
      joinCode,
    ]);
    return rows[0]?.user_id;
  }

  /** Runs `work` in one transaction on one connection, again (from the start) after a deadlock or serialization failure. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query("BEGIN");
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        const code = (error as { code?: unknown } | null)?.code;
        if (attempt < TRANSACTION_ATTEMPTS && typeof code === "string" && RETRYABLE_SQLSTATES.has(code)) continue;
        throw error;
      } finally {
        // A connection that could not even roll back is dropped, not handed to the next caller.
        client.release(broken);
      }
    }
  }
}

/** Locks the thread's row for this transaction; false when there is no such thread. */
async function lockThread(client: pg.PoolClient, t: IntelligenceTables, projectId: string, threadId: string): Promise<boolean> {
  const { rowCount } = await client.query(`SELECT 1 FROM ${t.threads} WHERE project_id = $1 AND id = $2 FOR NO KEY UPDATE`, [projectId, threadId]);
  return (rowCount ?? 0) > 0;
}

/** The batch without repeated ids (first one wins), in its order. */
function uniqueById(events: NewEvent[]): NewEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => !seen.has(event.id) && (seen.add(event.id), true));
}

function toThread(row: ThreadRow): PlatformThread {
  return {
    projectId: row.project_id,
    id: row.id,
    userId: row.user_id,
    agentId: row.agent_id,
    name: row.name,
    archived: row.archived,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastRunAt: row.last_run_at === null ? null : Number(row.last_run_at),
  };
}

function toRun(row: RunRow): RunRecord {
  return {
    projectId: row.project_id,
    threadId: row.thread_id,
    runId: row.run_id,
    userId: row.user_id,
    agentId: row.agent_id,
    status: row.status as RunStatus,
    lockExpiresAt: Number(row.lock_expires_at),
    startedAt: Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    lastSeq: Number(row.last_seq),
  };
}

function toEvent(row: EventRow): StoredEvent {
  return { id: row.id, seq: Number(row.seq), json: row.json, type: row.type, threadId: row.thread_id, runId: row.run_id, position: Number(row.position) };
}
