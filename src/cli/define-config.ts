/**
 * The shape of `copilot-runtime.config.{ts,mjs,js}`, the file `copilot-runtime serve` loads to register
 * agents and runtime options. No Node-only imports: this is part of the public API.
 */
import type { AgentsOption, CopilotRuntimeOptions } from "../runtime.js";
import type { CopilotCorsConfig } from "../http/cors.js";
import type { RequestLimits } from "../http/handler.js";
import type { CopilotRuntimeHooks } from "../http/hooks.js";
import type { IntelligenceStore } from "../intelligence/store/types.js";
import type { TranscriptionService } from "../transcription/transcription-service.js";

/**
 * Options of the {@link CopilotRuntime} the CLI builds. `transcriptionService: false` turns `/transcribe`
 * off even when `OPENAI_API_KEY` is set (by default the CLI enables it then).
 */
export interface CopilotRuntimeConfigRuntimeOptions extends Omit<CopilotRuntimeOptions, "agents" | "transcriptionService"> {
  transcriptionService?: TranscriptionService | false;
}

/**
 * What a config file exports. Command-line flags win over the file, and `PORT`/`HOST` in the
 * environment win over `port`/`host` (hosting platforms set them).
 */
export interface CopilotRuntimeConfig {
  /**
   * The agents by id (the id is the `agent` a client names; `default` is the one used when it names none):
   * `BuiltInAgent`s, `HttpAgent`s pointing at remote AG-UI servers, instances of your own `AbstractAgent`
   * subclasses, or a promise of such a record, or a per-request factory. Left out, the CLI picks the agent
   * from the environment, as without a config file.
   */
  agents?: AgentsOption;
  /**
   * Runtime options: `identifyUser`, `beforeRequestMiddleware`, `afterRequestMiddleware`, `forwardHeaders`, `runner`,
   * `transcriptionService`, `a2ui`, `mcpApps`, `openGenerativeUI`, `debug`, and Intelligence mode
   * (`intelligence: new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey })` with `identifyUser`, `generateThreadNames`, the lock options).
   */
  runtime?: CopilotRuntimeConfigRuntimeOptions;
  /** Where the endpoint answers. Default `/api/copilotkit`; `--base-path` wins. */
  basePath?: string;
  /** Default 3001; `--port` and `PORT` win. */
  port?: number;
  /** Default `0.0.0.0`; `--host` and `HOST` win. */
  host?: string;
  /** CORS: permissive (`*`, no credentials) by default; `false` turns it off. */
  cors?: boolean | CopilotCorsConfig;
  /** Limits of the HTTP endpoint. */
  endpoint?: {
    /** Largest accepted JSON body, in bytes. Default 10 MB. */
    maxBodyBytes?: number;
    /** Largest accepted audio upload for `/transcribe`, in bytes. Default 25 MB. */
    maxAudioBytes?: number;
    /** Idle time before an event stream gets a `: ping` comment. Default 15 s. */
    heartbeatMs?: number;
    /**
     * Request limits (see `createCopilotRuntimeHandler`): open event streams `maxStreams`
     * (default 10,000) and `maxStreamsPerUser` (64), `0` for no limit, past one 429
     * `too_many_streams` with `Retry-After: retryAfterSeconds` (5); `--max-streams` and
     * `--max-streams-per-user` win. Input limits `maxJsonDepth` (64), `maxIdLength` (256),
     * `maxNameLength` (1024).
     */
    limits?: RequestLimits;
    /** Request lifecycle hooks, as in CopilotKit: `onRequest`, `onBeforeHandler`, `onResponse`, `onError`. */
    hooks?: CopilotRuntimeHooks;
  };
  /**
   * The HTTP server, times in milliseconds (`0` turns a timeout off); the flags of the same
   * names win (`--headers-timeout`, `--request-timeout`, `--keep-alive-timeout`, `--backlog`).
   */
  server?: {
    /** Time to receive a request's headers. Default 10 s. */
    headersTimeoutMs?: number;
    /** Time to receive a whole request, headers and body (an event stream that follows is not cut). Default 30 s. */
    requestTimeoutMs?: number;
    /** How long an idle kept-alive connection stays open. Default 65 s. */
    keepAliveTimeoutMs?: number;
    /** Connections waiting to be accepted (`listen` backlog; the kernel caps it at `net.core.somaxconn`). Default 4096. */
    backlog?: number;
  };
  /**
   * Prometheus metrics at `GET /metrics`: on by default. `false` turns them off; `{ port }` serves
   * them (with `/healthz` and `/readyz`) on a port of their own instead of the main one.
   * `--metrics-port` and `--no-metrics` win.
   */
  metrics?: boolean | { port?: number };
  /**
   * `serve`'s log output: `format` `"json"` (pino-compatible lines; the default when stdout is not a
   * terminal) or `"pretty"` (the default on a terminal), and `level` (`"info"` by default; `"debug"`,
   * `"warn"`, `"error"`, `"silent"`). `--log-format` and `--log-level` win. A `runtime.logger` in
   * this file replaces the output for the runtime's lines.
   */
  log?: { format?: "json" | "pretty"; level?: "debug" | "info" | "warn" | "error" | "silent" };
  /**
   * HTTP worker processes sharing the port (Node's `cluster`). Default: one per core when threads
   * are kept in a SQLite file or PostgreSQL, 1 with threads in memory (which cannot be shared, so
   * more is a start-up error) or with a `runtime.runner` of this file's own. `--workers` wins.
   */
  workers?: number;
  /**
   * The live bus between instances and workers: a `redis://` URL for Redis pub/sub (needs the
   * `ioredis` package), or a `nats://` URL for NATS (needs `nats`). Default: PostgreSQL's LISTEN/NOTIFY, or for SQLite the workers' own
   * channel through the primary process. `--bus` wins.
   */
  bus?: string;
  /**
   * The self-hosted CopilotKit Intelligence platform (REST `/api/threads...`, Phoenix sockets
   * `/runner` and `/client`) on the same port. Present, it is served (like `--intelligence`)
   * unless `mode` says otherwise; `--intelligence` and `--intelligence-only` win over `mode`.
   */
  intelligence?: CopilotRuntimeIntelligenceConfig;
}

/** The config file's `intelligence` section. Unknown keys are a start-up error, as elsewhere in the file. */
export interface CopilotRuntimeIntelligenceConfig {
  /** `"beside"` (default): beside the runtime; `"only"`: the platform alone, no runtime; `"off"`: not served. */
  mode?: "beside" | "only" | "off";
  /**
   * Accepted API keys, `cpk-<projectId>_<secret>`; the project comes from the key. The
   * `COPILOT_INTELLIGENCE_API_KEYS` environment variable (comma-separated) wins.
   */
  apiKeys?: string[];
  /**
   * HMAC key for browser join tokens. Without one, tokens are signed with a random key and die
   * with the process. `COPILOT_INTELLIGENCE_TOKEN_SECRET` wins.
   */
  tokenSecret?: string;
  /** Browser origins allowed on `/client` sockets, e.g. `["https://app.example.com"]`. Default: every origin (logged as a warning). */
  clientOrigins?: string[];
  /**
   * Where threads, runs and events are kept. Default: the store the storage flags choose (the
   * same SQLite file as the runtime, PostgreSQL for a postgres:// `--db`, memory for `--memory`).
   */
  store?: IntelligenceStore;
  /** Lock TTL when the runtime sends none (default 20 s) and the longest accepted (default 3600 s). */
  lockTtlSeconds?: { default?: number; max?: number };
  /** Join token lifetimes: thread tokens (default 30 min) and `user_meta` tokens (default 12 h). */
  tokenTtlMs?: { thread?: number; userMeta?: number };
  /**
   * `true`: the runtime on this port runs in Intelligence mode on this platform, in process (REST
   * calls and runner sockets are direct calls, no network hop), with the first API key. Needs
   * `runtime.identifyUser`; excludes `runtime.intelligence` and `runtime.runner`. Default false.
   */
  runtime?: boolean;
  /**
   * With `runtime: true`: the platform's public realtime address, where browsers open
   * `<publicWsUrl>/client` (e.g. `"wss://app.example.com"` behind TLS). Default
   * `ws://<host>:<port>` of this server (a fixed port is then needed).
   */
  publicWsUrl?: string;
}

/** What a config factory receives. */
export interface CopilotRuntimeConfigContext {
  /** The environment the CLI runs in. */
  env: Record<string, string | undefined>;
}

/** A config computed at start-up, for setups that need to await something first. */
export type CopilotRuntimeConfigFactory = (
  context: CopilotRuntimeConfigContext,
) => CopilotRuntimeConfig | Promise<CopilotRuntimeConfig>;

/**
 * Types a config file's default export; returns it unchanged.
 *
 * @example
 * ```ts
 * // copilot-runtime.config.mjs (or .ts with a TypeScript loader)
 * import { BuiltInAgent } from "copilot-runtime/built-in";
 * import { defineConfig } from "copilot-runtime/config";
 * import { HttpAgent } from "@ag-ui/client";
 *
 * export default defineConfig({
 *   agents: {
 *     default: new BuiltInAgent({ model: "openai/gpt-4.1", prompt: "You are a helpful assistant." }),
 *     research: new HttpAgent({ url: "http://localhost:8000/agent" }),
 *   },
 *   runtime: {
 *     identifyUser: (request) => ({ id: request.headers.get("x-user-id") ?? "anonymous" }),
 *   },
 *   basePath: "/api/copilotkit",
 * });
 * ```
 */
export function defineConfig(config: CopilotRuntimeConfig): CopilotRuntimeConfig;
export function defineConfig(config: CopilotRuntimeConfigFactory): CopilotRuntimeConfigFactory;
export function defineConfig(
  config: CopilotRuntimeConfig | CopilotRuntimeConfigFactory,
): CopilotRuntimeConfig | CopilotRuntimeConfigFactory {
  return config;
}
