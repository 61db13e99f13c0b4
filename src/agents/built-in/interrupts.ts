import type { Interrupt, Message, ResumeEntry } from "@ag-ui/core";
import type { ToolResultPart } from "ai";
import { BuiltInAgentError } from "./agent-error.js";
import { isInterruptTool } from "./define-tool.js";
import type { ToolDefinition } from "./types.js";

type ToolResultOutput = ToolResultPart["output"];

/** The default `reason` of an interrupt raised by an interrupt tool, as CopilotKit names it. */
export const TOOL_CALL_INTERRUPT_REASON = "tool_call";

/** Most resume entries one run accepts: each answers one paused tool call. */
const MAX_RESUME_ENTRIES = 100;

/**
 * Checks `RunAgentInput.resume` (absent means a fresh run). A malformed entry is the client's
 * mistake and ends the run with RUN_ERROR `invalid_request` naming the entry, before any model call.
 *
 * @example
 * ```ts
 * parseResume([{ interruptId: "call_1", status: "resolved", payload: { approved: true } }]);
 * ```
 */
export function parseResume(raw: unknown): ResumeEntry[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid("resume must be an array of { interruptId, status, payload? }.");
  if (raw.length > MAX_RESUME_ENTRIES) throw invalid(`resume has ${raw.length} entries; at most ${MAX_RESUME_ENTRIES} are accepted.`);
  const seen = new Set<string>();
  return raw.map((entry: unknown, index) => {
    const at = `resume[${index}]`;
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) throw invalid(`${at} must be an object.`);
    const { interruptId, status } = entry as Record<string, unknown>;
    if (typeof interruptId !== "string" || interruptId === "") throw invalid(`${at}.interruptId must be a non-empty string.`);
    if (status !== "resolved" && status !== "cancelled") throw invalid(`${at}.status must be "resolved" or "cancelled".`);
    if (seen.has(interruptId)) throw invalid(`${at} answers interrupt "${shorten(interruptId)}" a second time.`);
    seen.add(interruptId);
    return entry as ResumeEntry;
  });
}

/**
 * The tool results a resumed run gives the model: one per resume entry, keyed by the interrupted
 * tool call's id (an interrupt tool's interrupt id is its tool call id). A cancelled entry answers
 * `{ status: "cancelled" }`, a resolved one its payload (or `{ status: "resolved" }` without one),
 * as CopilotKit does. An entry that answers no tool call of the conversation is an error: the
 * provider would reject the orphan result anyway, with a far less helpful message.
 *
 * @example
 * ```ts
 * const answers = resumeToolResults(parseResume(input.resume), input.messages);
 * convertMessages(input.messages, { ...options, pendingResults: answers });
 * ```
 */
export function resumeToolResults(entries: readonly ResumeEntry[], messages: readonly Message[]): Map<string, ToolResultOutput> {
  const results = new Map<string, ToolResultOutput>();
  if (entries.length === 0) return results;
  const calls = new Set<string>();
  for (const message of messages) {
    if (message.role !== "assistant") continue;
    for (const call of message.toolCalls ?? []) if (call?.id) calls.add(call.id);
  }
  entries.forEach((entry, index) => {
    if (!calls.has(entry.interruptId)) {
      throw invalid(`resume[${index}].interruptId "${shorten(entry.interruptId)}" answers no tool call in messages.`);
    }
    const value = entry.status === "cancelled" ? { status: "cancelled" } : (entry.payload ?? { status: "resolved" });
    results.set(entry.interruptId, { type: "json", value });
  });
  return results;
}

/**
 * Collects the interrupts of one run: each model call of an interrupt tool becomes one
 * {@link Interrupt}, in call order.
 *
 * @example
 * ```ts
 * const interrupts = new InterruptCollector(config.tools ?? []);
 * interrupts.onToolCall(part.toolCallId, part.toolName);
 * mapper.runFinished({ interrupts: interrupts.list });
 * ```
 */
export class InterruptCollector {
  private readonly tools = new Map<string, ToolDefinition<any>>();
  readonly list: Interrupt[] = [];

  constructor(tools: readonly ToolDefinition<any>[]) {
    for (const tool of tools) if (isInterruptTool(tool)) this.tools.set(tool.name, tool);
  }

  /** Records the call when it is to an interrupt tool. */
  onToolCall(toolCallId: string, toolName: string): void {
    const tool = this.tools.get(toolName);
    if (!tool || this.list.some((interrupt) => interrupt.id === toolCallId)) return;
    this.list.push({
      id: toolCallId,
      toolCallId,
      reason: tool.interruptReason ?? TOOL_CALL_INTERRUPT_REASON,
      ...(tool.interruptMessage ? { message: tool.interruptMessage } : {}),
    });
  }
}

function invalid(message: string): BuiltInAgentError {
  return new BuiltInAgentError("invalid_request", `Invalid resume: ${message}`);
}

// Bounded: an id is echoed into an error message, never a whole document.
function shorten(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/**
 * Thrown by a factory's `interrupt()` to pause the run (it is not a failure): BuiltInAgent ends the
 * run with RUN_FINISHED `outcome: { type: "interrupt", interrupts }`. A factory may throw it itself.
 *
 * @example
 * ```ts
 * throw new InterruptSignal([{ id: "confirm-1", reason: "confirmation", message: "Send the email?" }]);
 * ```
 */
export class InterruptSignal extends Error {
  override readonly name = "InterruptSignal";
  constructor(readonly interrupts: Interrupt[]) {
    super("The run is paused, waiting for human input.");
  }
}
