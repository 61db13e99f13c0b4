import type { AgentLike } from "./events/agent-contract.js";
import type { AgentEvent, AgentMessage } from "./events/types.js";
import type { ForwardHeadersPolicy } from "./http/forward-headers.js";
import type { Logger } from "./logger.js";
import type { AgentRunner } from "./runners/agent-runner.js";
import { type DebugConfig, type ResolvedDebugConfig, isDebugFeedEnabled, resolveDebugConfig } from "./debug/debug-config.js";
import { DebugEventBus } from "./debug/debug-event-bus.js";
import { InMemoryAgentRunner } from "./runners/in-memory.js";
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
   * Debug output, as in CopilotKit: `true` logs a debug line per event sent and per stream opened
   * and ended (summaries, no payloads); `{ events, lifecycle, verbose }` picks them (`verbose`
   * logs whole events). It also serves `GET <basePath>/cpk-debug-events`, the live feed of every
   * run's events that CopilotKit's inspector reads, which is otherwise served only when
   * `NODE_ENV` is `development` (it carries every thread's content: keep it off in production).
   */
  debug?: DebugConfig;
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
  readonly agents: AgentsOption;
  readonly runner: AgentRunner;
  readonly transcriptionService?: TranscriptionService;
  readonly beforeRequestMiddleware?: CopilotRuntimeOptions["beforeRequestMiddleware"];
  readonly afterRequestMiddleware?: CopilotRuntimeOptions["afterRequestMiddleware"];
  readonly forwardHeaders?: ForwardHeadersPolicy;
  readonly identifyUser?: CopilotRuntimeOptions["identifyUser"];
  readonly logger?: Logger | Console;
  /** The `debug` option, every field decided. */
  readonly debug: ResolvedDebugConfig;
  /** Where run and connect streams publish for `/cpk-debug-events`; absent when the feed is off. */
  readonly debugEvents?: DebugEventBus;

  constructor(options: CopilotRuntimeOptions) {
    if (options === null || typeof options !== "object" || options.agents === undefined) {
      throw new TypeError("CopilotRuntime needs `agents`: a record of AG-UI agents, a promise of one, or a factory.");
    }
    this.agents = options.agents;
    this.runner = options.runner ?? new InMemoryAgentRunner();
    this.transcriptionService = options.transcriptionService;
    this.beforeRequestMiddleware = options.beforeRequestMiddleware;
    this.afterRequestMiddleware = options.afterRequestMiddleware;
    this.forwardHeaders = options.forwardHeaders;
    this.identifyUser = options.identifyUser;
    this.logger = options.logger;
    this.debug = resolveDebugConfig(options.debug);
    if (isDebugFeedEnabled(this.debug)) this.debugEvents = new DebugEventBus();
  }

  /** The agents for this request. */
  async resolveAgents(request: Request): Promise<AgentRecord> {
    const agents = typeof this.agents === "function" ? await this.agents({ request }) : await this.agents;
    if (agents === null || typeof agents !== "object") throw new TypeError("the agents option resolved to a non-object");
    return agents;
  }
}
