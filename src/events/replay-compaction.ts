import { type AgentEvent, EventTypes as T } from "./types.js";

/** One event with its per-thread sequence number: what is stored and what SSE `id:` carries. */
export interface SeqEvent {
  seq: number;
  event: AgentEvent;
}

/**
 * A replayed event; a merged delta may keep `cuts`, the end offset of each delta it merged
 * (the deltas had consecutive sequence numbers ending at `seq`), so a resume that falls inside
 * it can send exactly the rest. Runners without the raw events (in memory) need that.
 */
export interface ReplayEntry extends SeqEvent {
  cuts?: Uint32Array;
}

/**
 * The entry as seen by a client resuming after `afterSeq`: the whole entry, only the rest of a
 * merged delta the cursor falls inside, or nothing.
 */
export function resumeEntry(entry: ReplayEntry, afterSeq: number): ReplayEntry | undefined {
  if (entry.seq <= afterSeq) return undefined;
  const cuts = entry.cuts;
  if (cuts === undefined) return entry;
  const firstSeq = entry.seq - cuts.length + 1;
  if (afterSeq < firstSeq) return entry;
  const delta = (entry.event.delta as string).slice(cuts[afterSeq - firstSeq]);
  return { seq: entry.seq, event: { ...entry.event, delta } };
}

function cutsOf(parts: string[]): Uint32Array {
  const cuts = new Uint32Array(parts.length);
  let end = 0;
  for (let i = 0; i < parts.length; i++) cuts[i] = end += parts[i].length;
  return cuts;
}

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
export function compactForReplay(entries: readonly SeqEvent[], options: { keepCuts?: boolean } = {}): ReplayEntry[] {
  const out: ReplayEntry[] = [];
  let group: { first: SeqEvent; id: unknown; parts: string[]; lastSeq: number } | undefined;

  const close = () => {
    if (group === undefined) return;
    if (group.parts.length === 1) out.push(group.first);
    else {
      const merged: ReplayEntry = { seq: group.lastSeq, event: { ...group.first.event, delta: group.parts.join("") } };
      if (options.keepCuts) merged.cuts = cutsOf(group.parts);
      out.push(merged);
    }
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
