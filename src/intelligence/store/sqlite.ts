import type BetterSqlite3 from "better-sqlite3";
import { requireOptional } from "../../optional-dependency.js";
import { BLOCKING_BUSY_MS, SqliteLockWait } from "../../storage/sqlite/lock-wait.js";
import { ThreadNotFoundError } from "./errors.js";
import { newJoinCode } from "./join-code.js";
import { migrateSqliteIntelligence } from "./sqlite-schema.js";
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

/** Loaded when this module is: without better-sqlite3 the import fails, saying what to install. */
const Database = requireOptional<typeof BetterSqlite3>({
  specifier: "better-sqlite3",
  packageName: "better-sqlite3",
  version: "12",
  neededBy: "SqliteIntelligenceStore",
});

export { SqliteBusyError } from "../../storage/sqlite/lock-wait.js";

export interface SqliteIntelligenceStoreOptions {
  /** Database file; created if missing. `":memory:"` keeps everything in this process. Default `":memory:"`. */
  path?: string;
  /**
   * An open `better-sqlite3` database to use instead of `path`, for example the file of the
   * `SqliteAgentRunner` (the table prefixes keep the two apart). Not closed by the store.
   */
  database?: BetterSqlite3.Database;
  /** Prepended to every table name. Default `"cpki_"`. */
  tablePrefix?: string;
  /**
   * How long one operation waits, in total, while another connection (usually another
   * process) holds a lock on the file, before it fails with `SqliteBusyError`. The wait is
   * spent on timers, so the event loop keeps serving. Default 5000 ms.
   */
  busyTimeoutMs?: number;
}

const THREAD_COLUMNS = "project_id, id, user_id, agent_id, name, archived, created_at, updated_at, last_run_at";
const RUN_COLUMNS = "project_id, run_id, thread_id, user_id, agent_id, status, lock_expires_at, started_at, ended_at, last_seq";
const EVENT_COLUMNS = "position, id, thread_id, run_id, seq, type, json";

interface ThreadRow {
  project_id: string;
  id: string;
  user_id: string;
  agent_id: string;
  name: string | null;
  archived: number;
  created_at: number;
  updated_at: number;
  last_run_at: number | null;
}

interface RunRow {
  project_id: string;
  run_id: string;
  thread_id: string;
  user_id: string;
  agent_id: string;
  status: string;
  lock_expires_at: number;
  started_at: number;
  ended_at: number | null;
  last_seq: number;
}

interface EventRow {
  position: number;
  id: string;
  thread_id: string;
  run_id: string;
  seq: number;
  type: string;
  json: string;
}

/**
 * `IntelligenceStore` on `better-sqlite3`: one file for a single machine (several processes may
 * share it). WAL journal, so readers never wait for the writer. Every multi-step operation is
 * one `BEGIN IMMEDIATE` transaction, so the write lock is taken before anything is read and two
 * processes cannot both decide, say, that a thread's lock is free. An operation refused for
 * another process's lock is retried on timers for up to `busyTimeoutMs` (`SqliteLockWait`),
 * never by blocking the event loop; SQLite rolled the refused transaction back, so a retry
 * writes nothing twice.
 *
 * @example
 * ```ts
 * const store = new SqliteIntelligenceStore({ path: "./intelligence.db" });
 * await store.migrate();
 * ```
 */
export class SqliteIntelligenceStore implements IntelligenceStore {
  readonly kind = "sqlite";
  private readonly db: BetterSqlite3.Database;
  private readonly ownsDb: boolean;
  private readonly t: IntelligenceTables;
  private readonly wait: SqliteLockWait;
  private s!: ReturnType<SqliteIntelligenceStore["prepare"]>;

  constructor(options: SqliteIntelligenceStoreOptions = {}) {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    if (!Number.isFinite(busyTimeoutMs) || busyTimeoutMs < 0) throw new RangeError("busyTimeoutMs must be a number of milliseconds, 0 or more");
    this.t = intelligenceTables(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.wait = new SqliteLockWait(busyTimeoutMs);
    this.ownsDb = options.database === undefined;
    this.db = options.database ?? new Database(options.path ?? ":memory:");
    // Opening is synchronous (a constructor): switching to WAL may wait for another process
    // the blocking way, once, at start-up. Everything after waits on timers.
    this.db.pragma(`busy_timeout = ${Math.round(busyTimeoutMs)}`);
    if (this.db.name !== ":memory:" && this.db.name !== "") this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma(`busy_timeout = ${BLOCKING_BUSY_MS}`);
  }

  async migrate(): Promise<void> {
    await this.wait.write(() => migrateSqliteIntelligence(this.db, this.t));
    this.s = this.prepare();
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }

  private prepare() {
    const { db, t } = this;
    const s = {
      thread: db.prepare(`SELECT ${THREAD_COLUMNS} FROM ${t.threads} WHERE project_id = ? AND id = ?`),
      insertThread: db.prepare(
        `INSERT INTO ${t.threads} (project_id, id, user_id, agent_id, name, archived, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (project_id, id) DO NOTHING`,
      ),
      listFirst: db.prepare(
        `SELECT ${THREAD_COLUMNS}, activity FROM ${t.threads}
         WHERE project_id = @project AND user_id = @user AND agent_id = @agent AND (@archived = 1 OR archived = 0)
         ORDER BY activity DESC, id DESC LIMIT @limit`,
      ),
      listAfter: db.prepare(
        `SELECT ${THREAD_COLUMNS}, activity FROM ${t.threads}
         WHERE project_id = @project AND user_id = @user AND agent_id = @agent AND (@archived = 1 OR archived = 0)
           AND (activity, id) < (@activity, @id)
         ORDER BY activity DESC, id DESC LIMIT @limit`,
      ),
      update: db.prepare(
        `UPDATE ${t.threads}
         SET name = CASE WHEN @setName = 1 THEN @name ELSE name END,
             archived = CASE WHEN @setArchived = 1 THEN @archived ELSE archived END,
             updated_at = @now
         WHERE project_id = @project AND id = @id RETURNING ${THREAD_COLUMNS}`,
      ),
      deleteEvents: db.prepare(`DELETE FROM ${t.events} WHERE project_id = ? AND thread_id = ?`),
      deleteRuns: db.prepare(`DELETE FROM ${t.runs} WHERE project_id = ? AND thread_id = ?`),
      deleteThread: db.prepare(`DELETE FROM ${t.threads} WHERE project_id = ? AND id = ?`),
      threadExists: db.prepare(`SELECT 1 FROM ${t.threads} WHERE project_id = ? AND id = ?`).pluck(),
      run: db.prepare(`SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE project_id = ? AND run_id = ?`),
      activeRun: db.prepare(`SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE project_id = ? AND thread_id = ? AND status = 'running'`),
      insertRun: db.prepare(
        `INSERT INTO ${t.runs} (project_id, run_id, thread_id, user_id, agent_id, status, lock_expires_at, started_at, ended_at, last_seq)
         VALUES (?, ?, ?, ?, ?, 'running', ?, ?, NULL, 0)`,
      ),
      setLockExpiry: db.prepare(`UPDATE ${t.runs} SET lock_expires_at = ? WHERE project_id = ? AND run_id = ? AND status = 'running'`),
      release: db.prepare(`UPDATE ${t.runs} SET lock_expires_at = 0 WHERE project_id = ? AND run_id = ? AND thread_id = ? AND status = 'running'`),
      expired: db.prepare(
        `SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE status = 'running' AND lock_expires_at < ? ORDER BY lock_expires_at, started_at LIMIT ?`,
      ),
      storedIds: db.prepare(`SELECT id FROM ${t.events} WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))`).pluck(),
      insertEvent: db
        .prepare(
          `INSERT INTO ${t.events} (project_id, id, thread_id, run_id, seq, type, json) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (project_id, id) DO NOTHING RETURNING position`,
        )
        .pluck(),
      advanceRun: db.prepare(`UPDATE ${t.runs} SET last_seq = MAX(last_seq, ?) WHERE project_id = ? AND run_id = ?`),
      endRun: db.prepare(`UPDATE ${t.runs} SET status = ?, lock_expires_at = 0, ended_at = ? WHERE project_id = ? AND run_id = ?`),
      touchThreadRun: db.prepare(`UPDATE ${t.threads} SET last_run_at = ?, updated_at = ? WHERE project_id = ? AND id = ?`),
      eventById: db.prepare(`SELECT thread_id, position FROM ${t.events} WHERE project_id = ? AND id = ?`),
      threadEvents: db.prepare(
        `SELECT ${EVENT_COLUMNS} FROM ${t.events} WHERE project_id = ? AND thread_id = ? AND position > ? ORDER BY position LIMIT ?`,
      ),
      runEvents: db.prepare(`SELECT ${EVENT_COLUMNS} FROM ${t.events} WHERE project_id = ? AND run_id = ? AND seq > ? ORDER BY seq, position LIMIT ?`),
      latestEventId: db.prepare(`SELECT id FROM ${t.events} WHERE project_id = ? AND thread_id = ? ORDER BY position DESC LIMIT 1`).pluck(),
      joinCode: db.prepare(`SELECT code FROM ${t.joinCodes} WHERE project_id = ? AND user_id = ?`).pluck(),
      insertJoinCode: db.prepare(`INSERT INTO ${t.joinCodes} (project_id, user_id, code) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      joinCodeOwner: db.prepare(`SELECT user_id FROM ${t.joinCodes} WHERE project_id = ? AND code = ?`).pluck(),
    };

    const createThread = db.transaction((request: CreateThreadRequest) => {
      const created =
        s.insertThread.run(request.projectId, request.threadId, request.userId, request.agentId, request.name, request.now, request.now).changes > 0;
      return { thread: toThread(s.thread.get(request.projectId, request.threadId) as ThreadRow), created };
    });

    const deleteThread = db.transaction((projectId: string, threadId: string): boolean => {
      s.deleteEvents.run(projectId, threadId);
      s.deleteRuns.run(projectId, threadId);
      return s.deleteThread.run(projectId, threadId).changes > 0;
    });

    const acquireLock = db.transaction((request: AcquireLockRequest): AcquireLockResult => {
      const { projectId, threadId, runId, now } = request;
      if (s.threadExists.get(projectId, threadId) === undefined) throw new ThreadNotFoundError(projectId, threadId);
      const existing = s.run.get(projectId, runId) as RunRow | undefined;
      if (existing !== undefined) {
        // A run id is unique in its project: the same id on another thread is a conflict.
        if (existing.thread_id !== threadId) return { status: "held", run: toRun(existing) };
        if (existing.status !== "running") return { status: "ended", run: toRun(existing) };
        s.setLockExpiry.run(now + request.ttlMs, projectId, runId);
        return { status: "acquired", run: toRun({ ...existing, lock_expires_at: now + request.ttlMs }) };
      }
      const active = s.activeRun.get(projectId, threadId) as RunRow | undefined;
      if (active !== undefined) return { status: active.lock_expires_at < now ? "stale" : "held", run: toRun(active) };
      s.insertRun.run(projectId, runId, threadId, request.userId, request.agentId, now + request.ttlMs, now);
      return { status: "acquired", run: toRun(s.run.get(projectId, runId) as RunRow) };
    });

    const renewLock = db.transaction((projectId: string, threadId: string, runId: string, expiresAt: number) => {
      const run = s.run.get(projectId, runId) as RunRow | undefined;
      if (run === undefined || run.thread_id !== threadId) return "missing" as const;
      if (run.status !== "running") return "ended" as const;
      s.setLockExpiry.run(expiresAt, projectId, runId);
      return "renewed" as const;
    });

    const appendRunEvents = db.transaction((request: AppendRunEventsRequest): AppendRunEventsResult => {
      const { projectId, threadId, runId, now } = request;
      const batch = uniqueById(request.events);
      const run = s.run.get(projectId, runId) as RunRow | undefined;
      if (run === undefined || run.thread_id !== threadId || run.status !== "running") {
        if (batch.length === 0) return { status: "ok", stored: [] };
        const stored = s.storedIds.all(projectId, JSON.stringify(batch.map((event) => event.id))) as string[];
        return stored.length === batch.length ? { status: "ok", stored: [] } : { status: "not_running" };
      }
      const stored: StoredEvent[] = [];
      let lastSeq = run.last_seq;
      for (const event of batch) {
        const position = s.insertEvent.get(projectId, event.id, threadId, runId, event.seq, event.type, event.json) as number | undefined;
        if (position === undefined) continue; // stored before: a re-sent event
        stored.push({ id: event.id, seq: event.seq, json: event.json, type: event.type, threadId, runId, position });
        lastSeq = Math.max(lastSeq, event.seq);
      }
      if (lastSeq !== run.last_seq) s.advanceRun.run(lastSeq, projectId, runId);
      if (request.terminal !== undefined) {
        s.endRun.run(request.terminal, now, projectId, runId);
        s.touchThreadRun.run(now, now, projectId, threadId);
      }
      return { status: "ok", stored };
    });

    const eventsAfter = db.transaction((projectId: string, threadId: string, afterEventId: string | null, limit: number) => {
      let after = 0;
      if (afterEventId !== null) {
        const cursor = s.eventById.get(projectId, afterEventId) as { thread_id: string; position: number } | undefined;
        if (cursor === undefined || cursor.thread_id !== threadId) return undefined;
        after = cursor.position;
      }
      return (s.threadEvents.all(projectId, threadId, after, limit) as EventRow[]).map(toEvent);
    });

    const joinCodeFor = db.transaction((projectId: string, userId: string): string => {
      const existing = s.joinCode.get(projectId, userId) as string | undefined;
      if (existing !== undefined) return existing;
      // A code collision (96 random bits) inserts nothing: draw again.
      for (;;) {
        const code = newJoinCode();
        if (s.insertJoinCode.run(projectId, userId, code).changes > 0) return code;
      }
    });

    return { ...s, createThread, deleteThread, acquireLock, renewLock, appendRunEvents, eventsAfter, joinCodeFor };
  }

  async getThread(projectId: string, threadId: string): Promise<PlatformThread | undefined> {
    const row = await this.wait.read(() => this.s.thread.get(projectId, threadId) as ThreadRow | undefined);
    return row && toThread(row);
  }

  createThread(request: CreateThreadRequest): Promise<{ thread: PlatformThread; created: boolean }> {
    return this.wait.write(() => this.s.createThread.immediate(request));
  }

  async listThreads(query: ThreadListQuery): Promise<{ threads: PlatformThread[]; nextCursor: string | null }> {
    const after = decodeThreadCursor(query.cursor);
    const limit = Math.max(0, Math.floor(query.limit));
    const params = {
      project: query.projectId,
      user: query.userId,
      agent: query.agentId,
      archived: query.includeArchived ? 1 : 0,
      // One more than asked tells whether another page follows.
      limit: limit + 1,
    };
    const rows = await this.wait.read(
      () =>
        (after === null ? this.s.listFirst.all(params) : this.s.listAfter.all({ ...params, activity: after.activity, id: after.id })) as Array<
          ThreadRow & { activity: number }
        >,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last !== undefined ? encodeThreadCursor({ activity: last.activity, id: last.id }) : null;
    return { threads: page.map(toThread), nextCursor };
  }

  async updateThread(projectId: string, threadId: string, patch: ThreadPatch, now: number): Promise<PlatformThread | undefined> {
    const row = await this.wait.write(
      () =>
        this.s.update.get({
          project: projectId,
          id: threadId,
          setName: patch.name !== undefined ? 1 : 0,
          name: patch.name ?? null,
          setArchived: patch.archived !== undefined ? 1 : 0,
          archived: patch.archived ? 1 : 0,
          now,
        }) as ThreadRow | undefined,
    );
    return row && toThread(row);
  }

  deleteThread(projectId: string, threadId: string): Promise<boolean> {
    return this.wait.write(() => this.s.deleteThread.immediate(projectId, threadId));
  }

  acquireLock(request: AcquireLockRequest): Promise<AcquireLockResult> {
    return this.wait.write(() => this.s.acquireLock.immediate(request));
  }

  renewLock(projectId: string, threadId: string, runId: string, ttlMs: number, now: number): Promise<"renewed" | "ended" | "missing"> {
    return this.wait.write(() => this.s.renewLock.immediate(projectId, threadId, runId, now + ttlMs));
  }

  async releaseLock(projectId: string, threadId: string, runId: string, _now: number): Promise<void> {
    await this.wait.write(() => this.s.release.run(projectId, runId, threadId));
  }

  async expiredRuns(now: number, limit: number): Promise<RunRecord[]> {
    const rows = await this.wait.read(() => this.s.expired.all(now, Math.max(0, Math.floor(limit))) as RunRow[]);
    return rows.map(toRun);
  }

  async getRun(projectId: string, runId: string): Promise<RunRecord | undefined> {
    const row = await this.wait.read(() => this.s.run.get(projectId, runId) as RunRow | undefined);
    return row && toRun(row);
  }

  async activeRun(projectId: string, threadId: string): Promise<RunRecord | undefined> {
    const row = await this.wait.read(() => this.s.activeRun.get(projectId, threadId) as RunRow | undefined);
    return row && toRun(row);
  }

  appendRunEvents(request: AppendRunEventsRequest): Promise<AppendRunEventsResult> {
    return this.wait.write(() => this.s.appendRunEvents.immediate(request));
  }

  eventsAfter(projectId: string, threadId: string, afterEventId: string | null, limit: number): Promise<StoredEvent[] | undefined> {
    // A deferred (read) transaction: the cursor and the page come from one snapshot.
    return this.wait.read(() => this.s.eventsAfter.deferred(projectId, threadId, afterEventId, Math.max(0, Math.floor(limit))));
  }

  async runEvents(projectId: string, runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.wait.read(() => this.s.runEvents.all(projectId, runId, afterSeq, Math.max(0, Math.floor(limit))) as EventRow[]);
    return rows.map(toEvent);
  }

  async latestEventId(projectId: string, threadId: string): Promise<string | null> {
    const id = await this.wait.read(() => this.s.latestEventId.get(projectId, threadId) as string | undefined);
    return id ?? null;
  }

  joinCodeFor(projectId: string, userId: string): Promise<string> {
    return this.wait.write(() => this.s.joinCodeFor.immediate(projectId, userId));
  }

  async userForJoinCode(projectId: string, joinCode: string): Promise<string | undefined> {
    return this.wait.read(() => this.s.joinCodeOwner.get(projectId, joinCode) as string | undefined);
  }
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
    archived: row.archived === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastRunAt: row.last_run_at,
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
    lockExpiresAt: row.lock_expires_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    lastSeq: row.last_seq,
  };
}

function toEvent(row: EventRow): StoredEvent {
  return { id: row.id, seq: row.seq, json: row.json, type: row.type, threadId: row.thread_id, runId: row.run_id, position: row.position };
}
