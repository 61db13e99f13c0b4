import { randomUUID } from "node:crypto";
import {
  EventType,
  type BaseEvent,
  type Interrupt,
  type JsonPatch,
  type ReasoningEncryptedValueEvent,
  type ReasoningEndEvent,
  type ReasoningMessageContentEvent,
  type ReasoningMessageEndEvent,
  type ReasoningMessageStartEvent,
  type ReasoningStartEvent,
  type RunErrorEvent,
  type RunFinishedEvent,
  type RunStartedEvent,
  type StateDeltaEvent,
  type StateSnapshotEvent,
  type TextMessageContentEvent,
  type TextMessageEndEvent,
  type TextMessageStartEvent,
  type ToolCallArgsEvent,
  type ToolCallEndEvent,
  type ToolCallResultEvent,
  type ToolCallStartEvent,
} from "@ag-ui/core";
import type { ProviderMetadata, TextStreamPart, ToolSet } from "ai";
import { STATE_DELTA_TOOL, STATE_SNAPSHOT_TOOL } from "./define-tool.js";
import type { RunErrorInfo } from "./errors.js";
import { encodeEncryptedValue, mergeProviderMetadata } from "./provider-metadata.js";
import { clientToolError } from "./tool-errors.js";

/** Token counts of one provider and model, as AG-UI's `TokenUsage` (every count optional). */
export interface RunTokenUsage {
  provider?: string;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  reasoningTokens?: number;
  cachedInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** What a finished run reports besides its id: why the model stopped and what it used. */
export interface RunFinishedDetails {
  finishReason?: string;
  usage?: RunTokenUsage[];
  /** What the run waits for (interrupt tool calls); non-empty makes it an `interrupt` outcome. */
  interrupts?: Interrupt[];
}

/** One part of the AI SDK's `streamText().fullStream`. */
export type StreamPart = TextStreamPart<ToolSet>;

export interface EventMapperOptions {
  threadId: string;
  runId: string;
  /** Message ids; random UUIDs by default. */
  generateId?: () => string;
}

interface OpenText {
  providerId: string;
  messageId?: string; // assigned when the first non-empty delta opens the message
}

interface OpenReasoning {
  providerId: string;
  messageId?: string;
  metadata?: ProviderMetadata;
}

interface ToolCallState {
  ended: boolean;
  hasArgs: boolean;
  resolved: boolean;
}

/** The content of the TOOL_CALL_RESULT given to calls that a stop or an error left unanswered. */
export const STOPPED_TOOL_RESULT = JSON.stringify({
  status: "stopped",
  reason: "stop_requested",
  message: "The run was stopped before this tool call completed.",
});
const FAILED_TOOL_RESULT = JSON.stringify({
  status: "error",
  reason: "run_failed",
  message: "The run failed before this tool call completed.",
});

/**
 * Turns the AI SDK's stream parts into AG-UI events that every client version accepts
 * (checked against `@ag-ui/client` 0.0.5x and 1.0):
 * - RUN_STARTED first, RUN_FINISHED or RUN_ERROR last, exactly once;
 * - each model step is one assistant message: its text uses the step's message id and its tool calls
 *   name it as `parentMessageId`;
 * - reasoning gets its own message id, and any open reasoning is closed before text, a tool call, the
 *   end of a step or the end of the run, because some providers never send `reasoning-end`;
 * - empty deltas are skipped and messages are opened lazily, so no empty message reaches the client;
 * - no field is ever null, and no timestamps are set.
 * It keeps no timers and does no I/O: feed it parts, send what it returns.
 *
 * @example
 * ```ts
 * const mapper = new AguiEventMapper({ threadId, runId });
 * send(mapper.runStarted());
 * for await (const part of result.fullStream) send(mapper.map(part));
 * send(mapper.runFinished());
 * ```
 */
export class AguiEventMapper {
  private readonly threadId: string;
  private readonly runId: string;
  private readonly generateId: () => string;
  private stepMessageId: string;
  private stepMessageUsed = false;
  private text?: OpenText;
  private reasoning?: OpenReasoning;
  private readonly toolCalls = new Map<string, ToolCallState>();
  private readonly ignoredToolCalls = new Set<string>();
  private started = false;
  private terminated = false;

  constructor(options: EventMapperOptions) {
    this.threadId = options.threadId;
    this.runId = options.runId;
    this.generateId = options.generateId ?? randomUUID;
    this.stepMessageId = this.generateId();
  }

  /** True once RUN_FINISHED or RUN_ERROR has been produced. */
  get isTerminated(): boolean {
    return this.terminated;
  }

  runStarted(): BaseEvent[] {
    if (this.started) return [];
    this.started = true;
    return [{ type: EventType.RUN_STARTED, threadId: this.threadId, runId: this.runId } satisfies RunStartedEvent];
  }

  /**
   * Closes everything and ends the run normally. Unanswered tool calls stay open for the client.
   * With `interrupts`, the run ends paused: `outcome: { type: "interrupt", interrupts }` (AG-UI).
   * `usage` goes on RUN_FINISHED as AG-UI defines it; `finishReason` goes in its `metadata`, because
   * `@ag-ui/client` 1.0 strips (and warns about) a top-level `finishReason`, and 0.0.4x/0.0.5x keep
   * unknown fields as they are.
   */
  runFinished(details: RunFinishedDetails = {}): BaseEvent[] {
    if (this.terminated) return [];
    const events = [...this.runStarted(), ...this.closeAll()];
    this.terminated = true;
    events.push({
      type: EventType.RUN_FINISHED,
      threadId: this.threadId,
      runId: this.runId,
      ...(details.usage?.length ? { usage: details.usage } : {}),
      ...(details.finishReason ? { metadata: { finishReason: details.finishReason } } : {}),
      ...(details.interrupts?.length ? { outcome: { type: "interrupt", interrupts: details.interrupts } } : {}),
    } as RunFinishedEvent);
    return events;
  }

  /**
   * Closes the open text, reasoning and tool calls without ending the run: for a caller that emits
   * the terminal event itself (factory mode).
   */
  flush(): BaseEvent[] {
    if (this.terminated) return [];
    return this.closeAll();
  }

  /** Ends a stopped run: unanswered tool calls are marked stopped, so no client executes them. */
  runStopped(): BaseEvent[] {
    if (this.terminated) return [];
    return [...this.runStarted(), ...this.closeAll(), ...this.resolvePending(STOPPED_TOOL_RESULT), ...this.runFinished()];
  }

  /** Ends the run with RUN_ERROR, after closing what is open. */
  runError(info: RunErrorInfo): BaseEvent[] {
    if (this.terminated) return [];
    const events = [...this.runStarted(), ...this.closeAll(), ...this.resolvePending(FAILED_TOOL_RESULT)];
    this.terminated = true;
    events.push({ type: EventType.RUN_ERROR, message: info.message, code: info.code } satisfies RunErrorEvent);
    return events;
  }

  /** The events for one stream part (often none). `error` and `abort` parts are left to the caller. */
  map(part: StreamPart): BaseEvent[] {
    if (this.terminated) return [];
    const events: BaseEvent[] = [];
    // Reasoning ends when anything but more reasoning arrives (see the class comment).
    if (part.type !== "reasoning-delta" && part.type !== "raw" && !this.isEmptyTextDelta(part)) {
      if (!(part.type === "reasoning-start" && part.id === this.reasoning?.providerId)) {
        events.push(...this.closeReasoning());
      }
    }
    switch (part.type) {
      case "start-step":
        events.push(...this.closeText());
        this.stepMessageId = this.generateId();
        this.stepMessageUsed = false;
        break;
      case "finish-step":
        events.push(...this.closeText());
        break;
      case "text-start":
        if (this.text?.providerId !== part.id) {
          events.push(...this.closeText());
          this.text = { providerId: part.id };
        }
        break;
      case "text-delta":
        events.push(...this.textDelta(part.id, part.text));
        break;
      case "text-end":
        if (this.text?.providerId === part.id) events.push(...this.closeText());
        break;
      case "reasoning-start":
        if (this.reasoning?.providerId !== part.id) this.reasoning = { providerId: part.id };
        this.reasoning.metadata = mergeProviderMetadata(this.reasoning.metadata, part.providerMetadata);
        break;
      case "reasoning-delta":
        events.push(...this.reasoningDelta(part.id, part.text, part.providerMetadata));
        break;
      case "reasoning-end":
        break; // closed above, with whatever metadata arrived before
      case "tool-input-start":
        if (part.providerExecuted) {
          this.ignoredToolCalls.add(part.id);
          break;
        }
        events.push(...this.closeText(), ...this.startToolCall(part.id, part.toolName));
        break;
      case "tool-input-delta": {
        const call = this.toolCalls.get(part.id);
        if (!call || call.ended || !part.delta) break;
        call.hasArgs = true;
        events.push({ type: EventType.TOOL_CALL_ARGS, toolCallId: part.id, delta: part.delta } satisfies ToolCallArgsEvent);
        break;
      }
      case "tool-call":
        if (part.providerExecuted || this.ignoredToolCalls.has(part.toolCallId)) break;
        events.push(...this.closeText(), ...this.completeToolCall(part.toolCallId, part.toolName, part.input, part.providerMetadata));
        break;
      case "tool-result":
        if (part.providerExecuted || this.ignoredToolCalls.has(part.toolCallId)) break;
        events.push(...this.toolResult(part.toolCallId, part.toolName, part.input, part.output));
        break;
      case "tool-error":
        if (part.providerExecuted || this.ignoredToolCalls.has(part.toolCallId)) break;
        events.push(
          ...this.completeToolCall(part.toolCallId, part.toolName, part.input, undefined),
          // never the exception's own text: that is for the model and the log (see tool-errors.ts)
          ...this.resultEvent(part.toolCallId, JSON.stringify({ error: clientToolError(part.toolName, part.error) })),
        );
        break;
      case "finish":
        events.push(...this.closeText());
        break;
      default:
        break;
    }
    return events;
  }

  private isEmptyTextDelta(part: StreamPart): boolean {
    return part.type === "text-delta" && !part.text;
  }

  private textDelta(providerId: string, delta: string): BaseEvent[] {
    if (!delta) return [];
    const events: BaseEvent[] = [];
    if (this.text?.providerId !== providerId) {
      events.push(...this.closeText());
      this.text = { providerId };
    }
    const text = this.text!;
    if (text.messageId === undefined) {
      text.messageId = this.stepMessageUsed ? this.generateId() : this.stepMessageId;
      this.stepMessageUsed = true;
      events.push({ type: EventType.TEXT_MESSAGE_START, messageId: text.messageId, role: "assistant" } satisfies TextMessageStartEvent);
    }
    events.push({ type: EventType.TEXT_MESSAGE_CONTENT, messageId: text.messageId, delta } satisfies TextMessageContentEvent);
    return events;
  }

  private closeText(): BaseEvent[] {
    const text = this.text;
    this.text = undefined;
    if (!text?.messageId) return [];
    return [{ type: EventType.TEXT_MESSAGE_END, messageId: text.messageId } satisfies TextMessageEndEvent];
  }

  private reasoningDelta(providerId: string, delta: string, metadata: ProviderMetadata | undefined): BaseEvent[] {
    const events: BaseEvent[] = [];
    if (this.reasoning?.providerId !== providerId) {
      events.push(...this.closeReasoning());
      this.reasoning = { providerId };
    }
    const reasoning = this.reasoning!;
    reasoning.metadata = mergeProviderMetadata(reasoning.metadata, metadata);
    if (!delta) return events; // a signature-only delta carries metadata, not text
    events.push(...this.openReasoning(reasoning));
    events.push({
      type: EventType.REASONING_MESSAGE_CONTENT,
      messageId: reasoning.messageId!,
      delta,
    } satisfies ReasoningMessageContentEvent);
    return events;
  }

  private openReasoning(reasoning: OpenReasoning): BaseEvent[] {
    if (reasoning.messageId !== undefined) return [];
    const events = this.closeText();
    const messageId = this.generateId();
    reasoning.messageId = messageId;
    events.push(
      { type: EventType.REASONING_START, messageId } satisfies ReasoningStartEvent,
      { type: EventType.REASONING_MESSAGE_START, messageId, role: "reasoning" } satisfies ReasoningMessageStartEvent,
    );
    return events;
  }

  private closeReasoning(): BaseEvent[] {
    const reasoning = this.reasoning;
    this.reasoning = undefined;
    if (!reasoning) return [];
    const encryptedValue = encodeEncryptedValue(reasoning.metadata);
    // Redacted thinking has no text but must still reach the client, to be sent back next turn.
    if (reasoning.messageId === undefined && encryptedValue === undefined) return [];
    const events = this.openReasoning(reasoning);
    const messageId = reasoning.messageId!;
    if (encryptedValue !== undefined) {
      events.push({
        type: EventType.REASONING_ENCRYPTED_VALUE,
        subtype: "message",
        entityId: messageId,
        encryptedValue,
      } satisfies ReasoningEncryptedValueEvent);
    }
    events.push(
      { type: EventType.REASONING_MESSAGE_END, messageId } satisfies ReasoningMessageEndEvent,
      { type: EventType.REASONING_END, messageId } satisfies ReasoningEndEvent,
    );
    return events;
  }

  private startToolCall(toolCallId: string, toolName: string): BaseEvent[] {
    if (this.toolCalls.has(toolCallId)) return [];
    this.toolCalls.set(toolCallId, { ended: false, hasArgs: false, resolved: false });
    this.stepMessageUsed = true;
    return [
      {
        type: EventType.TOOL_CALL_START,
        toolCallId,
        toolCallName: toolName,
        parentMessageId: this.stepMessageId,
      } satisfies ToolCallStartEvent,
    ];
  }

  private completeToolCall(
    toolCallId: string,
    toolName: string,
    input: unknown,
    metadata: ProviderMetadata | undefined,
  ): BaseEvent[] {
    const events = this.startToolCall(toolCallId, toolName);
    const call = this.toolCalls.get(toolCallId)!;
    if (call.ended) return events;
    if (!call.hasArgs) {
      const args = typeof input === "string" ? input : stringify(input ?? {});
      if (args) events.push({ type: EventType.TOOL_CALL_ARGS, toolCallId, delta: args } satisfies ToolCallArgsEvent);
      call.hasArgs = true;
    }
    call.ended = true;
    events.push({ type: EventType.TOOL_CALL_END, toolCallId } satisfies ToolCallEndEvent);
    const encryptedValue = encodeEncryptedValue(metadata);
    if (encryptedValue !== undefined) {
      events.push({
        type: EventType.REASONING_ENCRYPTED_VALUE,
        subtype: "tool-call",
        entityId: toolCallId,
        encryptedValue,
      } satisfies ReasoningEncryptedValueEvent);
    }
    return events;
  }

  private toolResult(toolCallId: string, toolName: string, input: unknown, output: unknown): BaseEvent[] {
    const events = this.completeToolCall(toolCallId, toolName, input, undefined);
    const args = (input ?? {}) as { snapshot?: unknown; delta?: unknown };
    if (toolName === STATE_SNAPSHOT_TOOL) {
      events.push({ type: EventType.STATE_SNAPSHOT, snapshot: args.snapshot ?? {} } satisfies StateSnapshotEvent);
    } else if (toolName === STATE_DELTA_TOOL && Array.isArray(args.delta)) {
      events.push({ type: EventType.STATE_DELTA, delta: args.delta as JsonPatch } satisfies StateDeltaEvent);
    }
    events.push(...this.resultEvent(toolCallId, typeof output === "string" ? output : stringify(output)));
    return events;
  }

  private resultEvent(toolCallId: string, content: string): BaseEvent[] {
    const call = this.toolCalls.get(toolCallId);
    if (call?.resolved) return [];
    if (call) call.resolved = true;
    return [
      { type: EventType.TOOL_CALL_RESULT, messageId: this.generateId(), toolCallId, content, role: "tool" } satisfies ToolCallResultEvent,
    ];
  }

  private closeAll(): BaseEvent[] {
    const events = [...this.closeReasoning(), ...this.closeText()];
    for (const [toolCallId, call] of this.toolCalls) {
      if (call.ended) continue;
      call.ended = true;
      events.push({ type: EventType.TOOL_CALL_END, toolCallId } satisfies ToolCallEndEvent);
    }
    return events;
  }

  private resolvePending(content: string): BaseEvent[] {
    const events: BaseEvent[] = [];
    for (const [toolCallId, call] of this.toolCalls) {
      if (!call.resolved) events.push(...this.resultEvent(toolCallId, content));
    }
    return events;
  }
}

function stringify(value: unknown): string {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return String(value);
  }
}
