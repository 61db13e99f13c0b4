import { type Logger, logger as processLogger, toLogger } from "../logger.js";
import { createApiKeyRegistry } from "./api-keys.js";
import { type PlatformBus, createInProcessBus } from "./bus.js";
import { createClientSocketHandler } from "./channels/client-socket.js";
import { RunDeliveryCursors } from "./channels/run-cursors.js";
import { type RunnerAssigns, createRunnerSocketHandler } from "./channels/runner-channel.js";
import type { ClientAssigns } from "./channels/thread-channel.js";
import type { PlatformDeps } from "./context.js";
import { FanOut } from "./fan-out.js";
import { RunFinalizer } from "./finalizer.js";
import { createJoinTokens } from "./join-tokens.js";
import type { SocketHandler } from "./phoenix/types.js";
import { createRestApi } from "./rest-api.js";
import type { IntelligenceStore } from "./store/types.js";

/** Options of the Intelligence platform. */
export interface IntelligencePlatformOptions {
  /** Threads, runs, locks and the event log (memory, SQLite or PostgreSQL). The platform migrates it at start; it does not close it. */
  store: IntelligenceStore;
  /** Accepted API keys, each `cpk-<projectId>_<secret>`; the project comes from the key. */
  apiKeys: readonly string[];
  /** HMAC key for join tokens. Set it (the same on every instance), or tokens die with the process. */
  tokenSecret?: string | Uint8Array;
  /** Browser origins allowed on `/client` sockets. Default: all (logged as a warning). */
  clientOrigins?: readonly string[];
  /** Lock TTL when the runtime sends none (default 20 s) and the longest accepted (default 3600 s). */
  lockTtlSeconds?: { default?: number; max?: number };
  /** Join token lifetimes: thread tokens (default 30 min) and user_meta tokens (default 12 h). */
  tokenTtlMs?: { thread?: number; userMeta?: number };
  /** How often runs with a lapsed lock are finalized. Default 5 s. */
  sweepIntervalMs?: number;
  /** Wake-ups between instances. Default: in-process (one instance). */
  bus?: PlatformBus;
  /** Epoch milliseconds, for tests. Default `Date.now`. */
  clock?: () => number;
  /** Default: the process-wide logger. */
  logger?: Logger;
  /** Largest REST body. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** The transport-independent platform: REST handler, the two socket handlers, the background finalizer. */
export interface PlatformCore {
  deps: PlatformDeps;
  fanOut: FanOut;
  finalizer: RunFinalizer;
  rest: (request: Request) => Promise<Response>;
  runnerSocket: SocketHandler<RunnerAssigns>;
  clientSocket: SocketHandler<ClientAssigns>;
  /** Stops the sweep and the fan-out; does not close the store or the bus. */
  close(): void;
}

/**
 * Builds the platform's parts from validated options. `createIntelligencePlatform` puts the
 * Phoenix servers in front of them; tests drive them directly.
 *
 * @throws TypeError on an option of the wrong type.
 */
export function createPlatformCore(options: IntelligencePlatformOptions): PlatformCore {
  validateOptions(options);
  const log = options.logger ? toLogger(options.logger) : processLogger;
  const now = options.clock ?? Date.now;
  const tokens = createJoinTokens({
    ...(options.tokenSecret !== undefined ? { secret: options.tokenSecret } : {}),
    ...(options.tokenTtlMs?.thread !== undefined ? { threadTtlMs: options.tokenTtlMs.thread } : {}),
    ...(options.tokenTtlMs?.userMeta !== undefined ? { userMetaTtlMs: options.tokenTtlMs.userMeta } : {}),
    now,
    warn: (message) => log.warn({}, message),
  });
  const deps: PlatformDeps = { store: options.store, bus: options.bus ?? createInProcessBus(), tokens, now, log };
  const apiKeys = createApiKeyRegistry(options.apiKeys);
  const fanOut = new FanOut(deps);
  const finalizer = new RunFinalizer(deps, fanOut, options.sweepIntervalMs !== undefined ? { sweepIntervalMs: options.sweepIntervalMs } : {});
  if (options.clientOrigins === undefined) {
    log.warn({}, "Intelligence platform: no clientOrigins configured; /client sockets accept every browser origin.");
  }
  const allowedOrigins = options.clientOrigins === undefined ? null : new Set(options.clientOrigins);
  const rest = createRestApi(deps, {
    apiKeys,
    finalizer,
    ...(options.lockTtlSeconds?.default !== undefined ? { defaultLockTtlSeconds: options.lockTtlSeconds.default } : {}),
    ...(options.lockTtlSeconds?.max !== undefined ? { maxLockTtlSeconds: options.lockTtlSeconds.max } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  const cursors = new RunDeliveryCursors(now);
  // Cursors other instances share when a run-mode channel ends there (see the `run_cursor` message).
  const stopHearingCursors = deps.bus.subscribe((message) => {
    if (message.type === "run_cursor" && cursors.get(message.tokenId, message.runId) < message.seq) cursors.set(message.tokenId, message.runId, message.seq, message.expiresAt);
  });
  return {
    deps,
    fanOut,
    finalizer,
    rest,
    runnerSocket: createRunnerSocketHandler(deps, fanOut, apiKeys, finalizer),
    clientSocket: createClientSocketHandler({ deps, fanOut, finalizer, cursors }, { allowedOrigins }),
    close() {
      stopHearingCursors();
      finalizer.stop();
      fanOut.close();
    },
  };
}

function validateOptions(options: IntelligencePlatformOptions): void {
  if (typeof options !== "object" || options === null) throw new TypeError("Intelligence platform options must be an object");
  const store = options.store as Partial<IntelligenceStore> | undefined;
  if (typeof store !== "object" || store === null || typeof store.appendRunEvents !== "function" || typeof store.migrate !== "function") {
    throw new TypeError("options.store must be an IntelligenceStore (memory, SQLite or PostgreSQL)");
  }
  if (!Array.isArray(options.apiKeys)) throw new TypeError("options.apiKeys must be an array of cpk-<projectId>_<secret> keys");
  const secret = options.tokenSecret;
  if (secret !== undefined && typeof secret !== "string" && !(secret instanceof Uint8Array)) throw new TypeError("options.tokenSecret must be a string or a Uint8Array");
  if (options.clientOrigins !== undefined && (!Array.isArray(options.clientOrigins) || options.clientOrigins.some((origin) => typeof origin !== "string"))) {
    throw new TypeError("options.clientOrigins must be an array of origins such as https://app.example.com");
  }
  positive(options.lockTtlSeconds?.default, "options.lockTtlSeconds.default");
  positive(options.lockTtlSeconds?.max, "options.lockTtlSeconds.max");
  positive(options.tokenTtlMs?.thread, "options.tokenTtlMs.thread");
  positive(options.tokenTtlMs?.userMeta, "options.tokenTtlMs.userMeta");
  positive(options.sweepIntervalMs, "options.sweepIntervalMs");
  positive(options.maxBodyBytes, "options.maxBodyBytes");
  if (options.clock !== undefined && typeof options.clock !== "function") throw new TypeError("options.clock must be a function returning epoch milliseconds");
  if (options.bus !== undefined && (typeof options.bus !== "object" || typeof options.bus.publish !== "function")) throw new TypeError("options.bus must be a PlatformBus");
}

function positive(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
}
