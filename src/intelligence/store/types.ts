/**
 * The storage port of the Intelligence platform. Every method is one atomic step (one
 * transaction), so the memory, SQLite and PostgreSQL stores stay thin translations of the same
 * operations; every decision (authorization, tokens, fan-out, minting closers) lives in the
 * platform, written once.
 *
 * Everything is scoped by `projectId` (from the API key). Thread ids are client-generated, so
 * the same id may exist in two projects. Times are epoch milliseconds from the caller's clock
 * (`now` arguments), never the database's, so tests can move time.
 */
export interface IntelligenceStore {
  /** `"memory"`, `"sqlite"` or `"postgres"`, for logs. */
  readonly kind: string;
  /** Creates or upgrades the schema. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Releases the connection or pool the store opened itself. */
  close(): Promise<void>;

  getThread(projectId: string, threadId: string): Promise<PlatformThread | undefined>;
  /**
   * Creates the thread, or returns the existing one untouched with `created: false` (the caller
   * compares owners: a thread of another user is never returned to the caller's caller).
   */
  createThread(request: CreateThreadRequest): Promise<{ thread: PlatformThread; created: boolean }>;
  /** One user's threads of one agent, most recently active first (keyset paging). */
  listThreads(query: ThreadListQuery): Promise<{ threads: PlatformThread[]; nextCursor: string | null }>;
  /** Applies the given fields; `updatedAt` is set to `now`. Undefined when the thread is gone. */
  updateThread(projectId: string, threadId: string, patch: ThreadPatch, now: number): Promise<PlatformThread | undefined>;
  /** Removes the thread with all its runs, locks and events in one transaction. False when it was not there. */
  deleteThread(projectId: string, threadId: string): Promise<boolean>;

  /**
   * Takes the thread's run lock for `runId` until `now + ttlMs`, creating the run row
   * (status `running`). Idempotent for the same `runId` while its lock lives (extends it).
   * - `held`: another running run holds a live lock.
   * - `stale`: another run is still `running` but its lock expired before `now`: the caller
   *   finalizes it (closers + terminal event through `appendRunEvents`) and tries again.
   * - `ended`: this `runId` already ran to its end on this thread.
   */
  acquireLock(request: AcquireLockRequest): Promise<AcquireLockResult>;
  /**
   * Extends a running run's lock to `now + ttlMs`. `ended` when the run already reached its
   * terminal event (a heartbeat racing the release: not an error), `missing` when no such run.
   */
  renewLock(projectId: string, threadId: string, runId: string, ttlMs: number, now: number): Promise<"renewed" | "ended" | "missing">;
  /** Frees the lock of a run that never reached a terminal event (failure paths); idempotent. */
  releaseLock(projectId: string, threadId: string, runId: string, now: number): Promise<void>;
  /** Running runs whose lock expired before `now`, oldest first (the finalizer's input). */
  expiredRuns(now: number, limit: number): Promise<RunRecord[]>;
  getRun(projectId: string, runId: string): Promise<RunRecord | undefined>;
  /** The thread's running run, if any (whatever its lock expiry). */
  activeRun(projectId: string, threadId: string): Promise<RunRecord | undefined>;

  /**
   * Appends a run's events in one transaction, in the given order, skipping ids already stored
   * (a runner re-sends unacknowledged batches after a rejoin). With `terminal`, the run ends
   * with that status, its lock is released and the thread's `lastRunAt`/`updatedAt` move to
   * `now`, in the same transaction.
   * `not_running`: the run is not `running` (already ended, finalized, or unknown) and at least
   * one event was new; nothing was written.
   */
  appendRunEvents(request: AppendRunEventsRequest): Promise<AppendRunEventsResult>;

  /**
   * The thread's events after the event `afterEventId` in log order (`null`: from the first),
   * at most `limit`. `undefined` when `afterEventId` is not an event of this thread.
   */
  eventsAfter(projectId: string, threadId: string, afterEventId: string | null, limit: number): Promise<StoredEvent[] | undefined>;
  /** One run's events with `seq > afterSeq` in order, at most `limit`. */
  runEvents(projectId: string, runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** The id of the thread's last event, or null when it has none. */
  latestEventId(projectId: string, threadId: string): Promise<string | null>;

  /** The user's join code in this project, created on first use; stable afterwards. */
  joinCodeFor(projectId: string, userId: string): Promise<string>;
  /** Who owns a join code, or undefined. */
  userForJoinCode(projectId: string, joinCode: string): Promise<string | undefined>;
}

export interface PlatformThread {
  projectId: string;
  id: string;
  /** The user who created it (`createdById` on the wire); the only user who may see it. */
  userId: string;
  agentId: string;
  name: string | null;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
  lastRunAt: number | null;
}

export interface CreateThreadRequest {
  projectId: string;
  threadId: string;
  userId: string;
  agentId: string;
  name: string | null;
  now: number;
}

export interface ThreadListQuery {
  projectId: string;
  userId: string;
  agentId: string;
  includeArchived: boolean;
  /** 1..1000 */
  limit: number;
  /** An opaque `nextCursor` from a previous page, or null. Unknown cursors start from the top. */
  cursor: string | null;
}

export interface ThreadPatch {
  name?: string | null;
  archived?: boolean;
}

export type RunStatus = "running" | "finished" | "error";

export interface RunRecord {
  projectId: string;
  threadId: string;
  runId: string;
  userId: string;
  agentId: string;
  status: RunStatus;
  /** When the lock lapses; 0 once released. */
  lockExpiresAt: number;
  startedAt: number;
  endedAt: number | null;
  /** Highest `seq` stored for this run, 0 before the first event. */
  lastSeq: number;
}

export interface AcquireLockRequest {
  projectId: string;
  threadId: string;
  runId: string;
  userId: string;
  agentId: string;
  ttlMs: number;
  now: number;
}

export type AcquireLockResult =
  | { status: "acquired"; run: RunRecord }
  | { status: "held"; run: RunRecord }
  | { status: "stale"; run: RunRecord }
  | { status: "ended"; run: RunRecord };

export interface NewEvent {
  /** `metadata.cpki_event_id`: unique per project. */
  id: string;
  /** `metadata.cpki_event_seq`: 1, 2, 3… per run. */
  seq: number;
  /** The event's JSON as ingested (serialized once, pushed to subscribers verbatim). */
  json: string;
  /** The AG-UI event type, kept beside the JSON for queries. */
  type: string;
}

export interface AppendRunEventsRequest {
  projectId: string;
  threadId: string;
  runId: string;
  events: NewEvent[];
  terminal?: "finished" | "error";
  now: number;
}

export type AppendRunEventsResult =
  | { status: "ok"; stored: StoredEvent[] }
  | { status: "not_running" };

export interface StoredEvent extends NewEvent {
  threadId: string;
  runId: string;
  /** Position in the store's log: increases with every stored event (gaps allowed). */
  position: number;
}
