import { createHash } from "node:crypto";
import type pg from "pg";
import { type Logger, logger as processLogger } from "../logger.js";
import { requireOptional } from "../optional-dependency.js";
import type { PlatformBus, PlatformBusListener, PlatformBusMessage } from "./bus.js";

const { Client } = requireOptional<typeof pg>({ specifier: "pg", packageName: "pg", version: "8", neededBy: "PostgresPlatformBus" });

// NOTIFY payloads must stay under 8000 bytes.
const MAX_PAYLOAD_BYTES = 7_900;

export interface PostgresPlatformBusOptions {
  /** How to open connections: a connection string or `pg` client options. */
  connection: string | pg.ClientConfig;
  /**
   * The NOTIFY channel; instances that share a store must share it. Default: derived from
   * `namespace`, so platforms on other schemas/prefixes of one database hear nothing of each other.
   */
  channel?: string;
  /** Mixed into the default channel name (e.g. the store's schema and table prefix). */
  namespace?: string;
  /** First pause before reopening a dropped LISTEN connection; doubles up to 5 s. Default 100 ms. */
  reconnectMs?: number;
  logger?: Logger;
}

/**
 * A `PlatformBus` over PostgreSQL `LISTEN/NOTIFY`, for several platform instances sharing one
 * PostgreSQL store: a run ingested on one instance wakes the thread's subscribers on every
 * instance, a stop reaches the instance holding the runner, and thread list changes reach every
 * socket of the user. Messages are wake-ups (subscribers re-read the store), so a notification
 * lost while the LISTEN connection was down is covered by a `resync` after it reconnects.
 * One connection LISTENs; each publish is one `pg_notify` on a second connection.
 *
 * @example
 * const bus = new PostgresPlatformBus({ connection: process.env.DATABASE_URL!, namespace: "prod" });
 * await bus.ready;
 * serveIntelligencePlatform({ store, bus, apiKeys, tokenSecret });
 */
export class PostgresPlatformBus implements PlatformBus {
  readonly shared = true;
  /** Resolves once the first LISTEN is in effect (or failed: it keeps retrying). */
  readonly ready: Promise<void>;
  readonly #options: PostgresPlatformBusOptions;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #listeners = new Set<PlatformBusListener>();
  #listener: pg.Client | undefined;
  #publisher: Promise<pg.Client> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryMs: number;
  #closed = false;

  constructor(options: PostgresPlatformBusOptions) {
    if (typeof options?.connection !== "string" && (typeof options?.connection !== "object" || options.connection === null)) {
      throw new TypeError("PostgresPlatformBus needs a connection (a connection string or pg client options)");
    }
    this.#options = options;
    this.#channel = options.channel ?? `cpki_bus_${createHash("sha256").update(options.namespace ?? "").digest("hex").slice(0, 16)}`;
    this.#log = options.logger ?? processLogger;
    this.#retryMs = options.reconnectMs ?? 100;
    this.ready = this.#listen();
  }

  async publish(message: PlatformBusMessage): Promise<void> {
    const payload = JSON.stringify(message);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      // Too large for NOTIFY (a huge thread name): this instance still hears it.
      this.#log.warn({ type: message.type, bytes: Buffer.byteLength(payload) }, "Intelligence bus: message too large for NOTIFY; delivered on this instance only");
      this.#dispatch(message);
      return;
    }
    try {
      const client = await this.#publishClient();
      await client.query("SELECT pg_notify($1, $2)", [this.#channel, payload]);
    } catch (err) {
      this.#publisher = undefined;
      this.#log.error({ err, type: message.type }, "Intelligence bus: NOTIFY failed; delivered on this instance only");
      this.#dispatch(message);
    }
  }

  subscribe(listener: PlatformBusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#listeners.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => {});
    const publisher = this.#publisher;
    this.#publisher = undefined;
    await publisher?.then((client) => client.end()).catch(() => {});
  }

  #publishClient(): Promise<pg.Client> {
    this.#publisher ??= (async () => {
      const client = new Client(this.#connectionConfig());
      client.on("error", () => {
        this.#publisher = undefined;
      });
      await client.connect();
      return client;
    })();
    return this.#publisher;
  }

  #connectionConfig(): pg.ClientConfig {
    return typeof this.#options.connection === "string" ? { connectionString: this.#options.connection } : this.#options.connection;
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = new Client(this.#connectionConfig());
    client.on("error", (err) => this.#dropped(client, err));
    client.on("end", () => this.#dropped(client, undefined));
    client.on("notification", (notification) => {
      if (notification.channel !== this.#channel || notification.payload === undefined) return;
      let message: PlatformBusMessage;
      try {
        message = JSON.parse(notification.payload) as PlatformBusMessage;
      } catch {
        return;
      }
      this.#dispatch(message);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#channel}"`);
      if (this.#closed) {
        await client.end().catch(() => {});
        return;
      }
      this.#listener = client;
      this.#retryMs = this.#options.reconnectMs ?? 100;
      // Whatever was announced while nobody listened: every subscriber re-reads once.
      this.#dispatch({ type: "resync" });
    } catch (err) {
      await client.end().catch(() => {});
      this.#dropped(client, err);
    }
  }

  #dropped(client: pg.Client, err: unknown): void {
    if (this.#closed) return;
    if (this.#listener === client) this.#listener = undefined;
    else if (this.#listener !== undefined) return;
    if (this.#retryTimer !== undefined) return;
    if (err !== undefined) this.#log.warn({ err }, `Intelligence bus: the LISTEN connection failed; reconnecting in ${this.#retryMs} ms`);
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 5_000);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#listen();
    }, wait);
    this.#retryTimer.unref();
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
