import { randomUUID } from "node:crypto";
import { createRunEventFinalizer } from "../events/finalize-run-events.js";
import type { PlatformDeps } from "./context.js";
import type { FanOut } from "./fan-out.js";
import { ingestRunEvents } from "./ingest.js";
import type { NewEvent, RunRecord } from "./store/types.js";

const PAGE = 1000;
const LOST_RUNNER = "The run's lock lapsed before it emitted a terminal event (its runner went away)";
const RELEASED = "The run's lock was released before it emitted a terminal event";

export interface RunFinalizerOptions {
  /** How often expired locks are swept. Default 5 s. */
  sweepIntervalMs?: number;
}

/**
 * Closes runs nobody else will close: a run whose lock lapsed (its runtime crashed or its
 * runner left without a terminal event), a run stopped while no runner is joined, a run whose
 * lock the runtime released on a failure path. It mints the closers a runner would have sent
 * (`TEXT_MESSAGE_END` for open messages, `TOOL_CALL_END` + a synthetic `TOOL_CALL_RESULT` for
 * open tool calls) and a terminal event (`RUN_FINISHED` for a stop, `RUN_ERROR` otherwise),
 * with fresh `cpki_event_id`s and the next seqs, and ingests them like a runner's events:
 * stored, fanned out, lock released.
 */
export class RunFinalizer {
  readonly #deps: PlatformDeps;
  readonly #fanOut: FanOut;
  readonly #interval: number;
  /** Runs someone asked to stop: closed with RUN_FINISHED, not RUN_ERROR, whoever closes them. */
  readonly #stopRequested = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;
  readonly #unsubscribe: () => void;

  constructor(deps: PlatformDeps, fanOut: FanOut, options: RunFinalizerOptions = {}) {
    this.#deps = deps;
    this.#fanOut = fanOut;
    this.#interval = options.sweepIntervalMs ?? 5_000;
    // A stop asked on another instance: whichever instance ends up finalizing the orphan run
    // closes it with RUN_FINISHED, as a stop should.
    this.#unsubscribe = deps.bus.subscribe((message) => {
      if (message.type !== "stop_run") return;
      this.#stopRequested.set(`${message.projectId}\u0000${message.runId}`, deps.now());
      this.#pruneStops();
    });
  }

  /** Starts the periodic sweep (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.sweep(), this.#interval);
    this.#timer.unref();
  }

  /** Stops the sweep for good (the platform is closing): also stops hearing stop requests. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe();
  }

  /** Finalizes every running run whose lock expired; resolves with how many were closed. One sweep at a time. */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepOnce().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<number> {
    let closed = 0;
    try {
      if (this.#deps.bus.shared) await this.#holdLocalRunnerLocks();
      const expired = await this.#deps.store.expiredRuns(this.#deps.now(), 100);
      for (const run of expired) {
        // A runner still joined here is alive even if its runtime's heartbeat is late: leave it.
        if (this.#fanOut.hasLocalRunner(run.projectId, run.runId)) continue;
        if (await this.finalize(run, "expired")) closed++;
      }
    } catch (err) {
      this.#deps.log.error({ err }, "Intelligence: expired-lock sweep failed");
    }
    return closed;
  }

  /**
   * With several instances, the others' sweeps cannot see which runners are joined here, and
   * would finalize a live run whose runtime's lock heartbeat is late. So every sweep keeps the
   * lock of each run whose runner is joined here at least two sweep intervals ahead (never
   * shortening a longer TTL the runtime asked for); once the runner leaves, the lock lapses
   * within three intervals and any instance may finalize the run.
   */
  async #holdLocalRunnerLocks(): Promise<void> {
    const { store } = this.#deps;
    for (const { projectId, runId } of this.#fanOut.localRunnerRuns()) {
      const now = this.#deps.now();
      const run = await store.getRun(projectId, runId);
      if (run === undefined || run.status !== "running" || run.lockExpiresAt >= now + 2 * this.#interval) continue;
      await store.renewLock(projectId, run.threadId, runId, 3 * this.#interval, now);
    }
  }

  /** True when someone asked this run to stop (here, or on another instance through the bus). */
  isStopRequested(projectId: string, runId: string): boolean {
    return this.#stopRequested.has(`${projectId}\u0000${runId}`);
  }

  /**
   * Finalizes a running run whose lock has lapsed and whose runner is not joined here (a late
   * heartbeat must not kill a live runner). True when it was closed.
   */
  async closeIfLapsed(run: RunRecord): Promise<boolean> {
    if (run.status !== "running" || run.lockExpiresAt > this.#deps.now()) return false;
    if (this.#fanOut.hasLocalRunner(run.projectId, run.runId)) return false;
    return this.finalize(run, "expired");
  }

  /**
   * Asks for a run to stop: relays the stop to its runner (here or, through the bus, on another
   * instance). With no runner anywhere (an in-process bus and none joined here) the run is
   * closed at once with `RUN_FINISHED`.
   */
  async requestStop(projectId: string, threadId: string, runId: string): Promise<void> {
    const run = await this.#deps.store.getRun(projectId, runId);
    if (run === undefined || run.threadId !== threadId || run.status !== "running") return;
    this.#stopRequested.set(`${projectId}\u0000${runId}`, this.#deps.now());
    this.#pruneStops();
    if (this.#fanOut.relayStop(projectId, runId)) return;
    if (this.#deps.bus.shared) {
      // Another instance may hold the runner; if none does, the lapsing lock brings the run here or there.
      await this.#deps.bus.publish({ type: "stop_run", projectId, threadId, runId });
      return;
    }
    await this.finalize(run, "stopped");
  }

  /**
   * Mints and ingests the closers and terminal event of a running run. False when the run was
   * no longer running (someone else ended it first).
   */
  async finalize(run: RunRecord, why: "expired" | "stopped" | "released"): Promise<boolean> {
    const { store } = this.#deps;
    const stopKey = `${run.projectId}\u0000${run.runId}`;
    const stopped = why === "stopped" || this.#stopRequested.has(stopKey);
    const finalizer = createRunEventFinalizer();
    let lastSeq = 0;
    for (;;) {
      const page = await store.runEvents(run.projectId, run.runId, lastSeq, PAGE);
      for (const event of page) {
        finalizer.observe(JSON.parse(event.json) as { type: string });
        lastSeq = event.seq;
      }
      if (page.length < PAGE) break;
    }
    // A run that never logged an event ends without any: nothing for a client to close.
    if (lastSeq === 0) return this.#endSilently(run);
    const closers: Array<Record<string, unknown> & { type: string }> = [];
    const message = why === "released" ? RELEASED : LOST_RUNNER;
    closers.push(...(finalizer.finalize(stopped ? { stopRequested: true } : { interruptionMessage: message }) as Array<Record<string, unknown> & { type: string }>));
    if (closers.length === 0) return false; // the log already ends the run; nothing to mint

    const events: NewEvent[] = closers.map((closer, index) => {
      const id = randomUUID();
      const seq = lastSeq + index + 1;
      const event = {
        ...closer,
        threadId: run.threadId,
        runId: run.runId,
        thread_id: run.threadId,
        run_id: run.runId,
        metadata: { cpki_event_id: id, cpki_event_seq: seq },
      };
      return { id, seq, type: closer.type, json: JSON.stringify(event) };
    });
    const result = await ingestRunEvents(this.#deps, { projectId: run.projectId, threadId: run.threadId, runId: run.runId, events });
    this.#stopRequested.delete(stopKey);
    if (result.status === "ok") {
      this.#deps.log.info({ threadId: run.threadId, runId: run.runId, reason: why }, "Intelligence: finalized a run without a terminal event");
      return true;
    }
    return false;
  }

  async #endSilently(run: RunRecord): Promise<boolean> {
    const result = await this.#deps.store.appendRunEvents({ projectId: run.projectId, threadId: run.threadId, runId: run.runId, events: [], terminal: "error", now: this.#deps.now() });
    this.#stopRequested.delete(`${run.projectId}\u0000${run.runId}`);
    if (result.status !== "ok") return false;
    // Connect-mode subscribers waiting for this run to end get their stream_idle.
    await this.#deps.bus.publish({ type: "thread_events", projectId: run.projectId, threadId: run.threadId, endedRunIds: [run.runId] });
    return true;
  }

  #pruneStops(): void {
    if (this.#stopRequested.size < 10_000) return;
    const cutoff = this.#deps.now() - 60 * 60_000;
    for (const [key, at] of this.#stopRequested) if (at < cutoff) this.#stopRequested.delete(key);
  }
}
