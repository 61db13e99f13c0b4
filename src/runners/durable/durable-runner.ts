import type { BaseEvent } from "@ag-ui/core";
import { RUN_ERRORS } from "../../errors.js";
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
  InvalidRunInputError,
  StoreUnavailableError,
  ThreadAgentMismatchError,
  ThreadBusyError,
  ThreadNotFoundError,
  isThreadVisibleTo,
  threadSummary,
  type ThreadRequest,
  type ThreadSummary,
  type UpdateThreadRequest,
} from "../agent-runner.js";
import { DEFAULT_INPUT_LIMITS, identifierProblem } from "../../events/input-limits.js";
import { closeRun } from "./close-run.js";
import { EventWriter } from "./event-writer.js";
import { retryTransient } from "./retry.js";
import { decodeListCursor, encodeListCursor } from "../list-cursor.js";
import { LiveRun } from "./live-run.js";
import type { LiveBus, LiveSignal } from "./live-bus.js";
import { RemoteRun, remoteKey } from "./remote-run.js";
import { compactForReplay } from "../../events/replay-compaction.js";
import { interruptionEvents, parseCompacted, runFacts } from "./run-facts.js";
import type { ActiveRunRow, DurableStore, RunRef, SeqEvent, StartRunRequest, StartRunResult, ThreadRow } from "./store.js";
import { timeStoreWrites, type StoreWriteObserver } from "../../observability/store-metrics.js";
import { traceStoreWrite } from "../../observability/tracing.js";

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
  /**
   * Without a live bus (SQLite, or PostgreSQL with `listenNotify: false`): how often this
   * instance looks for news of the runs other processes stream that its clients follow (one
   * query for all of them, then one read per run that changed), and how often `stop` looks
   * whether that run ended. Default 100 ms.
   */
  pollMs?: number;
  /**
   * Cross-instance wake-ups: the owner of a run announces each committed batch, its end, stop
   * requests and deletions, and followers on other instances read the store only then.
   * `PostgresAgentRunner` brings its own (LISTEN/NOTIFY); this is the port for another engine.
   */
  liveBus?: LiveBus;
  /**
   * With a live bus: how often this instance looks at its followed runs anyway (one query for
   * all of them), in case a wake-up was lost. Default 5000 ms.
   */
  safetyPollMs?: number;
  /**
   * How often expired leases are looked for (also once at start-up). Default `leaseMs / 2`: with
   * the heartbeat's tick (at most `leaseMs / 3`) a run whose process died is closed within
   * `leaseMs` of its lease lapsing, even when nobody touches its thread.
   */
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
  /** This instance's one feed of each run another process streams that local clients follow. */
  private readonly remote = new Map<string, RemoteRun>();
  private readonly bus: LiveBus | undefined;
  private readonly safetyPollMs: number;
  private feedTimer: ReturnType<typeof setInterval> | undefined;
  private checkingFeeds = false;
  /** Threads on which this process is taking a lease right now (a `tryStartRun` in flight). */
  private readonly starting = new Map<string, number>();
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
    // A span per write, under the run that made it (no-op without an OpenTelemetry SDK).
    timeStoreWrites(store, traceStoreWrite);
    this.busyThread = options.busyThread ?? "reject";
    this.leaseMs = positive(options.leaseMs, 15_000, "leaseMs");
    this.heartbeatMs = positive(options.heartbeatMs, Math.min(1_000, Math.floor(this.leaseMs / 3)), "heartbeatMs");
    this.pollMs = positive(options.pollMs, 100, "pollMs");
    this.bus = options.liveBus;
    this.safetyPollMs = positive(options.safetyPollMs, 5_000, "safetyPollMs");
    this.sweepIntervalMs = positive(options.sweepIntervalMs, this.leaseMs / 2, "sweepIntervalMs");
    this.stopTimeoutMs = positive(options.stopTimeoutMs, 10_000, "stopTimeoutMs");
    this.retention = options.retention;
    const writeWindowMs = options.writeWindowMs ?? 2;
    if (!Number.isFinite(writeWindowMs) || writeWindowMs < 0) throw new RangeError("writeWindowMs must be a number of milliseconds, 0 or more");
    this.writer = new EventWriter(store, this.instanceId, writeWindowMs);
    this.readyPromise = this.store.migrate().then(async () => {
      this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
      this.timer.unref();
      // Listening before the first run: a stop for it must not be announced to nobody.
      this.bus?.start?.();
      await this.maintain(true);
    });
    // Callers await `ready()` or any method; this only keeps an early failure from being unhandled.
    this.readyPromise.catch(() => {});
  }

  /** Resolves once the schema is migrated and left-over runs are recovered; rejects if the store is unusable. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Starts a run under the thread's lease. Rejects with `InvalidRunInputError`, before anything
   * is stored, when an id is one the store could not keep unchanged; with `ThreadBusyError`,
   * `ThreadNotFoundError` or `ThreadAgentMismatchError` when the thread cannot take the run.
   */
  override async run(request: AgentRunnerRunRequest): Promise<Observable<BaseEvent>> {
    const { threadId, input } = request;
    const agentId = request.agentId ?? request.agent.agentId ?? "default";
    const ownerId = request.ownerId ?? ANONYMOUS_OWNER;
    checkRunIdentifiers({ threadId, runId: input.runId, agentId, ownerId }, input.messages);
    await this.readyPromise;
    if (this.closed) throw new Error("the runner is closed");
    const inputMessageIds = input.messages.flatMap((m) => (typeof m?.id === "string" ? [m.id] : []));
    for (let attempt = 0; ; attempt++) {
      const now = this.clock();
      const leaseExpiresAt = now + this.leaseMs;
      let result: StartRunResult;
      this.starting.set(threadId, (this.starting.get(threadId) ?? 0) + 1);
      try {
        result = await this.startOnStore({
          threadId,
          runId: input.runId,
          agentId,
          ownerId,
          instanceId: this.instanceId,
          now,
          leaseExpiresAt,
          inputMessageIds,
          // Kept for recovery only (a run that died before RUN_STARTED was stored): the new
          // messages are what matters, and tools/context would make every run start heavier.
          describeInput: (known) =>
            JSON.stringify({ threadId, runId: input.runId, messages: input.messages.filter((m) => !known.has(m.id)) }),
        });
      } finally {
        // In the same turn as `live.set` below: every other call sees the run either starting or live.
        const count = this.starting.get(threadId)! - 1;
        if (count === 0) this.starting.delete(threadId);
        else this.starting.set(threadId, count);
      }
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
            leaseExpiresAt,
            onClosed: (run) => {
              unsubscribe();
              if (this.live.get(threadId) === run) this.live.delete(threadId);
            },
            onStored: (lastSeq, ended) => this.bus?.publish({ kind: ended ? "ended" : "events", threadId, seq: lastSeq }),
          });
          // Stop requests and deletions made on other instances reach the run at once.
          const unsubscribe = this.bus?.subscribe(threadId, (signal) => this.ownerSignal(live, signal)) ?? (() => {});
          // A run of ours still here although the store gave the thread a new lease: its thread
          // was deleted (or it was taken over) and it has not noticed yet.
          const previous = this.live.get(threadId);
          if (previous !== undefined && !previous.isClosed) void previous.leaseGone();
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
        const thread = storable(threadId) ? await this.store.getThread(threadId) : undefined;
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
          if (this.isOrphan(active)) {
            await this.recover(active, true).catch((error: unknown) => logger.error({ err: error, threadId }, `closing an abandoned run on thread ${threadId} failed`));
            continue;
          }
          if (active.leaseExpiresAt < this.clock()) {
            await this.recover(active).catch((error: unknown) => logger.error({ err: error, threadId }, `recovering thread ${threadId} failed`));
            continue;
          }
          // Another process is streaming this run: follow it through this instance's one feed of
          // it, which reads the store when the owner announces a write (or polls without a bus)
          // and ends where the run ends.
          if (cancelled) return;
          teardown = this.remoteFeed(active).follow(cursor, subscriber);
          return;
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
    if (!storable(threadId)) return false;
    await this.readyPromise;
    const { active } = await this.store.activeRun(threadId);
    return active !== undefined && active.leaseExpiresAt >= this.clock() && !this.isOrphan(active);
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
    if (this.isOrphan(active)) {
      await this.recover(active, true);
      return true;
    }
    if (active.leaseExpiresAt < this.clock()) {
      await this.recover(active);
      return true;
    }
    if (active.stopRequested) return false;
    if (!(await this.store.requestStop(active))) return false;
    this.bus?.publish({ kind: "stop", threadId: active.threadId, seq: active.firstSeq });
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
    if (!storable(request.threadId)) throw new ThreadNotFoundError(request.threadId);
    if (typeof request.name === "string" && request.name !== "") {
      const problem = identifierProblem(request.name, Number.MAX_SAFE_INTEGER);
      if (problem !== undefined) throw new InvalidRunInputError("name", problem);
    }
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
    return this.deleteStored(request.threadId, thread.ownerId);
  }

  override async clearThreads(request: { ownerId?: string }): Promise<void> {
    await this.readyPromise;
    const ownerId = request.ownerId ?? ANONYMOUS_OWNER;
    for (const threadId of await this.store.threadIdsOfOwner(ownerId)) await this.deleteStored(threadId, ownerId);
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
    clearInterval(this.feedTimer);
    for (const feed of [...this.remote.values()]) feed.shutdown();
    await this.bus?.close();
    await this.store.close();
  }

  private async findThread(threadId: string, ownerId: string | undefined, agentId?: string): Promise<ThreadRow | undefined> {
    await this.readyPromise;
    if (!storable(threadId)) return undefined; // no store could hold it, so no such thread
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
    if (this.isOrphan(active)) {
      await this.recover(active, true);
      return;
    }
    if (active.leaseExpiresAt < this.clock()) {
      await this.recover(active);
      return;
    }
    if (this.busyThread === "reject") throw new ThreadBusyError(active.threadId);
    if (await this.store.requestStop(active)) this.bus?.publish({ kind: "stop", threadId: active.threadId, seq: active.firstSeq });
    if (!(await this.waitUntilEnded(active))) throw new ThreadBusyError(active.threadId);
  }

  /**
   * Deletes the thread with every row of it in one transaction, which also fences its running
   * run wherever it runs (the store waits for a write in flight, and refuses every later one).
   * The run's process then ends its stream with `RUN_ERROR` `THREAD_DELETED`: this one at once,
   * another at its live-bus signal, or at its next write or heartbeat.
   */
  private async deleteStored(threadId: string, ownerId: string): Promise<boolean> {
    // The run here now, not one a new run() might register while the store deletes.
    const local = this.live.get(threadId);
    const deleted = await this.store.deleteThread(threadId, ownerId);
    if (!deleted) return false;
    this.announceDeleted(threadId, local);
    return true;
  }

  /**
   * After the store deleted a thread (a delete, or retention): tells the other instances and
   * workers on the live bus (PostgreSQL's NOTIFY bus already did, from the delete's transaction),
   * and ends `local`, this process's run of it when the delete began, with `RUN_ERROR` `THREAD_DELETED`.
   */
  private announceDeleted(threadId: string, local: LiveRun | undefined): void {
    this.bus?.publish({ kind: "deleted", threadId, seq: 0 });
    local?.threadDeleted();
  }

  /** A live-bus signal about a thread this process runs a run of. */
  private ownerSignal(run: LiveRun, signal: LiveSignal): void {
    if (run.isClosed) return;
    if (signal.kind === "stop" && signal.seq === run.firstSeq) run.stop();
    // Checked against the store: a signal about a deleted thread whose id was already reused.
    else if (signal.kind === "deleted") void this.store.loadRun(run.ref).then((loaded) => (loaded === undefined || loaded.row.runId !== run.runId) && run.threadDeleted(), () => {});
    // The bus may have missed a stop or a delete while it (re)connected: look once.
    else if (signal.kind === "resync") void this.ownerResync(run).catch(() => {});
  }

  private async ownerResync(run: LiveRun): Promise<void> {
    const { active } = await this.store.activeRun(run.threadId);
    if (active !== undefined && active.firstSeq === run.firstSeq) {
      if (active.stopRequested) run.stop();
      return;
    }
    const loaded = run.isClosed ? undefined : await this.store.loadRun(run.ref);
    if (!run.isClosed && (loaded === undefined || loaded.row.runId !== run.runId)) run.threadDeleted();
  }

  /** This instance's feed of a run another process streams (one per run, shared by its followers). */
  private remoteFeed(active: ActiveRunRow): RemoteRun {
    const key = remoteKey(active.threadId, active.firstSeq);
    const existing = this.remote.get(key);
    if (existing !== undefined) return existing;
    const feed = new RemoteRun({
      store: this.store,
      bus: this.bus,
      threadId: active.threadId,
      runId: active.runId,
      firstSeq: active.firstSeq,
      clock: this.clock,
      onExpired: (ref) => this.recover(ref).catch((error: unknown) => logger.error({ err: error, threadId: ref.threadId }, `recovering thread ${ref.threadId} failed`)),
      onClosed: (closed) => {
        if (this.remote.get(closed.key) === closed) this.remote.delete(closed.key);
      },
    });
    this.remote.set(key, feed);
    if (this.feedTimer === undefined) {
      this.feedTimer = setInterval(() => void this.checkFeeds(), this.bus === undefined ? this.pollMs : this.safetyPollMs);
      this.feedTimer.unref();
    }
    return feed;
  }

  /** One query for every followed run (see `RemoteRun.check`); stops when nothing is followed. */
  private async checkFeeds(): Promise<void> {
    if (this.checkingFeeds) return;
    const feeds = [...this.remote.values()];
    if (feeds.length === 0) {
      clearInterval(this.feedTimer);
      this.feedTimer = undefined;
      return;
    }
    this.checkingFeeds = true;
    try {
      const progress = await this.store.runsProgress(feeds.map((feed) => feed.ref));
      for (let i = 0; i < feeds.length; i++) feeds[i].check(progress[i]);
    } catch (error) {
      logger.warn({ err: error }, "looking for news of followed runs failed; retrying");
    } finally {
      this.checkingFeeds = false;
    }
  }

  /** Polls until the run is no longer the thread's active one (or its lease lapses and it is recovered). */
  private async waitUntilEnded(run: ActiveRunRow): Promise<boolean> {
    const deadline = this.clock() + this.stopTimeoutMs;
    // With a live bus the run's end wakes us; the timer is only the safety net.
    let wake: (() => void) | undefined;
    const unsubscribe = this.bus?.subscribe(run.threadId, (signal) => {
      if (signal.kind !== "events" && signal.kind !== "stop") wake?.();
    });
    const pause = this.bus === undefined ? Math.min(this.pollMs, this.heartbeatMs) : Math.min(this.safetyPollMs, this.heartbeatMs);
    try {
      while (this.clock() < deadline) {
        const woken = new Promise<void>((resolve) => (wake = resolve));
        const { active } = await this.store.activeRun(run.threadId);
        if (active === undefined || active.firstSeq !== run.firstSeq) return true;
        if (active.leaseExpiresAt < this.clock()) {
          await this.recover(active);
          return true;
        }
        await withTimeout(woken, pause);
      }
      return false;
    } finally {
      unsubscribe?.();
    }
  }

  /**
   * `tryStartRun`, retried like every write. A retry after a start whose answer was lost finds
   * the run it made and reports the thread busy; `makeRoom` knows that run as this process's
   * orphan and closes it. The caller marks the thread as starting meanwhile, so a concurrent
   * run() does not take this start for an orphan.
   */
  private startOnStore(request: StartRunRequest): Promise<StartRunResult> {
    return retryTransient(() => this.store.tryStartRun(request), {
      isTransient: (error) => this.store.isTransient(error),
      deadline: request.leaseExpiresAt,
      what: `starting a run on thread ${request.threadId}`,
    }).catch((error: unknown) => {
      // Still failing after the retries, but for a reason that passes: say so (HTTP 503), not "failed".
      throw this.store.isTransient(error) ? new StoreUnavailableError(error) : error;
    });
  }

  /**
   * A run this process holds the lease of but no longer runs: one it gave up on when its
   * writes failed and could not close then, or one whose start committed although the
   * answer was lost. Nobody else may close it before the lease lapses, but this process knows
   * it is dead, so it closes it at once rather than keep the thread busy.
   */
  private isOrphan(active: ActiveRunRow): boolean {
    return active.leaseOwner === this.instanceId && !this.live.has(active.threadId) && !this.starting.has(active.threadId);
  }

  /**
   * Closes a run whose process died: its stored events stay as they are, followed by the
   * events that end it as `RUN_ERROR` `INTERRUPTED`, and the thread is free again. An orphan
   * of this process is closed at once the same way, with `PERSISTENCE_FAILED` (its writes
   * failed), or left without a trace when it stored nothing.
   */
  private async recover(ref: RunRef, orphan = false): Promise<void> {
    const loaded = await this.store.loadRun(ref);
    if (loaded === undefined || loaded.row.status !== "running") return;
    const now = this.clock();
    if (orphan ? loaded.row.leaseOwner !== this.instanceId : loaded.row.leaseExpiresAt >= now) return;
    const { row, events } = loaded;
    const closing =
      orphan && events.length === 0
        ? []
        : interruptionEvents(events, { threadId: row.threadId, runId: row.runId, input: row.input }, orphan ? PERSISTENCE_FAILED_REASON : undefined);
    let seq = events.length > 0 ? events[events.length - 1].seq : row.firstSeq - 1;
    const lastStored = seq;
    const tail = closing.map((event) => ({ seq: ++seq, event }));
    const all = events.concat(tail);
    const request = {
      run: ref,
      guard: orphan ? { holder: this.instanceId } : { expiredBefore: now, holder: row.leaseOwner },
      status: events.some(({ event }) => isTerminal(event)) ? ("finished" as const) : orphan ? ("failed" as const) : ("interrupted" as const),
      rows: tail.map(({ seq: s, event }) => ({ seq: s, runId: row.runId, type: event.type, data: JSON.stringify(event) })),
      // A run that leaves nothing still uses up its first number: the next run must not reuse it.
      lastSeq: Math.max(seq, row.firstSeq),
      ...runFacts(all),
      now,
    };
    // Data the store refuses is left out rather than retried on every sweep (see closeRun).
    const stored = await closeRun(this.store, request, now + this.leaseMs, `recovering run ${row.runId} on thread ${row.threadId}`);
    if (stored) this.bus?.publish({ kind: "ended", threadId: row.threadId, seq: request.lastSeq });
    if (stored && orphan) {
      logger.warn({ threadId: row.threadId, runId: row.runId, lastStoredEvent: lastStored }, `run ${row.runId} on thread ${row.threadId}, abandoned by this process after a failed write, is closed (last stored event #${lastStored})`);
    } else if (stored) {
      logger.warn(
        { threadId: row.threadId, runId: row.runId, lastStoredEvent: lastStored },
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
      logger.error({ err: error }, "durable runner maintenance failed; retrying on the next tick");
    } finally {
      this.ticking = false;
    }
  }

  private async heartbeat(): Promise<void> {
    const runs = [...this.live.values()].filter((run) => !run.isClosed);
    if (runs.length === 0) return;
    const expiresAt = this.clock() + this.leaseMs;
    const held = await this.store.renewLeases(
      this.instanceId,
      runs.map((run) => run.ref),
      expiresAt,
    );
    const byKey = new Map(held.map((lease) => [`${lease.threadId}\u0000${lease.firstSeq}`, lease]));
    for (const run of runs) {
      const lease = byKey.get(`${run.threadId}\u0000${run.firstSeq}`);
      if (lease === undefined) {
        // Not ours any more. A run that already ended is just being stored; anything else was
        // taken over after our lease lapsed (a stalled process) and must stop writing.
        if (!run.isEnded && !run.isClosed) void run.leaseGone();
      } else {
        run.leaseRenewed(expiresAt);
        if (lease.stopRequested) run.stop();
      }
    }
  }

  private async maintain(force: boolean): Promise<void> {
    const now = this.clock();
    if (force || now - this.lastSweep >= this.sweepIntervalMs) {
      this.lastSweep = now;
      for (const run of await this.store.expiredRuns(now)) {
        if (this.live.has(run.threadId)) continue;
        await this.recover(run).catch((error: unknown) => logger.error({ err: error, threadId: run.threadId }, `recovering thread ${run.threadId} failed`));
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
      // Announced like an explicit delete, so every instance and worker hears of it on its bus.
      // Only idle threads are deleted: a run here now started after, on a new thread of that id.
      for (const threadId of deleted) this.announceDeleted(threadId, undefined);
      if (deleted.length > 0) logger.info({ deleted: deleted.length }, `retention: deleted ${deleted.length} thread(s) past the configured limits`);
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
const PERSISTENCE_FAILED_REASON = { code: RUN_ERRORS.persistenceFailed.code, message: RUN_ERRORS.persistenceFailed.message };

/** True when a store can hold `threadId` (and so a thread with it may exist). */
function storable(threadId: string): boolean {
  return typeof threadId === "string" && identifierProblem(threadId, DEFAULT_INPUT_LIMITS.maxIdLength) === undefined;
}

/** Refuses, with `InvalidRunInputError`, an id no store could keep and compare back unchanged. */
function checkRunIdentifiers(ids: Record<string, unknown>, messages: ReadonlyArray<{ id?: unknown } | null | undefined>): void {
  const check = (field: string, value: unknown) => {
    const problem = typeof value === "string" ? identifierProblem(value, DEFAULT_INPUT_LIMITS.maxIdLength) : "must be a string";
    if (problem !== undefined) throw new InvalidRunInputError(field, problem);
  };
  for (const [field, value] of Object.entries(ids)) check(field, value);
  if (!Array.isArray(messages)) return;
  for (let i = 0; i < messages.length; i++) {
    const id = messages[i]?.id;
    if (typeof id === "string") check(`messages[${i}].id`, id);
  }
}

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
