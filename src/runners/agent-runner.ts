import type { BaseEvent } from "@ag-ui/core";
import type { Observable } from "rxjs";
import type { AgentLike } from "../events/agent-contract.js";
import type { AgentEvent, AgentMessage, RunInput } from "../events/types.js";
import type { StoreWriteObserver } from "../observability/store-metrics.js";

/** The owner recorded on threads when the runtime has no `identifyUser`. */
export const ANONYMOUS_OWNER = "anonymous";

export interface AgentRunnerRunRequest {
  threadId: string;
  /** The per-request clone, already holding the input's messages, state and forwarded headers. */
  agent: AgentLike;
  input: RunInput;
  /** The route's agent id; a thread belongs to the agent that first ran on it. */
  agentId?: string;
  /** The caller, from `identifyUser`; a thread belongs to the user who created it. */
  ownerId?: string;
}

export interface AgentRunnerConnectRequest {
  threadId: string;
  agentId?: string;
  ownerId?: string;
  /** Forwarded request headers, for runners that reach a remote store or agent on connect. */
  headers?: Record<string, string>;
  /** Resume after this event id (SSE `Last-Event-ID`), for runners that number their events. */
  lastEventId?: string;
}

export interface AgentRunnerStopRequest {
  threadId: string;
  /** Stop only this run; a stop naming an older run does nothing. */
  runId?: string;
  agentId?: string;
  ownerId?: string;
}

export interface AgentRunnerIsRunningRequest {
  threadId: string;
}

/** A thread as `GET /threads` lists it (CopilotKit's `ThreadSummary` shape). */
export interface ThreadSummary {
  id: string;
  name: string | null;
  agentId: string;
  organizationId: string;
  createdById: string;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  lastRunAt?: string;
}

/** What every runner records about a thread; times in epoch milliseconds. */
export interface ThreadMeta {
  id: string;
  agentId: string;
  ownerId: string;
  name: string | null;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A thread exists for a caller only if the caller owns it (and, when named, it belongs to that agent). */
export function isThreadVisibleTo(thread: ThreadMeta, ownerId: string | undefined, agentId: string | undefined): boolean {
  if (thread.ownerId !== (ownerId ?? ANONYMOUS_OWNER)) return false;
  return agentId === undefined || thread.agentId === agentId;
}

/** A thread in the `GET /threads` shape. */
export function threadSummary(thread: ThreadMeta, lastRunAt: number | null | undefined): ThreadSummary {
  return {
    id: thread.id,
    name: thread.name,
    agentId: thread.agentId,
    organizationId: "",
    createdById: thread.ownerId,
    archived: thread.archived,
    createdAt: new Date(thread.createdAt).toISOString(),
    updatedAt: new Date(thread.updatedAt).toISOString(),
    ...(lastRunAt !== null && lastRunAt !== undefined ? { lastRunAt: new Date(lastRunAt).toISOString() } : {}),
  };
}

export interface ListThreadsRequest {
  ownerId?: string;
  agentId?: string;
  includeArchived?: boolean;
  limit?: number;
  cursor?: string;
}

export interface ThreadRequest {
  threadId: string;
  ownerId?: string;
}

export interface UpdateThreadRequest extends ThreadRequest {
  name?: string | null;
  archived?: boolean;
}

/**
 * Thrown synchronously by `run()` when the thread already has an active run and the runner's
 * policy is to reject. The HTTP layer answers 409 `thread_busy`.
 */
export class ThreadBusyError extends Error {
  readonly code = "thread_busy";
  constructor(readonly threadId: string) {
    super(`Thread '${threadId}' already has an active run. Stop it or wait for it to finish.`);
    this.name = "ThreadBusyError";
  }
}

/** Thrown by thread mutations when the thread does not exist for this caller. */
export class ThreadNotFoundError extends Error {
  readonly code = "thread_not_found";
  constructor(readonly threadId: string) {
    super(`Thread '${threadId}' was not found.`);
    this.name = "ThreadNotFoundError";
  }
}

/** Thrown by `run()` when the thread id already belongs to another agent. HTTP 409. */
export class ThreadAgentMismatchError extends Error {
  readonly code = "thread_agent_mismatch";
  constructor(
    readonly threadId: string,
    readonly ownerAgentId: string,
  ) {
    super(`Thread '${threadId}' belongs to another agent. Use a new thread id for this agent.`);
    this.name = "ThreadAgentMismatchError";
  }
}

/**
 * Thrown by `run()` of the durable runners, before anything is stored, when an identifier
 * (thread, run, message, agent or owner id) is one a store could not keep and compare back
 * unchanged: empty, too long, with a NUL or a lone surrogate (see `identifierProblem`). The
 * HTTP layer checks the same rules and answers 400; this protects programmatic callers.
 */
export class InvalidRunInputError extends Error {
  readonly code = "invalid_run_input";
  constructor(
    /** Which input: `threadId`, `runId`, `agentId`, `ownerId` or `messages[<i>].id`. */
    readonly field: string,
    /** What is wrong with it, e.g. `must not contain NUL characters`. */
    readonly problem: string,
  ) {
    super(`Invalid run input: ${field} ${problem}.`);
    this.name = "InvalidRunInputError";
  }
}

/**
 * The runner's store could not start a run for a reason that should pass (a database that is
 * busy, restarting or unreachable), after the runner's own retries. HTTP answers 503.
 */
export class StoreUnavailableError extends Error {
  readonly code = "store_unavailable";
  constructor(cause: unknown) {
    super("The thread store is unavailable right now; the run was not started.", { cause });
    this.name = "StoreUnavailableError";
  }
}

/**
 * Where runs execute and threads live. Same four methods as CopilotKit's `AgentRunner`, so a
 * custom runner written for `@copilotkit/runtime` works here; the thread queries are optional
 * and light up `/threads` when present.
 *
 * @example
 * ```ts
 * class LoggingRunner extends InMemoryAgentRunner {
 *   override run(request: AgentRunnerRunRequest) {
 *     console.log("run", request.threadId);
 *     return super.run(request);
 *   }
 * }
 * ```
 */
export abstract class AgentRunner {
  /**
   * Starts a run and returns its events. May return a promise: a runner backed by a database
   * must take the thread's lease (a round trip) before it can refuse a busy thread.
   */
  abstract run(request: AgentRunnerRunRequest): Observable<BaseEvent> | Promise<Observable<BaseEvent>>;
  abstract connect(request: AgentRunnerConnectRequest): Observable<BaseEvent>;
  abstract isRunning(request: AgentRunnerIsRunningRequest): Promise<boolean>;
  abstract stop(request: AgentRunnerStopRequest): Promise<boolean | undefined>;

  listThreads?(request: ListThreadsRequest): Promise<{ threads: ThreadSummary[]; nextCursor: string | null }>;
  getThread?(request: ThreadRequest): Promise<ThreadSummary | undefined>;
  getThreadMessages?(request: ThreadRequest): Promise<AgentMessage[] | undefined>;
  getThreadEvents?(request: ThreadRequest): Promise<AgentEvent[] | undefined>;
  getThreadState?(request: ThreadRequest): Promise<{ state: unknown } | undefined>;
  updateThread?(request: UpdateThreadRequest): Promise<ThreadSummary>;
  deleteThread?(request: ThreadRequest): Promise<boolean>;
  clearThreads?(request: { ownerId?: string }): Promise<void>;

  /** Lets open runs finish until the deadline, then stops them with a proper terminal event. */
  shutdown?(options?: { deadlineMs?: number }): Promise<void>;

  /**
   * Readiness for `/readyz`: resolves when the runner can take runs now (its database answers),
   * rejects with the reason otherwise. A runner without it is ready while the process is up.
   * The health handler bounds it with a timeout, so it need not have one.
   */
  checkReady?(): Promise<void>;
  /** Reports the duration of each write to the runner's store, for metrics (durable runners). */
  observeStoreWrites?(observer: StoreWriteObserver): void;
}
