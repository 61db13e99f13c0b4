/**
 * The live bus between the worker processes of one `serve --workers N` on a SQLite file: each
 * worker hands its signals to the primary process over the cluster's IPC channel, and the
 * primary passes them to every other worker. Nothing leaves the machine (SQLite does not
 * either), and a follower on one worker hears of a run another worker streams as soon as it
 * is committed, instead of polling the file.
 */
import { logger } from "../logger.js";
import { type LiveBus, type LiveListener, type LiveSignal, decodeSignal, encodeSignal } from "../runners/durable/live-bus.js";

/** The IPC message that carries one signal (`encodeSignal`'s payload). */
export interface LiveMessage {
  type: "copilot-runtime:live";
  signal: string;
}

export function isLiveMessage(message: unknown): message is LiveMessage {
  return typeof message === "object" && message !== null && (message as LiveMessage).type === "copilot-runtime:live" && typeof (message as LiveMessage).signal === "string";
}

/** What the bus needs of a cluster worker's process (the real `process`, or a test's stand-in). */
export interface WorkerChannel {
  readonly connected?: boolean;
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
}

/**
 * `LiveBus` over the cluster IPC channel (see the module comment). A signal is never echoed to
 * the worker that sent it: that worker's own runs and followers learn of it directly.
 *
 * @example
 * ```ts
 * const runner = new SqliteAgentRunner({ path: "threads.db", liveBus: new WorkerLiveBus(process) });
 * ```
 */
export class WorkerLiveBus implements LiveBus {
  private readonly threads = new Map<string, Set<LiveListener>>();
  private readonly onMessage = (message: unknown) => {
    if (!isLiveMessage(message)) return;
    const signal = decodeSignal(message.signal);
    if (signal !== undefined) this.dispatch(signal);
  };

  constructor(private readonly channel: WorkerChannel) {
    channel.on("message", this.onMessage);
  }

  publish(signal: LiveSignal): void {
    if (this.channel.send === undefined || this.channel.connected === false) return;
    const message: LiveMessage = { type: "copilot-runtime:live", signal: encodeSignal(signal) };
    // The primary is going away (shutdown): followers elsewhere catch up at their safety look.
    this.channel.send(message, () => {});
  }

  subscribe(threadId: string, listener: LiveListener): () => void {
    let listeners = this.threads.get(threadId);
    if (listeners === undefined) this.threads.set(threadId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      const current = this.threads.get(threadId);
      if (current !== undefined && current.delete(listener) && current.size === 0) this.threads.delete(threadId);
    };
  }

  async close(): Promise<void> {
    this.channel.off("message", this.onMessage);
    this.threads.clear();
  }

  private dispatch(signal: LiveSignal): void {
    for (const listener of [...(this.threads.get(signal.threadId) ?? [])]) {
      try {
        listener(signal);
      } catch (error) {
        logger.error({ err: error, threadId: signal.threadId }, `a live-bus listener of thread ${signal.threadId} failed`);
      }
    }
  }
}
