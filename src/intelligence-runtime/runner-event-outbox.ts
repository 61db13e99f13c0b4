/**
 * The runner's delivery queue to the platform (CopilotKit 1.75's runner protocol): events wait
 * here until the platform acknowledges them as durable. One push is in flight at a time; with the
 * `runner_event_batch_v1` capability a push carries up to 32 events and goes out when 32 are
 * waiting or 5 ms after the oldest was queued; without it, one event per push. A failed or
 * timed-out push is retried with backoff (100 ms doubling to 2 s); an error reply with
 * `retryable: false`, or an event still unacknowledged 60 s after it was queued, fails the run.
 */
import type { PhoenixPush } from "./phoenix-client.js";

export const RUNNER_EVENT_BATCH_CAPABILITY = "runner_event_batch_v1";
export const MAX_BATCH_SIZE = 32;
export const BATCH_FLUSH_MS = 5;
export const DURABILITY_DEADLINE_MS = 60_000;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2_000;

/** Where the outbox pushes: the run's `ingestion:<runId>` channel. */
export interface OutboxChannel {
  /** True when a push can go out now (channel joined, socket connected). */
  canPush(): boolean;
  push(event: "events" | "event", payload: object): PhoenixPush;
}

export interface OutboxListener {
  /** Every queued event is acknowledged (called after each ack that empties the queue). */
  onDrained(): void;
  /** Delivery failed for good; nothing more is sent. */
  onFailed(error: Error): void;
}

interface Queued {
  payload: Record<string, unknown>;
  queuedAt: number;
}

export class RunnerEventOutbox {
  private readonly queue: Queued[] = [];
  private inFlight: { count: number; attempt: number } | null = null;
  private attempts = 0;
  private retries = 0;
  private batching = false;
  private closed = false;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private deadlineTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly channel: OutboxChannel,
    private readonly listener: OutboxListener,
  ) {}

  /** Events queued and not yet acknowledged. */
  get size(): number {
    return this.queue.length;
  }

  /** The join reply decides: batches when it lists {@link RUNNER_EVENT_BATCH_CAPABILITY}. */
  setBatching(enabled: boolean): void {
    this.batching = enabled;
  }

  /** Queues one event payload (already stamped with its id and seq; seq order is queue order). */
  enqueue(payload: Record<string, unknown>): void {
    if (this.closed) return;
    this.queue.push({ payload, queuedAt: Date.now() });
    this.armDeadline();
    this.pump();
  }

  /**
   * After a (re)join: whatever was in flight may or may not have arrived, so it is sent again
   * from the head of the queue (the platform drops ids it already stored).
   */
  resend(): void {
    if (this.closed) return;
    this.inFlight = null;
    this.retries = 0;
    this.clearTimer("retryTimer");
    this.clearTimer("flushTimer");
    this.pump();
  }

  /** Stops every timer; late replies are ignored. */
  close(): void {
    this.closed = true;
    this.clearTimer("flushTimer");
    this.clearTimer("retryTimer");
    this.clearTimer("deadlineTimer");
  }

  /** Sends the next push if none is in flight: at once when a batch is full (or unbatched), else after the flush delay. */
  private pump(): void {
    if (this.closed || this.inFlight !== null || this.queue.length === 0) return;
    if (this.batching && this.queue.length < MAX_BATCH_SIZE) {
      if (this.flushTimer !== null) return;
      const delay = Math.max(0, this.queue[0].queuedAt + BATCH_FLUSH_MS - Date.now());
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.send();
      }, delay);
      return;
    }
    this.clearTimer("flushTimer");
    this.send();
  }

  private send(): void {
    if (this.closed || this.inFlight !== null || this.queue.length === 0) return;
    if (this.failIfPastDeadline()) return;
    // Not joined or not connected: the rejoin calls resend().
    if (!this.channel.canPush()) return;
    const count = this.batching ? Math.min(this.queue.length, MAX_BATCH_SIZE) : 1;
    const attempt = ++this.attempts;
    this.inFlight = { count, attempt };
    const payloads = this.queue.slice(0, count).map((entry) => entry.payload);
    this.channel
      .push(this.batching ? "events" : "event", this.batching ? { events: payloads } : payloads[0])
      .receive("ok", () => this.acknowledged(attempt))
      .receive("error", (response) => this.refused(attempt, response))
      .receive("timeout", () => this.refused(attempt, undefined));
  }

  private acknowledged(attempt: number): void {
    if (this.closed || this.inFlight?.attempt !== attempt) return;
    this.queue.splice(0, this.inFlight.count);
    this.inFlight = null;
    this.retries = 0;
    this.armDeadline();
    if (this.queue.length === 0) {
      this.clearTimer("retryTimer");
      this.listener.onDrained();
      return;
    }
    this.pump();
  }

  private refused(attempt: number, response: unknown): void {
    if (this.closed || this.inFlight?.attempt !== attempt) return;
    if (this.failIfPastDeadline()) return;
    if (isRecord(response) && response.retryable === false) {
      const reason = typeof response.reason === "string" ? response.reason : "permanent_gateway_rejection";
      this.fail(new Error(`Runner event durability failed: ${reason}`));
      return;
    }
    if (this.retryTimer !== null) return;
    const delay = Math.min(RETRY_BASE_MS * 2 ** this.retries, RETRY_MAX_MS);
    this.retries++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      // Send the same events again (the in-flight count stays the head of the queue).
      this.inFlight = null;
      this.pump();
    }, delay);
  }

  private armDeadline(): void {
    this.clearTimer("deadlineTimer");
    if (this.closed || this.queue.length === 0) return;
    const delay = Math.max(0, this.queue[0].queuedAt + DURABILITY_DEADLINE_MS - Date.now());
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null;
      if (!this.failIfPastDeadline()) this.armDeadline();
    }, delay);
  }

  private failIfPastDeadline(): boolean {
    if (this.queue.length === 0 || Date.now() < this.queue[0].queuedAt + DURABILITY_DEADLINE_MS) return false;
    this.fail(new Error("Timed out trying to durably deliver runner events"));
    return true;
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.close();
    this.listener.onFailed(error);
  }

  private clearTimer(name: "flushTimer" | "retryTimer" | "deadlineTimer"): void {
    const timer = this[name];
    if (timer !== null) clearTimeout(timer);
    this[name] = null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object";
}
