import { DEFAULT_INPUT_LIMITS, identifierProblem } from "../../events/input-limits.js";
import { RUN_ERRORS } from "../../errors.js";
import { StreamState } from "../../events/stream-state.js";
import { type AgentEvent, type AgentMessage, EventTypes as T } from "../../events/types.js";
import { compactForReplay } from "../../events/replay-compaction.js";
import type { SeqEvent } from "./store.js";

/** What a thread remembers from one ended run besides its events. */
export interface RunFacts {
  /**
   * Message ids the run introduced, so later runs do not repeat them in `RUN_STARTED.input`.
   * Only ids every store can index (an agent's odd id is just repeated in later inputs).
   */
  messageIds: string[];
  /** JSON of the run's last `STATE_SNAPSHOT`, if any (the thread's `/state`). */
  state?: string;
  /** JSON `[[seq, event], ...]`: the run's compacted replay. */
  compacted: string;
}

/** Summarises a run's numbered events for `finishRun`, the same way for every outcome. */
export function runFacts(entries: readonly SeqEvent[]): RunFacts {
  const messageIds = new Set<string>();
  let state: string | undefined;
  for (const { event } of entries) {
    if (event.type === T.RUN_STARTED) {
      const messages = (event.input as { messages?: AgentMessage[] } | undefined)?.messages ?? [];
      for (const message of messages) if (message && isIndexable(message.id)) messageIds.add(message.id);
    } else if (typeof event.messageId === "string") {
      if (isIndexable(event.messageId)) messageIds.add(event.messageId);
    } else if (event.type === T.STATE_SNAPSHOT) {
      state = JSON.stringify(event.snapshot ?? null);
    }
  }
  const compacted = JSON.stringify(compactForReplay(entries).map(({ seq, event }) => [seq, event]));
  return { messageIds: [...messageIds], state, compacted };
}

function isIndexable(id: unknown): id is string {
  return typeof id === "string" && identifierProblem(id, DEFAULT_INPUT_LIMITS.maxIdLength) === undefined;
}

/** Parses a stored compacted replay. */
export function parseCompacted(json: string): SeqEvent[] {
  const pairs = JSON.parse(json) as Array<[number, AgentEvent]>;
  const out: SeqEvent[] = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) out[i] = { seq: pairs[i][0], event: pairs[i][1] };
  return out;
}

/**
 * The events that close a run its process never finished (it crashed or was killed): open
 * messages and tool calls closed, then `RUN_ERROR` with code `INTERRUPTED`, so the replayed
 * run is a well-formed lifecycle. When not even `RUN_STARTED` was persisted, one is made from
 * the stored input so the user's message is not lost.
 */
export function interruptionEvents(
  persisted: readonly SeqEvent[],
  run: { threadId: string; runId: string; input: string | null },
  reason: { code: string; message: string } = INTERRUPTED,
): AgentEvent[] {
  const state = new StreamState(run.threadId, run.runId);
  for (const { event } of persisted) state.accept(event);
  const out: AgentEvent[] = [];
  if (!state.started) {
    const started: AgentEvent = { type: T.RUN_STARTED, threadId: run.threadId, runId: run.runId };
    if (run.input !== null) started.input = JSON.parse(run.input);
    state.accept(started);
    out.push(started);
  }
  out.push(...state.finalize({ kind: "error", ...reason }));
  return out;
}

const INTERRUPTED = { code: RUN_ERRORS.interrupted.code, message: RUN_ERRORS.interrupted.message };
