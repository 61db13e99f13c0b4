import type { AgentEvent } from "./types.js";
import { EventTypes as T } from "./types.js";

/** How a run that ended without a terminal event is closed (the shape CopilotKit's runners pass). */
export interface FinalizeRunOptions {
  /** The run was stopped on request: it closes with `RUN_FINISHED` and "stopped" tool results. */
  stopRequested?: boolean;
  /** Why the run was cut short (e.g. the agent's error message); used as the closing message. */
  interruptionMessage?: string;
}

/** Follows one run's events and closes them when the run ends without a terminal event. */
export interface RunEventFinalizer {
  /** Notes one event. Only the ids of what is open are kept, never payloads. */
  observe(event: { type: string; [key: string]: unknown }): void;
  /** The events that close the run (empty once a terminal event was seen, or after a first call). */
  finalize(options?: FinalizeRunOptions): AgentEvent[];
}

const STOPPED_BY_USER = "Run stopped by user";
const NO_TERMINAL_EVENT = "Run ended without emitting a terminal event";

/**
 * A finalizer for a streamed AG-UI run, with the call shape and output of
 * `@copilotkit/runtime`'s `createRunEventFinalizer`: feed it every event with `observe`; when the
 * stream ends without `RUN_FINISHED` or `RUN_ERROR`, `finalize` returns `TEXT_MESSAGE_END` for
 * each open text message, `TOOL_CALL_END` and/or a `TOOL_CALL_RESULT` for each tool call not
 * both ended and answered, then `RUN_FINISHED` (stop requested) or `RUN_ERROR`
 * `INCOMPLETE_STREAM`. For custom runners that close runs themselves; the built-in runners use
 * their own stream state, which also closes reasoning and steps.
 *
 * @example
 * const finalizer = createRunEventFinalizer();
 * agentEvents.subscribe({ next: (e) => { finalizer.observe(e); send(e); }, complete: () => finalizer.finalize().forEach(send) });
 */
export function createRunEventFinalizer(): RunEventFinalizer {
  const openMessages = new Set<string>();
  // Per open tool call: has it been ended, has it been answered. Gone once both.
  const openToolCalls = new Map<string, { ended: boolean; answered: boolean }>();
  let terminated = false;

  const close = (): void => {
    terminated = true;
    openMessages.clear();
    openToolCalls.clear();
  };

  return {
    observe(event) {
      if (terminated) return;
      switch (event.type) {
        case T.TEXT_MESSAGE_START:
          if (event.messageId) openMessages.add(event.messageId as string);
          return;
        case T.TEXT_MESSAGE_END:
          if (typeof event.messageId === "string") openMessages.delete(event.messageId);
          return;
        case T.TOOL_CALL_START: {
          const id = event.toolCallId as string;
          if (id && !openToolCalls.has(id)) openToolCalls.set(id, { ended: false, answered: false });
          return;
        }
        case T.TOOL_CALL_END:
        case T.TOOL_CALL_RESULT: {
          const id = event.toolCallId as string;
          const call = id ? openToolCalls.get(id) : undefined;
          if (call === undefined) return;
          if (event.type === T.TOOL_CALL_END) call.ended = true;
          else call.answered = true;
          if (call.ended && call.answered) openToolCalls.delete(id);
          return;
        }
        case T.RUN_FINISHED:
        case T.RUN_ERROR:
          close();
          return;
      }
    },

    finalize(options = {}) {
      if (terminated) return [];
      const { stopRequested = false, interruptionMessage } = options;
      const stopMessage = interruptionMessage ?? STOPPED_BY_USER;
      // A caller that passes the stop wording for an unfinished run still gets the abrupt-end wording.
      const abruptMessage = interruptionMessage && interruptionMessage !== STOPPED_BY_USER ? interruptionMessage : NO_TERMINAL_EVENT;
      const out: AgentEvent[] = [];
      for (const messageId of openMessages) out.push({ type: T.TEXT_MESSAGE_END, messageId });
      for (const [toolCallId, call] of openToolCalls) {
        if (!call.ended) out.push({ type: T.TOOL_CALL_END, toolCallId });
        if (call.answered) continue;
        const result = stopRequested
          ? { status: "stopped", reason: "stop_requested", message: stopMessage }
          : { status: "error", reason: "missing_terminal_event", message: abruptMessage };
        out.push({ type: T.TOOL_CALL_RESULT, toolCallId, messageId: `${toolCallId}-result`, role: "tool", content: JSON.stringify(result) });
      }
      out.push(stopRequested ? { type: T.RUN_FINISHED } : { type: T.RUN_ERROR, message: abruptMessage, code: "INCOMPLETE_STREAM" });
      close();
      return out;
    },
  };
}

/**
 * {@link createRunEventFinalizer} over a run's whole event list, as `@copilotkit/runtime`'s
 * `finalizeRunEvents`: appends the closing events to `events` in place and returns them.
 *
 * @example
 * const appended = finalizeRunEvents(runEvents, { stopRequested: true });
 */
export function finalizeRunEvents(events: Array<{ type: string; [key: string]: unknown }>, options: FinalizeRunOptions = {}): AgentEvent[] {
  const finalizer = createRunEventFinalizer();
  for (const event of events) finalizer.observe(event);
  const appended = finalizer.finalize(options);
  events.push(...appended);
  return appended;
}
