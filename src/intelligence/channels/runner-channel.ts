import type { ApiKeyRegistry } from "../api-keys.js";
import type { PlatformDeps } from "../context.js";
import type { FanOut } from "../fan-out.js";
import type { RunFinalizer } from "../finalizer.js";
import { ingestRunEvents } from "../ingest.js";
import type { ChannelContext, ChannelHandler, JoinResult, Reply, SocketHandler } from "../phoenix/types.js";
import type { NewEvent } from "../store/types.js";
import { TERMINAL_TYPES } from "../wire.js";
import { acceptLegacyRunnerJoin, isLegacyRunnerJoin } from "./legacy-runner-channel.js";

/** What a runner socket proved at connect: the API key's project. */
export interface RunnerAssigns {
  projectId: string;
}

/** The capability that makes CopilotKit's runner send `events` batches (≤ 32) instead of one push per event. */
export const RUNNER_CAPABILITIES = ["runner_event_batch_v1"] as const;

const MAX_BATCH = 1_000;
const TOPIC_PREFIX = "ingestion:";

/**
 * The `/runner` socket: CopilotKit's `IntelligenceAgentRunner` connects with the API key as its
 * auth token and joins `ingestion:<runId>` for the run it just locked.
 *
 * @example
 * createPhoenixServer({ handler: createRunnerSocketHandler(deps, fanOut, apiKeys) });
 */
export function createRunnerSocketHandler(deps: PlatformDeps, fanOut: FanOut, apiKeys: ApiKeyRegistry, finalizer?: RunFinalizer): SocketHandler<RunnerAssigns> {
  return {
    connect(info) {
      return apiKeys.authenticate(info.authToken);
    },
    join(topic, payload, channel) {
      return joinRunnerChannel(deps, fanOut, topic, payload, channel, finalizer);
    },
  };
}

/**
 * A join of `ingestion:<runId>` `{thread_id, run_id}`: allowed while the project holds a live
 * lock for exactly that (thread, run), including rejoins after a socket blip. Events pushed on
 * it are stored (deduplicated by `cpki_event_id`) before they are acknowledged; the terminal
 * event ends the run and releases its lock in the same write. A join in CopilotKit 1.54.1's shape
 * (`ingestion:<threadId>` `{runId}`) is served the same way, see `legacy-runner-channel.ts`.
 */
export async function joinRunnerChannel(
  deps: PlatformDeps,
  fanOut: FanOut,
  topic: string,
  payload: Record<string, unknown>,
  channel: ChannelContext<RunnerAssigns>,
  finalizer?: RunFinalizer,
): Promise<JoinResult> {
  const { projectId } = channel.assigns;
  if (isLegacyRunnerJoin(payload)) {
    // CopilotKit 1.54.1: `ingestion:<threadId>` `{runId}`, single events, no capabilities.
    const legacy = await acceptLegacyRunnerJoin(deps, fanOut, topic, payload, channel, finalizer);
    if (!("target" in legacy)) return { ok: false, response: { ...legacy } };
    return { ok: true, response: {}, handler: ingestingChannelHandler(deps, fanOut, legacy.target, channel, legacy.onTerminate) };
  }
  if (!topic.startsWith(TOPIC_PREFIX)) return refuse("unknown_topic", `Runner sockets join ${TOPIC_PREFIX}<runId>, not ${topic}`);
  const runId = topic.slice(TOPIC_PREFIX.length);
  const threadId = payload.thread_id;
  if (typeof threadId !== "string" || threadId === "") return refuse("invalid_join", "thread_id is required");
  if (payload.run_id !== undefined && payload.run_id !== runId) return refuse("invalid_join", "run_id does not match the topic");

  const run = await deps.store.getRun(projectId, runId);
  if (run === undefined || run.threadId !== threadId) return refuse("run_not_found", `No run ${runId} on thread ${threadId}`);
  if (run.status !== "running") return refuse("not_running", `Run ${runId} already ended`);
  if (run.lockExpiresAt <= deps.now()) return refuse("lock_expired", `The lock of run ${runId} has expired`);

  return { ok: true, response: { capabilities: [...RUNNER_CAPABILITIES] }, handler: ingestingChannelHandler(deps, fanOut, { projectId, threadId, runId }, channel) };
}

/** The run a runner channel writes to. */
export interface RunnerTarget {
  projectId: string;
  threadId: string;
  runId: string;
}

/**
 * The handler of a joined runner channel (1.75 or 1.54.1): registers it for stop relays, stores
 * pushed `events` batches and single `event`s one write at a time, and replies `ok` only once
 * they are durable. `onTerminate` runs after the channel is unregistered.
 */
export function ingestingChannelHandler(
  deps: PlatformDeps,
  fanOut: FanOut,
  target: RunnerTarget,
  channel: ChannelContext<RunnerAssigns>,
  onTerminate?: () => void,
): ChannelHandler {
  const { projectId, threadId, runId } = target;
  const unregister = fanOut.addRunner(projectId, runId, channel);
  // One write at a time per channel: the runner keeps one batch in flight, but a rejoin may overlap.
  let chain: Promise<unknown> = Promise.resolve();

  const ingest = (raw: unknown[]): Promise<Reply> => {
    const parsed = parseRunnerEvents(raw);
    if (typeof parsed === "string") return Promise.resolve({ status: "error", response: { reason: "invalid_event", message: parsed, retryable: false } });
    const task = chain.then(async (): Promise<Reply> => {
      try {
        const result = await ingestRunEvents(deps, { projectId, threadId, runId, events: parsed });
        if (result.status === "not_running") return { status: "error", response: { reason: "not_running", retryable: false } };
        return { status: "ok", response: {} };
      } catch (err) {
        deps.log.error({ err, threadId, runId }, "Intelligence: storing runner events failed");
        // No `retryable: false`: the runner retries the same batch with backoff.
        return { status: "error", response: { reason: "store_unavailable" } };
      }
    });
    chain = task;
    return task;
  };

  return {
    handleIn(event, body) {
      if (event === "events") {
        const events = (body as { events?: unknown } | null)?.events;
        if (!Array.isArray(events)) return { status: "error", response: { reason: "invalid_event", message: "events must be an array", retryable: false } };
        return ingest(events);
      }
      if (event === "event") return ingest([body]);
      return { status: "error", response: { reason: "unknown_event", message: `Unknown event ${event}` } };
    },
    terminate() {
      // Leaving does not end the run: a runner that never comes back is finalized when its lock lapses.
      unregister();
      onTerminate?.();
    },
  };
}

/**
 * Turns pushed events into store rows: each needs a `type` and `metadata.cpki_event_id` /
 * `metadata.cpki_event_seq` (the runtime assigns them). Events after a terminal one are dropped.
 * Returns an error message for a malformed batch.
 */
export function parseRunnerEvents(raw: readonly unknown[]): NewEvent[] | string {
  if (raw.length > MAX_BATCH) return `At most ${MAX_BATCH} events per batch`;
  const events: NewEvent[] = [];
  for (const [index, event] of raw.entries()) {
    if (typeof event !== "object" || event === null || Array.isArray(event)) return `events[${index}] is not an object`;
    const { type, metadata } = event as { type?: unknown; metadata?: { cpki_event_id?: unknown; cpki_event_seq?: unknown } };
    if (typeof type !== "string" || type === "") return `events[${index}].type must be a string`;
    const id = metadata?.cpki_event_id;
    const seq = metadata?.cpki_event_seq;
    if (typeof id !== "string" || id === "" || id.length > 200) return `events[${index}].metadata.cpki_event_id must be a string`;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) return `events[${index}].metadata.cpki_event_seq must be a positive integer`;
    events.push({ id, seq, type, json: JSON.stringify(event) });
    if (TERMINAL_TYPES.has(type)) break;
  }
  return events;
}

function refuse(reason: string, message: string): JoinResult {
  return { ok: false, response: { reason, message, retryable: false } };
}
