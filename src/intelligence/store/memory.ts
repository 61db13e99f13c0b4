import { ThreadNotFoundError } from "./errors.js";
import { newJoinCode } from "./join-code.js";
import { compareListOrder, decodeThreadCursor, encodeThreadCursor, isAfterCursor, threadActivity } from "./thread-order.js";
import type {
  AcquireLockRequest,
  AcquireLockResult,
  AppendRunEventsRequest,
  AppendRunEventsResult,
  CreateThreadRequest,
  IntelligenceStore,
  PlatformThread,
  RunRecord,
  StoredEvent,
  ThreadListQuery,
  ThreadPatch,
} from "./types.js";

/** One thread's log and runs, dropped together when the thread is deleted. */
interface ThreadEntry {
  thread: PlatformThread;
  /** Every event of the thread in log order (positions ascending). */
  events: StoredEvent[];
  /** The thread's runs by run id. */
  runIds: Set<string>;
}

/** Projects and ids are arbitrary strings: a NUL cannot appear in either half of a key. */
function key(projectId: string, id: string): string {
  return `${projectId}\u0000${id}`;
}

/**
 * `IntelligenceStore` in this process's memory: for tests, development and single-instance
 * demos. Nothing survives a restart and nothing is shared between processes.
 *
 * Every method does its work synchronously before its promise settles, so each is atomic with
 * respect to the others, as the port requires. Records are copied in and out: a caller mutating
 * a returned thread or run never changes the store.
 *
 * @example
 * ```ts
 * const store = new MemoryIntelligenceStore();
 * await store.migrate();
 * const { thread } = await store.createThread({ projectId: "1", threadId: "t1", userId: "u1", agentId: "a", name: null, now: Date.now() });
 * ```
 */
export class MemoryIntelligenceStore implements IntelligenceStore {
  readonly kind = "memory";
  private readonly threads = new Map<string, ThreadEntry>();
  private readonly runs = new Map<string, RunRecord>();
  /** Events by (project, event id): the dedupe index. */
  private readonly eventsById = new Map<string, StoredEvent>();
  /** Events by (project, run id), in seq order. */
  private readonly eventsByRun = new Map<string, StoredEvent[]>();
  private readonly joinCodes = new Map<string, string>();
  private readonly joinCodeOwners = new Map<string, string>();
  private lastPosition = 0;

  async migrate(): Promise<void> {}

  async close(): Promise<void> {}

  async getThread(projectId: string, threadId: string): Promise<PlatformThread | undefined> {
    const entry = this.threads.get(key(projectId, threadId));
    return entry && { ...entry.thread };
  }

  async createThread(request: CreateThreadRequest): Promise<{ thread: PlatformThread; created: boolean }> {
    const k = key(request.projectId, request.threadId);
    const existing = this.threads.get(k);
    if (existing !== undefined) return { thread: { ...existing.thread }, created: false };
    const thread: PlatformThread = {
      projectId: request.projectId,
      id: request.threadId,
      userId: request.userId,
      agentId: request.agentId,
      name: request.name,
      archived: false,
      createdAt: request.now,
      updatedAt: request.now,
      lastRunAt: null,
    };
    this.threads.set(k, { thread, events: [], runIds: new Set() });
    return { thread: { ...thread }, created: true };
  }

  async listThreads(query: ThreadListQuery): Promise<{ threads: PlatformThread[]; nextCursor: string | null }> {
    const after = decodeThreadCursor(query.cursor);
    const matching: Array<{ thread: PlatformThread; activity: number; id: string }> = [];
    for (const { thread } of this.threads.values()) {
      if (thread.projectId !== query.projectId || thread.userId !== query.userId || thread.agentId !== query.agentId) continue;
      if (thread.archived && !query.includeArchived) continue;
      const listKey = { activity: threadActivity(thread), id: thread.id };
      if (after !== null && !isAfterCursor(listKey, after)) continue;
      matching.push({ thread, ...listKey });
    }
    matching.sort(compareListOrder);
    const page = matching.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = matching.length > page.length && last !== undefined ? encodeThreadCursor(last) : null;
    return { threads: page.map((item) => ({ ...item.thread })), nextCursor };
  }

  async updateThread(projectId: string, threadId: string, patch: ThreadPatch, now: number): Promise<PlatformThread | undefined> {
    const entry = this.threads.get(key(projectId, threadId));
    if (entry === undefined) return undefined;
    if (patch.name !== undefined) entry.thread.name = patch.name;
    if (patch.archived !== undefined) entry.thread.archived = patch.archived;
    entry.thread.updatedAt = now;
    return { ...entry.thread };
  }

  async deleteThread(projectId: string, threadId: string): Promise<boolean> {
    const k = key(projectId, threadId);
    const entry = this.threads.get(k);
    if (entry === undefined) return false;
    for (const event of entry.events) this.eventsById.delete(key(projectId, event.id));
    for (const runId of entry.runIds) {
      this.runs.delete(key(projectId, runId));
      this.eventsByRun.delete(key(projectId, runId));
    }
    this.threads.delete(k);
    return true;
  }

  async acquireLock(request: AcquireLockRequest): Promise<AcquireLockResult> {
    const { projectId, threadId, runId, now } = request;
    const entry = this.threads.get(key(projectId, threadId));
    if (entry === undefined) throw new ThreadNotFoundError(projectId, threadId);
    const existing = this.runs.get(key(projectId, runId));
    if (existing !== undefined) {
      // A run id is unique in its project: the same id on another thread is a conflict.
      if (existing.threadId !== threadId) return { status: "held", run: { ...existing } };
      if (existing.status !== "running") return { status: "ended", run: { ...existing } };
      existing.lockExpiresAt = now + request.ttlMs;
      return { status: "acquired", run: { ...existing } };
    }
    const active = this.findActiveRun(entry);
    if (active !== undefined) return { status: active.lockExpiresAt < now ? "stale" : "held", run: { ...active } };
    const run: RunRecord = {
      projectId,
      threadId,
      runId,
      userId: request.userId,
      agentId: request.agentId,
      status: "running",
      lockExpiresAt: now + request.ttlMs,
      startedAt: now,
      endedAt: null,
      lastSeq: 0,
    };
    this.runs.set(key(projectId, runId), run);
    entry.runIds.add(runId);
    return { status: "acquired", run: { ...run } };
  }

  async renewLock(projectId: string, threadId: string, runId: string, ttlMs: number, now: number): Promise<"renewed" | "ended" | "missing"> {
    const run = this.runs.get(key(projectId, runId));
    if (run === undefined || run.threadId !== threadId) return "missing";
    if (run.status !== "running") return "ended";
    run.lockExpiresAt = now + ttlMs;
    return "renewed";
  }

  async releaseLock(projectId: string, threadId: string, runId: string, _now: number): Promise<void> {
    const run = this.runs.get(key(projectId, runId));
    if (run === undefined || run.threadId !== threadId || run.status !== "running") return;
    run.lockExpiresAt = 0;
  }

  async expiredRuns(now: number, limit: number): Promise<RunRecord[]> {
    const expired: RunRecord[] = [];
    for (const run of this.runs.values()) {
      if (run.status === "running" && run.lockExpiresAt < now) expired.push(run);
    }
    expired.sort((a, b) => a.lockExpiresAt - b.lockExpiresAt || a.startedAt - b.startedAt);
    return expired.slice(0, Math.max(0, limit)).map((run) => ({ ...run }));
  }

  async getRun(projectId: string, runId: string): Promise<RunRecord | undefined> {
    const run = this.runs.get(key(projectId, runId));
    return run && { ...run };
  }

  async activeRun(projectId: string, threadId: string): Promise<RunRecord | undefined> {
    const entry = this.threads.get(key(projectId, threadId));
    const run = entry && this.findActiveRun(entry);
    return run && { ...run };
  }

  async appendRunEvents(request: AppendRunEventsRequest): Promise<AppendRunEventsResult> {
    const { projectId, threadId, runId, now } = request;
    // Only ids not stored before, and each once (a batch could repeat one).
    const seen = new Set<string>();
    const fresh = request.events.filter((event) => {
      if (seen.has(event.id) || this.eventsById.has(key(projectId, event.id))) return false;
      seen.add(event.id);
      return true;
    });
    const run = this.runs.get(key(projectId, runId));
    const entry = this.threads.get(key(projectId, threadId));
    const running = run !== undefined && run.threadId === threadId && run.status === "running" && entry !== undefined;
    if (!running) return fresh.length === 0 ? { status: "ok", stored: [] } : { status: "not_running" };

    const runKey = key(projectId, runId);
    let runEvents = this.eventsByRun.get(runKey);
    if (runEvents === undefined) this.eventsByRun.set(runKey, (runEvents = []));
    const stored = fresh.map((event): StoredEvent => {
      const storedEvent: StoredEvent = { id: event.id, seq: event.seq, json: event.json, type: event.type, threadId, runId, position: ++this.lastPosition };
      this.eventsById.set(key(projectId, event.id), storedEvent);
      entry.events.push(storedEvent);
      runEvents.push(storedEvent);
      run.lastSeq = Math.max(run.lastSeq, event.seq);
      return storedEvent;
    });
    if (request.terminal !== undefined) {
      run.status = request.terminal;
      run.lockExpiresAt = 0;
      run.endedAt = now;
      entry.thread.lastRunAt = now;
      entry.thread.updatedAt = now;
    }
    return { status: "ok", stored: stored.map((event) => ({ ...event })) };
  }

  async eventsAfter(projectId: string, threadId: string, afterEventId: string | null, limit: number): Promise<StoredEvent[] | undefined> {
    const entry = this.threads.get(key(projectId, threadId));
    let start = 0;
    if (afterEventId !== null) {
      const cursor = this.eventsById.get(key(projectId, afterEventId));
      if (cursor === undefined || cursor.threadId !== threadId || entry === undefined) return undefined;
      start = firstAfterPosition(entry.events, cursor.position);
    }
    if (entry === undefined) return [];
    return entry.events.slice(start, start + Math.max(0, limit)).map((event) => ({ ...event }));
  }

  async runEvents(projectId: string, runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const events = this.eventsByRun.get(key(projectId, runId)) ?? [];
    return events
      .filter((event) => event.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq || a.position - b.position)
      .slice(0, Math.max(0, limit))
      .map((event) => ({ ...event }));
  }

  async latestEventId(projectId: string, threadId: string): Promise<string | null> {
    const events = this.threads.get(key(projectId, threadId))?.events;
    return events !== undefined && events.length > 0 ? events[events.length - 1].id : null;
  }

  async joinCodeFor(projectId: string, userId: string): Promise<string> {
    const k = key(projectId, userId);
    const existing = this.joinCodes.get(k);
    if (existing !== undefined) return existing;
    let code = newJoinCode();
    while (this.joinCodeOwners.has(key(projectId, code))) code = newJoinCode();
    this.joinCodes.set(k, code);
    this.joinCodeOwners.set(key(projectId, code), userId);
    return code;
  }

  async userForJoinCode(projectId: string, joinCode: string): Promise<string | undefined> {
    return this.joinCodeOwners.get(key(projectId, joinCode));
  }

  /** The thread's running run (at most one: a new run is only created when none is running). */
  private findActiveRun(entry: ThreadEntry): RunRecord | undefined {
    for (const runId of entry.runIds) {
      const run = this.runs.get(key(entry.thread.projectId, runId));
      if (run?.status === "running") return run;
    }
    return undefined;
  }
}

/** Index of the first event with a position above `position` (events are in position order). */
function firstAfterPosition(events: StoredEvent[], position: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (events[mid].position <= position) low = mid + 1;
    else high = mid;
  }
  return low;
}
