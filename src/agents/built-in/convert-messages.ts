import type { Message } from "@ag-ui/core";
import type {
  AssistantModelMessage,
  FilePart,
  ImagePart,
  ModelMessage,
  TextPart,
  ToolCallPart,
  ToolResultPart,
} from "ai";
import { decodeEncryptedValue } from "./provider-metadata.js";

/** Which client-supplied instructions reach the model. */
export interface MessageConversionOptions {
  forwardSystemMessages?: boolean;
  forwardDeveloperMessages?: boolean;
  /**
   * Results for tool calls that have no tool message yet, by tool call id: the answers of a resumed
   * run (`RunAgentInput.resume`). A tool message in the conversation wins over them.
   */
  pendingResults?: ReadonlyMap<string, ToolResultPart["output"]>;
}

/** The model-facing conversation, plus forwarded instructions that belong in the system prompt. */
export interface ConvertedMessages {
  messages: ModelMessage[];
  instructions: string[];
}

/** The result given to the model for a tool call whose result never arrived (stopped or failed run). */
export const MISSING_TOOL_RESULT = "No result: the tool call was interrupted before it returned.";

type ReasoningPart = Extract<Exclude<AssistantModelMessage["content"], string>[number], { type: "reasoning" }>;
type AnyPart = Record<string, unknown> & { type?: unknown };
type ToolResultOutput = ToolResultPart["output"];

/**
 * Converts AG-UI messages into AI SDK messages that every provider accepts:
 * - each assistant tool call is followed by exactly one tool result (a missing one is filled in,
 *   orphans and duplicates are dropped), because providers reject unpaired calls;
 * - reasoning messages are dropped unless they carry a signature this agent issued, which is
 *   returned to the provider on the next assistant message;
 * - system and developer messages become system-prompt instructions only when allowed;
 * - empty messages are skipped.
 *
 * @example
 * ```ts
 * const { messages } = convertMessages([{ id: "1", role: "user", content: "Hi" }]);
 * // [{ role: "user", content: "Hi" }]
 * ```
 */
export function convertMessages(
  input: readonly Message[],
  options: MessageConversionOptions = {},
): ConvertedMessages {
  const messages: ModelMessage[] = [];
  const instructions: string[] = [];
  const results = collectToolResults(input);
  for (const [toolCallId, output] of options.pendingResults ?? []) {
    if (!results.has(toolCallId)) results.set(toolCallId, output);
  }
  const seenCalls = new Set<string>();
  let pendingReasoning: ReasoningPart[] = [];

  for (const message of input) {
    switch (message.role) {
      case "system":
      case "developer": {
        const allowed = message.role === "system" ? options.forwardSystemMessages : options.forwardDeveloperMessages;
        if (allowed && typeof message.content === "string" && message.content.trim()) {
          instructions.push(message.content);
        }
        break;
      }
      case "user": {
        pendingReasoning = []; // reasoning only belongs to the assistant turn right after it
        const content = convertUserContent(message.content as unknown);
        if (content !== undefined) messages.push({ role: "user", content });
        break;
      }
      case "reasoning": {
        const providerOptions = decodeEncryptedValue((message as { encryptedValue?: unknown }).encryptedValue);
        if (providerOptions) {
          pendingReasoning.push({ type: "reasoning", text: message.content ?? "", providerOptions });
        }
        break;
      }
      case "assistant": {
        const assistant = convertAssistant(message, pendingReasoning, seenCalls);
        pendingReasoning = [];
        if (!assistant) break;
        messages.push(assistant.message);
        if (assistant.calls.length === 0) break;
        messages.push({
          role: "tool",
          content: assistant.calls.map((call) => ({
            type: "tool-result",
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            output: results.get(call.toolCallId) ?? { type: "error-text", value: MISSING_TOOL_RESULT },
          })),
        });
        break;
      }
      default:
        // tool messages were placed after their call above; activity messages are client-only
        break;
    }
  }
  return { messages, instructions };
}

function collectToolResults(input: readonly Message[]): Map<string, ToolResultOutput> {
  const results = new Map<string, ToolResultOutput>();
  for (const message of input) {
    if (message.role !== "tool" || results.has(message.toolCallId)) continue;
    const error = (message as { error?: unknown }).error;
    results.set(message.toolCallId, convertToolResult(message.content as unknown, error));
  }
  return results;
}

function convertAssistant(
  message: Extract<Message, { role: "assistant" }>,
  reasoning: ReasoningPart[],
  seen: Set<string>,
): { message: AssistantModelMessage; calls: ToolCallPart[] } | undefined {
  const calls: ToolCallPart[] = [];
  for (const call of message.toolCalls ?? []) {
    if (!call?.id || seen.has(call.id) || !call.function?.name) continue;
    seen.add(call.id);
    const providerOptions = decodeEncryptedValue((call as { encryptedValue?: unknown }).encryptedValue);
    calls.push({
      type: "tool-call",
      toolCallId: call.id,
      toolName: call.function.name,
      input: parseArguments(call.function.arguments),
      ...(providerOptions && { providerOptions }),
    });
  }
  const text = typeof message.content === "string" ? message.content : "";
  const parts: Array<TextPart | ReasoningPart | ToolCallPart> = [...reasoning];
  if (text) parts.push({ type: "text", text });
  parts.push(...calls);
  if (!text && calls.length === 0) return undefined;
  return { message: { role: "assistant", content: parts }, calls };
}

function parseArguments(raw: unknown): unknown {
  if (typeof raw !== "string" || raw.trim() === "") return {};
  try {
    return JSON.parse(raw);
  } catch {
    // A truncated or invalid argument string (e.g. a stopped run) must not break the next request.
    return {};
  }
}

function convertToolResult(content: unknown, error: unknown): ToolResultOutput {
  if (typeof error === "string" && error) {
    const detail = typeof content === "string" && content ? `${error}\n${content}` : error;
    return { type: "error-text", value: detail };
  }
  if (typeof content === "string") return { type: "text", value: content };
  if (!Array.isArray(content)) return { type: "text", value: content === undefined ? "" : JSON.stringify(content) };
  const value: Extract<ToolResultOutput, { type: "content" }>["value"] = [];
  for (const part of content as AnyPart[]) {
    if (part?.type === "text" && typeof part.text === "string") {
      value.push({ type: "text", text: part.text });
      continue;
    }
    const source = part?.source as AnyPart | undefined;
    if (source?.type === "data" && typeof source.value === "string") {
      const mediaType = typeof source.mimeType === "string" ? source.mimeType : "application/octet-stream";
      value.push(
        part.type === "image"
          ? { type: "image-data", data: source.value, mediaType }
          : { type: "file-data", data: source.value, mediaType },
      );
    } else if (source?.type === "url" && typeof source.value === "string") {
      value.push(
        part.type === "image"
          ? { type: "image-url", url: source.value }
          : { type: "file-url", url: source.value, ...(typeof source.mimeType === "string" && { mediaType: source.mimeType }) },
      );
    }
  }
  return { type: "content", value };
}

type UserPart = TextPart | ImagePart | FilePart;

function convertUserContent(content: unknown): string | UserPart[] | undefined {
  if (typeof content === "string") return content.length > 0 ? content : undefined;
  if (!Array.isArray(content)) return undefined;
  const parts: UserPart[] = [];
  for (const part of content as AnyPart[]) {
    const converted = convertUserPart(part);
    if (converted) parts.push(converted);
  }
  return parts.length > 0 ? parts : undefined;
}

function convertUserPart(part: AnyPart): UserPart | undefined {
  if (!part || typeof part !== "object") return undefined;
  if (part.type === "text") return typeof part.text === "string" && part.text ? { type: "text", text: part.text } : undefined;
  if (part.type === "binary") return convertLegacyBinary(part);
  if (part.type !== "image" && part.type !== "audio" && part.type !== "video" && part.type !== "document") {
    return undefined;
  }
  const source = part.source as AnyPart | undefined;
  if (!source || typeof source.value !== "string") return undefined;
  const mimeType = typeof source.mimeType === "string" ? source.mimeType : undefined;
  let data: string | URL;
  if (source.type === "data") data = source.value;
  else if (source.type === "url") {
    const url = toUrl(source.value);
    if (!url) return undefined;
    data = url;
  } else return undefined; // provider file handles cannot be resolved here
  if (part.type === "image") return { type: "image", image: data, ...(mimeType && { mediaType: mimeType }) };
  return { type: "file", data, mediaType: mimeType ?? "application/octet-stream" };
}

// 0.0.x clients send { type: "binary", mimeType, data | url }.
function convertLegacyBinary(part: AnyPart): UserPart | undefined {
  const mimeType = typeof part.mimeType === "string" ? part.mimeType : "application/octet-stream";
  const data = typeof part.data === "string" && part.data ? part.data : typeof part.url === "string" ? toUrl(part.url) : undefined;
  if (!data) return undefined;
  if (mimeType.startsWith("image/")) return { type: "image", image: data, mediaType: mimeType };
  return { type: "file", data, mediaType: mimeType };
}

function toUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
