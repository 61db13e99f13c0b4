/**
 * Wake-ups between platform instances. Messages carry ids, never events: a subscriber re-reads
 * the store, so a bus may drop duplicates or reorder wake-ups without losing data. The
 * in-process bus serves one instance; a PostgreSQL LISTEN/NOTIFY bus can implement the same
 * port for several instances sharing one database (payloads stay well under NOTIFY's 8000 bytes,
 * except `user_meta` whose thread record is small too).
 */
export type PlatformBusMessage =
  /** New events were stored for the thread; `endedRunIds` lists runs that ended with them (or without events, e.g. a released lock). */
  | { type: "thread_events"; projectId: string; threadId: string; endedRunIds?: string[] }
  /** Someone asked to stop a run: the instance holding its runner channel relays it. */
  | { type: "stop_run"; projectId: string; threadId: string; runId: string }
  /** The thread is gone: its subscribers are closed. */
  | { type: "thread_deleted"; projectId: string; threadId: string }
  /** A `user_meta` push (`thread_metadata` or `thread_run_activity`) for every socket of that user. */
  | { type: "user_meta"; projectId: string; userId: string; event: "thread_metadata" | "thread_run_activity"; payload: Record<string, unknown> }
  /** Wake-ups may have been missed (a bus reconnected): every local thread feed re-reads the store. */
  | { type: "resync" };

export type PlatformBusListener = (message: PlatformBusMessage) => void;

/** The port. */
export interface PlatformBus {
  /** False for a bus that only reaches this process: then "no runner joined here" means "no runner anywhere". */
  readonly shared: boolean;
  /** When present, the platform waits for it before serving (e.g. a LISTEN taking effect). */
  readonly ready?: Promise<void>;
  publish(message: PlatformBusMessage): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: PlatformBusListener): () => void;
  close(): Promise<void>;
}

/**
 * The bus of a single instance: delivery is a loop over local listeners on a microtask, so a
 * publisher never runs subscriber code inside its own call stack.
 *
 * @example
 * const bus = createInProcessBus();
 * bus.subscribe((message) => console.log(message.type));
 */
export function createInProcessBus(): PlatformBus {
  const listeners = new Set<PlatformBusListener>();
  return {
    shared: false,
    async publish(message) {
      await Promise.resolve();
      for (const listener of [...listeners]) {
        try {
          listener(message);
        } catch {
          // A failing listener must not starve the others; listeners log their own errors.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}
