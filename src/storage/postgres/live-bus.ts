import { createHash } from "node:crypto";
import type pg from "pg";
import { logger } from "../../logger.js";
import { requireOptional } from "../../optional-dependency.js";
import { type LiveBus, type LiveListener, type LiveSignal, decodeSignal } from "../../runners/durable/live-bus.js";

/** Loaded through the optional-dependency loader, like the store: without pg the entry fails with what to install. */
const { Client } = requireOptional<typeof pg>({ specifier: "pg", packageName: "pg", version: "8", neededBy: "PostgresAgentRunner" });

export interface PostgresLiveBusOptions {
  /** How to open the listening connection (a connection string, or a pool's options). */
  connection: pg.ClientConfig;
  /** The channel the store NOTIFYs on (`liveChannel(schema, prefix)`). */
  channel: string;
  /** First pause before reconnecting a dropped listening connection; doubles up to 5 s. Default 100 ms. */
  reconnectMs?: number;
}

/**
 * The channel of one schema and table prefix: instances sharing tables share it, and tests (or
 * tenants) in other schemas of the same database hear nothing of each other.
 */
export function liveChannel(schema: string | undefined, prefix: string): string {
  return `copilot_live_${createHash("sha256").update(`${schema ?? ""}\u0000${prefix}`).digest("hex").slice(0, 16)}`;
}

/**
 * `LiveBus` over PostgreSQL `LISTEN/NOTIFY`. The store NOTIFYs inside its write transactions
 * (PostgreSQL delivers a notification only when its transaction commits, in commit order), so
 * `publish` has nothing to do. Each runner holds ONE dedicated connection that LISTENs on the
 * channel, opened when the first subscription is made, and dispatches each notification to
 * the listeners of its thread (one per thread per instance, however many clients follow it).
 * A dropped connection is reopened with backoff; after every (re)connect each subscriber gets
 * `resync` and reads once, which covers whatever was announced while nobody listened.
 */
export class PostgresLiveBus implements LiveBus {
  private readonly listeners = new Map<string, Set<LiveListener>>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs: number;
  private closed = false;

  constructor(private readonly options: PostgresLiveBusOptions) {
    this.retryMs = options.reconnectMs ?? 100;
  }

  publish(_signal: LiveSignal): void {
    // The store's transaction already sent it (NOTIFY is delivered on commit).
  }

  subscribe(threadId: string, listener: LiveListener): () => void {
    let set = this.listeners.get(threadId);
    if (set === undefined) this.listeners.set(threadId, (set = new Set()));
    set.add(listener);
    this.start();
    return () => {
      const current = this.listeners.get(threadId);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(threadId);
    };
  }

  start(): void {
    if (this.client === undefined && this.connecting === undefined && this.retryTimer === undefined) this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connect(): void {
    if (this.closed) return;
    const client = new Client(this.options.connection);
    // A failed connection is reported once here (and reopened); never crashes the process.
    client.on("error", (error) => this.dropped(client, error));
    client.on("end", () => this.dropped(client, undefined));
    client.on("notification", (message) => {
      if (message.channel !== this.options.channel || message.payload === undefined) return;
      const signal = decodeSignal(message.payload);
      if (signal !== undefined) this.dispatch(signal.threadId, signal);
    });
    this.connecting = (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN "${this.options.channel}"`);
        if (this.closed) {
          await client.end().catch(() => {});
          return;
        }
        this.client = client;
        this.retryMs = this.options.reconnectMs ?? 100;
        // Whatever was announced before the LISTEN took effect: every subscriber reads once.
        for (const threadId of [...this.listeners.keys()]) this.dispatch(threadId, { kind: "resync", threadId, seq: 0 });
      } catch (error) {
        await client.end().catch(() => {});
        this.dropped(client, error);
      } finally {
        this.connecting = undefined;
      }
    })();
  }

  private dropped(client: pg.Client, error: unknown): void {
    if (this.closed) return;
    if (this.client === client) this.client = undefined;
    else if (this.client !== undefined) return; // a late event of an old connection
    if (this.retryTimer !== undefined) return;
    if (error !== undefined) logger.warn({ err: error }, `the PostgreSQL LISTEN connection failed; reconnecting in ${this.retryMs} ms`);
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void (this.connecting ?? Promise.resolve()).then(() => {
        if (this.client === undefined && this.connecting === undefined) this.connect();
      });
    }, wait);
    this.retryTimer.unref();
  }

  private dispatch(threadId: string, signal: LiveSignal): void {
    const set = this.listeners.get(threadId);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(signal);
      } catch (error) {
        logger.error({ err: error, threadId }, `a live-bus listener of thread ${threadId} failed`);
      }
    }
  }
}
