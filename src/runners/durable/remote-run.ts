import type { BaseEvent } from "@ag-ui/core";
import type { Subscriber } from "rxjs";
import { RUN_ERRORS } from "../../errors.js";
import { setEventId } from "../../events/event-ids.js";
import { StreamState } from "../../events/stream-state.js";
import { logger } from "../../logger.js";
import type { LiveBus, LiveSignal } from "./live-bus.js";
import type { DurableStore, RunProgress, RunRef, RunTail, SeqEvent } from "./store.js";

export interface RemoteRunOptions {
  store: DurableStore;
  /** Wakes the feed when the owner commits; without one it polls every `pollMs`. */
  bus: LiveBus | undefined;
  threadId: string;
  runId: string;
  firstSeq: number;
  clock: () => number;
  /** The run is still `running` but its lease lapsed: recover it (the next read sees it ended). */
  onExpired: (run: RunRef, tail: RunTail) => Promise<void>;
  /** Called once the feed is done: its run ended or nobody follows it any more. */
  onClosed: (feed: RemoteRun) => void;
}

/**
 * This instance's one feed of a run another instance streams, shared by every local follower
 * of it (the counterpart of `LiveRun.follow` on the owner). It reads the run's new events from
 * the store once per wake-up (a signal on the live bus, or the runner's `check`) and fans them out, each
 * follower from its own position; it ends, and completes its followers, exactly where the run
 * ended (never carrying on into the thread's next run), or with `RUN_ERROR` `THREAD_DELETED`
 * if the thread was deleted under the run, as the owner's followers do.
 */
export class RemoteRun {
  /** The run's events read so far (from its first one, in order). */
  private readonly read: SeqEvent[] = [];
  /** Each follower and the last `seq` it was sent. */
  private readonly followers = new Map<Subscriber<BaseEvent>, number>();
  private cursor: number;
  private reading = false;
  private readAgain = false;
  private done = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: RemoteRunOptions) {
    this.cursor = options.firstSeq - 1;
    this.unsubscribe = options.bus?.subscribe(options.threadId, (signal) => this.wake(signal)) ?? (() => {});
    void this.refresh();
  }

  get ref(): RunRef {
    return { threadId: this.options.threadId, firstSeq: this.options.firstSeq };
  }

  /**
   * The runner's periodic look at every feed at once (the only clock without a bus, a safety net
   * for a lost wake-up with one): read the run only if something changed.
   */
  check(progress: RunProgress): void {
    const changed =
      progress.status !== "running" || progress.lastSeq > this.cursor || progress.leaseExpiresAt < this.options.clock();
    if (changed) void this.refresh();
  }

  get key(): string {
    return remoteKey(this.options.threadId, this.options.firstSeq);
  }

  /** Sends the events after `afterSeq` read so far, then every later one, until the run ends. */
  follow(afterSeq: number, subscriber: Subscriber<BaseEvent>): () => void {
    let sent = afterSeq;
    for (const { seq, event } of this.read) {
      if (seq <= sent) continue;
      subscriber.next(event as BaseEvent);
      sent = seq;
    }
    this.followers.set(subscriber, sent);
    return () => {
      this.followers.delete(subscriber);
      if (this.followers.size === 0) this.close();
    };
  }

  /** The runner is closing: its followers' streams end here. */
  shutdown(): void {
    this.end([]);
  }

  private wake(signal: LiveSignal): void {
    if (signal.kind === "stop") return;
    if (signal.kind === "events" && signal.seq <= this.cursor) return; // read already
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    if (this.done) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const ref = { threadId: this.options.threadId, firstSeq: this.options.firstSeq };
        const tail = await this.options.store.runTail(ref, this.cursor);
        if (this.done) return;
        if (tail === undefined) return this.end(this.deletedEnding());
        this.publish(tail.events);
        if (tail.status !== "running") return this.end([]);
        if (tail.leaseExpiresAt < this.options.clock()) {
          await this.options.onExpired(ref, tail);
          this.readAgain = true;
        }
      } while (this.readAgain && !this.done);
    } catch (error) {
      // The next wake-up or poll reads again; followers keep waiting meanwhile.
      logger.warn({ err: error, threadId: this.options.threadId, runId: this.options.runId }, `following run ${this.options.runId} on thread ${this.options.threadId}: reading the store failed; retrying`);
    } finally {
      this.reading = false;
    }
  }

  private publish(events: SeqEvent[]): void {
    for (const entry of events) {
      if (entry.seq <= this.cursor) continue;
      setEventId(entry.event, entry.seq);
      this.read.push(entry);
      this.cursor = entry.seq;
      for (const [subscriber, sent] of this.followers) {
        if (entry.seq <= sent) continue;
        this.followers.set(subscriber, entry.seq);
        subscriber.next(entry.event as BaseEvent);
      }
    }
  }

  /** What the owner's followers got when the thread was deleted under the run (not stored, so no ids). */
  private deletedEnding(): BaseEvent[] {
    const state = new StreamState(this.options.threadId, this.options.runId);
    for (const { event } of this.read) state.accept(event);
    return state.finalize({ kind: "error", code: RUN_ERRORS.threadDeleted.code, message: RUN_ERRORS.threadDeleted.message }) as BaseEvent[];
  }

  private end(closing: BaseEvent[]): void {
    const followers = [...this.followers.keys()];
    this.close();
    for (const subscriber of followers) {
      for (const event of closing) subscriber.next(event);
      subscriber.complete();
    }
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.unsubscribe();
    this.followers.clear();
    this.options.onClosed(this);
  }
}

export function remoteKey(threadId: string, firstSeq: number): string {
  return `${threadId}\u0000${firstSeq}`;
}
