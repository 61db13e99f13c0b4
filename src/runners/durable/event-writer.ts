import { performance } from "node:perf_hooks";
import { retryTransient } from "./retry.js";
import type { DurableStore, EventRow, RunRef } from "./store.js";

interface Pending {
  run: RunRef;
  rows: EventRow[];
  deadline: number;
  resolve: (held: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the events of every live run in this process. A write goes out at once
 * when the store is idle; while writes are frequent, the events that arrive in the meantime
 * wait at most `windowMs` and share the next transaction. A commit costs far more than a row
 * (SQLite writes a WAL frame per touched page, PostgreSQL flushes its WAL), so a busy server
 * makes one commit every few milliseconds instead of one per event per run.
 */
export class EventWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private writing = false;
  private lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: DurableStore,
    private readonly instanceId: string,
    private readonly windowMs: number,
  ) {}

  /**
   * Resolves true once the rows are committed, false if the run's lease is no longer ours;
   * rejects when the store refused them, or kept failing transiently until `deadline` (epoch
   * ms: the run's lease) or the retry policy ran out.
   */
  append(run: RunRef, rows: EventRow[], deadline: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ run, rows, deadline, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    const wait = this.lastWriteAt + this.windowMs - performance.now();
    if (wait <= 0) queueMicrotask(() => void this.write());
    else setTimeout(() => void this.write(), wait);
  }

  private async write(): Promise<void> {
    this.scheduled = false;
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    this.lastWriteAt = performance.now();
    const batch = this.queue;
    this.queue = [];
    try {
      const batches = batch.map(({ run, rows }) => ({ run, rows }));
      let deadline = 0;
      for (const pending of batch) deadline = Math.max(deadline, pending.deadline);
      // Retried as a whole: a failed attempt wrote nothing, and later writes wait behind it, so
      // every run's events still reach the store once and in order.
      let failedBefore = false;
      const attempt = () =>
        this.store.appendEvents(this.instanceId, batches).catch((error: unknown) => {
          failedBefore = true;
          throw error;
        });
      const results = await retryTransient(attempt, { isTransient: (error) => this.store.isTransient(error), deadline, what: "writing events" });
      for (let i = 0; i < batch.length; i++) {
        const result = results[i];
        // Unless the failed attempt did write, and only its answer was lost (a connection
        // dropped during the commit): then the retry collides with those very rows.
        if (result !== true && failedBefore && (await this.alreadyStored(batch[i]))) batch[i].resolve(true);
        else if (typeof result === "boolean") batch[i].resolve(result);
        else batch[i].reject(result.error);
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.writing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** True when exactly these rows are stored: only this run writes its own events. */
  private async alreadyStored({ run, rows }: Pending): Promise<boolean> {
    if (rows.length === 0) return false;
    try {
      const stored = await this.store.eventsBetween(run.threadId, rows[0].seq - 1, rows[rows.length - 1].seq);
      return stored.length === rows.length && stored.every((entry, i) => entry.seq === rows[i].seq && JSON.stringify(entry.event) === rows[i].data);
    } catch {
      return false;
    }
  }
}
