/**
 * `serve --intelligence` at run time: opens the platform's store (the same durable choice as the
 * runtime's threads), builds the platform, and gives the server what it needs to put the platform
 * on its port: a request listener for the platform's paths, an `upgrade` handler for its
 * WebSockets, a readiness check, and the drain for shutdown.
 */
import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { Duplex } from "node:stream";
import { sendWebResponse } from "../adapters/node-response.js";
import { toWebRequest } from "../adapters/node-request.js";
import type { PlatformBus } from "../intelligence/bus.js";
import { type IntelligencePlatform, createIntelligencePlatform } from "../intelligence/platform.js";
import { MemoryIntelligenceStore } from "../intelligence/store/memory.js";
import type { IntelligenceStore } from "../intelligence/store/types.js";
import type { Logger } from "../logger.js";
import { MissingDependencyError } from "../missing-dependency-error.js";
import type { ReadinessCheck } from "../observability/health.js";
import { type StorageArgs, removeFiles, storageKind, storageTarget } from "../runners/select-runner.js";
import type { IntelligenceSettings } from "./intelligence.js";

type Env = Record<string, string | undefined>;

/** The platform, running (store migrated), with what the server wires to it. */
export interface ServedPlatform {
  platform: IntelligencePlatform;
  /** For the start-up line, e.g. `SQLite /srv/copilot-runtime.db (tables cpki_*)`. */
  storeDescription: string;
  /** A warning to print about the store (threads in memory), if any. */
  storeWarning?: string;
  /** Serves a request whose path belongs to the platform (see `isPlatformPath`). */
  listener(req: IncomingMessage, res: ServerResponse): void;
  /** For the server's `upgrade` event: the platform's WebSockets, a 404 for any other path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** `/readyz`: the store is migrated and answers a query. */
  readiness: ReadinessCheck;
  /** Files this start created (a new SQLite file), for a start that fails later to remove. */
  createdFiles: string[];
  /**
   * Drains the platform: runner WebSockets close with 1012 and long-poll sessions end (CopilotKit's
   * runner reconnects), browser sockets close with 1001. The REST API keeps answering.
   */
  drain(): Promise<void>;
  /** Drains if not done yet, then closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the store and starts the platform; resolves once the store is migrated. Throws an
 * `Error` whose message is for the user when the store cannot be opened or migrated.
 *
 * @example
 * ```ts
 * const served = await startPlatform(settings, args.storage, process.env, process.cwd(), log);
 * server.on("upgrade", served.upgrade);
 * ```
 */
export async function startPlatform(settings: IntelligenceSettings, storage: StorageArgs, env: Env, cwd: string, log: Logger): Promise<ServedPlatform> {
  const opened = settings.store !== undefined ? configStore(settings.store) : await openStore(storage, env, cwd, log);
  let platform: IntelligencePlatform;
  try {
    platform = createIntelligencePlatform({
      store: opened.store,
      ...(opened.bus !== undefined ? { bus: opened.bus } : {}),
      apiKeys: settings.apiKeys,
      ...(settings.tokenSecret !== undefined ? { tokenSecret: settings.tokenSecret } : {}),
      ...(settings.clientOrigins !== undefined ? { clientOrigins: settings.clientOrigins } : {}),
      ...(settings.lockTtlSeconds !== undefined ? { lockTtlSeconds: settings.lockTtlSeconds } : {}),
      ...(settings.tokenTtlMs !== undefined ? { tokenTtlMs: settings.tokenTtlMs } : {}),
      logger: log,
    });
    await platform.ready;
  } catch (error) {
    await opened.bus?.close().catch(() => {});
    await opened.store.close().catch(() => {});
    removeFiles(opened.createdFiles);
    throw new Error(`Cannot start the Intelligence platform on ${opened.description}: ${(error as Error).message}`);
  }
  const { store } = opened;
  let drained: Promise<void> | undefined;
  const drain = () => (drained ??= platform.close());
  return {
    platform,
    storeDescription: opened.description,
    ...(opened.warning !== undefined ? { storeWarning: opened.warning } : {}),
    createdFiles: opened.createdFiles,
    listener(req, res) {
      void platform.fetch(toWebRequest(req, res)).then(
        (response) => sendWebResponse(res, response),
        () => res.destroy(),
      );
    },
    upgrade(req, socket, head) {
      if (platform.handleUpgrade(req, socket, head)) return;
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    },
    readiness: {
      reason: "intelligence_unavailable",
      message: "The Intelligence platform's store is unreachable or was not migrated (see the server logs).",
      // A thread nobody can own (project ids are positive): one trivial query, no data.
      check: async () => {
        await platform.ready;
        await store.getThread("0", "readyz-probe");
      },
    },
    drain,
    async close() {
      await drain();
      // A bus passed in is the caller's to close; the platform closes only its own.
      await opened.bus?.close();
      // The config file's store too: nothing else in this process would close it before exit.
      await store.close();
    },
  };
}

interface OpenedStore {
  store: IntelligenceStore;
  /** PostgreSQL's LISTEN/NOTIFY bus, so several instances on one database fan out to each other's sockets. */
  bus?: PlatformBus;
  description: string;
  warning?: string;
  createdFiles: string[];
}

function configStore(store: IntelligenceStore): OpenedStore {
  return { store, description: `the config file's ${store.kind} store`, createdFiles: [] };
}

/**
 * The store for the storage flags: PostgreSQL for a postgres:// target, a SQLite file for any
 * other (the runtime's own file: the platform's tables are prefixed `cpki_`, the runtime's
 * `copilot_`), memory for `--memory` or `:memory:`.
 */
async function openStore(storage: StorageArgs, env: Env, cwd: string, log: Logger): Promise<OpenedStore> {
  const kind = storageKind(storage, env);
  if (kind === "memory") {
    return {
      store: new MemoryIntelligenceStore(),
      description: "memory",
      warning: "intelligence: threads, runs and events in memory: lost on restart (--db <file> or --db postgres://... to keep them)",
      createdFiles: [],
    };
  }
  const target = storageTarget(storage, env);
  if (kind === "postgres") {
    const what = `PostgreSQL ${redact(target)}`;
    const { PostgresIntelligenceStore, PostgresPlatformBus } = await load(() => import("../intelligence/postgres-entry.js"), what);
    // The runtime's runner opens 10 connections by default; the platform's pool is the same size.
    const store = new PostgresIntelligenceStore({ connectionString: target, maxConnections: 10 });
    // Instances on this database (each one process) then see each other's runs, stops and thread list changes.
    const bus = new PostgresPlatformBus({ connection: target, logger: log });
    return { store, bus, description: `${what} (tables cpki_*; instances on it share LISTEN/NOTIFY wake-ups)`, createdFiles: [] };
  }
  const file = path.resolve(cwd, target);
  const what = `SQLite ${file}`;
  const { SqliteIntelligenceStore } = await load(() => import("../intelligence/store/sqlite.js"), what);
  const createdFiles = existsSync(file) ? [] : ["", "-wal", "-shm", "-journal"].map((suffix) => file + suffix);
  let store: IntelligenceStore;
  try {
    store = new SqliteIntelligenceStore({ path: file });
  } catch (error) {
    throw new Error(`Cannot keep Intelligence threads in ${what}: ${(error as Error).message}`);
  }
  return { store, description: `${what} (tables cpki_*)`, createdFiles };
}

async function load<M>(importModule: () => Promise<M>, what: string): Promise<M> {
  try {
    return await importModule();
  } catch (error) {
    if (!(error instanceof MissingDependencyError)) throw error;
    throw new Error(`Cannot keep Intelligence threads in ${what}: ${error.message} Or start with --memory to keep them in memory.`);
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}
