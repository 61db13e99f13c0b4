import type { BaseEvent, Interrupt } from "@ag-ui/core";
import { AguiEventMapper, type RunFinishedDetails, type StreamPart } from "./event-mapper.js";
import { runFinishedDetails } from "./run-finished.js";

/** The `reason` of an interrupt raised by an AI SDK tool declared with `needsApproval`. */
export const TOOL_APPROVAL_INTERRUPT_REASON = "tool_approval";

/**
 * Converts an AI SDK `streamText().fullStream` into AG-UI events, with the same mapping BuiltInAgent
 * uses itself (text, reasoning with encrypted values, tool calls and results, state tools). It
 * emits no lifecycle events (RUN_STARTED, RUN_FINISHED, RUN_ERROR): the caller owns those.
 *
 * The stream ends at its `finish` part (whose finish reason and token counts are copied into
 * `runFinishedDetails`) or `abort` part; an `error` part is thrown, unless `abortSignal` is
 * aborted. Each `tool-approval-request` part (a tool declared `needsApproval: true`) adds one
 * interrupt (reason `"tool_approval"`, id the tool call's id) to `pendingInterrupts`: the caller
 * ends the run with them as an `interrupt` outcome. Open messages and tool calls are closed when
 * the stream ends, however it ends. The argument order is CopilotKit 1.75's; `initialState` is
 * accepted for that reason and not needed (state events carry what the model sent).
 *
 * @example
 * ```ts
 * const result = streamText({ model, messages, tools });
 * const interrupts: Interrupt[] = [];
 * for await (const event of convertAISDKStream(result.fullStream, signal, interrupts)) send(event);
 * ```
 */
export async function* convertAISDKStream(
  fullStream: AsyncIterable<unknown>,
  abortSignal: AbortSignal,
  pendingInterrupts?: Interrupt[],
  initialState?: unknown,
  runFinishedDetailsOut?: RunFinishedDetails,
): AsyncGenerator<BaseEvent> {
  void initialState;
  // The run ids only appear on lifecycle events, which this converter never emits.
  const mapper = new AguiEventMapper({ threadId: "", runId: "" });
  const toolNames = new Map<string, string>();
  try {
    for await (const raw of fullStream) {
      if (!raw || typeof raw !== "object") continue;
      const part = raw as StreamPart | ApprovalRequestPart;
      if (part.type === "finish") {
        if (runFinishedDetailsOut) Object.assign(runFinishedDetailsOut, runFinishedDetails(part as Extract<StreamPart, { type: "finish" }>, {}));
        break;
      }
      if (part.type === "abort") break;
      if (part.type === "error") {
        if (abortSignal.aborted) break;
        throw toError((part as { error?: unknown }).error);
      }
      if (part.type === "tool-approval-request") {
        yield* approvalEvents(part as ApprovalRequestPart, mapper, toolNames, pendingInterrupts);
        continue;
      }
      if (part.type === "tool-input-start") toolNames.set(part.id, part.toolName);
      if (part.type === "tool-call") toolNames.set(part.toolCallId, part.toolName);
      yield* mapper.map(part as StreamPart);
    }
  } catch (error) {
    // what was open is closed before the caller reports the error
    yield* mapper.flush();
    throw error;
  }
  yield* mapper.flush();
}

/** The AI SDK 6 part for a call waiting for approval (`needsApproval`). */
interface ApprovalRequestPart {
  type: "tool-approval-request";
  approvalId?: string;
  toolCallId?: string;
  toolCall?: { toolCallId?: string; toolName?: string; input?: unknown };
}

function* approvalEvents(
  part: ApprovalRequestPart,
  mapper: AguiEventMapper,
  toolNames: Map<string, string>,
  pendingInterrupts: Interrupt[] | undefined,
): Generator<BaseEvent> {
  const toolCallId = part.toolCallId ?? part.toolCall?.toolCallId;
  if (!toolCallId) throw new Error("The AI SDK sent a tool-approval-request without a toolCallId.");
  const toolName = toolNames.get(toolCallId) ?? part.toolCall?.toolName ?? "";
  // The call is normally already complete (its `tool-call` part came first); if not, complete it
  // here so the resumed run finds the call in the conversation.
  yield* mapper.map({ type: "tool-call", toolCallId, toolName, input: part.toolCall?.input ?? {} } as StreamPart);
  pendingInterrupts?.push({
    id: toolCallId,
    toolCallId,
    reason: TOOL_APPROVAL_INTERRUPT_REASON,
    ...(toolName ? { message: `Approve "${toolName}"?`, metadata: { toolName } } : {}),
  });
}

function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(typeof error === "string" ? error : "The AI SDK stream reported an error.");
}
