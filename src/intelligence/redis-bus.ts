import { randomUUID } from "node:crypto";
import type { Redis as RedisClient, RedisOptions } from "ioredis";
import { type Logger, logger as processLogger, toLogger } from "../logger.js";
import { requireOptional } from "../optional-dependency.js";
import type { PlatformBus, PlatformBusListener, PlatformBusMessage } from "./bus.js";

/** Loaded through the optional-dependency loader: without ioredis the import fails with what to install. */
const { Redis } = requireOptional<typeof import("ioredis")>({ specifier: "ioredis", packageName: "ioredis", version: "5", neededBy: "RedisPlatformBus" });

export interface RedisPlatformBusOptions {
  /** `redis://[:password@]host:6379[/db]` (or `rediss://`). Ignored when `client` is given. */
  url?: string;
  /** Connection options for the URL (timeouts, TLS, ...). */
  redisOptions?: RedisOptions;
  /** An ioredis client to publish with; the bus `duplicate()`s it to subscribe and does not end it. */
  client?: RedisClient;
  /** The pub/sub channel; every instance of one deployment must share it. Default `"cpki:bus"`. */
  channel?: string;
  /** Default: the process-wide logger. */
  logger?: Logger;
}

/** What travels on the channel: the publishing instance and the message. */
interface Envelope {
  i: string;
  m: PlatformBusMessage;
}

/**
 * A `PlatformBus` over Redis pub/sub, for several Intelligence platform instances sharing a
 * PostgreSQL store when Redis is at hand anyway (the PostgreSQL bus needs nothing extra). One
 * channel carries every message (no size limit to work around). Local listeners are served
 * directly and an instance ignores its own messages coming back. ioredis reconnects and
 * resubscribes by itself; after it does, listeners get `{type:"resync"}` and re-read their
 * followed threads, so thread updates published meanwhile are delayed, never lost.
 *
 * @example
 * const bus = new RedisPlatformBus({ url: process.env.REDIS_URL });
 * await serveIntelligencePlatform({ store: new PostgresIntelligenceStore({ connectionString }), bus, apiKeys, tokenSecret });
 */
export class RedisPlatformBus implements PlatformBus {
  readonly shared = true;
  /** Resolves once the subscription is in effect (the platform waits for it before serving). */
  readonly ready: Promise<void>;
  readonly channel: string;
  /** The subscribing connection's `CLIENT SETNAME` (find it in `CLIENT LIST`). */
  readonly connectionName: string;
  readonly #instanceId = randomUUID();
  readonly #listeners = new Set<PlatformBusListener>();
  readonly #publisher: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #ownsPublisher: boolean;
  readonly #log: Logger;
  #subscribed = false;
  #closed = false;

  /** @throws TypeError without `url` or `client`. */
  constructor(options: RedisPlatformBusOptions) {
    if (typeof options !== "object" || options === null || (options.client === undefined && typeof options.url !== "string")) {
      throw new TypeError("RedisPlatformBus needs `url` (redis://...) or `client`");
    }
    this.channel = options.channel ?? "cpki:bus";
    if (typeof this.channel !== "string" || this.channel === "") throw new TypeError("channel must be a non-empty string");
    this.#log = options.logger ? toLogger(options.logger) : processLogger;
    this.connectionName = `cpki-bus-${this.#instanceId.slice(0, 8)}`;
    this.#ownsPublisher = options.client === undefined;
    this.#publisher = options.client ?? new Redis(options.url!, { ...options.redisOptions });
    this.#subscriber = this.#publisher.duplicate({ connectionName: this.connectionName });
    for (const [name, connection] of [
      ["publishing", this.#publisher],
      ["subscribing", this.#subscriber],
    ] as const) {
      // ioredis reconnects by itself; an error is reported, never thrown.
      connection.on("error", (err: Error) => {
        if (!this.#closed) this.#log.warn({ err }, `Intelligence bus: the Redis ${name} connection failed; reconnecting`);
      });
    }
    this.#subscriber.on("message", (channel: string, raw: string) => {
      if (channel === this.channel) this.#receive(raw);
    });
    this.#subscriber.on("ready", () => {
      if (!this.#subscribed || this.#closed) return;
      // A reconnect. ioredis emits "ready" before it resubscribes, so subscribe again (idempotent)
      // and resync once that reply proves the subscription is back: whatever was published
      // meanwhile is in the store.
      this.#subscriber.subscribe(this.channel).then(
        () => this.#dispatch({ type: "resync" }),
        (err: unknown) => this.#log.warn({ err }, "Intelligence bus: resubscribing on Redis failed"),
      );
    });
    this.ready = this.#subscriber.subscribe(this.channel).then(() => {
      this.#subscribed = true;
      this.#dispatch({ type: "resync" });
    });
    this.ready.catch((err: unknown) => this.#log.error({ err }, "Intelligence bus: subscribing on Redis failed"));
  }

  async publish(message: PlatformBusMessage): Promise<void> {
    if (this.#closed) return;
    void Promise.resolve().then(() => this.#dispatch(message));
    await this.#publisher.publish(this.channel, JSON.stringify({ i: this.#instanceId, m: message } satisfies Envelope));
  }

  subscribe(listener: PlatformBusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    // QUIT on a connection that is not up would wait for it to come back: just drop it then.
    const end = async (connection: RedisClient) => {
      if (connection.status === "ready") await connection.quit().catch(() => connection.disconnect());
      else connection.disconnect();
    };
    await end(this.#subscriber);
    if (this.#ownsPublisher) await end(this.#publisher);
  }

  #receive(raw: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      this.#log.warn({ channel: this.channel }, "Intelligence bus: ignored a Redis message that is not JSON");
      return;
    }
    if (typeof envelope !== "object" || envelope === null || envelope.i === this.#instanceId || envelope.m === undefined) return;
    this.#dispatch(envelope.m);
  }

  #dispatch(message: PlatformBusMessage): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(message);
      } catch (err) {
        this.#log.error({ err, type: message.type }, "Intelligence bus: a listener failed");
      }
    }
  }
}
