import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import { type Logger, logger as processLogger, toLogger } from "../logger.js";
import { requireOptional } from "../optional-dependency.js";
import { assertIdentifier } from "../storage/sql-names.js";
import type { PlatformBus, PlatformBusListener, PlatformBusMessage } from "./bus.js";
import { DEFAULT_TABLE_PREFIX } from "./store/table-names.js";

/** Loaded when this module is: without pg the import fails, saying what to install. */
const { Client, Pool } = requireOptional<typeof pg>({ specifier: "pg", packageName: "pg", version: "8", neededBy: "PostgresPlatformBus" });

export interface PostgresPlatformBusOptions {
  /** `postgres://user:password@host:5432/database`. */
  connectionString?: string;
  /** The same as `connectionString`, or `pg` client options. */
  connection?: string | pg.ClientConfig;
  /**
   * A `pg` pool to publish through (for example one shared with the store); the bus does not end
   * it. Its LISTEN connection is then one client checked out of this pool for the bus's lifetime.
   */
  pool?: pg.Pool;
  /**
   * The NOTIFY channel. Every instance of one deployment must use the same one. Default: derived
   * from `namespace` when given, else from `schema` and `tablePrefix`, so instances on the same
   * store tables agree without configuration and other deployments (or tests) in the same
   * database hear nothing of each other.
   */
  channel?: string;
  /** Mixed into the default channel name instead of `schema`/`tablePrefix`. */
  namespace?: string;
  /** The store's schema (where the overflow table lives). Default: the connection's `search_path`. */
  schema?: string;
  /** The store's table prefix (the overflow table is `<prefix>bus_overflow`). Default `"cpki_"`. */
  tablePrefix?: string;
  /** First pause before reopening a lost LISTEN connection; doubles up to 5 s. Default 100 ms. */
  reconnectMs?: number;
  /** Default: the process-wide logger. */
  logger?: Logger;
}

/**
 * PostgreSQL's limit is 8000 bytes per NOTIFY payload; stay clear of it (the envelope adds a few
 * bytes). Larger messages are written to the overflow table and announced by row id.
 */
const MAX_INLINE_BYTES = 7_500;
/** Overflow rows older than this are deleted (a receiver fetches its row within milliseconds). */
const OVERFLOW_RETENTION = "10 minutes";
const PUBLISH_ATTEMPTS = 3;
const CHANNEL = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** What travels in a NOTIFY: the publishing instance, and the message or the id of its overflow row. */
type Envelope = { i: string; m: PlatformBusMessage } | { i: string; r: string };

interface ListenConnection {
  client: pg.Client | pg.PoolClient;
  release(err?: Error): Promise<void>;
}

/**
 * The default NOTIFY channel of one schema and table prefix (the store's), so every instance on
 * the same tables agrees on it without configuration.
 */
export function platformBusChannel(schema: string | undefined, tablePrefix: string = DEFAULT_TABLE_PREFIX): string {
  return `cpki_bus_${createHash("sha256").update(`${schema ?? ""}\u0000${tablePrefix}`).digest("hex").slice(0, 16)}`;
}

/**
 * A `PlatformBus` over PostgreSQL `LISTEN/NOTIFY`, for several Intelligence platform instances
 * on one database (with the PostgreSQL store). Messages are wake-ups, never events: receivers
 * re-read the store, so the bus only has to get the news across, not the data.
 *
 * - Publishing NOTIFYs through a pool (retried twice on a failed query) and delivers to this
 *   instance's listeners directly, so local delivery never waits for, or depends on, the
 *   database; an instance ignores its own notifications when they come back.
 * - A message over 7.5 kB (a `user_meta` thread record with a very long name) is stored in
 *   `<prefix>bus_overflow` and announced by id; receivers read the row. Notifications are
 *   handled one at a time in arrival order, so an overflowed message is not overtaken.
 * - One dedicated connection LISTENs. When it is lost it is reopened with backoff (100 ms
 *   doubling to 5 s), and after every (re)connect listeners receive `{type:"resync"}`: the
 *   instance re-reads its followed threads from the store (events, ended runs, deleted threads),
 *   so thread updates published meanwhile are delayed, never lost. `user_meta` pushes and stop
 *   requests published during the gap are lost for this instance: thread lists catch up on
 *   their next change or reload; a stop falls back to the lock TTL.
 *
 * Several instances: give each the same store tables, the same `tokenSecret` and this bus.
 * @example
 * const store = new PostgresIntelligenceStore({ connectionString: url, schema: "intelligence" });
 * const bus = createPostgresPlatformBus({ connectionString: url, schema: "intelligence" });
 * const platform = await serveIntelligencePlatform({ store, bus, apiKeys, tokenSecret, port: 4100 });
 * // on shutdown: await platform.close(); await bus.close(); await store.close();
 */
export class PostgresPlatformBus implements PlatformBus {
  readonly shared = true;
  /** Resolves once the first LISTEN is in effect (the platform waits for it before serving). */
  readonly ready: Promise<void>;
  /** The NOTIFY channel in use. */
  readonly channel: string;
  /** Set on the LISTEN connection as `application_name` (find it in `pg_stat_activity`). */
  readonly applicationName: string;

  readonly #log: Logger;
  readonly #instanceId = randomUUID();
  readonly #overflowTable: string;
  readonly #clientConfig: pg.ClientConfig | undefined;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #firstRetryMs: number;
  readonly #listeners = new Set<PlatformBusListener>();
  readonly #waiting: Array<() => void> = [];
  #listener: ListenConnection | undefined;
  #connecting: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryMs: number;
  #closed = false;
  #overflowReady: Promise<void> | undefined;
  /** Incoming notifications, handled in order (an overflow read must not let later ones pass). */
  #inbox: Promise<void> = Promise.resolve();

  /** @throws TypeError on invalid options. */
  constructor(options: PostgresPlatformBusOptions) {
    if (typeof options !== "object" || options === null) throw new TypeError("PostgresPlatformBus options must be an object");
    const { connection } = options;
    this.#clientConfig =
      options.connectionString !== undefined ? { connectionString: options.connectionString } : typeof connection === "string" ? { connectionString: connection } : connection;
    if (options.pool === undefined && (typeof this.#clientConfig !== "object" || this.#clientConfig === null)) {
      throw new TypeError("PostgresPlatformBus needs `connectionString` (postgres://...), `connection` or `pool`");
    }
    const prefix = assertIdentifier(options.tablePrefix ?? DEFAULT_TABLE_PREFIX, "tablePrefix", true);
    if (options.schema !== undefined) assertIdentifier(options.schema, "schema");
    const channel =
      options.channel ??
      (options.namespace !== undefined
        ? `cpki_bus_${createHash("sha256").update(options.namespace).digest("hex").slice(0, 16)}`
        : platformBusChannel(options.schema, prefix));
    if (typeof channel !== "string" || !CHANNEL.test(channel)) throw new TypeError(`channel must be a plain identifier of at most 63 characters, got '${String(channel)}'`);
    this.#firstRetryMs = options.reconnectMs ?? 100;
    if (typeof this.#firstRetryMs !== "number" || !Number.isFinite(this.#firstRetryMs) || this.#firstRetryMs <= 0) throw new TypeError("reconnectMs must be a positive number");

    this.channel = channel;
    this.#retryMs = this.#firstRetryMs;
    this.#log = options.logger ? toLogger(options.logger) : processLogger;
    this.applicationName = `cpki-bus-${this.#instanceId.slice(0, 8)}`;
    this.#overflowTable = options.schema === undefined ? `"${prefix}bus_overflow"` : `"${options.schema}"."${prefix}bus_overflow"`;
    this.#ownsPool = options.pool === undefined;
    this.#pool = options.pool ?? new Pool({ ...this.#clientConfig, max: 2 });
    if (this.#ownsPool) this.#pool.on("error", (err) => this.#log.warn({ err }, "Intelligence bus: an idle PostgreSQL connection failed"));
    this.ready = this.listening();
    // The platform awaits `ready`; when nobody does, a bus closed before its first LISTEN must not reject unhandled.
    this.ready.catch(() => {});
    this.#connect();
  }

  async publish(message: PlatformBusMessage): Promise<void> {
    if (this.#closed) return;
    // Local listeners first, on a microtask (never inside the publisher's call stack).
    void Promise.resolve().then(() => this.#dispatch(message));
    const inline = JSON.stringify({ i: this.#instanceId, m: message } satisfies Envelope);
    if (Buffer.byteLength(inline) <= MAX_INLINE_BYTES) return this.#notify(inline);
    await this.#ensureOverflowTable();
    const { rows } = await this.#pool.query<{ id: string }>(`INSERT INTO ${this.#overflowTable} (payload) VALUES ($1) RETURNING id`, [JSON.stringify(message)]);
    await this.#notify(JSON.stringify({ i: this.#instanceId, r: rows[0].id } satisfies Envelope));
    // Housekeeping on the (rare) overflow path only; a failure here costs nothing but space.
    this.#pool.query(`DELETE FROM ${this.#overflowTable} WHERE created_at < now() - interval '${OVERFLOW_RETENTION}'`).catch(() => {});
  }

  subscribe(listener: PlatformBusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once the LISTEN connection is open (now, or after the reconnect under way). */
  listening(): Promise<void> {
    if (this.#listener !== undefined) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error("The Intelligence bus is closed"));
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#connecting?.catch(() => {});
    const current = this.#listener;
    this.#listener = undefined;
    this.#listeners.clear();
    await current?.release();
    await this.#inbox;
    if (this.#ownsPool) await this.#pool.end().catch(() => {});
  }

  #dispatch(message: PlatformBusMessage): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(message);
      } catch (err) {
        // A failing listener must not starve the others.
        this.#log.error({ err, type: message.type }, "Intelligence bus: a listener failed");
      }
    }
  }

  #ensureOverflowTable(): Promise<void> {
    this.#overflowReady ??= (async () => {
      try {
        await this.#pool.query(`CREATE TABLE IF NOT EXISTS ${this.#overflowTable} (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      } catch (err) {
        // Two instances creating it at once: the loser sees a duplicate type/table; the table exists.
        const code = (err as { code?: string }).code;
        if (code !== "23505" && code !== "42P07") {
          this.#overflowReady = undefined;
          throw err;
        }
      }
    })();
    return this.#overflowReady;
  }

  async #notify(payload: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#pool.query("SELECT pg_notify($1, $2)", [this.channel, payload]);
        return;
      } catch (err) {
        if (attempt >= PUBLISH_ATTEMPTS || this.#closed) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  #receive(raw: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      this.#log.warn({ channel: this.channel }, "Intelligence bus: ignored a notification that is not JSON");
      return;
    }
    if (typeof envelope !== "object" || envelope === null || envelope.i === this.#instanceId) return;
    this.#inbox = this.#inbox.then(async () => {
      try {
        if ("m" in envelope) return this.#dispatch(envelope.m);
        const { rows } = await this.#pool.query<{ payload: string }>(`SELECT payload FROM ${this.#overflowTable} WHERE id = $1`, [envelope.r]);
        if (rows[0] === undefined) {
          this.#log.warn({ id: envelope.r }, "Intelligence bus: an overflowed message was already pruned; dropped");
          return;
        }
        this.#dispatch(JSON.parse(rows[0].payload) as PlatformBusMessage);
      } catch (err) {
        this.#log.error({ err }, "Intelligence bus: failed to read an overflowed message");
      }
    });
  }

  async #openConnection(): Promise<ListenConnection> {
    if (this.#ownsPool) {
      const client = new Client({ ...this.#clientConfig, application_name: this.applicationName });
      // Listeners first: a connection that fails while connecting must not throw unhandled.
      client.on("error", (err) => this.#dropped(client, err));
      client.on("end", () => this.#dropped(client, undefined));
      await client.connect();
      return { client, release: () => client.end().catch(() => {}) };
    }
    const client = await this.#pool.connect();
    client.on("error", (err) => this.#dropped(client, err));
    client.on("end", () => this.#dropped(client, undefined));
    await client.query(`SET application_name = '${this.applicationName}'`);
    return {
      client,
      async release(err) {
        // Never hand a LISTENing (or broken) connection back to the pool: destroy it.
        client.release(err ?? true);
      },
    };
  }

  #connect(): void {
    if (this.#closed) return;
    this.#connecting = (async () => {
      let opened: ListenConnection | undefined;
      try {
        opened = await this.#openConnection();
        opened.client.on("notification", (note) => {
          if (note.channel === this.channel && note.payload !== undefined) this.#receive(note.payload);
        });
        await opened.client.query(`LISTEN "${this.channel}"`);
        if (this.#closed) {
          await opened.release();
          return;
        }
        this.#listener = opened;
        this.#retryMs = this.#firstRetryMs;
        for (const resolve of this.#waiting.splice(0)) resolve();
        // Whatever was published while nobody listened here: every follower re-reads the store.
        this.#dispatch({ type: "resync" });
      } catch (err) {
        if (opened !== undefined) await opened.release(err instanceof Error ? err : undefined);
        this.#connecting = undefined;
        this.#scheduleReconnect(err);
      } finally {
        this.#connecting = undefined;
      }
    })();
  }

  #dropped(client: pg.Client | pg.PoolClient, err: unknown): void {
    if (this.#closed || this.#listener?.client !== client) return; // a late event of a connection already given up
    const lost = this.#listener;
    this.#listener = undefined;
    void lost.release(err instanceof Error ? err : new Error("LISTEN connection ended"));
    this.#scheduleReconnect(err);
  }

  #scheduleReconnect(err: unknown): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 5_000);
    this.#log.warn({ err, retryInMs: wait }, "Intelligence bus: the PostgreSQL LISTEN connection was lost; reconnecting");
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#listener === undefined && this.#connecting === undefined) this.#connect();
    }, wait);
    this.#retryTimer.unref();
  }
}

/**
 * Creates a {@link PostgresPlatformBus} (LISTEN/NOTIFY wake-ups between platform instances that
 * share a PostgreSQL store).
 *
 * @throws TypeError on invalid options.
 * @example
 * const bus = createPostgresPlatformBus({ connectionString: process.env.DATABASE_URL, schema: "intelligence" });
 */
export function createPostgresPlatformBus(options: PostgresPlatformBusOptions): PostgresPlatformBus {
  return new PostgresPlatformBus(options);
}
