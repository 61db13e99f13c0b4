import type { BaseEvent } from "@ag-ui/core";
import { RUN_ERRORS } from "../../errors.js";
import { Observable, type Subscriber } from "rxjs";
import type { AgentLike } from "../../events/agent-contract.js";
import { setEventId } from "../../events/event-ids.js";
import { StreamState } from "../../events/stream-state.js";
import type { AgentEvent, RunInput } from "../../events/types.js";
import { logger } from "../../logger.js";
import { RunSession, type RunOutcome } from "../run-session.js";
import { closeRun } from "./close-run.js";
import type { EventWriter } from "./event-writer.js";
import { runFacts } from "./run-facts.js";
import type { DurableStore, EventRow, RunRef, RunStatus, SeqEvent } from "./store.js";

export interface LiveRunOptions {
  store: DurableStore;
  /** Shared by the runner's live runs: their events go out in common transactions. */
  writer: EventWriter;
  instanceId: string;
  threadId: string;
  runId: string;
  firstSeq: number;
  agent: AgentLike;
  input: RunInput;
  knownMessageIds: ReadonlySet<string>;
  clock: () => number;
  /** When the lease taken with the run expires (epoch ms); writes are retried until then. */
  leaseExpiresAt: number;
  /** Called once the run is stored (or given up) and its subscribers completed. */
  onClosed: (run: LiveRun) => void;
  /** Called after each committed write: its last `seq`, and whether it ended the run (for the live bus). */
  onStored?: (lastSeq: number, ended: boolean) => void;
}

/**
 * One run executing in this process under a lease. Events are numbered as they arrive and
 * written to the store in batches (whatever arrived while the previous write was in flight,
 * together with other runs' events, see `EventWriter`), and only then handed to subscribers: a client never sees an event that a crash could lose.
 * The last batch, the compacted replay and the outcome are written in one transaction that
 * also frees the thread.
 */
export class LiveRun {
  /** Every event of the run that is stored and was published, in order (`seq` = firstSeq + index). */
  readonly published: SeqEvent[] = [];
  readonly done: Promise<void>;
  private readonly session: RunSession;
  private readonly subscribers = new Set<Subscriber<BaseEvent>>();
  private pending: SeqEvent[] = [];
  private nextSeq: number;
  private outcome: RunOutcome | undefined;
  private flushing = false;
  private flushQueued = false;
  private closed = false;
  /** `leaseGone` is asking the store why. */
  private checkingLease = false;
  /** Subscribers were completed: nothing more will be published. */
  private completed = false;
  private leaseExpiresAt: number;
  private resolveDone!: () => void;

  constructor(private readonly options: LiveRunOptions) {
    this.nextSeq = options.firstSeq;
    this.leaseExpiresAt = options.leaseExpiresAt;
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    this.session = new RunSession({
      agent: options.agent,
      input: options.input,
      isKnownMessage: (id) => options.knownMessageIds.has(id),
      onEvent: (event) => this.accept(event),
      onEnd: (outcome) => {
        this.outcome = outcome;
        this.scheduleFlush();
      },
    });
  }

  get threadId(): string {
    return this.options.threadId;
  }

  get runId(): string {
    return this.options.runId;
  }

  get firstSeq(): number {
    return this.options.firstSeq;
  }

  get ref(): RunRef {
    return { threadId: this.options.threadId, firstSeq: this.options.firstSeq };
  }

  /** True once the agent is done (its last events may still be on their way to the store). */
  get isEnded(): boolean {
    return this.session.isEnded;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  start(): void {
    this.session.start();
  }

  /** The heartbeat extended the lease: writes may be retried until then. */
  leaseRenewed(expiresAt: number): void {
    this.leaseExpiresAt = Math.max(this.leaseExpiresAt, expiresAt);
  }

  /** Aborts the agent; the run closes with `RUN_FINISHED` once stored. False if already ending. */
  stop(): boolean {
    return this.session.stop();
  }

  /**
   * Replays the stored events after `afterSeq`, then follows the run until it is closed.
   * Synchronous, so nothing published in between can be missed or doubled.
   */
  follow(afterSeq: number, subscriber: Subscriber<BaseEvent>): () => void {
    const start = Math.max(0, afterSeq - this.options.firstSeq + 1);
    for (let i = start; i < this.published.length; i++) subscriber.next(this.published[i].event as BaseEvent);
    if (this.completed) {
      subscriber.complete();
      return () => {};
    }
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** The whole run for the `/run` response. */
  observable(): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => this.follow(this.options.firstSeq - 1, subscriber));
  }

  /**
   * The store says the run is no longer ours (a write was fenced, or the heartbeat could not
   * renew the lease): either its thread was deleted, or another process took the run over
   * (our lease lapsed while this process stalled, and it was recovered as interrupted). Stops
   * without writing anything more, ending the stream with `THREAD_DELETED` or `LEASE_LOST`.
   */
  async leaseGone(): Promise<void> {
    if (this.closed || this.checkingLease) return;
    this.checkingLease = true;
    this.session.stop();
    // Another run at our place means the thread was deleted and its id used again (a thread
    // never gives one first number to two runs).
    const deleted = await this.options.store.loadRun(this.ref).then(
      (loaded) => loaded === undefined || loaded.row.runId !== this.options.runId,
      () => false,
    );
    if (deleted) return this.threadDeleted();
    if (this.closed) return;
    logger.error({ threadId: this.options.threadId, runId: this.options.runId, code: LEASE_LOST }, `run ${this.options.runId} on thread ${this.options.threadId}: ${LEASE_LOST}: its lease expired and another process closed it`);
    this.publishClosing(this.abort(LEASE_LOST, RUN_ERRORS.leaseLost.message));
    this.complete();
  }

  /** The thread was deleted (every row of it is gone, and our writes are fenced): stop, and say so. */
  threadDeleted(): void {
    if (this.closed) return;
    logger.info({ threadId: this.options.threadId, runId: this.options.runId }, `run ${this.options.runId} on thread ${this.options.threadId} stopped: the thread was deleted`);
    this.publishClosing(this.abort(RUN_ERRORS.threadDeleted.code, RUN_ERRORS.threadDeleted.message));
    this.complete();
  }

  private accept(event: AgentEvent): void {
    const seq = this.nextSeq++;
    setEventId(event, seq);
    this.pending.push({ seq, event });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushQueued || this.flushing || this.closed || this.checkingLease) return;
    this.flushQueued = true;
    // A microtask, not a timer: events an agent emits in one burst share one write, and a
    // lone event is written (and shown) without waiting.
    queueMicrotask(() => {
      this.flushQueued = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    try {
      while (!this.closed) {
        const final = this.outcome !== undefined;
        if (!final && this.pending.length === 0) break;
        const batch = this.pending;
        this.pending = [];
        const rows = toRows(batch, this.options.runId);
        if (!final) {
          if (!(await this.options.writer.append(this.ref, rows, this.leaseExpiresAt))) return await this.leaseGone();
          if (rows.length > 0) this.options.onStored?.(rows[rows.length - 1].seq, false);
          this.publish(batch);
          continue;
        }
        const facts = runFacts(this.published.length === 0 ? batch : this.published.concat(batch));
        const request = {
          run: this.ref,
          guard: { holder: this.options.instanceId },
          status: STATUS[this.outcome!],
          rows,
          lastSeq: this.nextSeq - 1,
          ...facts,
          now: this.options.clock(),
        };
        if (!(await closeRun(this.options.store, request, this.leaseExpiresAt, `finishing run ${this.options.runId}`))) return await this.leaseGone();
        this.options.onStored?.(request.lastSeq, true);
        this.publish(batch);
        this.close();
      }
    } catch (error) {
      await this.failPersistence(error);
    } finally {
      this.flushing = false;
    }
  }

  private publish(batch: SeqEvent[]): void {
    for (const entry of batch) {
      this.published.push(entry);
      for (const subscriber of this.subscribers) subscriber.next(entry.event as BaseEvent);
    }
  }

  /**
   * The store refused the run's events (permanently, or transiently until the retries or the
   * lease ran out): abort the agent, then end the run where it stands, after its last stored
   * event, with `RUN_ERROR` `PERSISTENCE_FAILED`, and free the thread at once, so the next run
   * is accepted rather than refused as busy for the rest of the lease. If even that cannot be
   * written, the clients still get the closing events (without ids: they are not stored), the
   * lease is no longer renewed, and the runner closes the run as its orphan on the next call
   * that meets it (another process, once the lease lapses, as INTERRUPTED).
   */
  private async failPersistence(error: unknown): Promise<void> {
    if (this.closed) return;
    const { runId, threadId } = this.options;
    logger.error({ err: error, threadId, runId, code: PERSISTENCE_FAILED }, `run ${runId} on thread ${threadId}: ${PERSISTENCE_FAILED}: its events could not be stored`);
    const closing = this.abort(PERSISTENCE_FAILED, RUN_ERRORS.persistenceFailed.message);
    let seq = this.options.firstSeq + this.published.length - 1;
    const tail = closing.map((event) => ({ seq: ++seq, event }));
    try {
      const request = {
        run: this.ref,
        guard: { holder: this.options.instanceId },
        status: "failed" as const,
        rows: toRows(tail, runId),
        lastSeq: seq,
        ...runFacts(this.published.concat(tail)),
        now: this.options.clock(),
      };
      // One try: the store just failed, and recovery closes the run anyway if this does not.
      if (await closeRun(this.options.store, request, 0, `closing run ${runId} after its write failed`)) {
        for (const { seq: stored, event } of tail) setEventId(event, stored);
        this.publish(tail);
        return this.complete();
      }
    } catch (closeError) {
      logger.error({ err: closeError, threadId, runId }, `run ${runId} on thread ${threadId}: could not close it after the failed write; it is closed later`);
    }
    this.publishClosing(closing);
    this.complete();
  }

  /** Marks the run closed, aborts the agent, and returns the events that end the stored part of the run. */
  private abort(code: string, message: string): AgentEvent[] {
    this.closed = true;
    this.session.stop();
    const state = new StreamState(this.options.threadId, this.options.runId);
    for (const { event } of this.published) state.accept(event);
    return state.finalize({ kind: "error", code, message });
  }

  private publishClosing(closing: AgentEvent[]): void {
    for (const event of closing) for (const subscriber of this.subscribers) subscriber.next(event as BaseEvent);
  }

  private close(): void {
    this.closed = true;
    this.complete();
  }

  private complete(): void {
    this.completed = true;
    for (const subscriber of this.subscribers) subscriber.complete();
    this.subscribers.clear();
    this.pending = [];
    this.resolveDone();
    this.options.onClosed(this);
  }
}

/** In-stream `RUN_ERROR` codes of the durable runners (the catalogue documents them). */
const PERSISTENCE_FAILED = RUN_ERRORS.persistenceFailed.code;
const LEASE_LOST = RUN_ERRORS.leaseLost.code;

const STATUS: Record<RunOutcome, RunStatus> = { finished: "finished", stopped: "stopped", failed: "failed" };

function toRows(batch: SeqEvent[], runId: string): EventRow[] {
  const rows: EventRow[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const { seq, event } = batch[i];
    rows[i] = { seq, runId, type: event.type, data: JSON.stringify(event) };
  }
  return rows;
}
