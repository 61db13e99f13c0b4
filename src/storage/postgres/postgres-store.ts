import type pg from "pg";
import { requireOptional } from "../../optional-dependency.js";
import type { AgentEvent } from "../../events/types.js";
import { logger } from "../../logger.js";
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
import { isTransientPostgresError } from "./errors.js";
import { migratePostgres } from "./migrations.js";

/** Loaded when this module is: `copilot-runtime/postgres` without pg fails at import, saying what to install. */
const { Pool } = requireOptional<typeof pg>({ specifier: "pg", packageName: "pg", version: "8", neededBy: "PostgresAgentRunner" });

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`. Ignored when `pool` is given. */
  connectionString?: string;
  /** A `pg` pool to use; the store does not end it. */
  pool?: pg.Pool;
  /** Tables live in this schema (created if missing). Default: the connection's `search_path`. */
  schema?: string;
  /** Prepended to every table name. Default `"copilot_"`. */
  tablePrefix?: string;
  /** Connections in the pool the store opens itself. Default 10. */
  maxConnections?: number;
  /**
   * Announce every committed event batch, run end, stop request and deletion with `NOTIFY` on
   * this channel, inside the writing transaction (see `PostgresLiveBus`). Default: none.
   */
  notifyChannel?: string;
}

const UNIQUE_VIOLATION = "23505";

interface ThreadDbRow {
  id: string;
  agent_id: string;
  owner_id: string;
  name: string | null;
  archived: boolean;
  created_at: string;
  updated_at: string;
  last_run_at: string | null;
  activity: string;
}

interface RunDbRow {
  thread_id: string;
  first_seq: string;
  run_id: string;
  status: string;
  lease_owner: string | null;
  lease_expires_at: string;
  stop_requested: boolean;
  input: string | null;
}


/**
 * `DurableStore` on PostgreSQL through a `pg` pool. Starting a run is a short transaction that
 * locks the thread row (`FOR UPDATE`), so instances sharing the database never start two runs
 * on one thread; appending events and finishing a run are single statements whose guard
 * (the run is still running under this lease) is checked in the same statement.
 */
export class PostgresStore implements DurableStore {
  readonly kind = "postgres";
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly t: TableNames;
  private readonly prefix: string;
  private readonly schema: string | undefined;
  /** SQL fragments that NOTIFY the live bus (empty without a channel). */
  private readonly note: { events: string; ended: string; stop: string };
  readonly notifyChannel: string | undefined;

  constructor(options: PostgresStoreOptions) {
    this.notifyChannel = options.notifyChannel;
    if (options.notifyChannel !== undefined && !/^[a-z0-9_]{1,63}$/.test(options.notifyChannel)) {
      throw new TypeError("notifyChannel must be 1 to 63 lowercase letters, digits or underscores");
    }
    const channel = options.notifyChannel;
    // Payloads as `encodeSignal` writes them: `<kind>:<seq>:<thread id>`.
    this.note =
      channel === undefined
        ? { events: "", ended: "", stop: "" }
        : {
            events: `, pg_notify('${channel}', 'e:' || MAX(seq) || ':' || thread_id)`,
            ended: ` RETURNING pg_notify('${channel}', 'f:' || $10 || ':' || $1)`,
            stop: ` RETURNING pg_notify('${channel}', 's:' || first_seq || ':' || thread_id)`,
          };
    this.prefix = options.tablePrefix ?? "copilot_";
    this.schema = options.schema;
    this.t = tableNames(this.prefix, this.schema);
    this.ownsPool = options.pool === undefined;
    if (options.pool === undefined && options.connectionString === undefined) {
      throw new TypeError("PostgresAgentRunner needs `connectionString` (postgres://...) or `pool`.");
    }
    this.pool = options.pool ?? new Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    if (this.ownsPool) this.pool.on("error", (error) => logger.warn({ err: error }, "a PostgreSQL connection failed while idle"));
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migratePostgres(client, this.t, this.prefix, this.schema);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  async tryStartRun(request: StartRunRequest): Promise<StartRunResult> {
    const { t } = this;
    const client = await this.pool.connect();
    try {
      // Four round trips, and no wait for the WAL flush: the run's first event write is a
      // synchronous commit, which makes this one durable too before any client sees anything.
      await client.query("BEGIN; SET LOCAL synchronous_commit TO OFF");
      // Creates the thread or locks the existing row (ON CONFLICT DO UPDATE), and reads
      // everything the decision needs in the same statement.
      const { rows } = await client.query<
        { agent_id: string; owner_id: string; active_run_seq: string | null; next_seq: string; known: string[] } & Partial<RunDbRow>
      >(
        `WITH thread AS (
           INSERT INTO ${t.threads} (id, agent_id, owner_id, created_at, updated_at, activity)
           VALUES ($1, $2, $3, $4, $4, nextval('${t.activity}'))
           ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
           RETURNING agent_id, owner_id, active_run_seq, last_seq
         )
         SELECT thread.agent_id, thread.owner_id, thread.active_run_seq,
                GREATEST(thread.last_seq, (SELECT COALESCE(MAX(seq), 0) FROM ${t.events} WHERE thread_id = $1)) + 1 AS next_seq,
                ARRAY(SELECT message_id FROM ${t.messages} WHERE thread_id = $1 AND message_id = ANY($5::text[])) AS known,
                r.thread_id, r.first_seq, r.run_id, r.status, r.lease_owner, r.lease_expires_at, r.stop_requested
         FROM thread LEFT JOIN ${t.runs} r ON r.thread_id = $1 AND r.first_seq = thread.active_run_seq`,
        [request.threadId, request.agentId, request.ownerId, request.now, request.inputMessageIds],
      );
      const thread = rows[0];
      let result: StartRunResult | undefined;
      if (thread.owner_id !== request.ownerId) result = { kind: "not_found" };
      else if (thread.agent_id !== request.agentId) result = { kind: "agent_mismatch", agentId: thread.agent_id };
      else if (thread.active_run_seq !== null) result = { kind: "busy", active: toActiveRun(thread as RunDbRow) };
      if (result !== undefined) {
        await client.query("ROLLBACK");
        return result;
      }
      const firstSeq = Number(thread.next_seq);
      await client.query(
        `WITH run AS (
           INSERT INTO ${t.runs} (thread_id, first_seq, run_id, status, lease_owner, lease_expires_at, input, created_at)
           VALUES ($1, $2, $3, 'running', $4, $5, $6, $7)
         )
         UPDATE ${t.threads} SET active_run_seq = $2 WHERE id = $1`,
        [request.threadId, firstSeq, request.runId, request.instanceId, request.leaseExpiresAt, request.describeInput(new Set(thread.known)), request.now],
      );
      await client.query("COMMIT");
      return { kind: "started", firstSeq, knownMessageIds: thread.known };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  isTransient(error: unknown): boolean {
    return isTransientPostgresError(error);
  }

  async appendEvents(instanceId: string, batches: Array<{ run: RunRef; rows: EventRow[] }>): Promise<AppendResult[]> {
    try {
      return await this.appendGuarded(instanceId, batches);
    } catch (error) {
      // A dropped connection fails every batch alike: the caller retries the whole write.
      if (this.isTransient(error)) throw error;
      if (batches.length === 1) return [refusal(error)];
      // Some run's rows were refused: write each run's alone, so the others still get theirs.
      const results: AppendResult[] = [];
      for (const batch of batches) results.push(await this.appendGuarded(instanceId, [batch]).then(([held]) => held, refusal));
      return results;
    }
  }

  /** One statement: each row is inserted only if its run is still running under our lease. */
  private async appendGuarded(instanceId: string, batches: Array<{ run: RunRef; rows: EventRow[] }>): Promise<boolean[]> {
    const threadIds: string[] = [];
    const firstSeqs: number[] = [];
    const seqs: number[] = [];
    const runIds: string[] = [];
    const types: string[] = [];
    const data: string[] = [];
    for (const { run, rows } of batches) {
      for (const row of rows) {
        threadIds.push(run.threadId);
        firstSeqs.push(run.firstSeq);
        seqs.push(row.seq);
        runIds.push(row.runId);
        types.push(row.type);
        data.push(row.data);
      }
    }
    // The run rows are locked (FOR KEY SHARE) for the transaction: a thread being deleted waits
    // for this write to commit, and this write, for a deletion under way, then finds no run
    // and writes nothing. Either way no row outlives its thread. The run id is compared too: after
    // a delete, a new run of this process on the reused thread id may have the same first number.
    const { rows: written } = await this.pool.query<{ thread_id: string; n: number }>(
      `WITH held AS (
         SELECT r.thread_id, r.first_seq, r.run_id FROM ${this.t.runs} r
         WHERE (r.thread_id, r.first_seq) IN (SELECT k.thread_id, k.first_seq FROM unnest($1::text[], $2::bigint[]) AS k(thread_id, first_seq))
           AND r.status = 'running' AND r.lease_owner = $7
         FOR KEY SHARE OF r
       ),
       written AS (
         INSERT INTO ${this.t.events} (thread_id, seq, run_id, type, data)
         SELECT u.thread_id, u.seq, u.run_id, u.type, u.data
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS u(thread_id, first_seq, seq, run_id, type, data)
         JOIN held h ON h.thread_id = u.thread_id AND h.first_seq = u.first_seq AND h.run_id = u.run_id
         RETURNING thread_id, seq
       )
       SELECT thread_id, COUNT(*)::int AS n${this.note.events} FROM written GROUP BY thread_id`,
      [threadIds, firstSeqs, seqs, runIds, types, data, instanceId],
    );
    const insertedPerThread = new Map(written.map((w) => [w.thread_id, w.n]));
    const expected = new Map<string, number>();
    for (const { run, rows } of batches) expected.set(run.threadId, (expected.get(run.threadId) ?? 0) + rows.length);
    return batches.map(({ run, rows }) => rows.length === 0 || insertedPerThread.get(run.threadId) === expected.get(run.threadId));
  }

  async finishRun(request: FinishRunRequest): Promise<boolean> {
    const { t } = this;
    const { threadId, firstSeq } = request.run;
    const guard = request.guard;
    const expiredBefore = "expiredBefore" in guard ? guard.expiredBefore : null;
    // One statement: the guard locks the run row, and every write happens only if it held.
    const result = await this.pool.query(
      `WITH guard AS (
         SELECT 1 FROM ${t.runs}
         WHERE thread_id = $1 AND first_seq = $2 AND status = 'running' AND lease_owner IS NOT DISTINCT FROM $3
           AND ($4::bigint IS NULL OR lease_expires_at < $4)
         FOR UPDATE
       ),
       events AS (
         INSERT INTO ${t.events} (thread_id, seq, run_id, type, data)
         SELECT $1, u.seq, u.run_id, u.type, u.data FROM unnest($5::bigint[], $6::text[], $7::text[], $8::text[]) AS u(seq, run_id, type, data)
         WHERE EXISTS (SELECT 1 FROM guard)
       ),
       run AS (
         UPDATE ${t.runs} SET status = $9, last_seq = $10, compacted = $11, finished_at = $12, lease_owner = NULL, stop_requested = FALSE
         WHERE thread_id = $1 AND first_seq = $2 AND EXISTS (SELECT 1 FROM guard)
       ),
       messages AS (
         INSERT INTO ${t.messages} (thread_id, message_id)
         SELECT $1, m FROM unnest($13::text[]) AS m WHERE EXISTS (SELECT 1 FROM guard)
         ON CONFLICT DO NOTHING
       )
       UPDATE ${t.threads}
       SET active_run_seq = CASE WHEN active_run_seq = $2 THEN NULL ELSE active_run_seq END,
           last_seq = GREATEST(last_seq, $10), last_run_at = $12, updated_at = $12,
           activity = nextval('${t.activity}'), state = COALESCE($14, state)
       WHERE id = $1 AND EXISTS (SELECT 1 FROM guard)${this.note.ended}`,
      [
        threadId,
        firstSeq,
        guard.holder,
        expiredBefore,
        request.rows.map((r) => r.seq),
        request.rows.map((r) => r.runId),
        request.rows.map((r) => r.type),
        request.rows.map((r) => r.data),
        request.status,
        request.lastSeq,
        request.compacted,
        request.now,
        request.messageIds,
        request.state ?? null,
      ],
    );
    return result.rowCount === 1;
  }

  async renewLeases(instanceId: string, runs: RunRef[], expiresAt: number): Promise<HeldLease[]> {
    if (runs.length === 0) return [];
    const { rows } = await this.pool.query<{ thread_id: string; first_seq: string; stop_requested: boolean }>(
      `UPDATE ${this.t.runs} AS r SET lease_expires_at = $1
       FROM unnest($2::text[], $3::bigint[]) AS u(thread_id, first_seq)
       WHERE r.thread_id = u.thread_id AND r.first_seq = u.first_seq AND r.status = 'running' AND r.lease_owner = $4
       RETURNING r.thread_id, r.first_seq, r.stop_requested`,
      [expiresAt, runs.map((r) => r.threadId), runs.map((r) => r.firstSeq), instanceId],
    );
    return rows.map((r) => ({ threadId: r.thread_id, firstSeq: Number(r.first_seq), stopRequested: r.stop_requested }));
  }

  async requestStop(run: RunRef): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE ${this.t.runs} SET stop_requested = TRUE WHERE thread_id = $1 AND first_seq = $2 AND status = 'running'${this.note.stop}`,
      [run.threadId, run.firstSeq],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async expiredRuns(now: number): Promise<ActiveRunRow[]> {
    const { rows } = await this.pool.query<RunDbRow>(
      `SELECT ${RUN_COLUMNS} FROM ${this.t.runs} WHERE status = 'running' AND lease_expires_at < $1`,
      [now],
    );
    return rows.map(toActiveRun);
  }

  async loadRun(run: RunRef) {
    const { rows } = await this.pool.query<RunDbRow>(`SELECT ${RUN_COLUMNS} FROM ${this.t.runs} WHERE thread_id = $1 AND first_seq = $2`, [
      run.threadId,
      run.firstSeq,
    ]);
    if (rows.length === 0) return undefined;
    const events = await this.pool.query<{ seq: string; data: string }>(
      `SELECT seq, data FROM ${this.t.events} WHERE thread_id = $1 AND seq >= $2 ORDER BY seq`,
      [run.threadId, run.firstSeq],
    );
    return { row: { ...toActiveRun(rows[0]), status: rows[0].status, input: rows[0].input }, events: toSeqEvents(events.rows) };
  }

  async runTail(run: RunRef, afterSeq: number): Promise<RunTail | undefined> {
    // One statement, one snapshot: the run's state and exactly the events it had then.
    const { rows } = await this.pool.query<{ status: string; lease_owner: string | null; lease_expires_at: string; seq: string | null; data: string | null }>(
      `SELECT r.status, r.lease_owner, r.lease_expires_at, e.seq, e.data
       FROM ${this.t.runs} r
       LEFT JOIN ${this.t.events} e ON e.thread_id = r.thread_id AND e.seq > $3 AND (r.status = 'running' OR e.seq <= r.last_seq)
       WHERE r.thread_id = $1 AND r.first_seq = $2
       ORDER BY e.seq`,
      [run.threadId, run.firstSeq, afterSeq],
    );
    if (rows.length === 0) return undefined;
    const events: SeqEvent[] = [];
    for (const row of rows) if (row.seq !== null) events.push({ seq: Number(row.seq), event: JSON.parse(row.data!) as AgentEvent });
    return { status: rows[0].status, leaseOwner: rows[0].lease_owner, leaseExpiresAt: Number(rows[0].lease_expires_at), events };
  }

  async runsProgress(runs: RunRef[]): Promise<RunProgress[]> {
    if (runs.length === 0) return [];
    const { rows } = await this.pool.query<{ status: string | null; lease_expires_at: string | null; last_seq: string | null }>(
      `SELECT r.status, r.lease_expires_at, (SELECT MAX(e.seq) FROM ${this.t.events} e WHERE e.thread_id = u.thread_id) AS last_seq
       FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS u(thread_id, first_seq, n)
       LEFT JOIN ${this.t.runs} r ON r.thread_id = u.thread_id AND r.first_seq = u.first_seq
       ORDER BY u.n`,
      [runs.map((r) => r.threadId), runs.map((r) => r.firstSeq)],
    );
    return rows.map((row) => ({ status: row.status ?? undefined, leaseExpiresAt: Number(row.lease_expires_at ?? 0), lastSeq: Number(row.last_seq ?? 0) }));
  }

  async getThread(threadId: string): Promise<ThreadRow | undefined> {
    const { rows } = await this.pool.query<ThreadDbRow>(`SELECT ${THREAD_COLUMNS} FROM ${this.t.threads} WHERE id = $1`, [threadId]);
    return rows[0] && toThread(rows[0]);
  }

  async getThreadState(threadId: string): Promise<string | null | undefined> {
    const { rows } = await this.pool.query<{ state: string | null }>(`SELECT state FROM ${this.t.threads} WHERE id = $1`, [threadId]);
    return rows[0]?.state;
  }

  async activeRun(threadId: string): Promise<{ active: ActiveRunRow | undefined; lastEndedSeq: number }> {
    const { rows } = await this.pool.query<RunDbRow & { thread_last_seq: string }>(
      `SELECT th.last_seq AS thread_last_seq, r.thread_id, r.first_seq, r.run_id, r.status, r.lease_owner, r.lease_expires_at, r.stop_requested, NULL AS input
       FROM ${this.t.threads} th LEFT JOIN ${this.t.runs} r ON r.thread_id = th.id AND r.first_seq = th.active_run_seq
       WHERE th.id = $1`,
      [threadId],
    );
    const row = rows[0];
    if (row === undefined) return { active: undefined, lastEndedSeq: 0 };
    return { active: row.run_id === null ? undefined : toActiveRun(row), lastEndedSeq: Number(row.thread_last_seq) };
  }

  async endedRunsAfter(threadId: string, afterSeq: number): Promise<EndedRunRow[]> {
    const { rows } = await this.pool.query<{ run_id: string; first_seq: string; last_seq: string; compacted: string }>(
      `SELECT run_id, first_seq, last_seq, compacted FROM ${this.t.runs}
       WHERE thread_id = $1 AND status <> 'running' AND last_seq > $2 ORDER BY first_seq`,
      [threadId, afterSeq],
    );
    return rows.map((r) => ({ runId: r.run_id, firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), compacted: r.compacted }));
  }

  async eventsBetween(threadId: string, afterSeq: number, upToSeq: number): Promise<SeqEvent[]> {
    const { rows } = await this.pool.query<{ seq: string; data: string }>(
      `SELECT seq, data FROM ${this.t.events} WHERE thread_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`,
      [threadId, afterSeq, upToSeq],
    );
    return toSeqEvents(rows);
  }

  async listThreads(query: ThreadListQuery): Promise<ThreadRow[]> {
    const { rows } = await this.pool.query<ThreadDbRow>(
      `SELECT ${THREAD_COLUMNS} FROM ${this.t.threads}
       WHERE owner_id = $1 AND last_run_at IS NOT NULL AND ($2::text IS NULL OR agent_id = $2)
         AND ($3::boolean OR NOT archived) AND activity < $4
       ORDER BY activity DESC LIMIT $5`,
      [query.ownerId, query.agentId ?? null, query.includeArchived, query.beforeActivity ?? Number.MAX_SAFE_INTEGER, query.limit],
    );
    return rows.map(toThread);
  }

  async updateThread(threadId: string, ownerId: string, patch: { name?: string | null; archived?: boolean }, now: number) {
    const { rows } = await this.pool.query<ThreadDbRow>(
      `UPDATE ${this.t.threads}
       SET name = CASE WHEN $3::boolean THEN $4 ELSE name END, archived = COALESCE($5, archived),
           updated_at = $6, activity = nextval('${this.t.activity}')
       WHERE id = $1 AND owner_id = $2
       RETURNING ${THREAD_COLUMNS}`,
      [threadId, ownerId, patch.name !== undefined, patch.name ?? null, patch.archived ?? null, now],
    );
    return rows[0] && toThread(rows[0]);
  }

  async deleteThread(threadId: string, ownerId: string): Promise<boolean> {
    return (await this.deleteThreads([threadId], ownerId, false)).length > 0;
  }

  async threadIdsOfOwner(ownerId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM ${this.t.threads} WHERE owner_id = $1`, [ownerId]);
    return rows.map((r) => r.id);
  }

  async applyRetention(policy: { olderThan?: number; maxThreadsPerOwner?: number }): Promise<string[]> {
    const ids = new Set<string>();
    if (policy.olderThan !== undefined) {
      const { rows } = await this.pool.query<{ id: string }>(
        `SELECT id FROM ${this.t.threads} WHERE updated_at < $1 AND active_run_seq IS NULL`,
        [policy.olderThan],
      );
      for (const row of rows) ids.add(row.id);
    }
    if (policy.maxThreadsPerOwner !== undefined) {
      const { rows } = await this.pool.query<{ id: string }>(
        `SELECT id FROM (SELECT id, active_run_seq, ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY activity DESC) AS rank FROM ${this.t.threads}) ranked
         WHERE rank > $1 AND active_run_seq IS NULL`,
        [policy.maxThreadsPerOwner],
      );
      for (const row of rows) ids.add(row.id);
    }
    return ids.size === 0 ? [] : this.deleteThreads([...ids], null, true);
  }

  /**
   * Deletes threads with everything they own, in one transaction that first locks the thread
   * rows and then their run rows: a run start on the thread waits for it, and so does an event
   * write in flight (it holds its run row, see `appendGuarded`), which commits first and is
   * deleted with the rest; any later write finds no run and writes nothing. A running run is
   * deleted too (its owner is fenced and learns it was deleted); with `idleOnly` such a thread
   * is kept. Each deletion is announced on the live bus. Returns the ids deleted.
   */
  private async deleteThreads(ids: string[], ownerId: string | null, idleOnly: boolean): Promise<string[]> {
    // A run end locks its run row, then its thread row; this locks them the same way round, but
    // a run starting and ending while it runs can still deadlock with it: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deleteThreadsOnce(ids, ownerId, idleOnly);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (attempt >= 5 || (code !== "40P01" && code !== "40001")) throw error;
      }
    }
  }

  private async deleteThreadsOnce(ids: string[], ownerId: string | null, idleOnly: boolean): Promise<string[]> {
    const { t } = this;
    const lockRuns = (threadIds: string[]) =>
      client.query(`SELECT 1 FROM ${t.runs} WHERE thread_id = ANY($1::text[]) ORDER BY thread_id, first_seq FOR UPDATE`, [threadIds]);
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await lockRuns(ids);
      const { rows } = await client.query<{ id: string }>(
        `SELECT id FROM ${t.threads} WHERE id = ANY($1::text[]) AND ($2::text IS NULL OR owner_id = $2)
           AND (NOT $3::boolean OR active_run_seq IS NULL)
         ORDER BY id FOR UPDATE`,
        [ids, ownerId, idleOnly],
      );
      const gone = rows.map((row) => row.id);
      if (gone.length > 0) {
        // Again: a run may have started between the two locks (none can start now).
        await lockRuns(gone);
        // A new statement, so a new snapshot: it sees every write that committed while we waited.
        await client.query(
          `WITH e AS (DELETE FROM ${t.events} WHERE thread_id = ANY($1::text[])),
                r AS (DELETE FROM ${t.runs} WHERE thread_id = ANY($1::text[])),
                m AS (DELETE FROM ${t.messages} WHERE thread_id = ANY($1::text[]))
           DELETE FROM ${t.threads} WHERE id = ANY($1::text[])`,
          [gone],
        );
        if (this.notifyChannel !== undefined) {
          await client.query(`SELECT pg_notify('${this.notifyChannel}', 'd:0:' || id) FROM unnest($1::text[]) AS id`, [gone]);
        }
      }
      await client.query("COMMIT");
      return gone;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /** Readiness: one `SELECT 1` through the pool. */
  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }
}

/** A collision means a stalled process raced its recovery (the run is no longer ours); anything else is that batch's error. */
function refusal(error: unknown): AppendResult {
  return (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION ? false : { error };
}

function toThread(row: ThreadDbRow): ThreadRow {
  return {
    id: row.id,
    agentId: row.agent_id,
    ownerId: row.owner_id,
    name: row.name,
    archived: row.archived,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastRunAt: row.last_run_at === null ? null : Number(row.last_run_at),
    activity: Number(row.activity),
  };
}

function toActiveRun(row: RunDbRow): ActiveRunRow {
  return {
    threadId: row.thread_id,
    runId: row.run_id,
    firstSeq: Number(row.first_seq),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: Number(row.lease_expires_at),
    stopRequested: row.stop_requested,
  };
}

function toSeqEvents(rows: Array<{ seq: string; data: string }>): SeqEvent[] {
  const out: SeqEvent[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = { seq: Number(rows[i].seq), event: JSON.parse(rows[i].data) as AgentEvent };
  return out;
}
