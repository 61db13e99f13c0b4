import type BetterSqlite3 from "better-sqlite3";
import { requireOptional } from "../../optional-dependency.js";
import type { AgentEvent } from "../../events/types.js";
import type {
  ActiveRunRow,
  AppendResult,
  DurableStore,
  EndedRunRow,
  EventRow,
  FinishRunRequest,
  HeldLease,
  RunRef,
  RunProgress,
  RunTail,
  SeqEvent,
  StartRunRequest,
  StartRunResult,
  ThreadListQuery,
  ThreadRow,
} from "../../runners/durable/store.js";
import { RUN_COLUMNS, THREAD_COLUMNS, type TableNames, tableNames } from "../sql-names.js";
import { BLOCKING_BUSY_MS, SqliteLockWait, isTransientStoreError } from "./lock-wait.js";
import { migrateSqlite } from "./migrations.js";

/** Loaded when this module is: `copilot-runtime/sqlite` without better-sqlite3 fails at import, saying what to install. */
const Database = requireOptional<typeof BetterSqlite3>({
  specifier: "better-sqlite3",
  packageName: "better-sqlite3",
  version: "12",
  neededBy: "SqliteAgentRunner",
});

export { SqliteBusyError, isTransientStoreError } from "./lock-wait.js";

export interface SqliteStoreOptions {
  /** Database file; created if missing. `":memory:"` keeps everything in this process. */
  path?: string;
  /** An open `better-sqlite3` database to use instead of `path` (not closed by the store). */
  database?: BetterSqlite3.Database;
  /** Prepended to every table name. Default `"copilot_"`. */
  tablePrefix?: string;
  /**
   * How long one read or write waits, in total, while another connection (usually another
   * process) holds a lock on the file, before it fails with `SqliteBusyError`. The wait is
   * spent on timers, so the event loop keeps serving. Default 5000 ms.
   */
  busyTimeoutMs?: number;
}

interface ThreadDbRow {
  id: string;
  agent_id: string;
  owner_id: string;
  name: string | null;
  archived: number;
  created_at: number;
  updated_at: number;
  last_run_at: number | null;
  activity: number;
}

interface RunDbRow {
  thread_id: string;
  first_seq: number;
  run_id: string;
  status: string;
  lease_owner: string | null;
  lease_expires_at: number;
  stop_requested: number;
  input: string | null;
}

const EVENTS_PER_INSERT = 64;

/**
 * `DurableStore` on `better-sqlite3`: WAL journal (readers never wait for the writer),
 * `synchronous = NORMAL` (a committed write survives a process crash; only a power cut may
 * lose the last transactions). Every multi-step operation is one `BEGIN IMMEDIATE`
 * transaction. Several processes may share the file: an operation refused for another
 * process's lock is retried on timers for up to `busyTimeoutMs` (see `SqliteLockWait`), never
 * by blocking the event loop, and a retry re-runs the whole transaction, which SQLite rolled
 * back, so nothing is written twice.
 */
export class SqliteStore implements DurableStore {
  readonly kind = "sqlite";
  private readonly db: BetterSqlite3.Database;
  private readonly ownsDb: boolean;
  private readonly t: TableNames;
  private readonly prefix: string;
  private readonly lock: SqliteLockWait;
  private s!: ReturnType<SqliteStore["prepare"]>;

  constructor(options: SqliteStoreOptions = {}) {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    if (!Number.isFinite(busyTimeoutMs) || busyTimeoutMs < 0) throw new RangeError("busyTimeoutMs must be a number of milliseconds, 0 or more");
    this.prefix = options.tablePrefix ?? "copilot_";
    this.t = tableNames(this.prefix);
    this.lock = new SqliteLockWait(busyTimeoutMs);
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
    // Atomic as a whole (`CREATE TABLE IF NOT EXISTS`, then one transaction), so it may be retried.
    await this.lock.write(() => migrateSqlite(this.db, this.t, this.prefix));
    this.s = this.prepare();
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }

  private prepare() {
    const { db, t } = this;
    const s = {
      threadForStart: db.prepare(`SELECT agent_id, owner_id, active_run_seq, last_seq FROM ${t.threads} WHERE id = ?`),
      nextActivity: db.prepare(`SELECT COALESCE(MAX(activity), 0) + 1 AS a FROM ${t.threads}`).pluck(),
      insertThread: db.prepare(
        `INSERT INTO ${t.threads} (id, agent_id, owner_id, name, archived, created_at, updated_at, activity) VALUES (?, ?, ?, NULL, 0, ?, ?, ?)`,
      ),
      maxSeq: db.prepare(`SELECT COALESCE(MAX(seq), 0) FROM ${t.events} WHERE thread_id = ?`).pluck(),
      knownMessages: db
        .prepare(`SELECT message_id FROM ${t.messages} WHERE thread_id = ? AND message_id IN (SELECT value FROM json_each(?))`)
        .pluck(),
      insertRun: db.prepare(
        `INSERT INTO ${t.runs} (thread_id, first_seq, run_id, status, lease_owner, lease_expires_at, input, created_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
      ),
      setActive: db.prepare(`UPDATE ${t.threads} SET active_run_seq = ? WHERE id = ?`),
      run: db.prepare(`SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE thread_id = ? AND first_seq = ?`),
      lastEventSeq: db.prepare(`SELECT MAX(seq) FROM ${t.events} WHERE thread_id = ?`).pluck(),
      runState: db.prepare(`SELECT status, last_seq, lease_owner, lease_expires_at FROM ${t.runs} WHERE thread_id = ? AND first_seq = ?`),
      holds: db.prepare(`SELECT 1 FROM ${t.runs} WHERE thread_id = ? AND first_seq = ? AND status = 'running' AND lease_owner = ?`).pluck(),
      holdsRun: db
        .prepare(`SELECT 1 FROM ${t.runs} WHERE thread_id = ? AND first_seq = ? AND status = 'running' AND lease_owner = ? AND run_id = ?`)
        .pluck(),
      insertEvent: db.prepare(`INSERT INTO ${t.events} (thread_id, seq, run_id, type, data) VALUES (?, ?, ?, ?, ?)`),
      insertEvents: db.prepare(
        `INSERT INTO ${t.events} (thread_id, seq, run_id, type, data) VALUES ${Array(EVENTS_PER_INSERT).fill("(?, ?, ?, ?, ?)").join(", ")}`,
      ),
      endRun: db.prepare(
        `UPDATE ${t.runs} SET status = ?, last_seq = ?, compacted = ?, finished_at = ?, lease_owner = NULL, stop_requested = 0 WHERE thread_id = ? AND first_seq = ?`,
      ),
      endThreadRun: db.prepare(
        `UPDATE ${t.threads} SET active_run_seq = CASE WHEN active_run_seq = ? THEN NULL ELSE active_run_seq END,
           last_seq = MAX(last_seq, ?), last_run_at = ?, updated_at = ?, activity = ? WHERE id = ?`,
      ),
      saveState: db.prepare(`INSERT INTO ${t.state} (thread_id, state) VALUES (?, ?) ON CONFLICT (thread_id) DO UPDATE SET state = excluded.state`),
      insertMessage: db.prepare(`INSERT OR IGNORE INTO ${t.messages} (thread_id, message_id) VALUES (?, ?)`),
      renew: db
        .prepare(
          `UPDATE ${t.runs} SET lease_expires_at = ? WHERE thread_id = ? AND first_seq = ? AND status = 'running' AND lease_owner = ? RETURNING stop_requested`,
        )
        .pluck(),
      requestStop: db.prepare(`UPDATE ${t.runs} SET stop_requested = 1 WHERE thread_id = ? AND first_seq = ? AND status = 'running'`),
      expired: db.prepare(`SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE status = 'running' AND lease_expires_at < ?`),
      runEvents: db.prepare(`SELECT seq, data FROM ${t.events} WHERE thread_id = ? AND seq >= ? ORDER BY seq`),
      thread: db.prepare(`SELECT ${THREAD_COLUMNS} FROM ${t.threads} WHERE id = ?`),
      threadState: db.prepare(`SELECT state FROM ${t.state} WHERE thread_id = ?`).pluck(),
      activeRun: db.prepare(
        `SELECT th.last_seq AS thread_last_seq, r.thread_id, r.first_seq, r.run_id, r.status, r.lease_owner, r.lease_expires_at, r.stop_requested, NULL AS input
         FROM ${t.threads} th LEFT JOIN ${t.runs} r ON r.thread_id = th.id AND r.first_seq = th.active_run_seq WHERE th.id = ?`,
      ),
      endedRunsAfter: db.prepare(
        `SELECT run_id, first_seq, last_seq, compacted FROM ${t.runs} WHERE thread_id = ? AND status <> 'running' AND last_seq > ? ORDER BY first_seq`,
      ),
      eventsBetween: db.prepare(`SELECT seq, data FROM ${t.events} WHERE thread_id = ? AND seq > ? AND seq <= ? ORDER BY seq`),
      list: db.prepare(
        `SELECT ${THREAD_COLUMNS} FROM ${t.threads}
         WHERE owner_id = @owner AND last_run_at IS NOT NULL AND (@agent IS NULL OR agent_id = @agent)
           AND (@archived = 1 OR archived = 0) AND activity < @before
         ORDER BY activity DESC LIMIT @limit`,
      ),
      ownedThread: db.prepare(`SELECT 1 FROM ${t.threads} WHERE id = ? AND owner_id = ?`).pluck(),
      rename: db.prepare(`UPDATE ${t.threads} SET name = ? WHERE id = ?`),
      archive: db.prepare(`UPDATE ${t.threads} SET archived = ? WHERE id = ?`),
      touch: db.prepare(`UPDATE ${t.threads} SET updated_at = ?, activity = ? WHERE id = ?`),
      deleteEvents: db.prepare(`DELETE FROM ${t.events} WHERE thread_id = ?`),
      deleteRuns: db.prepare(`DELETE FROM ${t.runs} WHERE thread_id = ?`),
      deleteMessages: db.prepare(`DELETE FROM ${t.messages} WHERE thread_id = ?`),
      deleteState: db.prepare(`DELETE FROM ${t.state} WHERE thread_id = ?`),
      deleteThread: db.prepare(`DELETE FROM ${t.threads} WHERE id = ?`),
      ownerThreads: db.prepare(`SELECT id FROM ${t.threads} WHERE owner_id = ?`).pluck(),
      idleThread: db.prepare(`SELECT 1 FROM ${t.threads} WHERE id = ? AND active_run_seq IS NULL`).pluck(),
      staleThreads: db.prepare(`SELECT id FROM ${t.threads} WHERE updated_at < ? AND active_run_seq IS NULL`).pluck(),
      surplusThreads: db
        .prepare(
          `SELECT id FROM (SELECT id, active_run_seq, ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY activity DESC) AS rank FROM ${t.threads})
           WHERE rank > ? AND active_run_seq IS NULL`,
        )
        .pluck(),
    };
    // Many rows per statement: a long burst costs a fraction of the per-call overhead.
    const params: unknown[] = new Array(EVENTS_PER_INSERT * 5);
    const insertRows = (threadId: string, rows: EventRow[]) => {
      let i = 0;
      for (; i + EVENTS_PER_INSERT <= rows.length; i += EVENTS_PER_INSERT) {
        for (let j = 0; j < EVENTS_PER_INSERT; j++) {
          const row = rows[i + j];
          const k = j * 5;
          params[k] = threadId;
          params[k + 1] = row.seq;
          params[k + 2] = row.runId;
          params[k + 3] = row.type;
          params[k + 4] = row.data;
        }
        s.insertEvents.run(params);
      }
      for (; i < rows.length; i++) s.insertEvent.run(threadId, rows[i].seq, rows[i].runId, rows[i].type, rows[i].data);
    };
    const s2 = {
      ...s,
      startRun: db.transaction((request: StartRunRequest): StartRunResult => {
        let thread = s.threadForStart.get(request.threadId) as
          | { agent_id: string; owner_id: string; active_run_seq: number | null; last_seq: number }
          | undefined;
        if (thread === undefined) {
          const activity = s.nextActivity.get() as number;
          s.insertThread.run(request.threadId, request.agentId, request.ownerId, request.now, request.now, activity);
          thread = { agent_id: request.agentId, owner_id: request.ownerId, active_run_seq: null, last_seq: 0 };
        }
        if (thread.owner_id !== request.ownerId) return { kind: "not_found" };
        if (thread.agent_id !== request.agentId) return { kind: "agent_mismatch", agentId: thread.agent_id };
        if (thread.active_run_seq !== null) {
          const active = s.run.get(request.threadId, thread.active_run_seq) as RunDbRow;
          return { kind: "busy", active: toActiveRun(active) };
        }
        const firstSeq = Math.max(s.maxSeq.get(request.threadId) as number, thread.last_seq) + 1;
        const known = request.inputMessageIds.length === 0 ? [] : (s.knownMessages.all(request.threadId, JSON.stringify(request.inputMessageIds)) as string[]);
        const input = request.describeInput(new Set(known));
        s.insertRun.run(request.threadId, firstSeq, request.runId, request.instanceId, request.leaseExpiresAt, input, request.now);
        s.setActive.run(firstSeq, request.threadId);
        return { kind: "started", firstSeq, knownMessageIds: known };
      }),
      // Nested in `appendMany`, so it runs as a savepoint: one run's failure (a stalled
      // process's rows colliding with its recovery) does not undo the others'.
      appendOne: db.transaction((run: RunRef, instanceId: string, rows: EventRow[]): boolean => {
        // The run id too: after a delete, a new run of this process on the reused thread id may
        // have the same first number, and an old run's late write must not land in it.
        const held = rows.length === 0 ? s.holds.get(run.threadId, run.firstSeq, instanceId) : s.holdsRun.get(run.threadId, run.firstSeq, instanceId, rows[0].runId);
        if (held === undefined) return false;
        insertRows(run.threadId, rows);
        return true;
      }),
      appendMany: db.transaction((instanceId: string, batches: Array<{ run: RunRef; rows: EventRow[] }>): AppendResult[] =>
        batches.map(({ run, rows }) => {
          try {
            return s2.appendOne(run, instanceId, rows);
          } catch (error) {
            // A lock conflict is about the whole transaction: let it be retried (SqliteLockWait),
            // not reported as this run's failure. Anything else fails this run alone.
            if (isTransientStoreError(error)) throw error;
            return { error };
          }
        }),
      ),
      finish: db.transaction((request: FinishRunRequest): boolean => {
        const { threadId, firstSeq } = request.run;
        const current = s.run.get(threadId, firstSeq) as RunDbRow | undefined;
        if (current === undefined || current.status !== "running") return false;
        const guard = request.guard;
        if (current.lease_owner !== guard.holder) return false;
        if ("expiredBefore" in guard && current.lease_expires_at >= guard.expiredBefore) return false;
        insertRows(threadId, request.rows);
        s.endRun.run(request.status, request.lastSeq, request.compacted, request.now, threadId, firstSeq);
        const activity = s.nextActivity.get() as number;
        s.endThreadRun.run(firstSeq, request.lastSeq, request.now, request.now, activity, threadId);
        if (request.state !== undefined) s.saveState.run(threadId, request.state);
        for (const id of request.messageIds) s.insertMessage.run(threadId, id);
        return true;
      }),
      renewAll: db.transaction((instanceId: string, runs: RunRef[], expiresAt: number): HeldLease[] => {
        const held: HeldLease[] = [];
        for (const run of runs) {
          const stop = s.renew.get(expiresAt, run.threadId, run.firstSeq, instanceId) as number | undefined;
          if (stop !== undefined) held.push({ ...run, stopRequested: stop === 1 });
        }
        return held;
      }),
      update: db.transaction((threadId: string, ownerId: string, patch: { name?: string | null; archived?: boolean }, now: number) => {
        if (s.ownedThread.get(threadId, ownerId) === undefined) return undefined;
        if (patch.name !== undefined) s.rename.run(patch.name, threadId);
        if (patch.archived !== undefined) s.archive.run(patch.archived ? 1 : 0, threadId);
        s.touch.run(now, s.nextActivity.get() as number, threadId);
        return toThread(s.thread.get(threadId) as ThreadDbRow);
      }),
      remove: db.transaction((threadId: string) => {
        s.deleteEvents.run(threadId);
        s.deleteRuns.run(threadId);
        s.deleteMessages.run(threadId);
        s.deleteState.run(threadId);
        return s.deleteThread.run(threadId).changes > 0;
      }),
      removeOwned: db.transaction((threadId: string, ownerId: string) => {
        if (s.ownedThread.get(threadId, ownerId) === undefined) return false;
        return s2.remove(threadId);
      }),
      // Retention reads its candidates first: a run another process started on one since keeps it.
      removeIdle: db.transaction((threadId: string) => {
        if (s.idleThread.get(threadId) === undefined) return false;
        return s2.remove(threadId);
      }),
    };
    return s2;
  }

  tryStartRun(request: StartRunRequest): Promise<StartRunResult> {
    return this.lock.write(() => this.s.startRun.immediate(request));
  }

  /** Another connection held the lock (`SQLITE_BUSY*`, `SQLITE_LOCKED*`, or the wait given up): worth another try. */
  isTransient(error: unknown): boolean {
    return isTransientStoreError(error);
  }

  appendEvents(instanceId: string, batches: Array<{ run: RunRef; rows: EventRow[] }>): Promise<AppendResult[]> {
    return this.lock.write(() => this.s.appendMany.immediate(instanceId, batches));
  }

  finishRun(request: FinishRunRequest): Promise<boolean> {
    return this.lock.write(() => this.s.finish.immediate(request));
  }

  renewLeases(instanceId: string, runs: RunRef[], expiresAt: number): Promise<HeldLease[]> {
    return this.lock.write(() => this.s.renewAll.immediate(instanceId, runs, expiresAt));
  }

  requestStop(run: RunRef): Promise<boolean> {
    return this.lock.write(() => this.s.requestStop.run(run.threadId, run.firstSeq).changes > 0);
  }

  expiredRuns(now: number): Promise<ActiveRunRow[]> {
    return this.lock.read(() => (this.s.expired.all(now) as RunDbRow[]).map(toActiveRun));
  }

  async loadRun(run: RunRef) {
    const read = this.db.transaction(() => {
      const row = this.s.run.get(run.threadId, run.firstSeq) as RunDbRow | undefined;
      if (row === undefined) return undefined;
      const events = toSeqEvents(this.s.runEvents.all(run.threadId, run.firstSeq) as Array<{ seq: number; data: string }>);
      return { row: { ...toActiveRun(row), status: row.status, input: row.input }, events };
    });
    return this.lock.read(read);
  }

  async runTail(run: RunRef, afterSeq: number): Promise<RunTail | undefined> {
    const read = this.db.transaction(() => {
      const row = this.s.runState.get(run.threadId, run.firstSeq) as
        | { status: string; last_seq: number | null; lease_owner: string | null; lease_expires_at: number }
        | undefined;
      if (row === undefined) return undefined;
      const upTo = row.status === "running" || row.last_seq === null ? Number.MAX_SAFE_INTEGER : row.last_seq;
      const events = toSeqEvents(this.s.eventsBetween.all(run.threadId, afterSeq, upTo) as Array<{ seq: number; data: string }>);
      return { status: row.status, leaseOwner: row.lease_owner, leaseExpiresAt: row.lease_expires_at, events };
    });
    return this.lock.read(read);
  }

  runsProgress(runs: RunRef[]): Promise<RunProgress[]> {
    const read = this.db.transaction(() =>
      runs.map((run) => {
        const row = this.s.runState.get(run.threadId, run.firstSeq) as { status: string; lease_expires_at: number } | undefined;
        const lastSeq = (this.s.lastEventSeq.get(run.threadId) as number | null) ?? 0;
        return { status: row?.status, leaseExpiresAt: row?.lease_expires_at ?? 0, lastSeq };
      }),
    );
    return this.lock.read(read);
  }

  async getThread(threadId: string): Promise<ThreadRow | undefined> {
    const row = await this.lock.read(() => this.s.thread.get(threadId) as ThreadDbRow | undefined);
    return row && toThread(row);
  }

  getThreadState(threadId: string): Promise<string | null | undefined> {
    return this.lock.read(() => {
      if (this.s.thread.get(threadId) === undefined) return undefined;
      return (this.s.threadState.get(threadId) as string | undefined) ?? null;
    });
  }

  async activeRun(threadId: string): Promise<{ active: ActiveRunRow | undefined; lastEndedSeq: number }> {
    const row = await this.lock.read(() => this.s.activeRun.get(threadId) as (RunDbRow & { thread_last_seq: number }) | undefined);
    if (row === undefined) return { active: undefined, lastEndedSeq: 0 };
    return { active: row.run_id === null ? undefined : toActiveRun(row), lastEndedSeq: row.thread_last_seq };
  }

  async endedRunsAfter(threadId: string, afterSeq: number): Promise<EndedRunRow[]> {
    const rows = await this.lock.read(
      () => this.s.endedRunsAfter.all(threadId, afterSeq) as Array<{ run_id: string; first_seq: number; last_seq: number; compacted: string }>,
    );
    return rows.map((r) => ({ runId: r.run_id, firstSeq: r.first_seq, lastSeq: r.last_seq, compacted: r.compacted }));
  }

  async eventsBetween(threadId: string, afterSeq: number, upToSeq: number): Promise<SeqEvent[]> {
    const rows = await this.lock.read(() => this.s.eventsBetween.all(threadId, afterSeq, upToSeq) as Array<{ seq: number; data: string }>);
    return toSeqEvents(rows);
  }

  async listThreads(query: ThreadListQuery): Promise<ThreadRow[]> {
    const rows = await this.lock.read(
      () =>
        this.s.list.all({
          owner: query.ownerId,
          agent: query.agentId ?? null,
          archived: query.includeArchived ? 1 : 0,
          before: query.beforeActivity ?? Number.MAX_SAFE_INTEGER,
          limit: query.limit,
        }) as ThreadDbRow[],
    );
    return rows.map(toThread);
  }

  updateThread(threadId: string, ownerId: string, patch: { name?: string | null; archived?: boolean }, now: number) {
    return this.lock.write(() => this.s.update.immediate(threadId, ownerId, patch, now));
  }

  deleteThread(threadId: string, ownerId: string): Promise<boolean> {
    return this.lock.write(() => this.s.removeOwned.immediate(threadId, ownerId));
  }

  threadIdsOfOwner(ownerId: string): Promise<string[]> {
    return this.lock.read(() => this.s.ownerThreads.all(ownerId) as string[]);
  }

  async applyRetention(policy: { olderThan?: number; maxThreadsPerOwner?: number }): Promise<string[]> {
    const ids = await this.lock.read(() => {
      const found = new Set<string>();
      if (policy.olderThan !== undefined) for (const id of this.s.staleThreads.all(policy.olderThan) as string[]) found.add(id);
      if (policy.maxThreadsPerOwner !== undefined) for (const id of this.s.surplusThreads.all(policy.maxThreadsPerOwner) as string[]) found.add(id);
      return found;
    });
    const deleted: string[] = [];
    for (const id of ids) if (await this.lock.write(() => this.s.removeIdle.immediate(id))) deleted.push(id);
    return deleted;
  }

  /** Readiness: the database is open and answers `SELECT 1` (a read: never waits for a writer). */
  async ping(): Promise<void> {
    this.db.prepare("SELECT 1").get();
  }
}

function toThread(row: ThreadDbRow): ThreadRow {
  return {
    id: row.id,
    agentId: row.agent_id,
    ownerId: row.owner_id,
    name: row.name,
    archived: row.archived === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastRunAt: row.last_run_at,
    activity: row.activity,
  };
}

function toActiveRun(row: RunDbRow): ActiveRunRow {
  return {
    threadId: row.thread_id,
    runId: row.run_id,
    firstSeq: row.first_seq,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    stopRequested: row.stop_requested === 1,
  };
}

function toSeqEvents(rows: Array<{ seq: number; data: string }>): SeqEvent[] {
  const out: SeqEvent[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = { seq: rows[i].seq, event: JSON.parse(rows[i].data) as AgentEvent };
  return out;
}
