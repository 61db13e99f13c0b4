import { type AgentEvent, EventTypes as T } from "./types.js";

interface Group {
  /** The single merged content/args event, once the first delta arrives. */
  merged?: AgentEvent;
  parts: string[];
}

const GROUPS: Record<string, { start: string; content: string; end: string; id: "messageId" | "toolCallId" }> = {
  [T.TEXT_MESSAGE_START]: { start: T.TEXT_MESSAGE_START, content: T.TEXT_MESSAGE_CONTENT, end: T.TEXT_MESSAGE_END, id: "messageId" },
  [T.TOOL_CALL_START]: { start: T.TOOL_CALL_START, content: T.TOOL_CALL_ARGS, end: T.TOOL_CALL_END, id: "toolCallId" },
  [T.REASONING_MESSAGE_START]: {
    start: T.REASONING_MESSAGE_START,
    content: T.REASONING_MESSAGE_CONTENT,
    end: T.REASONING_MESSAGE_END,
    id: "messageId",
  },
};
const CONTENT_KEY: Record<string, string> = {
  [T.TEXT_MESSAGE_CONTENT]: "text",
  [T.TOOL_CALL_ARGS]: "tool",
  [T.REASONING_MESSAGE_CONTENT]: "reasoning",
};
const END_KEY: Record<string, string> = {
  [T.TEXT_MESSAGE_END]: "text",
  [T.TOOL_CALL_END]: "tool",
  [T.REASONING_MESSAGE_END]: "reasoning",
};
const START_KEY: Record<string, string> = {
  [T.TEXT_MESSAGE_START]: "text",
  [T.TOOL_CALL_START]: "tool",
  [T.REASONING_MESSAGE_START]: "reasoning",
};

/**
 * Compacts a stored event log for replay: each text message, reasoning message and tool call
 * becomes START + one CONTENT/ARGS + END, and events that arrived while such a stream was open
 * move to just after it closes. Replaying 1,000 token deltas as one event is what keeps
 * `connect` fast. The input is not mutated.
 */
export function compactEvents(events: readonly AgentEvent[]): AgentEvent[] {
  const out: AgentEvent[] = [];
  const deferred: AgentEvent[] = [];
  const open = new Map<string, Group>();
  // Deltas come in long runs for one message: remember the last group looked up, so a run of
  // N deltas costs N pushes, not N key strings and map lookups.
  let lastKind: string | undefined;
  let lastId: string | undefined;
  let lastGroup: Group | undefined;

  for (const event of events) {
    const startKind = START_KEY[event.type];
    if (startKind !== undefined) {
      const id = event[GROUPS[event.type].id] as string;
      open.set(`${startKind}:${id}`, { parts: [] });
      lastKind = undefined;
      out.push(event);
      continue;
    }
    const contentKind = CONTENT_KEY[event.type];
    if (contentKind !== undefined) {
      const id = (contentKind === "tool" ? event.toolCallId : event.messageId) as string;
      let group: Group | undefined;
      if (contentKind === lastKind && id === lastId) {
        group = lastGroup;
      } else {
        group = open.get(`${contentKind}:${id}`);
        lastKind = contentKind;
        lastId = id;
        lastGroup = group;
      }
      if (group === undefined) {
        (open.size > 0 ? deferred : out).push(event);
        continue;
      }
      if (group.merged === undefined) {
        group.merged = { ...event };
        out.push(group.merged);
      }
      group.parts.push(event.delta as string);
      continue;
    }
    const endKind = END_KEY[event.type];
    if (endKind !== undefined) {
      const id = (endKind === "tool" ? event.toolCallId : event.messageId) as string;
      const key = `${endKind}:${id}`;
      const group = open.get(key);
      if (group !== undefined) {
        closeGroup(group);
        open.delete(key);
        lastKind = undefined;
        out.push(event);
        if (open.size === 0 && deferred.length > 0) out.push(...deferred.splice(0));
        continue;
      }
    }
    (open.size > 0 ? deferred : out).push(event);
  }
  for (const group of open.values()) closeGroup(group);
  if (deferred.length > 0) out.push(...deferred);
  return out;
}

function closeGroup(group: Group): void {
  if (group.merged !== undefined && group.parts.length > 1) group.merged.delta = group.parts.join("");
}
