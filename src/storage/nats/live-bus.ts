import type { ConnectionOptions, NatsConnection, Subscription } from "nats";
import { logger } from "../../logger.js";
import { requireOptional } from "../../optional-dependency.js";
import { type LiveBus, type LiveListener, type LiveSignal, decodeSignal, encodeSignal } from "../../runners/durable/live-bus.js";

/** Loaded through the optional-dependency loader: without nats the entry fails with what to install. */
const nats = requireOptional<typeof import("nats")>({ specifier: "nats", packageName: "nats", version: "2", neededBy: "NatsLiveBus" });

export interface NatsLiveBusOptions {
  /** `nats://host:4222` (or several). Ignored when `connection` is given. */
  servers?: string | string[];
  /** More connection options (credentials, TLS, ...). The bus always reconnects forever. */
  connectionOptions?: ConnectionOptions;
  /** An open connection to use instead; the bus does not close it. */
  connection?: NatsConnection;
  /**
   * The subject prefix: each thread's signals go to `<prefix>.<thread id, base64url>`. Instances
   * that share a database must share it. Default `"copilot-runtime.live"`.
   */
  prefix?: string;
}

/**
 * `LiveBus` over NATS core pub/sub, the same shape as `RedisLiveBus`: one subject per thread, one
 * subscription per thread per instance (shared by every local follower, made while something of
 * this instance needs it), the database the source of truth (a signal only says "read now"), and
 * `resync` for a thread's listeners when its subscription takes effect and after a reconnect.
 *
 * @example
 * ```ts
 * import { PostgresAgentRunner } from "copilot-runtime/postgres";
 * import { NatsLiveBus } from "copilot-runtime/nats";
 *
 * const runner = new PostgresAgentRunner({
 *   connectionString: process.env.DATABASE_URL,
 *   liveBus: new NatsLiveBus({ servers: process.env.NATS_URL }),
 * });
 * ```
 */
export class NatsLiveBus implements LiveBus {
  private readonly threads = new Map<string, { listeners: Set<LiveListener>; subscription?: Subscription }>();
  private readonly connection: Promise<NatsConnection>;
  private readonly ownsConnection: boolean;
  private readonly prefix: string;
  private readonly codec = nats.StringCodec();
  private warnedAt = 0;
  private closed = false;

  constructor(options: NatsLiveBusOptions) {
    if (options.connection === undefined && options.servers === undefined) throw new TypeError("NatsLiveBus needs servers or a connection");
    this.prefix = options.prefix ?? "copilot-runtime.live";
    this.ownsConnection = options.connection === undefined;
    this.connection =
      options.connection !== undefined
        ? Promise.resolve(options.connection)
        : nats.connect({ ...options.connectionOptions, servers: options.servers, reconnect: true, maxReconnectAttempts: -1 });
    // A failed first connection is reported by ready() and by each use, never as an unhandled rejection.
    this.connection.catch(() => {});
    void this.connection.then((connection) => this.watch(connection), () => {});
  }

  /** Resolves once the server answered a round trip; rejects after `timeoutMs` (default 5 s). */
  async ready(timeoutMs = 5_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`NATS did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.connection.then((connection) => connection.flush()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  publish(signal: LiveSignal): void {
    if (this.closed) return;
    this.connection.then(
      (connection) => connection.publish(this.subject(signal.threadId), this.codec.encode(encodeSignal(signal))),
      (error: Error) => this.warn(`publishing on the NATS live bus failed: ${error.message} (followers catch up at their next safety look)`, error),
    );
  }

  subscribe(threadId: string, listener: LiveListener): () => void {
    let entry = this.threads.get(threadId);
    if (entry === undefined) {
      const created: { listeners: Set<LiveListener>; subscription?: Subscription } = { listeners: new Set() };
      this.threads.set(threadId, (entry = created));
      this.connection
        .then(async (connection) => {
          if (this.threads.get(threadId) !== created || this.closed) return;
          created.subscription = connection.subscribe(this.subject(threadId), {
            callback: (error, message) => {
              if (error !== null) return;
              const signal = decodeSignal(this.codec.decode(message.data));
              if (signal !== undefined && signal.threadId === threadId) this.dispatch(threadId, signal);
            },
          });
          // Once the server has the subscription, anything published before it is in the store: read once.
          await connection.flush();
          this.dispatch(threadId, { kind: "resync", threadId, seq: 0 });
        })
        .catch((error: Error) => this.warn(`subscribing to thread ${threadId} on the NATS live bus failed: ${error.message}`, error));
    }
    entry.listeners.add(listener);
    return () => {
      const current = this.threads.get(threadId);
      if (current === undefined || !current.listeners.delete(listener) || current.listeners.size > 0) return;
      this.threads.delete(threadId);
      current.subscription?.unsubscribe();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { subscription } of this.threads.values()) subscription?.unsubscribe();
    this.threads.clear();
    if (this.ownsConnection) await this.connection.then((connection) => connection.close()).catch(() => {});
  }

  /** Thread ids may hold anything; a subject token may not hold `.`, `*`, `>` or spaces: base64url. */
  private subject(threadId: string): string {
    return `${this.prefix}.${Buffer.from(threadId, "utf8").toString("base64url")}`;
  }

  private async watch(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === nats.Events.Reconnect) {
        // Subscriptions are restored by the client; what was published meanwhile is in the store.
        for (const threadId of [...this.threads.keys()]) this.dispatch(threadId, { kind: "resync", threadId, seq: 0 });
      } else if (status.type === nats.Events.Disconnect) {
        this.warn("the NATS live bus's connection dropped; reconnecting", undefined);
      }
    }
  }

  private dispatch(threadId: string, signal: LiveSignal): void {
    for (const listener of [...(this.threads.get(threadId)?.listeners ?? [])]) {
      try {
        listener(signal);
      } catch (error) {
        logger.error({ err: error, threadId }, `a live-bus listener of thread ${threadId} failed`);
      }
    }
  }

  private warn(message: string, error: Error | undefined): void {
    if (this.closed || Date.now() - this.warnedAt < 5_000) return;
    this.warnedAt = Date.now();
    logger.warn(error === undefined ? {} : { err: error }, message);
  }
}
