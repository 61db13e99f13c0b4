import { type AgentEvent, type AgentMessage, EventTypes as T } from "./types.js";

interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * Rebuilds the AG-UI message list a client would hold after seeing these events: the user
 * messages carried by `RUN_STARTED.input`, streamed assistant text, tool calls and results,
 * reasoning, and `MESSAGES_SNAPSHOT` replacements. Used for `/threads/:id/messages` and for
 * `afterRequestMiddleware`.
 */
export function messagesFromEvents(events: Iterable<AgentEvent>): AgentMessage[] {
  const messages: AgentMessage[] = [];
  const byId = new Map<string, AgentMessage>();
  const toolCalls = new Map<string, ToolCall>();

  const add = (message: AgentMessage): AgentMessage => {
    const existing = byId.get(message.id);
    if (existing !== undefined) return existing;
    messages.push(message);
    byId.set(message.id, message);
    return message;
  };

  for (const event of events) {
    switch (event.type) {
      case T.RUN_STARTED: {
        const input = event.input as { messages?: AgentMessage[] } | undefined;
        for (const message of input?.messages ?? []) if (message && typeof message.id === "string") add({ ...message });
        break;
      }
      case T.MESSAGES_SNAPSHOT: {
        messages.length = 0;
        byId.clear();
        for (const message of (event.messages as AgentMessage[] | undefined) ?? []) add({ ...message });
        break;
      }
      case T.TEXT_MESSAGE_START:
        add({ id: event.messageId as string, role: (event.role as string | undefined) ?? "assistant", content: "" });
        break;
      case T.TEXT_MESSAGE_CONTENT:
      case T.REASONING_MESSAGE_CONTENT: {
        const message = byId.get(event.messageId as string);
        if (message !== undefined) message.content = `${(message.content as string | undefined) ?? ""}${event.delta as string}`;
        break;
      }
      case T.REASONING_MESSAGE_START:
        add({ id: event.messageId as string, role: "reasoning", content: "" });
        break;
      case T.TOOL_CALL_START: {
        const parentId = (event.parentMessageId as string | undefined) ?? (event.toolCallId as string);
        const parent = add({ id: parentId, role: "assistant" });
        const call: ToolCall = {
          id: event.toolCallId as string,
          type: "function",
          function: { name: event.toolCallName as string, arguments: "" },
        };
        toolCalls.set(call.id, call);
        parent.toolCalls = [...((parent.toolCalls as ToolCall[] | undefined) ?? []), call];
        break;
      }
      case T.TOOL_CALL_ARGS: {
        const call = toolCalls.get(event.toolCallId as string);
        if (call !== undefined) call.function.arguments += event.delta as string;
        break;
      }
      case T.TOOL_CALL_RESULT:
        add({
          id: event.messageId as string,
          role: "tool",
          toolCallId: event.toolCallId as string,
          content: event.content,
        });
        break;
    }
  }
  return messages;
}
