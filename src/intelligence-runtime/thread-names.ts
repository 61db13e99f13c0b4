/**
 * Names a new thread after its first run (`generateThreadNames`, on by default as in CopilotKit
 * 1.75): the thread's agent is asked, up to three times, for a 2-5 word title of the
 * conversation; when it gives none, the first user message stands in. The name goes to the
 * platform (`PATCH /api/threads/:id { name }`), which tells every open thread list.
 */
import type { AgentLike } from "../events/agent-contract.js";
import { prepareAgentForRequest } from "../events/agent-contract.js";
import { messagesFromEvents } from "../events/messages.js";
import type { AgentEvent, AgentMessage, RunInput } from "../events/types.js";
import type { Logger } from "../logger.js";
import { bindAgentLogger } from "../logger.js";
import { RunSession } from "../runners/run-session.js";
import type { CopilotKitIntelligence } from "./copilotkit-intelligence.js";

const SYSTEM_PROMPT = [
  "You generate short, specific conversation titles.",
  'Return JSON only in this exact shape: {"title":"..."}',
  "The title must be 2 to 5 words.",
  "Use sentence case.",
  "No quotes.",
  "No emoji.",
  "No markdown characters or formatting.",
  "Do not use *, _, #, `, [, ], (, ), !, ~, >, or |.",
  "No trailing punctuation.",
  "No explanations.",
  "Do not call tools.",
].join("\n");

const MAX_TITLE_LENGTH = 80;
const MAX_TITLE_WORDS = 8;
const MAX_TRANSCRIPT_MESSAGES = 8;
const ATTEMPTS = 3;
const FALLBACK_TITLE = "Untitled";

export interface NameNewThreadParams {
  runtime: { intelligence: CopilotKitIntelligence };
  /** The registered agent (a fresh clone runs each attempt). */
  registered: AgentLike;
  agentId: string;
  /** The first run's input: its messages are the conversation to name. */
  input: RunInput;
  threadId: string;
  userId: string;
  log: Logger;
}

/** Asks the agent for a title and sets it on the platform; resolves when the name is stored. */
export async function nameNewThread(params: NameNewThreadParams): Promise<void> {
  const prompt = titlePrompt(params.input.messages);
  if (prompt === null) return;
  let title: string | null = null;
  for (let attempt = 1; attempt <= ATTEMPTS && title === null; attempt++) {
    try {
      title = await askForTitle(params, prompt);
      if (title === null) params.log.warn({ agentId: params.agentId, attempt, threadId: params.threadId }, "Thread name generation returned an empty or invalid title");
    } catch (error) {
      params.log.warn({ err: error, agentId: params.agentId, attempt, threadId: params.threadId }, "Thread name generation attempt failed");
    }
  }
  await params.runtime.intelligence.updateThread({
    threadId: params.threadId,
    userId: params.userId,
    agentId: params.agentId,
    updates: { name: title ?? fallbackTitle(params.input.messages) },
  });
}

/** One run of a fresh clone on a throwaway thread (nothing reaches the platform); its title or null. */
async function askForTitle(params: NameNewThreadParams, prompt: string): Promise<string | null> {
  const uuid = () => globalThis.crypto.randomUUID();
  const input: RunInput = {
    threadId: uuid(),
    runId: uuid(),
    messages: [
      { id: uuid(), role: "system", content: SYSTEM_PROMPT },
      { id: uuid(), role: "user", content: prompt },
    ],
    tools: [],
    context: [],
    state: {},
    forwardedProps: {},
  };
  const agent = prepareAgentForRequest(params.registered, params.agentId, input, undefined);
  bindAgentLogger(agent, params.log);
  const events: AgentEvent[] = [];
  await new Promise<void>((resolve) => {
    new RunSession({ agent, input, onEvent: (event) => events.push(event), onEnd: () => resolve() }).start();
  });
  return titleFromMessages(messagesFromEvents(events));
}

/** The last assistant message that holds a usable title. */
export function titleFromMessages(messages: AgentMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role !== "assistant" || typeof message.content !== "string") continue;
    const title = normalizeTitle(message.content);
    if (title !== null) return title;
  }
  return null;
}

/** The conversation (its last 8 text messages) and the instruction, or null when there is no text. */
export function titlePrompt(messages: AgentMessage[] | undefined): string | null {
  const transcript = (messages ?? [])
    .filter((message) => ["user", "assistant", "system", "developer"].includes(message.role))
    .map((message) => {
      const content = textOf(message.content);
      return content ? `${message.role}: ${content}` : null;
    })
    .filter((line): line is string => line !== null)
    .slice(-MAX_TRANSCRIPT_MESSAGES);
  if (transcript.length === 0) return null;
  return [
    "Conversation:",
    transcript.join("\n"),
    'Generate a short title for the conversation above. Return JSON only in this exact shape: {"title":"..."}. Do not answer the conversation.',
  ].join("\n\n");
}

/** A model's answer as a title: `{"title":…}` or plain text, cleaned; null when unusable. */
export function normalizeTitle(raw: string): string | null {
  let candidate = raw.trim().replace(/^```(?:json)?\s*/i, "").replace(/\s*```$/, "").trim();
  if (!candidate) return null;
  const jsonLike = (candidate.startsWith("{") && candidate.endsWith("}")) || (candidate.startsWith("[") && candidate.endsWith("]"));
  try {
    const parsed = JSON.parse(candidate) as { title?: unknown };
    if (typeof parsed?.title === "string") candidate = parsed.title;
    else if (jsonLike) return null;
  } catch {
    if (jsonLike) return null;
  }
  candidate = cleanTitle(candidate);
  if (!candidate) return null;
  if (candidate.length > MAX_TITLE_LENGTH) candidate = candidate.slice(0, MAX_TITLE_LENGTH).trim();
  return candidate.split(/\s+/).length > MAX_TITLE_WORDS ? null : candidate;
}

function cleanTitle(text: string): string {
  return text
    .replace(/^["'`]+|["'`]+$/g, "")
    .replace(/[*_#[\]()!~>|]+/g, "")
    .replace(/[.!?,;:]+$/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The first user message's first words, when the agent named nothing. */
function fallbackTitle(messages: AgentMessage[] | undefined): string {
  for (const message of messages ?? []) {
    if (message.role !== "user") continue;
    const cleaned = cleanTitle(textOf(message.content));
    if (!cleaned) continue;
    const title = cleaned.split(/\s+/).slice(0, MAX_TITLE_WORDS).join(" ").slice(0, MAX_TITLE_LENGTH).trim();
    return title || FALLBACK_TITLE;
  }
  return FALLBACK_TITLE;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content.trim();
  if (content === null || content === undefined) return "";
  try {
    return JSON.stringify(content).trim();
  } catch {
    return "";
  }
}
