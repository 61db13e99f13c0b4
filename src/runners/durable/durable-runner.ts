import type { BaseEvent } from "@ag-ui/core";
import { randomUUID } from "node:crypto";
import { Observable } from "rxjs";
import { parseEventId, setEventId } from "../../events/event-ids.js";
import { messagesFromEvents } from "../../events/messages.js";
import { type AgentEvent, type AgentMessage, isTerminal } from "../../events/types.js";
import { logger } from "../../logger.js";
import {
  ANONYMOUS_OWNER,
  AgentRunner,
  type AgentRunnerConnectRequest,
  type AgentRunnerIsRunningRequest,
  type AgentRunnerRunRequest,
  type AgentRunnerStopRequest,
  type ListThreadsRequest,
  ThreadAgentMismatchError,
  ThreadBusyError,
  ThreadNotFoundError,
  isThreadVisibleTo,
  threadSummary,
  type ThreadRequest,
  type ThreadSummary,
  type UpdateThreadRequest,
} from "../agent-runner.js";
import { EventWriter } from "./event-writer.js";
import { decodeListCursor, encodeListCursor } from "../list-cursor.js";
import { LiveRun } from "./live-run.js";
import { compactForReplay } from "../../events/replay-compaction.js";
import { interruptionEvents, parseCompacted, runFacts } from "./run-facts.js";
import type { ActiveRunRow, DurableStore, RunRef, SeqEvent, ThreadRow } from "./store.js";
import { timeStoreWrites, type StoreWriteObserver } from "../../observability/store-metrics.js";

/** Options every durable runner (SQLite, PostgreSQL) shares. */
export interface DurableRunnerOptions {
  /**
   * A run on a thread that already has one: `"reject"` (default) throws `ThreadBusyError`
   * (HTTP 409 `thread_busy`); `"interrupt"` stops the old run, waits until it is stored, then
   * starts the new one.
   */
  busyThread?: "reject" | "interrupt";
  /**
   * How long a run's lease lasts without a heartbeat. A process that dies holding runs frees
   * them this long after its last heartbeat (they are closed with `RUN_ERROR` `INTERRUPTED`).
   * Default 15 s.
   */
  leaseMs?: number;
  /** Lease renewal period; also how often a stop requested by another process is noticed. Default min(1 s, leaseMs / 3). */
  heartbeatMs?: number;
  /** How often `connect` polls the store while another process streams the run. Default 100 ms. */
  pollMs?: number;
  /** How often expired leases are looked for (also once at start-up). Default `leaseMs`. */
  sweepIntervalMs?: number;
  /** How long `"interrupt"` and `stop` wait for another process to end its run. Default 10 s. */
  stopTimeoutMs?: number;
  /**
   * Group commit: while events stream, each write waits at most this long for more events
   * (of any run) to share its transaction. A lone event after a pause is written at once.
   * 0 writes every burst immediately. Default 2 ms.
   */
  writeWindowMs?: number;
  /** Deletes idle threads past these limits, at start-up and then periodically. */
  retention?: RetentionOptions;
}

export interface RetentionOptions {
  /** Threads not updated for this long are deleted. */
  maxAgeMs?: number;
  /** Each user keeps at most this many threads; the least recently updated go first. */
  maxThreadsPerUser?: number;
  /** How often the cleanup runs. Default 10 minutes. */
  intervalMs?: number;
}

/**
 * The behaviour of every persistent runner, written once over a `DurableStore`:
 * events stored as they stream (numbered per thread, so SSE frames carry `id: <seq>` and
 * `connect` resumes after `Last-Event-ID`), one run per thread held as a lease with a
 * heartbeat, recovery of runs a dead process left behind, owner checks on every call, and
 * the thread queries behind `/threads`. `SqliteAgentRunner` and `PostgresAgentRunner` only
 * choose the store.
 */
export class DurableAgentRunner extends AgentRunner {
  /** This runner's identity as a lease holder; unique per process and instance. */
  readonly instanceId = randomUUID();
  protected readonly store: DurableStore;
  private readonly live = new Map<string, LiveRun>();
  private readonly writer: EventWriter;
  private readonly busyThread: "reject" | "interrupt";
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly sweepIntervalMs: number;
  private readonly stopTimeoutMs: number;
  private readonly retention?: RetentionOptions;
  private readonly readyPromise: Promise<void>;
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking = false;
  private lastSweep = 0;
  private lastRetention = 0;
  private closed = false;
  private readonly clock = () => Date.now();

  constructor(store: DurableStore, options: DurableRunnerOptions = {}) {
    super();
    this.store = store;
    this.busyThread = options.busyThread ?? "reject";
    this.leaseMs = positive(options.leaseMs, 15_000, "leaseMs");
    this.heartbeatMs = positive(options.heartbeatMs, Math.min(1_000, Math.floor(this.leaseMs / 3)), "heartbeatMs");
    this.pollMs = positive(options.pollMs, 100, "pollMs");
    this.sweepIntervalMs = positive(options.sweepIntervalMs, this.leaseMs, "sweepIntervalMs");
    this.stopTimeoutMs = positive(options.stopTimeoutMs, 10_000, "stopTimeoutMs");
    this.retention = options.retention;
    const writeWindowMs = options.writeWindowMs ?? 2;
    if (!Number.isFinite(writeWindowMs) || writeWindowMs < 0) throw new RangeError("writeWindowMs must be a number of milliseconds, 0 or more");
    this.writer = new EventWriter(store, this.instanceId, writeWindowMs);
    this.readyPromise = this.store.migrate().then(async () => {
      this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
      this.timer.unref();
      await this.maintain(true);
    });
    // Callers await `ready()` or any method; this only keeps an early failure from being unhandled.
    this.readyPromise.catch(() => {});
  }

  /** Resolves once the schema is migrated and left-over runs are recovered; rejects if the store is unusable. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  override async run(request: AgentRunnerRunRequest): Promise<Observable<BaseEvent>> {
    await this.readyPromise;
    if (this.closed) throw new Error("the runner is closed");
    const { threadId, input } = request;
    const agentId = request.agentId ?? request.agent.agentId ?? "default";
    const ownerId = request.ownerId ?? ANONYMOUS_OWNER;
    const inputMessageIds = input.messages.flatMap((m) => (typeof m?.id === "string" ? [m.id] : []));
    for (let attempt = 0; ; attempt++) {
      const now = this.clock();
      const result = await this.store.tryStartRun({
        threadId,
        runId: input.runId,
        agentId,
        ownerId,
        instanceId: this.instanceId,
        now,
        leaseExpiresAt: now + this.leaseMs,
        inputMessageIds,
        // Kept for recovery only (a run that died before RUN_STARTED was stored): the new
        // messages are what matters, and tools/context would make every run start heavier.
        describeInput: (known) =>
          JSON.stringify({ threadId, runId: input.runId, messages: input.messages.filter((m) => !known.has(m.id)) }),
      });
      switch (result.kind) {
        case "started": {
          const live = new LiveRun({
            store: this.store,
            writer: this.writer,
            instanceId: this.instanceId,
            threadId,
            runId: input.runId,
            firstSeq: result.firstSeq,
            agent: request.agent,
            input,
            knownMessageIds: new Set(result.knownMessageIds),
            clock: this.clock,
            onClosed: (run) => {
              if (this.live.get(threadId) === run) this.live.delete(threadId);
            },
          });
          this.live.set(threadId, live);
          live.start();
          return live.observable();
        }
        case "not_found":
          throw new ThreadNotFoundError(threadId);
        case "agent_mismatch":
          throw new ThreadAgentMismatchError(threadId, result.agentId);
        case "busy":
          if (attempt >= 3) throw new ThreadBusyError(threadId);
          await this.makeRoom(result.active);
      }
    }
  }

  override connect(request: AgentRunnerConnectRequest): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      let cancelled = false;
      let teardown: (() => void) | undefined;
      const emit = (entries: readonly SeqEvent[]) => {
        for (const { seq, event } of entries) {
          if (cancelled) return;
          setEventId(event, seq);
          subscriber.next(event as BaseEvent);
        }
      };
      const stream = async () => {
        await this.readyPromise;
        const { threadId } = request;
        const thread = await this.store.getThread(threadId);
        if (thread === undefined || !isThreadVisibleTo(thread, request.ownerId, request.agentId)) return subscriber.complete();
        let cursor = parseEventId(request.lastEventId);
        let behindLocal = 0;
        while (!cancelled) {
          const ended = await this.store.endedRunsAfter(threadId, cursor);
          for (const run of ended) {
            if (cancelled) return;
            emit(run.firstSeq > cursor ? parseCompacted(run.compacted) : compactForReplay(await this.store.eventsBetween(threadId, cursor, run.lastSeq)));
            cursor = Math.max(cursor, run.lastSeq);
          }
          if (cancelled) return;
          // A run of this process: its buffer holds every stored event, and following it is
          // synchronous from here, so nothing falls between replay and live.
          const local = this.live.get(threadId);
          if (local !== undefined) {
            // A run that ended while we read may still sit before it: read once more first.
            if (local.firstSeq > cursor + 1 && behindLocal++ < 3) continue;
            teardown = local.follow(cursor, subscriber);
            return;
          }
          const { active, lastEndedSeq } = await this.store.activeRun(threadId);
          if (active === undefined) {
            if (lastEndedSeq > cursor) continue;
            return subscriber.complete();
          }
          if (active.leaseOwner === this.instanceId && this.live.has(threadId)) continue;
          if (active.leaseExpiresAt < this.clock()) {
            await this.recover(active).catch((error: unknown) => logger.error(`recovering thread ${threadId} failed`, error));
            continue;
          }
          // Another process is streaming this run: relay what it has stored, then look again.
          const stored = await this.store.eventsBetween(threadId, cursor, Number.MAX_SAFE_INTEGER);
          emit(stored);
          if (stored.length > 0) cursor = stored[stored.length - 1].seq;
          await sleep(this.pollMs);
        }
      };
      stream().catch((error: unknown) => {
        if (!cancelled) subscriber.error(error);
      });
      return () => {
        cancelled = true;
        teardown?.();
      };
    });
  }

  override async isRunning({ threadId }: AgentRunnerIsRunningRequest): Promise<boolean> {
    if (this.live.has(threadId)) return true;
    await this.readyPromise;
    const { active } = await this.store.activeRun(threadId);
    return active !== undefined && active.leaseExpiresAt >= this.clock();
  }

  override async stop(request: AgentRunnerStopRequest): Promise<boolean> {
    await this.readyPromise;
    const thread = await this.findThread(request.threadId, request.ownerId, request.agentId);
    if (thread === undefined) return false;
    const local = this.live.get(request.threadId);
    if (local !== undefined) {
      if (request.runId !== undefined && request.runId !== local.runId) return false;
      if (!local.stop()) return false;
      await withTimeout(local.done, this.stopTimeoutMs);
      return true;
    }
    const { active } = await this.store.activeRun(request.threadId);
    if (active === undefined) return false;
    if (request.runId !== undefined && request.runId !== active.runId) return false;
    if (active.leaseExpiresAt < this.clock()) {
      await this.recover(active);
      return true;
    }
    if (active.stopRequested) return false;
    if (!(await this.store.requestStop(active))) return false;
    await this.waitUntilEnded(active);
    return true;
  }

  override async listThreads(request: ListThreadsRequest): Promise<{ threads: ThreadSummary[]; nextCursor: string | null }> {
    const beforeActivity = decodeListCursor(request.cursor);
    await this.readyPromise;
    const limit = request.limit ?? 50;
    const rows = await this.store.listThreads({
      ownerId: request.ownerId ?? ANONYMOUS_OWNER,
      agentId: request.agentId,
      includeArchived: request.includeArchived === true,
      beforeActivity,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeListCursor(page[page.length - 1].activity) : null;
    return { threads: page.map((row) => threadSummary(row, row.lastRunAt)), nextCursor };
  }

  override async getThread(request: ThreadRequest): Promise<ThreadSummary | undefined> {
    const thread = await this.findThread(request.threadId, request.ownerId);
    return thread && threadSummary(thread, thread.lastRunAt);
  }

  override async getThreadMessages(request: ThreadRequest): Promise<AgentMessage[] | undefined> {
    const events = await this.getThreadEvents(request);
    return events && messagesFromEvents(events);
  }

  override async getThreadEvents(request: ThreadRequest): Promise<AgentEvent[] | undefined> {
    const thread = await this.findThread(request.threadId, request.ownerId);
    if (thread === undefined) return undefined;
    const runs = await this.store.endedRunsAfter(request.threadId, 0);
    return runs.flatMap((run) => parseCompacted(run.compacted).map((entry) => entry.event));
  }

  override async getThreadState(request: ThreadRequest): Promise<{ state: unknown } | undefined> {
    const thread = await this.findThread(request.threadId, request.ownerId);
    if (thread === undefined) return undefined;
    const state = await this.store.getThreadState(request.threadId);
    return { state: state == null ? null : JSON.parse(state) };
  }

  override async updateThread(request: UpdateThreadRequest): Promise<ThreadSummary> {
    await this.readyPromise;
    const row = await this.store.updateThread(
      request.threadId,
      request.ownerId ?? ANONYMOUS_OWNER,
      { name: request.name, archived: request.archived },
      this.clock(),
    );
    if (row === undefined) throw new ThreadNotFoundError(request.threadId);
    return threadSummary(row, row.lastRunAt);
  }

  override async deleteThread(request: ThreadRequest): Promise<boolean> {
    const thread = await this.findThread(request.threadId, request.ownerId);
    if (thread === undefined) return false;
    await this.endRunOf(request.threadId);
    return this.store.deleteThread(request.threadId, thread.ownerId);
  }

  override async clearThreads(request: { ownerId?: string }): Promise<void> {
    await this.readyPromise;
    const ownerId = request.ownerId ?? ANONYMOUS_OWNER;
    for (const threadId of await this.store.threadIdsOfOwner(ownerId)) {
      await this.endRunOf(threadId);
      await this.store.deleteThread(threadId, ownerId);
    }
  }

  /** Lets this process's runs finish until the deadline, then stops them; each ends stored. */
  override async shutdown(options: { deadlineMs?: number } = {}): Promise<void> {
    const runs = [...this.live.values()];
    if (runs.length === 0) return;
    await withTimeout(Promise.all(runs.map((run) => run.done)), options.deadlineMs ?? 10_000);
    for (const run of runs) run.stop();
    await withTimeout(Promise.all(runs.map((run) => run.done)), this.stopTimeoutMs);
  }

  /**
   * Stops this process's runs (each stored as stopped), the timers, and the database
   * connection if the runner opened it. The runner cannot be used afterwards.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.readyPromise.catch(() => {});
    await this.shutdown({ deadlineMs: 0 });
    clearInterval(this.timer);
    while (this.ticking) await sleep(5);
    await this.store.close();
  }

  private async findThread(threadId: string, ownerId: string | undefined, agentId?: string): Promise<ThreadRow | undefined> {
    await this.readyPromise;
    const thread = await this.store.getThread(threadId);
    return thread !== undefined && isThreadVisibleTo(thread, ownerId, agentId) ? thread : undefined;
  }

  /** Clears the way for a new run on a thread whose lease is taken, or throws `ThreadBusyError`. */
  private async makeRoom(active: ActiveRunRow): Promise<void> {
    const local = this.live.get(active.threadId);
    if (local !== undefined && local.firstSeq === active.firstSeq) {
      // An ended run is only writing its last events: that is not a conflict, just wait.
      if (!local.isEnded && this.busyThread === "reject") throw new ThreadBusyError(active.threadId);
      local.stop();
      await withTimeout(local.done, this.stopTimeoutMs);
      return;
    }
    if (active.leaseExpiresAt < this.clock()) {
      await this.recover(active);
      return;
    }
    if (this.busyThread === "reject") throw new ThreadBusyError(active.threadId);
    await this.store.requestStop(active);
    if (!(await this.waitUntilEnded(active))) throw new ThreadBusyError(active.threadId);
  }

  /** Ends the thread's active run, wherever it runs, before the thread is deleted. */
  private async endRunOf(threadId: string): Promise<void> {
    const local = this.live.get(threadId);
    if (local !== undefined) {
      local.stop();
      await withTimeout(local.done, this.stopTimeoutMs);
      return;
    }
    const { active } = await this.store.activeRun(threadId);
    if (active === undefined) return;
    if (active.leaseExpiresAt >= this.clock()) await this.store.requestStop(active);
    // A holder that does not answer is fenced anyway: its writes fail once the run row is gone.
  }

  /** Polls until the run is no longer the thread's active one (or its lease lapses and it is recovered). */
  private async waitUntilEnded(run: ActiveRunRow): Promise<boolean> {
    const deadline = this.clock() + this.stopTimeoutMs;
    while (this.clock() < deadline) {
      const { active } = await this.store.activeRun(run.threadId);
      if (active === undefined || active.firstSeq !== run.firstSeq) return true;
      if (active.leaseExpiresAt < this.clock()) {
        await this.recover(active);
        return true;
      }
      await sleep(Math.min(this.pollMs, this.heartbeatMs));
    }
    return false;
  }

  /**
   * Closes a run whose process died: its stored events stay as they are, followed by the
   * events that end it as `RUN_ERROR` `INTERRUPTED`, and the thread is free again.
   */
  private async recover(ref: RunRef): Promise<void> {
    const loaded = await this.store.loadRun(ref);
    if (loaded === undefined || loaded.row.status !== "running") return;
    const now = this.clock();
    if (loaded.row.leaseExpiresAt >= now) return;
    const { row, events } = loaded;
    const closing = interruptionEvents(events, { threadId: row.threadId, runId: row.runId, input: row.input });
    let seq = events.length > 0 ? events[events.length - 1].seq : row.firstSeq - 1;
    const lastStored = seq;
    const tail = closing.map((event) => ({ seq: ++seq, event }));
    const all = events.concat(tail);
    const stored = await this.store.finishRun({
      run: ref,
      guard: { expiredBefore: now, holder: row.leaseOwner },
      status: events.some(({ event }) => isTerminal(event)) ? "finished" : "interrupted",
      rows: tail.map(({ seq: s, event }) => ({ seq: s, runId: row.runId, type: event.type, data: JSON.stringify(event) })),
      lastSeq: seq,
      ...runFacts(all),
      now,
    });
    if (stored) {
      logger.warn(
        `run ${row.runId} on thread ${row.threadId} was left running by a process that stopped; ` +
          `closed as INTERRUPTED after its last stored event (#${lastStored})`,
      );
    }
  }

  /** Heartbeat, and now and then the sweep for dead processes' runs and the retention cleanup. */
  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      await this.heartbeat();
      await this.maintain(false);
    } catch (error) {
      logger.error("durable runner maintenance failed; retrying on the next tick", error);
    } finally {
      this.ticking = false;
    }
  }

  private async heartbeat(): Promise<void> {
    const runs = [...this.live.values()].filter((run) => !run.isClosed);
    if (runs.length === 0) return;
    const held = await this.store.renewLeases(
      this.instanceId,
      runs.map((run) => run.ref),
      this.clock() + this.leaseMs,
    );
    const byKey = new Map(held.map((lease) => [`${lease.threadId}\u0000${lease.firstSeq}`, lease]));
    for (const run of runs) {
      const lease = byKey.get(`${run.threadId}\u0000${run.firstSeq}`);
      if (lease === undefined) {
        // Not ours any more. A run that already ended is just being stored; anything else was
        // taken over after our lease lapsed (a stalled process) and must stop writing.
        if (!run.isEnded && !run.isClosed) run.loseLease();
      } else if (lease.stopRequested) {
        run.stop();
      }
    }
  }

  private async maintain(force: boolean): Promise<void> {
    const now = this.clock();
    if (force || now - this.lastSweep >= this.sweepIntervalMs) {
      this.lastSweep = now;
      for (const run of await this.store.expiredRuns(now)) {
        if (this.live.has(run.threadId)) continue;
        await this.recover(run).catch((error: unknown) => logger.error(`recovering thread ${run.threadId} failed`, error));
      }
    }
    const retention = this.retention;
    if (retention === undefined || (retention.maxAgeMs === undefined && retention.maxThreadsPerUser === undefined)) return;
    if (force || now - this.lastRetention >= (retention.intervalMs ?? 600_000)) {
      this.lastRetention = now;
      const deleted = await this.store.applyRetention({
        olderThan: retention.maxAgeMs === undefined ? undefined : now - retention.maxAgeMs,
        maxThreadsPerOwner: retention.maxThreadsPerUser,
      });
      if (deleted > 0) logger.info(`retention: deleted ${deleted} thread(s) past the configured limits`);
    }
  }

  // --- observability hooks (health and metrics) ------------------------------------------------

  /** Ready once migrated and while open, when the store answers a trivial query (`/readyz`). */
  override async checkReady(): Promise<void> {
    await this.readyPromise;
    if (this.closed) throw new Error("the runner is closed");
    await this.store.ping?.();
  }

  /** Times every write of this runner's store (see `timeStoreWrites`). */
  override observeStoreWrites(observer: StoreWriteObserver): void {
    timeStoreWrites(this.store, observer);
  }
}

/** Another user's thread looks like no thread at all; so does another agent's, when one is named. */
function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
