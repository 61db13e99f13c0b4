/**
 * What one instance tells the others about a thread. A wake-up, not data: the receiver reads
 * what changed from the store, so a lost or doubled signal costs a read, never an event.
 *
 * - `events`: the run's events up to `seq` are committed.
 * - `ended`: a run of the thread ended (`seq`: its last event).
 * - `stop`: a stop was requested for the run that starts at `seq`.
 * - `deleted`: the thread was deleted (`seq` 0).
 * - `resync`: the bus (re)connected and may have missed signals; every subscriber should read once.
 */
export interface LiveSignal {
  kind: "events" | "ended" | "stop" | "deleted" | "resync";
  threadId: string;
  seq: number;
}

export type LiveListener = (signal: LiveSignal) => void;

/**
 * The port for cross-instance wake-ups of the durable runners: the owner of a run announces
 * each committed batch, its end and stop requests, and an instance whose clients follow the
 * run (or that owns it) hears about it at once instead of polling. One subscription per
 * thread per instance is enough: the runner shares it among that thread's local followers.
 *
 * PostgreSQL's implementation (`PostgresLiveBus`, LISTEN/NOTIFY) sends its signals from the
 * store's own write transactions, so they go out exactly when the write commits; a bus on
 * another engine (Redis, NATS) would send them from `publish`.
 */
export interface LiveBus {
  /**
   * Called by the runner after a write committed. A bus whose store already announces the
   * write inside its transaction (PostgreSQL's NOTIFY) does nothing here.
   */
  publish(signal: LiveSignal): void;
  /**
   * Calls `listener` with every signal about the thread, and with `resync` after the bus
   * (re)connected. Returns the function that ends the subscription.
   */
  subscribe(threadId: string, listener: LiveListener): () => void;
  /** Starts listening ahead of the first subscription (the runner calls it once it is ready). */
  start?(): void;
  /** Ends the bus's connection. */
  close(): Promise<void>;
}

/** Encodes a signal as a short payload: `<kind letter>:<seq>:<thread id>`. */
export function encodeSignal(signal: LiveSignal): string {
  return `${KIND_LETTER[signal.kind]}:${signal.seq}:${signal.threadId}`;
}

/** Decodes `encodeSignal`'s payload; undefined for anything else. */
export function decodeSignal(payload: string): LiveSignal | undefined {
  const first = payload.indexOf(":");
  const second = payload.indexOf(":", first + 1);
  if (first !== 1 || second < 0) return undefined;
  const kind = LETTER_KIND[payload[0]];
  const seq = Number(payload.slice(first + 1, second));
  if (kind === undefined || !Number.isSafeInteger(seq)) return undefined;
  return { kind, seq, threadId: payload.slice(second + 1) };
}

const KIND_LETTER: Record<LiveSignal["kind"], string> = { events: "e", ended: "f", stop: "s", deleted: "d", resync: "r" };
const LETTER_KIND: Record<string, LiveSignal["kind"]> = Object.fromEntries(Object.entries(KIND_LETTER).map(([kind, letter]) => [letter, kind])) as Record<
  string,
  LiveSignal["kind"]
>;
