// TanStack AI support for factory mode (`type: "tanstack"`), with CopilotKit 1.75's helper names and
// call shapes. TanStack AI's chat() already streams AG-UI-shaped chunks; this turns them into one
// well-formed run: its per-turn lifecycle dropped, text opened and closed, reasoning always closed,
// re-announced tool calls de-duplicated. No TanStack package is needed: only the chunk shapes.
import { randomUUID } from "node:crypto";
import { EventType, type BaseEvent, type Interrupt, type RunAgentInput } from "@ag-ui/core";
import { STATE_DELTA_TOOL, STATE_SNAPSHOT_TOOL } from "./define-tool.js";
import type { RunFinishedDetails } from "./event-mapper.js";
import { TOOL_APPROVAL_INTERRUPT_REASON } from "./convert-ai-sdk-stream.js";

/** A message as TanStack AI's `chat()` takes it. */
export interface TanStackChatMessage {
  role: "user" | "assistant" | "tool";
  content: string | null | Array<Record<string, unknown>>;
  toolCalls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
  toolCallId?: string;
}

/** What {@link convertInputToTanStackAI} returns: spread it into `chat()`. */
export interface TanStackInput {
  messages: TanStackChatMessage[];
  systemPrompts: string[];
  /** The client's tools, as client-side TanStack tools (no executor: the client runs them). */
  tools: Array<{ __toolSide: "client"; name: string; description: string; inputSchema: Record<string, unknown> }>;
}

/**
 * Converts a run's input for TanStack AI's `chat()`: user, assistant and tool messages (tool calls
 * and tool call ids kept); system and developer messages, the context and the state as system
 * prompts; the client's tools as client-side tools.
 *
 * @example
 * ```ts
 * new BuiltInAgent({ type: "tanstack", factory: ({ input, abortController }) =>
 *   chat({ adapter: openaiText("gpt-4o"), ...convertInputToTanStackAI(input), abortController }) });
 * ```
 */
export function convertInputToTanStackAI(input: RunAgentInput): TanStackInput {
  const messages: TanStackChatMessage[] = [];
  const systemPrompts: string[] = [];
  for (const message of input.messages ?? []) {
    if (message.role === "system" || message.role === "developer") {
      if (message.content) systemPrompts.push(typeof message.content === "string" ? message.content : JSON.stringify(message.content));
      continue;
    }
    if (message.role !== "user" && message.role !== "assistant" && message.role !== "tool") continue;
    const content = message.role === "user" ? userContent(message.content) : typeof message.content === "string" ? message.content : null;
    const converted: TanStackChatMessage = { role: message.role, content };
    if (message.role === "assistant" && message.toolCalls?.length) {
      converted.toolCalls = message.toolCalls.map((call) => ({ id: call.id, type: "function", function: { name: call.function.name, arguments: call.function.arguments } }));
    }
    if (message.role === "tool") converted.toolCallId = message.toolCallId;
    messages.push(converted);
  }
  for (const item of input.context ?? []) systemPrompts.push(`${item.description}:\n${item.value}`);
  const state = input.state;
  if (state && typeof state === "object" && Object.keys(state).length > 0) {
    systemPrompts.push(`Application State:\n\`\`\`json\n${JSON.stringify(state, null, 2)}\n\`\`\``);
  }
  const tools = (input.tools ?? []).map((tool) => ({
    __toolSide: "client" as const,
    name: tool.name,
    description: tool.description ?? "",
    inputSchema: objectSchema(tool.parameters),
  }));
  return { messages, systemPrompts, tools };
}

function userContent(content: unknown): TanStackChatMessage["content"] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: Array<Record<string, unknown>> = [];
  for (const part of content as Array<Record<string, any>>) {
    if (part?.type === "text" && typeof part.text === "string") parts.push({ type: "text", content: part.text });
    else if (["image", "audio", "video", "document"].includes(part?.type) && part.source) {
      parts.push({ type: part.type, source: { type: part.source.type, value: part.source.value, ...(part.source.mimeType ? { mimeType: part.source.mimeType } : {}) } });
    }
  }
  return parts;
}

function objectSchema(schema: unknown): Record<string, unknown> {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return { type: "object", properties: {} };
  return (schema as { type?: unknown }).type === undefined ? { type: "object", properties: {}, ...(schema as object) } : (schema as Record<string, unknown>);
}

/**
 * Converts a TanStack AI `chat()` stream into AG-UI events, without lifecycle events (the agent owns
 * those): a `RUN_ERROR` chunk is thrown; the finish reason and token counts of its `RUN_FINISHED`
 * chunks go into `runFinishedDetails`; a tool with `needsApproval` (a CUSTOM `approval-requested`
 * chunk, or in TanStack AI 0.5x an approval interrupt in a turn's RUN_FINISHED outcome) adds a
 * `tool_approval` interrupt to `pendingInterrupts`. Text gets proper
 * START/CONTENT/END framing, reasoning is always closed, and tool calls TanStack re-announces after
 * running a tool are not repeated. `initialState` is accepted for CopilotKit's call shape.
 *
 * @example
 * ```ts
 * for await (const event of convertTanStackStream(chat({ ... }), signal, interrupts)) send(event);
 * ```
 */
export async function* convertTanStackStream(
  stream: AsyncIterable<unknown>,
  abortSignal: AbortSignal,
  pendingInterrupts?: Interrupt[],
  initialState?: unknown,
  runFinishedDetails?: RunFinishedDetails,
): AsyncGenerator<BaseEvent> {
  void initialState;
  // The assistant message of the current turn: its first text takes this id and its tool calls name
  // it as their parent, so that a client shows the text and the calls it announces as one message.
  let turnMessageId = randomUUID();
  let turnMessageUsed = false;
  let textId: string | undefined;
  let reasoning: { id: string; messageOpen: boolean } | undefined;
  const toolNames = new Map<string, string>();
  const started = new Set<string>();
  const ended = new Set<string>();

  const closeText = (): BaseEvent[] => {
    if (!textId) return [];
    const event = { type: EventType.TEXT_MESSAGE_END, messageId: textId } as BaseEvent;
    textId = undefined;
    return [event];
  };
  const closeReasoning = (): BaseEvent[] => {
    if (!reasoning) return [];
    const { id, messageOpen } = reasoning;
    reasoning = undefined;
    return [
      ...(messageOpen ? [{ type: EventType.REASONING_MESSAGE_END, messageId: id } as BaseEvent] : []),
      { type: EventType.REASONING_END, messageId: id } as BaseEvent,
    ];
  };

  for await (const chunk of stream) {
    if (abortSignal.aborted) break;
    if (!chunk || typeof chunk !== "object") continue;
    const raw = chunk as Record<string, any>;
    switch (raw.type) {
      case "RUN_STARTED":
        yield* closeText();
        turnMessageId = randomUUID();
        turnMessageUsed = false;
        break;
      case "RUN_FINISHED":
        collectDetails(raw, runFinishedDetails);
        for (const interrupt of approvalsOfOutcome(raw.outcome)) addApproval(pendingInterrupts, interrupt.toolCallId, interrupt.toolName);
        break;
      case "RUN_ERROR":
        yield* [...closeReasoning(), ...closeText()];
        throw new Error(typeof raw.message === "string" ? raw.message : "TanStack AI reported a run error.");
      case "CUSTOM":
        if (raw.name === "approval-requested" && typeof raw.value?.toolCallId === "string") {
          addApproval(pendingInterrupts, raw.value.toolCallId, typeof raw.value.toolName === "string" ? raw.value.toolName : undefined);
        }
        break;
      case "TEXT_MESSAGE_CONTENT": {
        if (typeof raw.delta !== "string" || raw.delta === "") break;
        yield* closeReasoning();
        if (!textId) {
          // A second text of the same turn (after its tool calls) is a message of its own.
          textId = turnMessageUsed ? randomUUID() : turnMessageId;
          turnMessageUsed = true;
          yield { type: EventType.TEXT_MESSAGE_START, messageId: textId, role: "assistant" } as BaseEvent;
        }
        yield { type: EventType.TEXT_MESSAGE_CONTENT, messageId: textId, delta: raw.delta } as BaseEvent;
        break;
      }
      case "TOOL_CALL_START": {
        if (typeof raw.toolCallId !== "string" || started.has(raw.toolCallId)) break;
        yield* [...closeReasoning(), ...closeText()];
        started.add(raw.toolCallId);
        turnMessageUsed = true;
        toolNames.set(raw.toolCallId, String(raw.toolCallName ?? ""));
        yield { type: EventType.TOOL_CALL_START, toolCallId: raw.toolCallId, toolCallName: String(raw.toolCallName ?? ""), parentMessageId: turnMessageId } as BaseEvent;
        break;
      }
      case "TOOL_CALL_ARGS":
        if (!started.has(raw.toolCallId) || ended.has(raw.toolCallId) || typeof raw.delta !== "string" || raw.delta === "") break;
        yield { type: EventType.TOOL_CALL_ARGS, toolCallId: raw.toolCallId, delta: raw.delta } as BaseEvent;
        break;
      case "TOOL_CALL_END":
        if (!started.has(raw.toolCallId) || ended.has(raw.toolCallId)) break;
        ended.add(raw.toolCallId);
        yield { type: EventType.TOOL_CALL_END, toolCallId: raw.toolCallId } as BaseEvent;
        break;
      case "TOOL_CALL_RESULT": {
        if (typeof raw.toolCallId !== "string") break;
        yield* [...closeReasoning(), ...closeText()];
        if (started.has(raw.toolCallId) && !ended.has(raw.toolCallId)) {
          ended.add(raw.toolCallId);
          yield { type: EventType.TOOL_CALL_END, toolCallId: raw.toolCallId } as BaseEvent;
        }
        const payload = raw.content ?? raw.result;
        yield* stateEvents(toolNames.get(raw.toolCallId), typeof payload === "string" ? parseJson(payload) : payload);
        yield {
          type: EventType.TOOL_CALL_RESULT,
          messageId: randomUUID(),
          toolCallId: raw.toolCallId,
          content: typeof payload === "string" ? payload : stringify(payload),
          role: "tool",
        } as BaseEvent;
        break;
      }
      case "REASONING_START":
        yield* [...closeReasoning(), ...closeText()];
        reasoning = { id: typeof raw.messageId === "string" && raw.messageId ? raw.messageId : randomUUID(), messageOpen: false };
        yield { type: EventType.REASONING_START, messageId: reasoning.id } as BaseEvent;
        break;
      case "REASONING_MESSAGE_START":
        if (!reasoning || reasoning.messageOpen) break;
        reasoning.messageOpen = true;
        yield { type: EventType.REASONING_MESSAGE_START, messageId: reasoning.id, role: "reasoning" } as BaseEvent;
        break;
      case "REASONING_MESSAGE_CONTENT":
        if (!reasoning?.messageOpen || typeof raw.delta !== "string" || raw.delta === "") break;
        yield { type: EventType.REASONING_MESSAGE_CONTENT, messageId: reasoning.id, delta: raw.delta } as BaseEvent;
        break;
      case "REASONING_MESSAGE_END":
        if (!reasoning?.messageOpen) break;
        reasoning.messageOpen = false;
        yield { type: EventType.REASONING_MESSAGE_END, messageId: reasoning.id } as BaseEvent;
        break;
      case "REASONING_END":
        yield* closeReasoning();
        break;
      default:
        break;
    }
  }
  yield* [...closeReasoning(), ...closeText()];
  for (const toolCallId of started) {
    if (!ended.has(toolCallId)) yield { type: EventType.TOOL_CALL_END, toolCallId } as BaseEvent;
  }
}

/** A `tool_approval` interrupt for a call, once per call (keyed by its id, which the resume answers). */
function addApproval(pending: Interrupt[] | undefined, toolCallId: string, toolName: string | undefined): void {
  if (!pending || pending.some((interrupt) => interrupt.id === toolCallId)) return;
  pending.push({
    id: toolCallId,
    toolCallId,
    reason: TOOL_APPROVAL_INTERRUPT_REASON,
    ...(toolName ? { message: `Approve "${toolName}"?`, metadata: { toolName } } : {}),
  });
}

/**
 * The approvals a turn's RUN_FINISHED asks for. TanStack AI 0.5x ends a turn whose tool has
 * `needsApproval` with an AG-UI interrupt outcome (`metadata.kind: "approval"`) instead of the older
 * CUSTOM `approval-requested` chunk. Its other interrupts are left alone: `client_tool` ones are the
 * client's frontend tools, which an AG-UI client runs when their call ends, with no pause.
 */
function approvalsOfOutcome(outcome: unknown): Array<{ toolCallId: string; toolName?: string }> {
  const interrupts = (outcome as { type?: unknown; interrupts?: unknown } | undefined)?.interrupts;
  if ((outcome as { type?: unknown } | undefined)?.type !== "interrupt" || !Array.isArray(interrupts)) return [];
  return interrupts.flatMap((interrupt: Record<string, any> | null) => {
    if (!interrupt || interrupt.metadata?.kind !== "approval" || typeof interrupt.toolCallId !== "string") return [];
    const toolName = interrupt.metadata.toolName;
    return [{ toolCallId: interrupt.toolCallId, ...(typeof toolName === "string" ? { toolName } : {}) }];
  });
}

function* stateEvents(toolName: string | undefined, payload: unknown): Generator<BaseEvent> {
  if (!payload || typeof payload !== "object") return;
  const value = payload as { snapshot?: unknown; delta?: unknown };
  if (toolName === STATE_SNAPSHOT_TOOL && value.snapshot !== undefined) yield { type: EventType.STATE_SNAPSHOT, snapshot: value.snapshot } as BaseEvent;
  if (toolName === STATE_DELTA_TOOL && Array.isArray(value.delta)) yield { type: EventType.STATE_DELTA, delta: value.delta } as BaseEvent;
}

const count = (value: unknown) => (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined);

// TanStack reports usage per turn (promptTokens/completionTokens); the run's is their sum. The finish
// reason is top-level in older releases and under `metadata.tanstack` in 0.5x's chat().
function collectDetails(event: Record<string, any>, details: RunFinishedDetails | undefined): void {
  if (!details) return;
  const tanstack = event.metadata?.tanstack && typeof event.metadata.tanstack === "object" ? (event.metadata.tanstack as Record<string, unknown>) : {};
  const finishReason = typeof event.finishReason === "string" ? event.finishReason : tanstack.finishReason;
  if (typeof finishReason === "string") details.finishReason = finishReason;
  const usage = event.usage;
  if (!usage || typeof usage !== "object" || Array.isArray(usage)) return;
  const turn = {
    inputTokens: count(usage.promptTokens),
    outputTokens: count(usage.completionTokens),
    totalTokens: count(usage.totalTokens),
  };
  const entry = (details.usage ??= [{ ...(typeof event.model === "string" ? { model: event.model } : {}) }])[0];
  for (const [key, value] of Object.entries(turn)) {
    if (value !== undefined) (entry as Record<string, number>)[key] = ((entry as Record<string, number>)[key] ?? 0) + value;
  }
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value ?? null);
  } catch {
    return "[Unserializable tool result]";
  }
}
