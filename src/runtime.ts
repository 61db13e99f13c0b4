import type { AgentLike } from "./events/agent-contract.js";
import type { A2UIOptions, McpAppsConfig, OpenGenerativeUIConfig } from "./genui/options.js";
import { normalizeA2UIOption, normalizeMcpAppsOption, normalizeOpenGenerativeUIOption } from "./genui/validate.js";
import { preloadGenerativeUi } from "./genui/preload.js";
import type { AgentEvent, AgentMessage } from "./events/types.js";
import type { ForwardHeadersPolicy } from "./http/forward-headers.js";
import type { Logger } from "./logger.js";
import { checkOptions, loggerOf } from "./options/check-options.js";
import { RUNTIME_OPTIONS } from "./options/option-tables.js";
import type { AgentRunner } from "./runners/agent-runner.js";
import { type DebugConfig, type ResolvedDebugConfig, isDebugFeedEnabled, resolveDebugConfig } from "./debug/debug-config.js";
import { DebugEventBus } from "./debug/debug-event-bus.js";
import { InMemoryAgentRunner } from "./runners/in-memory.js";
import type { CopilotKitIntelligence } from "./intelligence-runtime/copilotkit-intelligence.js";
import { IntelligenceAgentRunner } from "./intelligence-runtime/intelligence-agent-runner.js";
import type { TranscriptionService } from "./transcription/transcription-service.js";

export type AgentRecord = Record<string, AgentLike>;

/** A static record, a promise of one, or a factory called per request (multi-tenant setups). */
export type AgentsOption = AgentRecord | Promise<AgentRecord> | ((context: { request: Request }) => AgentRecord | Promise<AgentRecord>);

export interface BeforeRequestContext {
  runtime: CopilotRuntime;
  request: Request;
  path: string;
}

export interface AfterRequestContext {
  runtime: CopilotRuntime;
  /** The response as sent (for event streams: status and headers; the body went to the client). */
  response: Response;
  path: string;
  /** For event streams: the messages of the run or replay, rebuilt from its events. */
  messages?: AgentMessage[];
  threadId?: string;
  runId?: string;
  /** For event streams: every event sent. */
  events?: AgentEvent[];
}

/** The caller, as `identifyUser` reports it. Threads are owned by `id`. */
export interface RuntimeUser {
  id: string;
  name?: string;
}

export interface CopilotRuntimeOptions {
  agents: AgentsOption;
  /** Where runs execute and threads live. Default: a bounded `InMemoryAgentRunner`. */
  runner?: AgentRunner;
  transcriptionService?: TranscriptionService;
  /**
   * Runs before routing. Return a `Request` to replace the incoming one, throw a `Response`
   * to answer directly (e.g. 401), or throw an error (500, logged, no details sent).
   */
  beforeRequestMiddleware?: (context: BeforeRequestContext) => Request | void | Promise<Request | void>;
  /** Runs after the response is sent; never delays the client. Errors are logged. */
  afterRequestMiddleware?: (context: AfterRequestContext) => void | Promise<void>;
  /** Which inbound headers reach agents on run, connect and suggest. */
  forwardHeaders?: ForwardHeadersPolicy;
  /**
   * Who is calling. Threads are recorded with this owner and only the owner may run, connect,
   * stop, list or change them; others get 404. Without it every caller is one anonymous user.
   */
  identifyUser?: (request: Request) => RuntimeUser | Promise<RuntimeUser>;
  /**
   * Where this runtime's lines go: every line about a request and its runs, each carrying the
   * request's `requestId`. pino's shape (`logger.error({ err, ...fields }, msg)`), e.g. `pino()`;
   * `console` is accepted too. Default: the process-wide logger (`setLogger`).
   */
  logger?: Logger | Console;
  /**
   * A2UI: runs `A2UIMiddleware` (`@ag-ui/a2ui-middleware`, an optional peer) on the agents'
   * runs, so A2UI JSON they produce reaches the client as surfaces, and `/info` says
   * `a2uiEnabled: true`. `{}` for every agent, `{ agents: ["id"] }` for some, `enabled: false`
   * to turn it off; the other fields (`schema`, `injectA2UITool`, ...) go to the middleware.
   */
  a2ui?: A2UIOptions;
  /**
   * MCP Apps: runs `MCPAppsMiddleware` (`@ag-ui/mcp-apps-middleware`, an optional peer) with
   * these MCP servers, so their UI tools reach the agents and their UIs the client. A server
   * with `agentId` is offered to that agent only.
   */
  mcpApps?: McpAppsConfig;
  /**
   * Open Generative UI: runs CopilotKit's `OpenGenerativeUIMiddleware` (`@copilotkit/shared`,
   * an optional peer) on the agents' runs; `true` for every agent, `{ agents: ["id"] }` for some.
   */
  openGenerativeUI?: OpenGenerativeUIConfig;
  /**
   * Debug output, as in CopilotKit: `true` logs a debug line per event sent and per stream opened
   * and ended (summaries, no payloads); `{ events, lifecycle, verbose }` picks them (`verbose`
   * logs whole events). It also serves `GET <basePath>/cpk-debug-events`, the live feed of every
   * run's events that CopilotKit's inspector reads, which is otherwise served only when
   * `NODE_ENV` is `development` (it carries every thread's content: keep it off in production).
   */
  debug?: DebugConfig;
  /**
   * Intelligence mode (CopilotKit's): threads, history, locks and realtime live on an
   * Intelligence platform; runs execute here and stream to it over its runner socket, and
   * browsers read them from it. Needs `identifyUser`; excludes `runner`.
   */
  intelligence?: CopilotKitIntelligence;
  /** Intelligence mode: name a new thread after its first run (extra agent calls). Default true. */
  generateThreadNames?: boolean;
  /** Intelligence mode: the thread lock's TTL in seconds (at most 3600). Default 20. */
  lockTtlSeconds?: number;
  /** Intelligence mode: a namespace hint for the platform's lock keys. */
  lockKeyPrefix?: string;
  /** Intelligence mode: how often a run renews its lock, in seconds (at most 3000). Default 15. */
  lockHeartbeatIntervalSeconds?: number;
  /** Intelligence mode: cap of the runner socket's reconnect backoff, ms. Default 10,000. */
  maxReconnectMs?: number;
  /** Intelligence mode: cap of the runner channel's rejoin backoff, ms. Default 30,000. */
  maxRejoinMs?: number;
}

/**
 * The runtime: your agents, where they run, and the options every route shares. Same name and
 * options as CopilotKit's, so switching is an import change.
 *
 * @example
 * ```ts
 * import { CopilotRuntime, createCopilotEndpoint } from "copilot-runtime";
 * import { HttpAgent } from "@ag-ui/client";
 *
 * const runtime = new CopilotRuntime({
 *   agents: { default: new HttpAgent({ url: "http://localhost:8000/agent" }) },
 * });
 * const app = createCopilotEndpoint({ runtime, basePath: "/api/copilotkit" });
 * ```
 */
export class CopilotRuntime {
  /**
   * How runs are served: `"sse"`, events streamed over HTTP from this process's runner, or
   * `"intelligence"` (with the `intelligence` option), runs delivered to an Intelligence platform.
   */
  readonly mode: RuntimeMode;
  readonly agents: AgentsOption;
  readonly runner: AgentRunner;
  readonly transcriptionService?: TranscriptionService;
  readonly beforeRequestMiddleware?: CopilotRuntimeOptions["beforeRequestMiddleware"];
  readonly afterRequestMiddleware?: CopilotRuntimeOptions["afterRequestMiddleware"];
  readonly forwardHeaders?: ForwardHeadersPolicy;
  readonly identifyUser?: CopilotRuntimeOptions["identifyUser"];
  readonly logger?: Logger | Console;
  readonly a2ui?: A2UIOptions;
  readonly mcpApps?: McpAppsConfig;
  readonly openGenerativeUI?: OpenGenerativeUIConfig;
  /** The `debug` option, every field decided. */
  readonly debug: ResolvedDebugConfig;
  /** Where run and connect streams publish for `/cpk-debug-events`; absent when the feed is off. */
  readonly debugEvents?: DebugEventBus;
  /** The Intelligence platform client; set in Intelligence mode only. */
  readonly intelligence?: CopilotKitIntelligence;
  /** Intelligence mode: auto-name new threads (default true); undefined in SSE mode. */
  readonly generateThreadNames?: boolean;
  /** Intelligence mode: lock TTL in seconds; undefined in SSE mode. */
  readonly lockTtlSeconds?: number;
  /** Intelligence mode: lock key prefix. */
  readonly lockKeyPrefix?: string;
  /** Intelligence mode: lock heartbeat interval in seconds; undefined in SSE mode. */
  readonly lockHeartbeatIntervalSeconds?: number;

  /** Largest lock TTL, seconds (1 hour), as CopilotKit clamps it. */
  static readonly MAX_LOCK_TTL_SECONDS = 3_600;
  /** Largest heartbeat interval, seconds (50 minutes). */
  static readonly MAX_HEARTBEAT_INTERVAL_SECONDS = 3_000;

  constructor(options: CopilotRuntimeOptions) {
    if (options === null || typeof options !== "object" || options.agents === undefined) {
      throw new TypeError("CopilotRuntime needs `agents`: a record of AG-UI agents, a promise of one, or a factory.");
    }
    checkOptions(RUNTIME_OPTIONS, options, `new ${new.target.name}()`, loggerOf(options));
    this.agents = options.agents;
    if (options.intelligence) {
      checkIntelligenceOptions(options);
      const intelligence = options.intelligence;
      this.mode = "intelligence";
      this.intelligence = intelligence;
      this.runner = new IntelligenceAgentRunner({
        url: intelligence.ɵgetRunnerWsUrl(),
        authToken: intelligence.ɵgetRunnerAuthToken(),
        maxReconnectMs: options.maxReconnectMs,
        maxRejoinMs: options.maxRejoinMs,
      });
      this.generateThreadNames = options.generateThreadNames ?? true;
      this.lockTtlSeconds = Math.min(options.lockTtlSeconds ?? 20, CopilotRuntime.MAX_LOCK_TTL_SECONDS);
      this.lockKeyPrefix = options.lockKeyPrefix;
      this.lockHeartbeatIntervalSeconds = Math.min(options.lockHeartbeatIntervalSeconds ?? 15, CopilotRuntime.MAX_HEARTBEAT_INTERVAL_SECONDS);
    } else {
      this.mode = "sse";
      this.runner = options.runner ?? new InMemoryAgentRunner();
    }
    this.transcriptionService = options.transcriptionService;
    this.beforeRequestMiddleware = options.beforeRequestMiddleware;
    this.afterRequestMiddleware = options.afterRequestMiddleware;
    this.forwardHeaders = options.forwardHeaders;
    this.identifyUser = options.identifyUser;
    this.logger = options.logger;
    this.a2ui = normalizeA2UIOption(options.a2ui);
    this.mcpApps = normalizeMcpAppsOption(options.mcpApps);
    this.openGenerativeUI = normalizeOpenGenerativeUIOption(options.openGenerativeUI);
    preloadGenerativeUi(this, loggerOf(this));
    this.debug = resolveDebugConfig(options.debug);
    if (isDebugFeedEnabled(this.debug)) this.debugEvents = new DebugEventBus();
  }

  /** The agents for this request. */
  async resolveAgents(request: Request): Promise<AgentRecord> {
    const agents = await resolveAgents(this.agents, request);
    if (agents === null || typeof agents !== "object") throw new TypeError("the agents option resolved to a non-object");
    return agents;
  }
}

/**
 * What Intelligence mode needs beside `intelligence`, checked at construction as CopilotKit does
 * (its messages), so a misconfiguration shows at start-up rather than on a user's first message.
 */
function checkIntelligenceOptions(options: CopilotRuntimeOptions): void {
  const intelligence = options.intelligence as { ɵgetRunnerWsUrl?: unknown; ɵgetClientWsUrl?: unknown };
  if (typeof intelligence.ɵgetRunnerWsUrl !== "function" || typeof intelligence.ɵgetClientWsUrl !== "function") {
    throw new TypeError("`intelligence` must be a CopilotKitIntelligence (new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey })).");
  }
  if (options.runner !== undefined) {
    throw new Error(
      "Intelligence Runtime auto-wires its own `runner`; passing `runner` alongside `intelligence` is not supported. Durability is managed by the Intelligence service, so `InMemoryAgentRunner` / a SQLite runner is unnecessary here — drop `runner`, or drop `intelligence` to run in SSE mode with a runner you control.",
    );
  }
  if (options.identifyUser !== undefined && typeof options.identifyUser !== "function") {
    throw new Error("Intelligence Runtime `identifyUser` must be a callback");
  }
  if (options.identifyUser === undefined) {
    // CopilotKit also allows a Channels-only runtime without it; Channels are not implemented here.
    throw new Error("Intelligence Runtime requires web `identifyUser`, at least one Channel, or both surfaces");
  }
}

/** CopilotKit's name for {@link RuntimeUser}: who is calling, as `identifyUser` reports it. */
export type CopilotRuntimeUser = RuntimeUser;
/** CopilotKit's name for the `identifyUser` option's type. */
export type IdentifyUserCallback = (request: Request) => RuntimeUser | Promise<RuntimeUser>;
/** CopilotKit's name for {@link AgentsOption}: a record, a promise of one, or a per-request factory. */
export type AgentsConfig = AgentsOption;
/** What a per-request agents factory is given. */
export interface AgentFactoryContext {
  request: Request;
}
/** A per-request agents factory (multi-tenant setups). */
export type AgentsFactory = (context: AgentFactoryContext) => AgentRecord | Promise<AgentRecord>;
/** CopilotKit's name for the options of the runtime without Intelligence: the same as {@link CopilotRuntimeOptions}. */
export type CopilotSseRuntimeOptions = CopilotRuntimeOptions;
/** CopilotKit's name for "a runtime" where one is taken (handlers, endpoints). */
export type CopilotRuntimeLike = CopilotRuntime;
/** CopilotKit's name for a runtime in SSE mode, which every runtime here is. */
export type CopilotSseRuntimeLike = CopilotRuntime;
/** The `CopilotRuntime` class's constructor type. */
export type CopilotRuntimeConstructor = typeof CopilotRuntime;

/** `"sse"`: runs served over HTTP by this process; `"intelligence"`: runs delivered to an Intelligence platform. */
export type RuntimeMode = "sse" | "intelligence";

/**
 * CopilotKit's name for the runtime without Intelligence: a {@link CopilotRuntime} whose `mode` is
 * always `"sse"`. As in CopilotKit, an `intelligence` option is not honoured here (a warning says so).
 *
 * @example
 * ```ts
 * const runtime = new CopilotSseRuntime({ agents: { default: agent }, runner: new InMemoryAgentRunner() });
 * runtime.mode; // "sse"
 * ```
 */
export class CopilotSseRuntime extends CopilotRuntime {
  constructor(options: CopilotRuntimeOptions) {
    if (options !== null && typeof options === "object" && options.intelligence !== undefined) {
      loggerOf(options).warn({ option: "intelligence" }, "new CopilotSseRuntime(): option \"intelligence\" is ignored: use CopilotRuntime or CopilotIntelligenceRuntime for Intelligence mode.");
      options = { ...options, intelligence: undefined };
    }
    super(options);
  }
}

/**
 * The agents an `agents` option stands for: a factory is called with the request, a record or a
 * promise of one is awaited. A factory without a request is an error (it has nothing to read).
 *
 * @example
 * ```ts
 * const agents = await resolveAgents(runtime.agents, request);
 * ```
 */
export async function resolveAgents(agents: AgentsOption, request?: Request): Promise<AgentRecord> {
  if (typeof agents === "function") {
    if (request === undefined) throw new Error("resolveAgents: the agents option is a factory, which needs the request; none was given.");
    return agents({ request });
  }
  return agents;
}

/**
 * True when a runtime runs in Intelligence mode (`mode: "intelligence"` with an `intelligence`
 * client), as CopilotKit's `isIntelligenceRuntime`.
 *
 * @example
 * ```ts
 * if (isIntelligenceRuntime(runtime)) console.log("threads live on", runtime.intelligence.ɵgetApiUrl());
 * ```
 */
export function isIntelligenceRuntime<R extends { mode?: unknown; intelligence?: unknown }>(runtime: R): runtime is R & { mode: "intelligence"; intelligence: CopilotKitIntelligence } {
  return runtime.mode === "intelligence" && Boolean(runtime.intelligence);
}

/**
 * CopilotKit's name for the runtime in Intelligence mode: a {@link CopilotRuntime} that requires
 * `intelligence` (and `identifyUser`).
 *
 * @example
 * ```ts
 * const runtime = new CopilotIntelligenceRuntime({
 *   agents: { default: agent },
 *   intelligence: new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey }),
 *   identifyUser: (request) => ({ id: userIdOf(request), name: "Ada" }),
 * });
 * runtime.mode; // "intelligence"
 * ```
 */
export class CopilotIntelligenceRuntime extends CopilotRuntime {
  constructor(options: CopilotRuntimeOptions & { intelligence: CopilotKitIntelligence }) {
    if (options === null || typeof options !== "object" || !options.intelligence) {
      throw new TypeError("CopilotIntelligenceRuntime needs `intelligence`: a CopilotKitIntelligence.");
    }
    super(options);
  }
}
