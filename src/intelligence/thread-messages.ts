import { messagesFromEvents } from "../events/messages.js";
import type { AgentEvent } from "../events/types.js";

/** A message of `GET /api/threads/:id/messages` (CopilotKit's `ThreadMessage`). */
export interface ThreadMessage {
  id: string;
  role: string;
  content?: unknown;
  activityType?: string;
  toolCalls?: Array<{ id: string; name: string; args: string }>;
  toolCallId?: string;
}

/**
 * The thread's messages, oldest first, rebuilt from its event log: user messages from
 * `RUN_STARTED.input.messages`, streamed text, tool calls and results, `MESSAGES_SNAPSHOT`
 * replacements, and activity messages (`ACTIVITY_SNAPSHOT`). The runtime uses this list for
 * message ids (which input messages are new), so every id the log ever carried must be here.
 * Activity messages not already placed by a snapshot are appended after the others.
 */
export function threadMessagesFromEvents(events: readonly AgentEvent[]): ThreadMessage[] {
  const messages: ThreadMessage[] = messagesFromEvents(events).map((message) => {
    const out: ThreadMessage = { id: message.id, role: message.role as string };
    if (message.content !== undefined) out.content = message.content;
    if (typeof message.toolCallId === "string") out.toolCallId = message.toolCallId;
    if (typeof message.activityType === "string") out.activityType = message.activityType;
    const calls = message.toolCalls as Array<{ id: string; function?: { name?: string; arguments?: string } }> | undefined;
    if (Array.isArray(calls)) out.toolCalls = calls.map((call) => ({ id: call.id, name: call.function?.name ?? "", args: call.function?.arguments ?? "" }));
    return out;
  });
  const seen = new Set(messages.map((message) => message.id));
  const activities = new Map<string, ThreadMessage>();
  for (const event of events) {
    if (event.type !== "ACTIVITY_SNAPSHOT" || typeof event.messageId !== "string") continue;
    if (event.type === "ACTIVITY_SNAPSHOT" && event.replace === false && activities.has(event.messageId)) continue;
    activities.set(event.messageId, { id: event.messageId, role: "activity", activityType: event.activityType as string, content: event.content });
  }
  for (const [id, activity] of activities) if (!seen.has(id)) messages.push(activity);
  return messages;
}
