/**
 * Every option each public constructor and factory knows: what this package implements
 * (`"supported"`) and what CopilotKit 1.75 accepts that it does not (`"unsupported: <reason>"`).
 * An option in neither is unknown. `checkOptions` reports the last two kinds at construction,
 * so nothing a 1.75 app passes is silently ignored.
 *
 * When an option gets implemented, change its status to "supported" here (its `kinds` are
 * already right), and nothing else.
 */
import type { OptionSpec, OptionTable } from "./check-options.js";

const MEMORY = "unsupported: Intelligence Memory is not implemented yet";
const LEARNING = "unsupported: Intelligence Learning Containers are not implemented yet";
const CHANNELS = "unsupported: Intelligence channels are not implemented yet";

const FUNCTION: OptionSpec = { status: "supported", kinds: ["function"] };
const OBJECT: OptionSpec = { status: "supported", kinds: ["object"] };
const NUMBER: OptionSpec = { status: "supported", kinds: ["number"] };
const BOOLEAN: OptionSpec = { status: "supported", kinds: ["boolean"] };

/** `new CopilotRuntime(options)` and `new CopilotSseRuntime(options)`. */
export const RUNTIME_OPTIONS: OptionTable = {
  agents: { status: "supported", kinds: ["object", "function"] },
  runner: OBJECT,
  transcriptionService: OBJECT,
  beforeRequestMiddleware: { status: "supported", kinds: ["function"] },
  afterRequestMiddleware: { status: "supported", kinds: ["function"] },
  forwardHeaders: OBJECT,
  identifyUser: FUNCTION,
  logger: OBJECT,
  // No kinds: src/genui/validate.ts checks these three field by field (and, as CopilotKit does,
  // reads a falsy `a2ui` as off and `true` as `{}`).
  a2ui: { status: "supported" },
  openGenerativeUI: { status: "supported" },
  mcpApps: { status: "supported" },
  debug: { status: "supported", kinds: ["boolean", "object"] },
  // CopilotKit features this package leaves out.
  licenseToken: { status: "unsupported: nothing here is licence-gated", kinds: ["string"] },
  telemetryId: { status: "unsupported: this runtime sends no telemetry", kinds: ["string"] },
  telemetryProperties: { status: "unsupported: this runtime sends no telemetry", kinds: ["object"] },
  ɵtelemetry: { status: "unsupported: this runtime sends no telemetry", kinds: ["object"] },
  sseKeepAliveIntervalSeconds: { status: "unsupported: set `heartbeatMs` (milliseconds) on the endpoint instead", kinds: ["number"] },
  // Intelligence mode (src/intelligence-runtime/).
  intelligence: OBJECT,
  generateThreadNames: BOOLEAN,
  maxReconnectMs: NUMBER,
  maxRejoinMs: NUMBER,
  lockTtlSeconds: NUMBER,
  lockKeyPrefix: { status: "supported", kinds: ["string"] },
  lockHeartbeatIntervalSeconds: NUMBER,
  exposeMemoryRoutes: { status: MEMORY, kinds: ["boolean"] },
  memory: { status: MEMORY, kinds: ["object"] },
  ɵlearning: { status: LEARNING, kinds: ["object"] },
  channels: { status: CHANNELS, kinds: ["array"] },
};

/** The `cors` option's own options (every endpoint). */
export const CORS_OPTIONS: OptionTable = {
  origin: { status: "supported", kinds: ["string", "array", "function"] },
  credentials: BOOLEAN,
  allowMethods: { status: "supported", kinds: ["array"] },
  allowHeaders: { status: "supported", kinds: ["array"] },
  exposeHeaders: { status: "supported", kinds: ["array"] },
  maxAge: NUMBER,
};

/**
 * The Express endpoint's `cors` also takes the names of the `cors` package, which CopilotKit's
 * Express endpoint hands its object to (translated by the endpoint).
 */
export const EXPRESS_CORS_OPTIONS: OptionTable = {
  ...CORS_OPTIONS,
  origin: { status: "supported", kinds: ["string", "array", "function", "boolean", "object"] },
  methods: { status: "supported", kinds: ["string", "array"] },
  allowedHeaders: { status: "supported", kinds: ["string", "array"] },
  exposedHeaders: { status: "supported", kinds: ["string", "array"] },
  preflightContinue: { status: "unsupported: preflights are always answered by the endpoint", kinds: ["boolean"] },
  optionsSuccessStatus: { status: "unsupported: preflights are answered 204", kinds: ["number"] },
};

/** `createCopilotRuntimeHandler(options)`, the web-standard core. */
export const HANDLER_OPTIONS: OptionTable = {
  runtime: OBJECT,
  basePath: { status: "supported", kinds: ["string"] },
  mode: { status: "supported", values: ["multi-route", "single-route"] },
  cors: { status: "supported", kinds: ["boolean", "object"], fields: CORS_OPTIONS },
  maxBodyBytes: NUMBER,
  maxAudioBytes: NUMBER,
  heartbeatMs: NUMBER,
  limits: OBJECT,
  metrics: { status: "supported", kinds: ["boolean", "object"] },
  health: { status: "supported", kinds: ["boolean", "object", "function"] },
  // No kinds: src/http/hooks.ts checks the object and each hook, naming the hook.
  hooks: { status: "supported" },
  activateChannels: { status: CHANNELS, kinds: ["boolean"] },
  __channelEngine: { status: "unsupported: CopilotKit's internal test seam for channels", kinds: ["object"] },
};

/** `createCopilotHonoHandler(options)` (and `createCopilotEndpoint`). */
export const HONO_ENDPOINT_OPTIONS: OptionTable = { ...HANDLER_OPTIONS };

/** `createCopilotEndpointSingleRoute(options)`: always single-route. */
export const HONO_SINGLE_ROUTE_OPTIONS: OptionTable = {
  ...HANDLER_OPTIONS,
  mode: { status: "unsupported: this endpoint always serves the single-route envelope; use createCopilotHonoHandler for `mode`", values: ["multi-route", "single-route"] },
};

/** `createCopilotExpressHandler(options)` (and `createCopilotEndpointExpress`). */
export const EXPRESS_ENDPOINT_OPTIONS: OptionTable = {
  ...HANDLER_OPTIONS,
  cors: { status: "supported", kinds: ["boolean", "object"], fields: EXPRESS_CORS_OPTIONS },
  mode: { status: "supported", values: ["multi-route", "single-route"] },
};

/** `createCopilotEndpointSingleRouteExpress(options)`: always single-route. */
export const EXPRESS_SINGLE_ROUTE_OPTIONS: OptionTable = {
  ...HANDLER_OPTIONS,
  cors: { status: "supported", kinds: ["boolean", "object"], fields: EXPRESS_CORS_OPTIONS },
  mode: { status: "unsupported: this endpoint always serves the single-route envelope; use createCopilotExpressHandler for `mode`", values: ["multi-route", "single-route"] },
};

/** `createCopilotNodeListener(options)`. */
export const NODE_LISTENER_OPTIONS: OptionTable = { ...HANDLER_OPTIONS, overrideGlobalObjects: BOOLEAN };

/** The second argument of `createCopilotNodeHandler(handler, options)`. */
export const NODE_HANDLER_OPTIONS: OptionTable = { overrideGlobalObjects: BOOLEAN };

/** `createCopilotNextHandlers(options)`. */
export const NEXT_HANDLER_OPTIONS: OptionTable = { ...HANDLER_OPTIONS };

/** `new InMemoryAgentRunner(options)`. */
export const IN_MEMORY_RUNNER_OPTIONS: OptionTable = {
  maxThreads: NUMBER,
  maxRunsPerThread: NUMBER,
  maxBytes: NUMBER,
  busyThread: { status: "supported", values: ["reject", "interrupt"] },
  resumable: BOOLEAN,
  /** CopilotKit's name: `"throw"` is `busyThread: "reject"`, `"supersede"` is `"interrupt"`. */
  onConcurrentRun: { status: "supported", values: ["throw", "supersede"] },
};

/** The options both durable runners take. */
const DURABLE_RUNNER_OPTIONS: OptionTable = {
  busyThread: { status: "supported", values: ["reject", "interrupt"] },
  leaseMs: NUMBER,
  heartbeatMs: NUMBER,
  pollMs: NUMBER,
  liveBus: OBJECT,
  safetyPollMs: NUMBER,
  sweepIntervalMs: NUMBER,
  stopTimeoutMs: NUMBER,
  writeWindowMs: NUMBER,
  retention: OBJECT,
};

/** `new SqliteAgentRunner(options)`. */
export const SQLITE_RUNNER_OPTIONS: OptionTable = {
  ...DURABLE_RUNNER_OPTIONS,
  path: { status: "supported", kinds: ["string"] },
  database: OBJECT,
  tablePrefix: { status: "supported", kinds: ["string"] },
  busyTimeoutMs: NUMBER,
};

/** `new PostgresAgentRunner(options)`. */
export const POSTGRES_RUNNER_OPTIONS: OptionTable = {
  ...DURABLE_RUNNER_OPTIONS,
  connectionString: { status: "supported", kinds: ["string"] },
  pool: OBJECT,
  schema: { status: "supported", kinds: ["string"] },
  tablePrefix: { status: "supported", kinds: ["string"] },
  maxConnections: NUMBER,
  listenNotify: BOOLEAN,
};
