import type { ThreadMeta } from "../agent-runner.js";
import type { AgentEvent } from "../../events/types.js";

/**
 * The storage contract behind `DurableAgentRunner`. Each method is one atomic step (one
 * transaction or one statement), so the SQLite and PostgreSQL stores stay thin translations
 * of the same operations and all decisions live in the runner, written once.
 *
 * Times are epoch milliseconds from the runner's clock. Sequence numbers (`seq`) count the
 * events of one thread from 1 and never repeat; a run owns the range `firstSeq..lastSeq`.
 */
export interface DurableStore {
  /** `"sqlite"` or `"postgres"`, for logs. */
  readonly kind: string;
  /** Creates or upgrades the schema. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Releases the connection or pool the store opened itself. */
  close(): Promise<void>;

  /** Creates the thread on first use and takes its run lease, or says why not. */
  tryStartRun(request: StartRunRequest): Promise<StartRunResult>;
  /**
   * Whether a failed call may succeed if simply tried again (a dropped connection, a lost
   * race, a busy database) rather than failing the same way every time (data the database
   * refuses, a constraint). The runner retries only these; every store classifies its own
   * errors here, in one place.
   */
  isTransient(error: unknown): boolean;

  /**
   * Appends the events of several running runs in one transaction, each only while
   * `instanceId` still holds its lease (fencing: a process that lost the lease cannot write).
   * One result per batch: true when written, false where the lease is gone, or the error that
   * refused that batch's rows alone (nothing of it is written; the other batches are).
   * Throws when the whole write failed.
   */
  appendEvents(instanceId: string, batches: Array<{ run: RunRef; rows: EventRow[] }>): Promise<AppendResult[]>;
  /**
   * Writes the last events, the compacted replay and the outcome, and frees the thread, in one
   * transaction. Returns false (and writes nothing) when the guard no longer holds.
   */
  finishRun(request: FinishRunRequest): Promise<boolean>;
  /** Extends the leases of these runs where `instanceId` still holds them; reports which it does. */
  renewLeases(instanceId: string, runs: RunRef[], expiresAt: number): Promise<HeldLease[]>;
  /** Asks the holder of a running run to stop it (used when the holder is another process). */
  requestStop(run: RunRef): Promise<boolean>;
  /** Running runs whose lease expired before `now`: their process is gone. */
  expiredRuns(now: number): Promise<ActiveRunRow[]>;
  /** A run with its stored input and persisted events, for recovery. */
  loadRun(run: RunRef): Promise<{ row: ActiveRunRow & { status: string; input: string | null }; events: SeqEvent[] } | undefined>;

  /**
   * What a follower on another instance needs, read at one moment: the run's state and its
   * stored events after `afterSeq` (up to its last one once it ended, so never the next run's).
   * Undefined when the run is gone: its thread was deleted.
   */
  runTail(run: RunRef, afterSeq: number): Promise<RunTail | undefined>;
  /**
   * One cheap look at several followed runs at once (the followers' safety net): for each, in
   * order, its status (undefined: gone), lease expiry, and the last event number of its thread.
   */
  runsProgress(runs: RunRef[]): Promise<RunProgress[]>;

  getThread(threadId: string): Promise<ThreadRow | undefined>;
  getThreadState(threadId: string): Promise<string | null | undefined>;
  /** The thread's running run, if any, and the last sequence number of its ended runs (0: none). */
  activeRun(threadId: string): Promise<{ active: ActiveRunRow | undefined; lastEndedSeq: number }>;
  /** Ended runs with events after `afterSeq`, oldest first, with their compacted replay. */
  endedRunsAfter(threadId: string, afterSeq: number): Promise<EndedRunRow[]>;
  /** Raw events with `afterSeq < seq <= upToSeq`, in order. */
  eventsBetween(threadId: string, afterSeq: number, upToSeq: number): Promise<SeqEvent[]>;
  listThreads(query: ThreadListQuery): Promise<ThreadRow[]>;
  updateThread(threadId: string, ownerId: string, patch: { name?: string | null; archived?: boolean }, now: number): Promise<ThreadRow | undefined>;
  /** Deletes the thread with its runs, events and message index. */
  deleteThread(threadId: string, ownerId: string): Promise<boolean>;
  threadIdsOfOwner(ownerId: string): Promise<string[]>;
  /**
   * Deletes idle threads past the retention limits (a thread whose run started meanwhile is
   * kept); returns the ids deleted, which the runner announces on its live bus like a delete.
   */
  applyRetention(policy: { olderThan?: number; maxThreadsPerOwner?: number }): Promise<string[]>;

  /** A trivial round trip (`SELECT 1`) for readiness: rejects when the database does not answer. */
  ping?(): Promise<void>;
}

export type { SeqEvent } from "../../events/replay-compaction.js";
import type { SeqEvent } from "../../events/replay-compaction.js";

/** One batch's outcome in `appendEvents`: written, fenced (lease gone), or refused. */
export type AppendResult = boolean | { error: unknown };

export interface RunRef {
  threadId: string;
  /** Identifies the run inside its thread (run ids from clients are not guaranteed unique). */
  firstSeq: number;
}

export interface EventRow {
  seq: number;
  runId: string;
  type: string;
  data: string;
}

export interface StartRunRequest {
  threadId: string;
  runId: string;
  agentId: string;
  ownerId: string;
  instanceId: string;
  now: number;
  leaseExpiresAt: number;
  /** Ids of the request's input messages, to learn which the thread already holds. */
  inputMessageIds: string[];
  /** The run's input as stored for recovery, given the ids the thread already holds. */
  describeInput: (known: ReadonlySet<string>) => string;
}

export type StartRunResult =
  | { kind: "started"; firstSeq: number; knownMessageIds: string[] }
  | { kind: "not_found" }
  | { kind: "agent_mismatch"; agentId: string }
  | { kind: "busy"; active: ActiveRunRow };

export type RunStatus = "finished" | "stopped" | "failed" | "interrupted";

export interface FinishRunRequest {
  run: RunRef;
  /** Only the lease holder may finish its run, or anyone once the lease expired (recovery). */
  guard: { holder: string } | { expiredBefore: number; holder: string | null };
  status: RunStatus;
  /** Events not yet appended. */
  rows: EventRow[];
  lastSeq: number;
  /** JSON `[[seq, event], ...]`: the run's compacted replay. */
  compacted: string;
  messageIds: string[];
  /** JSON of the run's last `STATE_SNAPSHOT`, when it had one. */
  state?: string;
  now: number;
}

export interface ActiveRunRow {
  threadId: string;
  runId: string;
  firstSeq: number;
  leaseOwner: string | null;
  leaseExpiresAt: number;
  stopRequested: boolean;
}

export interface RunTail {
  /** `"running"`, or how it ended. */
  status: string;
  leaseOwner: string | null;
  leaseExpiresAt: number;
  events: SeqEvent[];
}

export interface RunProgress {
  status: string | undefined;
  leaseExpiresAt: number;
  /** The thread's last stored event (0: none). */
  lastSeq: number;
}

export interface HeldLease {
  threadId: string;
  firstSeq: number;
  stopRequested: boolean;
}

export interface EndedRunRow {
  runId: string;
  firstSeq: number;
  lastSeq: number;
  compacted: string;
}

export interface ThreadRow extends ThreadMeta {
  lastRunAt: number | null;
  /** A store-wide counter bumped on every change: recency order without timestamp ties. */
  activity: number;
}

export interface ThreadListQuery {
  ownerId: string;
  agentId?: string;
  includeArchived: boolean;
  /** Only threads with `activity` below this (the keyset cursor). */
  beforeActivity?: number;
  limit: number;
}
