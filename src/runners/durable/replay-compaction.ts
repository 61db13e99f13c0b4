import { EventTypes as T } from "../../events/types.js";
import type { SeqEvent } from "./store.js";

const DELTA_ID: Record<string, "messageId" | "toolCallId"> = {
  [T.TEXT_MESSAGE_CONTENT]: "messageId",
  [T.REASONING_MESSAGE_CONTENT]: "messageId",
  [T.TOOL_CALL_ARGS]: "toolCallId",
};

/**
 * Compacts numbered events for replay by merging each run of *consecutive* deltas of one
 * message or tool call into a single event, numbered with the last sequence number it covers.
 *
 * Unlike `compactEvents`, nothing is reordered. That is what makes resumption exact: every
 * prefix of the compacted stream is a prefix of the raw stream, so the id of any frame a
 * client saw names a raw position, and "resume after it" means "the events with a larger seq",
 * whether the client saw them raw (live) or compacted (replay). Token streams are consecutive
 * in practice, so 1,000 deltas still replay as one event.
 *
 * @example
 * ```ts
 * compactForReplay([
 *   { seq: 1, event: { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "Hel" } },
 *   { seq: 2, event: { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "lo" } },
 * ]); // [{ seq: 2, event: { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "Hello" } }]
 * ```
 */
export function compactForReplay(entries: readonly SeqEvent[]): SeqEvent[] {
  const out: SeqEvent[] = [];
  let group: { first: SeqEvent; id: unknown; parts: string[]; lastSeq: number } | undefined;

  const close = () => {
    if (group === undefined) return;
    out.push(
      group.parts.length === 1
        ? group.first
        : { seq: group.lastSeq, event: { ...group.first.event, delta: group.parts.join("") } },
    );
    group = undefined;
  };

  for (const entry of entries) {
    const event = entry.event;
    const idField = DELTA_ID[event.type];
    if (idField === undefined || typeof event.delta !== "string") {
      close();
      out.push(entry);
      continue;
    }
    const id = event[idField];
    if (group !== undefined && group.first.event.type === event.type && group.id === id) {
      group.parts.push(event.delta);
      group.lastSeq = entry.seq;
      continue;
    }
    close();
    group = { first: entry, id, parts: [event.delta], lastSeq: entry.seq };
  }
  close();
  return out;
}
