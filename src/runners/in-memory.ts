import type { BaseEvent } from "@ag-ui/core";
import { Observable, type Subscriber } from "rxjs";
import { parseEventId, setEventId } from "../events/event-ids.js";
import { messagesFromEvents } from "../events/messages.js";
import { type AgentEvent, type AgentMessage, type RunInput, EventTypes as T } from "../events/types.js";
import { logger } from "../logger.js";
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
  type ThreadMeta,
  isThreadVisibleTo,
  threadSummary,
  type ThreadRequest,
  type ThreadSummary,
  type UpdateThreadRequest,
} from "./agent-runner.js";
import { RunSession, type RunSessionOptions } from "./run-session.js";
import type { AgentLike } from "../events/agent-contract.js";
import { decodeListCursor, encodeListCursor } from "./list-cursor.js";
import { compactForReplay, type ReplayEntry, resumeEntry } from "../events/replay-compaction.js";

export interface InMemoryAgentRunnerOptions {
  /** Threads kept; the least recently used idle thread goes first. Default 1,000. */
  maxThreads?: number;
  /** Finished runs kept per thread; the oldest go first. Default 100. */
  maxRunsPerThread?: number;
  /** Stored history size across all threads, in bytes of JSON. Default 256 MiB. */
  maxBytes?: number;
  /**
   * A run on a thread that already has one: `"reject"` (default) throws `ThreadBusyError`
   * (HTTP 409 `thread_busy`); `"interrupt"` stops the old run and starts the new one.
   */
  busyThread?: "reject" | "interrupt";
  /**
   * Number every event (SSE `id:`) and resume `connect` after `Last-Event-ID`. Off by default:
   * tagging each live event costs memory the garbage collector walks for as long as the run
   * lasts, which the ephemeral runner is meant not to pay. The durable runners always number.
   */
  resumable?: boolean;
}

/** CopilotKit's name for the in-memory runner's bounds. */
export type InMemoryLimits = Pick<InMemoryAgentRunnerOptions, "maxThreads" | "maxRunsPerThread" | "maxBytes">;

interface StoredRun {
  runId: string;
  parentRunId: string | null;
  agentId: string;
  /** Compacted without reordering, numbered; merged deltas keep their cuts for exact resumes. */
  entries: ReplayEntry[];
  bytes: number;
  createdAt: number;
}

/**
 * A thread's run in progress: its events so far and its live subscribers. It is also its
 * session's options (a class, so a run allocates no closures).
 */
class ActiveRun implements RunSessionOptions {
  readonly runId: string;
  readonly session: RunSession;
  /** The sequence number of `events[0]`; the events that follow are numbered one by one. */
  readonly firstSeq: number;
  readonly events: AgentEvent[] = [];
  /** Live subscribers: usually one, so the first takes a slot and a Set holds any others. */
  private subscriber: Subscriber<BaseEvent> | undefined = undefined;
  private others: Set<Subscriber<BaseEvent>> | undefined = undefined;
  private ended = false;
  private donePromise: Promise<void> | undefined = undefined;
  private resolveDone: (() => void) | undefined = undefined;

  constructor(
    private readonly runner: InMemoryAgentRunner,
    private readonly record: ThreadRecord,
    private readonly agentId: string,
    private readonly numbered: boolean,
    readonly agent: AgentLike,
    readonly input: RunInput,
  ) {
    this.runId = input.runId;
    this.firstSeq = record.seq + 1;
    this.session = new RunSession(this);
  }

  /** Settles when the run has ended (created on demand: only shutdown waits for it). */
  get done(): Promise<void> {
    if (this.donePromise === undefined) {
      this.donePromise = this.ended ? Promise.resolve() : new Promise<void>((resolve) => (this.resolveDone = resolve));
    }
    return this.donePromise;
  }

  isKnownMessage(id: string): boolean {
    return this.record.messageIds?.has(id) === true;
  }

  onEvent(event: AgentEvent): void {
    const record = this.record;
    if (this.numbered) setEventId(event, ++record.seq);
    else ++record.seq;
    this.events.push(event);
    this.subscriber?.next(event as BaseEvent);
    const others = this.others;
    if (others !== undefined) for (const subscriber of others) subscriber.next(event as BaseEvent);
  }

  /** Adds a live subscriber. */
  subscribe(subscriber: Subscriber<BaseEvent>): void {
    if (this.subscriber === undefined && this.others === undefined) this.subscriber = subscriber;
    else (this.others ??= new Set()).add(subscriber);
  }

  /** Removes a live subscriber. */
  unsubscribe(subscriber: Subscriber<BaseEvent>): void {
    if (this.subscriber === subscriber) this.subscriber = undefined;
    else this.others?.delete(subscriber);
  }

  onEnd(): void {
    const record = this.record;
    this.runner.storeRun(record, this, this.agentId);
    record.active = undefined;
    this.ended = true;
    const first = this.subscriber;
    const others = this.others;
    this.subscriber = undefined;
    this.others = undefined;
    first?.complete();
    if (others !== undefined) for (const subscriber of others) subscriber.complete();
    this.resolveDone?.();
  }
}

interface ThreadRecord extends ThreadMeta {
  runs: StoredRun[];
  bytes: number;
  /** Created when the first run is stored. */
  messageIds: Set<string> | undefined;
  state: unknown;
  active?: ActiveRun;
  /** Orders threads by recency even when two updates share a millisecond. */
  activity: number;
  /** The last event sequence number (SSE `id:`) of this thread. */
  seq: number;
}

/**
 * Keeps threads in process memory, bounded by thread count, runs per thread and bytes, so a
 * long-lived server does not grow without limit. Runs keep going when the client disconnects;
 * `connect` replays the compacted history and then the live run, each event exactly once.
 *
 * @example
 * ```ts
 * const runtime = new CopilotRuntime({
 *   agents: { default: myAgent },
 *   runner: new InMemoryAgentRunner({ maxThreads: 500, busyThread: "interrupt" }),
 * });
 * ```
 */
export class InMemoryAgentRunner extends AgentRunner {
  private readonly threads = new Map<string, ThreadRecord>();
  private readonly maxThreads: number;
  private readonly maxRunsPerThread: number;
  private readonly maxBytes: number;
  private readonly busyThread: "reject" | "interrupt";
  private readonly resumable: boolean;
  private totalBytes = 0;
  private activityClock = 0;
  private warnedEviction = false;

  constructor(options: InMemoryAgentRunnerOptions = {}) {
    super();
    this.maxThreads = options.maxThreads ?? 1000;
    this.maxRunsPerThread = options.maxRunsPerThread ?? 100;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.busyThread = options.busyThread ?? "reject";
    this.resumable = options.resumable ?? false;
  }

  run(request: AgentRunnerRunRequest): Observable<BaseEvent> {
    const { threadId, input } = request;
    const agentId = request.agentId ?? request.agent.agentId ?? "default";
    const ownerId = request.ownerId ?? ANONYMOUS_OWNER;
    let thread = this.threads.get(threadId);
    if (thread !== undefined) assertThreadUsable(thread, ownerId, agentId);
    if (thread?.active !== undefined) {
      if (this.busyThread === "reject") throw new ThreadBusyError(threadId);
      thread.active.session.stop();
    }
    const now = Date.now();
    if (thread === undefined) {
      thread = {
        id: threadId,
        agentId,
        ownerId,
        name: null,
        archived: false,
        createdAt: now,
        updatedAt: now,
        runs: [],
        bytes: 0,
        messageIds: undefined,
        state: undefined,
        activity: ++this.activityClock,
        seq: 0,
      };
      this.threads.set(threadId, thread);
    } else {
      this.touch(thread);
    }
    const active = new ActiveRun(this, thread, agentId, this.resumable, request.agent, input);
    thread.active = active;
    // Only now, with the run marked active, may older threads make room: evicting before it
    // could drop this very thread (the only idle one when every other thread is running).
    this.evictIfNeeded();
    active.session.start();
    return liveRunObservable(active, active.session);
  }

  connect(request: AgentRunnerConnectRequest): Observable<BaseEvent> {
    const thread = this.findThread(request);
    return new Observable<BaseEvent>((subscriber) => {
      if (thread === undefined) {
        subscriber.complete();
        return;
      }
      const after = this.resumable ? parseEventId(request.lastEventId) : 0;
      for (const run of thread.runs) {
        for (const stored of run.entries) {
          const entry = after === 0 ? stored : resumeEntry(stored, after);
          if (entry === undefined) continue;
          if (entry !== stored) setEventId(entry.event, entry.seq);
          subscriber.next(entry.event as BaseEvent);
        }
      }
      const active = thread.active;
      if (active === undefined || active.session.isEnded) {
        subscriber.complete();
        return;
      }
      return subscribeToLiveRun(active, subscriber, Math.max(0, after - active.firstSeq + 1));
    });
  }

  async isRunning({ threadId }: AgentRunnerIsRunningRequest): Promise<boolean> {
    return this.threads.get(threadId)?.active !== undefined;
  }

  async stop(request: AgentRunnerStopRequest): Promise<boolean> {
    const thread = this.findThread(request);
    const active = thread?.active;
    if (active === undefined) return false;
    if (request.runId !== undefined && request.runId !== active.runId) return false;
    return active.session.stop();
  }

  override async listThreads(request: ListThreadsRequest): Promise<{ threads: ThreadSummary[]; nextCursor: string | null }> {
    const ownerId = request.ownerId ?? ANONYMOUS_OWNER;
    // Keyset pagination on the recency counter, like the durable runners: a page starts below the
    // last thread of the previous one, so threads created or touched meanwhile (they move to the
    // top) never shift a later page into duplicates.
    const before = decodeListCursor(request.cursor) ?? Number.POSITIVE_INFINITY;
    const matching = [...this.threads.values()]
      .filter(
        (t) =>
          t.activity < before &&
          t.ownerId === ownerId &&
          t.runs.length > 0 &&
          (request.agentId === undefined || t.agentId === request.agentId) &&
          (request.includeArchived === true || !t.archived),
      )
      .sort((a, b) => b.activity - a.activity);
    const limit = request.limit ?? 50;
    const page = matching.slice(0, limit);
    const next = matching.length > limit ? encodeListCursor(page[page.length - 1].activity) : null;
    return { threads: page.map(summaryOf), nextCursor: next };
  }

  override async getThread(request: ThreadRequest): Promise<ThreadSummary | undefined> {
    const thread = this.findThread(request);
    return thread && summaryOf(thread);
  }

  override async getThreadMessages(request: ThreadRequest): Promise<AgentMessage[] | undefined> {
    const thread = this.findThread(request);
    return thread && messagesFromEvents(historyOf(thread));
  }

  override async getThreadEvents(request: ThreadRequest): Promise<AgentEvent[] | undefined> {
    const thread = this.findThread(request);
    return thread && [...historyOf(thread)];
  }

  override async getThreadState(request: ThreadRequest): Promise<{ state: unknown } | undefined> {
    const thread = this.findThread(request);
    return thread && { state: thread.state ?? null };
  }

  override async updateThread(request: UpdateThreadRequest): Promise<ThreadSummary> {
    const thread = this.findThread(request);
    if (thread === undefined) throw new ThreadNotFoundError(request.threadId);
    if (request.name !== undefined) thread.name = request.name;
    if (request.archived !== undefined) thread.archived = request.archived;
    thread.updatedAt = Date.now();
    this.touch(thread);
    return summaryOf(thread);
  }

  override async deleteThread(request: ThreadRequest): Promise<boolean> {
    const thread = this.findThread(request);
    if (thread === undefined) return false;
    thread.active?.session.stop();
    this.forget(thread);
    return true;
  }

  override async clearThreads(request: { ownerId?: string }): Promise<void> {
    const ownerId = request.ownerId ?? ANONYMOUS_OWNER;
    for (const thread of [...this.threads.values()]) {
      if (thread.ownerId !== ownerId) continue;
      thread.active?.session.stop();
      this.forget(thread);
    }
  }

  override async shutdown(options: { deadlineMs?: number } = {}): Promise<void> {
    const active = [...this.threads.values()].flatMap((t) => (t.active ? [t.active] : []));
    if (active.length === 0) return;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, options.deadlineMs ?? 10_000).unref());
    await Promise.race([Promise.all(active.map((a) => a.done)), deadline]);
    for (const run of active) run.session.stop();
  }

  private findThread(request: { threadId: string; ownerId?: string; agentId?: string }): ThreadRecord | undefined {
    const thread = this.threads.get(request.threadId);
    return thread !== undefined && isThreadVisibleTo(thread, request.ownerId, request.agentId) ? thread : undefined;
  }

  /** @internal */
  storeRun(thread: ThreadRecord, active: ActiveRun, agentId: string): void {
    if (active.events.length === 0) return;
    const entries = compactForReplay(
      active.events.map((event, i) => ({ seq: active.firstSeq + i, event })),
      { keepCuts: true },
    );
    let bytes = 0;
    for (const entry of entries) {
      if (this.resumable) setEventId(entry.event, entry.seq);
      bytes += approximateSize(entry.event) + (entry.cuts?.byteLength ?? 0);
    }
    for (const { event } of entries) {
      if (event.type === T.RUN_STARTED) {
        const messages = (event.input as { messages?: AgentMessage[] } | undefined)?.messages ?? [];
        const ids = (thread.messageIds ??= new Set());
        for (const message of messages) ids.add(message.id);
      } else if (typeof event.messageId === "string") {
        (thread.messageIds ??= new Set()).add(event.messageId);
      } else if (event.type === T.STATE_SNAPSHOT) {
        thread.state = event.snapshot;
      }
    }
    const previous = thread.runs[thread.runs.length - 1];
    thread.runs.push({
      runId: active.runId,
      parentRunId: previous?.runId ?? null,
      agentId,
      entries,
      bytes,
      createdAt: Date.now(),
    });
    thread.bytes += bytes;
    this.totalBytes += bytes;
    while (thread.runs.length > this.maxRunsPerThread) {
      const dropped = thread.runs.shift()!;
      thread.bytes -= dropped.bytes;
      this.totalBytes -= dropped.bytes;
    }
    thread.updatedAt = Date.now();
    this.touch(thread);
    this.evictIfNeeded();
  }

  private touch(thread: ThreadRecord): void {
    thread.activity = ++this.activityClock;
    this.threads.delete(thread.id);
    this.threads.set(thread.id, thread);
  }

  private forget(thread: ThreadRecord): void {
    this.threads.delete(thread.id);
    this.totalBytes -= thread.bytes;
  }

  /** Least recently used first, never a thread with an active run. */
  private evictIfNeeded(): void {
    if (this.threads.size <= this.maxThreads && this.totalBytes <= this.maxBytes) return;
    for (const thread of this.threads.values()) {
      if (this.threads.size <= this.maxThreads && this.totalBytes <= this.maxBytes) break;
      if (thread.active !== undefined) continue;
      this.forget(thread);
      if (!this.warnedEviction) {
        this.warnedEviction = true;
        logger.warn(
          { maxThreads: this.maxThreads, maxBytes: this.maxBytes },
          `InMemoryAgentRunner reached its limits (${this.maxThreads} threads, ${this.maxBytes} bytes) and evicts the least recently used threads. Use a durable runner to keep every thread.`,
        );
      }
    }
  }
}

/** The event's JSON length, or a flat estimate for an event JSON cannot carry (the agent's bug, not a reason to fail). */
function approximateSize(event: AgentEvent): number {
  try {
    return JSON.stringify(event)?.length ?? 0;
  } catch {
    return 1024;
  }
}

function liveRunObservable(active: ActiveRun, session: RunSession): Observable<BaseEvent> {
  return new Observable<BaseEvent>((subscriber) => {
    if (session.isEnded) {
      for (const event of active.events) subscriber.next(event as BaseEvent);
      subscriber.complete();
      return;
    }
    return subscribeToLiveRun(active, subscriber);
  });
}

/** Replays a live run from its `from`-th event (default: the first), then follows it until it ends. */
function subscribeToLiveRun(active: ActiveRun, subscriber: Subscriber<BaseEvent>, from = 0): LiveRunSubscription {
  for (let i = from; i < active.events.length; i++) subscriber.next(active.events[i] as BaseEvent);
  active.subscribe(subscriber);
  return new LiveRunSubscription(active, subscriber);
}

/** The teardown of a live subscription (an object rather than a closure). */
class LiveRunSubscription {
  constructor(
    private readonly active: ActiveRun,
    private readonly subscriber: Subscriber<BaseEvent>,
  ) {}

  unsubscribe(): void {
    this.active.unsubscribe(this.subscriber);
  }
}

/** Another user's thread id looks like no thread at all; another agent's is a conflict. */
function assertThreadUsable(thread: ThreadRecord, ownerId: string, agentId: string): void {
  if (thread.ownerId !== ownerId) throw new ThreadNotFoundError(thread.id);
  if (thread.agentId !== agentId) throw new ThreadAgentMismatchError(thread.id, thread.agentId);
}

function summaryOf(thread: ThreadRecord): ThreadSummary {
  return threadSummary(thread, thread.runs[thread.runs.length - 1]?.createdAt);
}

function historyOf(thread: ThreadRecord): AgentEvent[] {
  return thread.runs.flatMap((run) => run.entries.map((entry) => entry.event));
}


