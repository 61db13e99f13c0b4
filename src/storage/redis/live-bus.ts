import type { Redis as RedisClient, RedisOptions } from "ioredis";
import { logger } from "../../logger.js";
import { requireOptional } from "../../optional-dependency.js";
import { type LiveBus, type LiveListener, type LiveSignal, decodeSignal, encodeSignal } from "../../runners/durable/live-bus.js";

/** Loaded through the optional-dependency loader: without ioredis the entry fails with what to install. */
const { Redis } = requireOptional<typeof import("ioredis")>({ specifier: "ioredis", packageName: "ioredis", version: "5", neededBy: "RedisLiveBus" });

export interface RedisLiveBusOptions {
  /** `redis://[:password@]host:6379[/db]` (or `rediss://` for TLS). Ignored when `client` is given. */
  url?: string;
  /** Connection options for the URL (timeouts, TLS, ...). */
  redisOptions?: RedisOptions;
  /**
   * An ioredis client to publish with; the bus `duplicate()`s it for its subscribing connection.
   * The bus does not end it.
   */
  client?: RedisClient;
  /**
   * Prepended to each thread's channel name. Instances that share a database must share it;
   * deployments (or tenants) on one Redis with different databases must not. Default
   * `"copilot-runtime:live:"`.
   */
  prefix?: string;
}

/**
 * `LiveBus` over Redis pub/sub, for many instances with many followers: each signal goes to
 * the thread's own channel (`<prefix><threadId>`), and an instance subscribes to a thread's
 * channel only while something of its own needs it (a run it streams, or local clients
 * following a run another instance streams: one subscription per thread per instance,
 * however many clients follow). So an instance hears only about the threads it serves, and
 * the database is read only when a signal arrives. The database stays the source of truth:
 * a signal only says "read now", so a lost one costs latency until the runner's
 * `safetyPollMs` look, never an event.
 *
 * After ioredis reconnects (it resubscribes by itself) and when a new subscription takes
 * effect, its listeners get `resync` and read once: whatever was published meanwhile is
 * picked up from the store.
 *
 * @example
 * ```ts
 * import { PostgresAgentRunner } from "copilot-runtime/postgres";
 * import { RedisLiveBus } from "copilot-runtime/redis";
 *
 * const runner = new PostgresAgentRunner({
 *   connectionString: process.env.DATABASE_URL,
 *   liveBus: new RedisLiveBus({ url: process.env.REDIS_URL }),
 * });
 * ```
 */
export class RedisLiveBus implements LiveBus {
  private readonly threads = new Map<string, Set<LiveListener>>();
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly ownsPublisher: boolean;
  private readonly prefix: string;
  private wasReady = false;
  private warnedAt = 0;
  private closed = false;

  constructor(options: RedisLiveBusOptions) {
    if (options.client === undefined && options.url === undefined) throw new TypeError("RedisLiveBus needs a url or a client");
    this.prefix = options.prefix ?? "copilot-runtime:live:";
    this.ownsPublisher = options.client === undefined;
    this.publisher = options.client ?? new Redis(options.url!, { ...options.redisOptions });
    this.subscriber = this.publisher.duplicate();
    for (const [name, connection] of [
      ["publishing", this.publisher],
      ["subscribing", this.subscriber],
    ] as const) {
      // ioredis reconnects by itself; an error is only reported (at most every 5 s), never thrown.
      connection.on("error", (error: Error) => this.warn(`the Redis live bus's ${name} connection failed: ${error.message}; reconnecting`, error));
    }
    this.subscriber.on("message", (channel: string, payload: string) => {
      const signal = decodeSignal(payload);
      if (signal !== undefined && channel === this.channel(signal.threadId)) this.dispatch(signal.threadId, signal);
    });
    this.subscriber.on("ready", () => {
      // ioredis has resubscribed every channel: whatever was published while it was away is in the store.
      if (this.wasReady) for (const threadId of [...this.threads.keys()]) this.dispatch(threadId, { kind: "resync", threadId, seq: 0 });
      this.wasReady = true;
    });
  }

  /**
   * Resolves once Redis answers a `PING`; rejects after `timeoutMs` (default 5 s) when it does not.
   * Optional: the bus works (and keeps reconnecting) without it; this lets a start-up fail fast
   * on a wrong URL instead of running with followers left to the safety look.
   */
  async ready(timeoutMs = 5_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.publisher.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  publish(signal: LiveSignal): void {
    if (this.closed) return;
    this.publisher.publish(this.channel(signal.threadId), encodeSignal(signal)).catch((error: Error) => {
      this.warn(`publishing on the Redis live bus failed: ${error.message} (followers catch up at their next safety look)`, error);
    });
  }

  subscribe(threadId: string, listener: LiveListener): () => void {
    let listeners = this.threads.get(threadId);
    if (listeners === undefined) {
      this.threads.set(threadId, (listeners = new Set()));
      const channel = this.channel(threadId);
      this.subscriber.subscribe(channel).then(
        // Anything published before the subscription took effect was missed: read once.
        () => this.dispatch(threadId, { kind: "resync", threadId, seq: 0 }),
        (error: Error) => this.warn(`subscribing to ${channel} on the Redis live bus failed: ${error.message}`, error),
      );
    }
    listeners.add(listener);
    return () => {
      const current = this.threads.get(threadId);
      if (current === undefined || !current.delete(listener) || current.size > 0) return;
      this.threads.delete(threadId);
      if (!this.closed) this.subscriber.unsubscribe(this.channel(threadId)).catch(() => {});
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.threads.clear();
    // QUIT on a connection that is not up would wait for it to come back: just drop it then.
    const end = async (connection: RedisClient) => {
      if (connection.status === "ready") await connection.quit().catch(() => connection.disconnect());
      else connection.disconnect();
    };
    await end(this.subscriber);
    if (this.ownsPublisher) await end(this.publisher);
  }

  private channel(threadId: string): string {
    return this.prefix + threadId;
  }

  private dispatch(threadId: string, signal: LiveSignal): void {
    const listeners = this.threads.get(threadId);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) {
      try {
        listener(signal);
      } catch (error) {
        logger.error({ err: error, threadId }, `a live-bus listener of thread ${threadId} failed`);
      }
    }
  }

  private warn(message: string, error: Error): void {
    if (this.closed || Date.now() - this.warnedAt < 5_000) return;
    this.warnedAt = Date.now();
    logger.warn({ err: error }, message);
  }
}
