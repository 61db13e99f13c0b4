import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import { type Logger, logger as processLogger, toLogger } from "../logger.js";
import { requireOptional } from "../optional-dependency.js";
import { assertIdentifier } from "../storage/sql-names.js";
import type { PlatformBus, PlatformBusListener, PlatformBusMessage } from "./bus.js";
import { DEFAULT_TABLE_PREFIX } from "./store/table-names.js";

/** Loaded when this module is: without pg the import fails, saying what to install. */
const { Client, Pool } = requireOptional<typeof pg>({ specifier: "pg", packageName: "pg", version: "8", neededBy: "createPostgresPlatformBus" });

export interface PostgresPlatformBusOptions {
  /** `postgres://user:password@host:5432/database`. Ignored when `pool` is given. */
  connectionString?: string;
  /**
   * A `pg` pool to publish through (for example the store's); the bus does not end it. Its
   * LISTEN connection is then one client checked out of this pool for the bus's lifetime.
   */
  pool?: pg.Pool;
  /**
   * The NOTIFY channel. Every instance of one deployment must use the same one. Default: derived
   * from `schema` and `tablePrefix`, so instances sharing the store's tables share the channel and
   * other deployments (or tests) in the same database hear nothing of each other.
   */
  channel?: string;
  /** The store's schema (where the overflow table lives). Default: the connection's `search_path`. */
  schema?: string;
  /** The store's table prefix (the overflow table is `<prefix>bus_overflow`). Default `"cpki_"`. */
  tablePrefix?: string;
  /** First pause before reopening a lost LISTEN connection; doubles up to 5 s. Default 100 ms. */
  reconnectMs?: number;
  /** Default: the process-wide logger. */
  logger?: Logger;
}

/** The PostgreSQL bus, with what tests and health checks need beyond the port. */
export interface PostgresPlatformBus extends PlatformBus {
  /** Resolves once the LISTEN connection is open (the first time, or after a reconnect). */
  listening(): Promise<void>;
  /** The NOTIFY channel in use. */
  readonly channel: string;
  /** Set on the LISTEN connection as `application_name` (operators can spot it in `pg_stat_activity`). */
  readonly applicationName: string;
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
 * - Publishing NOTIFYs through the pool (retried twice on a failed query) and delivers to this
 *   instance's listeners directly, so local delivery never waits for, or depends on, the
 *   database round trip; an instance ignores its own notifications when they come back.
 * - A message over 7.5 kB (a `user_meta` thread record with a very long name) is stored in
 *   `<prefix>bus_overflow` and announced by id; receivers read the row. Notifications are
 *   handled one at a time in arrival order, so an overflowed message is not overtaken.
 * - One dedicated connection LISTENs. When it is lost it is reopened with backoff (100 ms
 *   doubling to 5 s), and after every (re)connect listeners receive `{type:"resync"}`: each
 *   instance then re-reads its followed threads from the store, so thread events published
 *   meanwhile are delayed, never lost. (`user_meta` pushes and stop requests published during
 *   the gap are lost for this instance: thread lists refresh on their next change; a stop falls
 *   back to the lock TTL.)
 *
 * Enable it on every instance, with the same `tokenSecret` and the same store tables:
 * @example
 * const store = new PostgresIntelligenceStore({ connectionString: url, schema: "intelligence" });
 * const bus = createPostgresPlatformBus({ connectionString: url, schema: "intelligence" });
 * const platform = await serveIntelligencePlatform({ store, bus, apiKeys, tokenSecret, port: 4100 });
 * // on shutdown: await platform.close(); await bus.close(); await store.close();
 */
export function createPostgresPlatformBus(options: PostgresPlatformBusOptions): PostgresPlatformBus {
  if (typeof options !== "object" || options === null) throw new TypeError("createPostgresPlatformBus options must be an object");
  if (options.pool === undefined && typeof options.connectionString !== "string") {
    throw new TypeError("createPostgresPlatformBus needs `connectionString` (postgres://...) or `pool`");
  }
  const prefix = assertIdentifier(options.tablePrefix ?? DEFAULT_TABLE_PREFIX, "tablePrefix", true);
  if (options.schema !== undefined) assertIdentifier(options.schema, "schema");
  const channel = options.channel ?? platformBusChannel(options.schema, prefix);
  if (typeof channel !== "string" || !CHANNEL.test(channel)) throw new TypeError(`channel must be a plain identifier of at most 63 characters, got '${String(channel)}'`);
  const firstRetryMs = options.reconnectMs ?? 100;
  if (typeof firstRetryMs !== "number" || !Number.isFinite(firstRetryMs) || firstRetryMs <= 0) throw new TypeError("reconnectMs must be a positive number");

  const log = options.logger ? toLogger(options.logger) : processLogger;
  const instanceId = randomUUID();
  const applicationName = `cpki-bus-${instanceId.slice(0, 8)}`;
  const overflowTable = options.schema === undefined ? `"${prefix}bus_overflow"` : `"${options.schema}"."${prefix}bus_overflow"`;
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new Pool({ connectionString: options.connectionString, max: 2 });
  if (ownsPool) pool.on("error", (err) => log.warn({ err }, "Intelligence bus: an idle PostgreSQL connection failed"));

  const listeners = new Set<PlatformBusListener>();
  let listener: { client: pg.Client | pg.PoolClient; release(err?: Error): Promise<void> } | undefined;
  let connecting: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = firstRetryMs;
  let closed = false;
  let overflowReady: Promise<void> | undefined;
  /** Incoming notifications, handled in order (an overflow read must not let later ones pass). */
  let inbox: Promise<void> = Promise.resolve();
  const waiting: Array<() => void> = [];

  const dispatch = (message: PlatformBusMessage): void => {
    for (const each of [...listeners]) {
      try {
        each(message);
      } catch (err) {
        // A failing listener must not starve the others.
        log.error({ err, type: message.type }, "Intelligence bus: a listener failed");
      }
    }
  };

  const ensureOverflowTable = (): Promise<void> => {
    overflowReady ??= (async () => {
      try {
        await pool.query(`CREATE TABLE IF NOT EXISTS ${overflowTable} (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      } catch (err) {
        // Two instances creating it at once: the loser sees a duplicate type/table; the table exists.
        const code = (err as { code?: string }).code;
        if (code !== "23505" && code !== "42P07") {
          overflowReady = undefined;
          throw err;
        }
      }
    })();
    return overflowReady;
  };

  const notify = async (payload: string): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await pool.query("SELECT pg_notify($1, $2)", [channel, payload]);
        return;
      } catch (err) {
        if (attempt >= PUBLISH_ATTEMPTS || closed) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  };

  const receive = (raw: string): void => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      log.warn({ channel }, "Intelligence bus: ignored a notification that is not JSON");
      return;
    }
    if (typeof envelope !== "object" || envelope === null || envelope.i === instanceId) return;
    inbox = inbox.then(async () => {
      try {
        if ("m" in envelope) return dispatch(envelope.m);
        const { rows } = await pool.query<{ payload: string }>(`SELECT payload FROM ${overflowTable} WHERE id = $1`, [envelope.r]);
        if (rows[0] === undefined) {
          log.warn({ id: envelope.r }, "Intelligence bus: an overflowed message was already pruned; dropped");
          return;
        }
        dispatch(JSON.parse(rows[0].payload) as PlatformBusMessage);
      } catch (err) {
        log.error({ err }, "Intelligence bus: failed to read an overflowed message");
      }
    });
  };

  const openConnection = async (): Promise<{ client: pg.Client | pg.PoolClient; release(err?: Error): Promise<void> }> => {
    if (ownsPool) {
      const client = new Client({ connectionString: options.connectionString, application_name: applicationName });
      // Listeners first: a connection that fails while connecting must not throw unhandled.
      client.on("error", (err) => dropped(client, err));
      client.on("end", () => dropped(client, undefined));
      await client.connect();
      return { client, release: () => client.end().catch(() => {}) };
    }
    const client = await pool.connect();
    client.on("error", (err) => dropped(client, err));
    client.on("end", () => dropped(client, undefined));
    await client.query(`SET application_name = '${applicationName}'`);
    return {
      client,
      async release(err) {
        // A broken client is destroyed rather than returned to the pool.
        client.release(err ?? true);
      },
    };
  };

  const connect = (): void => {
    if (closed) return;
    connecting = (async () => {
      let opened: Awaited<ReturnType<typeof openConnection>> | undefined;
      try {
        opened = await openConnection();
        opened.client.on("notification", (note) => {
          if (note.channel === channel && note.payload !== undefined) receive(note.payload);
        });
        await opened.client.query(`LISTEN "${channel}"`);
        if (closed) {
          await opened.release();
          return;
        }
        listener = opened;
        retryMs = firstRetryMs;
        for (const resolve of waiting.splice(0)) resolve();
        // Whatever was published while nobody listened here: every follower re-reads the store.
        dispatch({ type: "resync" });
      } catch (err) {
        if (opened !== undefined) await opened.release(err instanceof Error ? err : undefined);
        connecting = undefined;
        scheduleReconnect(err);
      } finally {
        connecting = undefined;
      }
    })();
  };

  const dropped = (client: pg.Client | pg.PoolClient, err: unknown): void => {
    if (closed || listener?.client !== client) return; // a late event of a connection already given up
    const lost = listener;
    listener = undefined;
    void lost.release(err instanceof Error ? err : new Error("LISTEN connection ended"));
    scheduleReconnect(err);
  };

  const scheduleReconnect = (err: unknown): void => {
    if (closed || retryTimer !== undefined) return;
    const wait = retryMs;
    retryMs = Math.min(retryMs * 2, 5_000);
    log.warn({ err, retryInMs: wait }, "Intelligence bus: the PostgreSQL LISTEN connection was lost; reconnecting");
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (listener === undefined && connecting === undefined) connect();
    }, wait);
    retryTimer.unref();
  };

  connect();

  return {
    shared: true,
    channel,
    applicationName,
    async publish(message) {
      if (closed) return;
      // Local listeners first, on a microtask (never inside the publisher's call stack).
      void Promise.resolve().then(() => dispatch(message));
      const inline = JSON.stringify({ i: instanceId, m: message } satisfies Envelope);
      if (Buffer.byteLength(inline) <= MAX_INLINE_BYTES) return notify(inline);
      await ensureOverflowTable();
      const { rows } = await pool.query<{ id: string }>(`INSERT INTO ${overflowTable} (payload) VALUES ($1) RETURNING id`, [JSON.stringify(message)]);
      await notify(JSON.stringify({ i: instanceId, r: rows[0].id } satisfies Envelope));
      // Housekeeping on the (rare) overflow path only; a failure here costs nothing but space.
      pool.query(`DELETE FROM ${overflowTable} WHERE created_at < now() - interval '${OVERFLOW_RETENTION}'`).catch(() => {});
    },
    subscribe(each) {
      listeners.add(each);
      return () => listeners.delete(each);
    },
    listening() {
      if (listener !== undefined) return Promise.resolve();
      if (closed) return Promise.reject(new Error("The Intelligence bus is closed"));
      return new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      await connecting?.catch(() => {});
      const current = listener;
      listener = undefined;
      listeners.clear();
      await current?.release();
      await inbox;
      if (ownsPool) await pool.end().catch(() => {});
    },
  };
}
