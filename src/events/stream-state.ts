import { type AgentEvent, EventTypes as T } from "./types.js";
import { RUN_ERRORS, runErrorEvent } from "../errors.js";

/** Why a run is being closed by the runtime rather than by the agent. */
export type FinalizeReason =
  | { kind: "stopped" }
  | { kind: "incomplete" }
  | { kind: "error"; message: string; code: string };

const NONE: ReadonlySet<string> = new Set();
/** What `accept` returns for an event it refuses: shared, never written to. */
const NO_EVENTS: AgentEvent[] = [];

type Lane = { kind: "text" | "tool" | "reasoning"; id: string } | undefined;

/**
 * Follows one run's event stream: expands AG-UI `*_CHUNK` shorthand into explicit events
 * (we subscribe to `agent.run()` directly, which does not expand them), remembers what is
 * still open, so the runtime can close a run that ended without a terminal event, and refuses
 * an event that breaks AG-UI's order (the rules every client's verifier applies), so the
 * runtime can end that run with a `RUN_ERROR` instead of streaming what clients reject.
 *
 * Cost per event is a switch and a set lookup or two, with no allocation: it sits on the hot path.
 */
export class StreamState {
  // What is open, created on first use: most runs only ever open text messages, and a Set
  // costs its hash table even when empty (six per run used to be ~1 KB of every open stream).
  private openText: Set<string> | undefined = undefined;
  private openToolCalls: Set<string> | undefined = undefined;
  private toolCallsAwaitingResult: Set<string> | undefined = undefined;
  private openReasoningMessages: Set<string> | undefined = undefined;
  private openReasoningSpans: Set<string> | undefined = undefined;
  private openSteps: Set<string> | undefined = undefined;
  started = false;
  terminated = false;
  /** The run ended with `RUN_ERROR` (after which not even another `RUN_ERROR` may follow). */
  endedWithError = false;
  /**
   * Set when `accept` refused an event: what was wrong with it, for the logs. The refused event
   * is not tracked, so `finalize` still closes exactly what the stream opened.
   */
  invalid: string | undefined = undefined;
  private lane: Lane;

  constructor(
    readonly threadId: string,
    readonly runId: string,
  ) {}

  /** Feeds one agent event; returns the events to emit in its place (usually just itself). */
  accept(event: AgentEvent): AgentEvent[] {
    switch (event.type) {
      case T.TEXT_MESSAGE_CHUNK:
        return this.expandChunk(event, "text");
      case T.TOOL_CALL_CHUNK:
        return this.expandChunk(event, "tool");
      case T.REASONING_MESSAGE_CHUNK:
        return this.expandChunk(event, "reasoning");
      case "RAW":
      case "ACTIVITY_SNAPSHOT":
      case "ACTIVITY_DELTA":
        return [event];
    }
    const closing = this.refersToLane(event) ? this.releaseLaneFor(event) : this.closeLane();
    const problem = this.violation(event);
    if (problem !== undefined) {
      this.invalid = problem;
      return closing ?? NO_EVENTS;
    }
    this.track(event);
    if (closing === undefined) return [event];
    closing.push(event);
    return closing;
  }

  /**
   * The events that close this run cleanly, in an order every client version verifies:
   * reasoning, text and tool calls closed, steps finished, then one terminal event that always
   * carries threadId and runId. Empty when the agent already ended the run.
   */
  finalize(reason: FinalizeReason): AgentEvent[] {
    if (this.terminated) return [];
    const out: AgentEvent[] = [];
    const { threadId, runId } = this;
    if (!this.started && reason.kind === "stopped") {
      out.push({ type: T.RUN_STARTED, threadId, runId });
    }
    this.lane = undefined;
    for (const messageId of this.openReasoningMessages ?? NONE) out.push({ type: T.REASONING_MESSAGE_END, messageId });
    for (const messageId of this.openReasoningSpans ?? NONE) out.push({ type: T.REASONING_END, messageId });
    for (const messageId of this.openText ?? NONE) out.push({ type: T.TEXT_MESSAGE_END, messageId });
    for (const toolCallId of this.openToolCalls ?? NONE) out.push({ type: T.TOOL_CALL_END, toolCallId });
    for (const toolCallId of this.toolCallsAwaitingResult ?? NONE) {
      out.push({
        type: T.TOOL_CALL_RESULT,
        messageId: `${toolCallId}-result`,
        toolCallId,
        role: "tool",
        content: JSON.stringify(
          reason.kind === "stopped"
            ? { status: "stopped", reason: "stop_requested", message: "The run was stopped before this tool call finished." }
            : { status: "error", reason: "missing_terminal_event", message: "The run ended before this tool call finished." },
        ),
      });
    }
    for (const stepName of this.openSteps ?? NONE) out.push({ type: T.STEP_FINISHED, stepName });
    if (reason.kind === "stopped") {
      out.push({ type: T.RUN_FINISHED, threadId, runId });
    } else if (reason.kind === "incomplete") {
      out.push(runErrorEvent(RUN_ERRORS.incompleteStream));
    } else {
      out.push({ type: T.RUN_ERROR, message: reason.message, code: reason.code });
    }
    for (const event of out) this.track(event);
    return out;
  }

  /**
   * Why `event` cannot come next, or undefined when it can: the ordering rules of AG-UI's event
   * verifier (`@ag-ui/client` `verifyEvents`), which every client runs on what it receives.
   * Only ever builds a string for a refused event.
   */
  private violation(event: AgentEvent): string | undefined {
    const type = event.type;
    if (this.terminated) {
      if (type === T.RUN_STARTED) return undefined; // a new run in the same stream
      if (type === T.RUN_ERROR && !this.endedWithError) return undefined;
      return `${type} after the run ended with ${this.endedWithError ? "RUN_ERROR" : "RUN_FINISHED"}`;
    }
    if (!this.started) {
      return type === T.RUN_STARTED || type === T.RUN_ERROR ? undefined : `${type} before RUN_STARTED`;
    }
    switch (type) {
      case T.RUN_STARTED:
        return "a second RUN_STARTED while the run is active";
      case T.TEXT_MESSAGE_START:
        return this.openText?.has(event.messageId as string) ? `TEXT_MESSAGE_START for text message '${event.messageId}' already in progress` : undefined;
      case T.TEXT_MESSAGE_CONTENT:
      case T.TEXT_MESSAGE_END:
        return this.openText?.has(event.messageId as string) ? undefined : `${type} for text message '${event.messageId}' that was never started`;
      case T.TOOL_CALL_START:
        return this.openToolCalls?.has(event.toolCallId as string) ? `TOOL_CALL_START for tool call '${event.toolCallId}' already in progress` : undefined;
      case T.TOOL_CALL_ARGS:
      case T.TOOL_CALL_END:
        return this.openToolCalls?.has(event.toolCallId as string) ? undefined : `${type} for tool call '${event.toolCallId}' that was never started`;
      case T.REASONING_START:
        return this.openReasoningSpans?.has(event.messageId as string) ? `REASONING_START for reasoning '${event.messageId}' already in progress` : undefined;
      case T.REASONING_END:
        return this.openReasoningSpans?.has(event.messageId as string) ? undefined : `REASONING_END for reasoning '${event.messageId}' that was never started`;
      case T.REASONING_MESSAGE_START:
        return this.openReasoningMessages?.has(event.messageId as string)
          ? `REASONING_MESSAGE_START for reasoning message '${event.messageId}' already in progress`
          : undefined;
      case T.REASONING_MESSAGE_CONTENT:
      case T.REASONING_MESSAGE_END:
        return this.openReasoningMessages?.has(event.messageId as string) ? undefined : `${type} for reasoning message '${event.messageId}' that was never started`;
      case T.STEP_STARTED:
        return this.openSteps?.has(event.stepName as string) ? `STEP_STARTED for step '${event.stepName}' already active` : undefined;
      case T.STEP_FINISHED:
        return this.openSteps?.has(event.stepName as string) ? undefined : `STEP_FINISHED for step '${event.stepName}' that was never started`;
      case T.RUN_FINISHED:
        return this.stillOpen();
    }
    return undefined;
  }

  /** What `RUN_FINISHED` may not leave open, named for the logs; undefined when nothing is. */
  private stillOpen(): string | undefined {
    const sets = [this.openText, this.openToolCalls, this.openReasoningSpans, this.openReasoningMessages, this.openSteps];
    if (!sets.some((ids) => ids !== undefined && ids.size > 0)) return undefined;
    const open: string[] = [];
    const add = (what: string, ids: Set<string> | undefined) => {
      if (ids !== undefined && ids.size > 0) open.push(`${what} ${[...ids].map((id) => `'${id}'`).join(", ")}`);
    };
    add("text message", this.openText);
    add("tool call", this.openToolCalls);
    add("reasoning", this.openReasoningSpans);
    add("reasoning message", this.openReasoningMessages);
    add("step", this.openSteps);
    return open.length === 0 ? undefined : `RUN_FINISHED while still open: ${open.join("; ")}`;
  }

  private track(event: AgentEvent): void {
    switch (event.type) {
      case T.TEXT_MESSAGE_START:
        (this.openText ??= new Set()).add(event.messageId as string);
        return;
      case T.TEXT_MESSAGE_END:
        this.openText?.delete(event.messageId as string);
        return;
      case T.TOOL_CALL_START:
        (this.openToolCalls ??= new Set()).add(event.toolCallId as string);
        (this.toolCallsAwaitingResult ??= new Set()).add(event.toolCallId as string);
        return;
      case T.TOOL_CALL_END:
        this.openToolCalls?.delete(event.toolCallId as string);
        return;
      case T.TOOL_CALL_RESULT:
        this.toolCallsAwaitingResult?.delete(event.toolCallId as string);
        return;
      case T.REASONING_START:
        (this.openReasoningSpans ??= new Set()).add(event.messageId as string);
        return;
      case T.REASONING_END:
        this.openReasoningSpans?.delete(event.messageId as string);
        return;
      case T.REASONING_MESSAGE_START:
        (this.openReasoningMessages ??= new Set()).add(event.messageId as string);
        return;
      case T.REASONING_MESSAGE_END:
        this.openReasoningMessages?.delete(event.messageId as string);
        return;
      case T.STEP_STARTED:
        (this.openSteps ??= new Set()).add(event.stepName as string);
        return;
      case T.STEP_FINISHED:
        this.openSteps?.delete(event.stepName as string);
        return;
      case T.RUN_STARTED:
        this.started = true;
        this.terminated = false;
        this.endedWithError = false;
        return;
      case T.RUN_FINISHED:
      case T.RUN_ERROR:
        this.terminated = true;
        if (event.type === T.RUN_ERROR) this.endedWithError = true;
        // A frontend tool call legitimately ends a run without a result: the client answers it.
        this.toolCallsAwaitingResult?.clear();
        return;
    }
  }

  private refersToLane(event: AgentEvent): boolean {
    const lane = this.lane;
    if (lane === undefined) return false;
    return (lane.kind === "tool" ? event.toolCallId : event.messageId) === lane.id;
  }

  /** An explicit event for the chunk lane's own id continues it; its explicit end closes it. */
  private releaseLaneFor(event: AgentEvent): undefined {
    if (event.type.endsWith("_END")) this.lane = undefined;
    return undefined;
  }

  private closeLane(): AgentEvent[] | undefined {
    const lane = this.lane;
    if (lane === undefined) return undefined;
    this.lane = undefined;
    const end = laneEnd(lane);
    if (end === undefined) return undefined;
    this.track(end);
    return [end];
  }

  private expandChunk(chunk: AgentEvent, kind: "text" | "tool" | "reasoning"): AgentEvent[] {
    const idField = kind === "tool" ? "toolCallId" : "messageId";
    const id = chunk[idField] as string | undefined;
    const out: AgentEvent[] = [];
    const continues = this.lane?.kind === kind && (id === undefined || id === this.lane.id);
    if (!continues) {
      const closing = this.closeLane();
      if (closing) out.push(...closing);
      if (id === undefined) return out; // a first chunk without an id cannot be placed; drop it
      out.push(laneStart(kind, id, chunk));
      this.lane = { kind, id };
    }
    const laneId = this.lane!.id;
    const delta = chunk.delta;
    if (typeof delta === "string" && delta.length > 0) {
      out.push(
        kind === "tool"
          ? { type: T.TOOL_CALL_ARGS, toolCallId: laneId, delta }
          : { type: kind === "text" ? T.TEXT_MESSAGE_CONTENT : T.REASONING_MESSAGE_CONTENT, messageId: laneId, delta },
      );
    }
    for (const event of out) this.track(event);
    return out;
  }
}

function laneStart(kind: "text" | "tool" | "reasoning", id: string, chunk: AgentEvent): AgentEvent {
  if (kind === "tool") {
    const start: AgentEvent = { type: T.TOOL_CALL_START, toolCallId: id, toolCallName: chunk.toolCallName ?? "" };
    if (typeof chunk.parentMessageId === "string") start.parentMessageId = chunk.parentMessageId;
    return start;
  }
  if (kind === "reasoning") return { type: T.REASONING_MESSAGE_START, messageId: id, role: "reasoning" };
  const start: AgentEvent = { type: T.TEXT_MESSAGE_START, messageId: id, role: chunk.role ?? "assistant" };
  if (typeof chunk.name === "string") start.name = chunk.name;
  return start;
}

function laneEnd(lane: NonNullable<Lane>): AgentEvent | undefined {
  if (lane.kind === "tool") return { type: T.TOOL_CALL_END, toolCallId: lane.id };
  if (lane.kind === "reasoning") return { type: T.REASONING_MESSAGE_END, messageId: lane.id };
  return { type: T.TEXT_MESSAGE_END, messageId: lane.id };
}
