import { AbstractAgent } from "@ag-ui/client";
import type { AgentCapabilities, BaseEvent, RunAgentInput } from "@ag-ui/core";
import { Observable } from "rxjs";
import { loggerForAgent } from "../../logger.js";
import { loadAiSdk } from "./ai-sdk.js";
import { loadMcpSdk, loadProvider } from "./packages.js";
import { providerOf } from "./resolve-model.js";
import { executeFactoryRun } from "./factory-run.js";
import { checkToolDefinition } from "./define-tool.js";
import { checkHeaderSelection, PROVIDER_CREDENTIAL_HEADERS } from "./forwarded-headers.js";
import { classifyModelSpec, type ModelHostClass } from "./model-spec.js";
import { executeRun } from "./run-loop.js";
import { isFactoryConfig, type OverridableProperty, type BuiltInAgentConfig, type BuiltInAgentConfiguration, type BuiltInAgentFactoryConfig } from "./types.js";

/**
 * An AG-UI agent that answers with a model through the Vercel AI SDK: text, reasoning, server tools
 * (`defineTool`), client tools (`RunAgentInput.tools`), MCP server tools and state tools. A wrong
 * model, provider or missing key does not throw here: each run reports it as a RUN_ERROR.
 *
 * Runs are independent; `abortRun()` stops all of this instance's runs and cancels their model
 * requests. The runtime clones the agent per request, and `clone()` gives a fresh instance with the
 * same configuration and a copy of the messages and state.
 *
 * @example
 * ```ts
 * import { BuiltInAgent, defineTool } from "copilot-runtime/built-in";
 * import { z } from "zod";
 *
 * const agent = new BuiltInAgent({
 *   model: "openai/gpt-4o",
 *   prompt: "You are a helpful assistant.",
 *   tools: [
 *     defineTool({
 *       name: "get_time",
 *       description: "The current time",
 *       parameters: z.object({}),
 *       execute: async () => new Date().toISOString(),
 *     }),
 *   ],
 *   mcpServers: [{ type: "http", url: "https://mcp.example.com/mcp" }],
 * });
 * ```
 */
export class BuiltInAgent extends AbstractAgent {
  // `/info` reports the class name; bundlers may rename a class that refers to itself.
  static {
    Object.defineProperty(this, "name", { value: "BuiltInAgent" });
  }

  private readonly config: Readonly<BuiltInAgentConfiguration>;
  private readonly activeRuns = new Set<AbortController>();
  /**
   * The caller's request headers that the runtime forwards to agents (its `forwardHeaders` policy
   * decides which); set by the runtime on each request's clone. They are redacted wherever a
   * failure is reported.
   */
  headers?: Record<string, string>;
  /**
   * Which kind of endpoint the configured model reaches (`"openai"`, `"azure"`, `"local"`, ...), as
   * CopilotKit 1.75 exposes it; `"unknown"` for a model object or factory mode.
   */
  readonly modelHostClass: ModelHostClass;

  /** Factory mode: the factory makes the model call; see {@link BuiltInAgentFactoryConfig}. */
  constructor(config: BuiltInAgentFactoryConfig);
  /** The classic configuration: BuiltInAgent calls the model; see {@link BuiltInAgentConfig}. */
  constructor(config: BuiltInAgentConfig);
  constructor(config: BuiltInAgentConfiguration) {
    super({ agentId: config.agentId, description: config.description });
    checkCommonOptions(config);
    this.modelHostClass = isFactoryConfig(config) ? "unknown" : classifyModelSpec(config.model);
    if (isFactoryConfig(config)) {
      checkFactoryConfig(config);
      this.config = Object.isFrozen(config) ? config : Object.freeze({ ...config });
      return;
    }
    if (providerOf(config.model) === "vertex" && typeof config.apiKey === "string" && config.apiKey.trim()) {
      throw new TypeError("BuiltInAgent: apiKey does not apply to vertex/ models; Vertex AI uses Google Cloud credentials (GOOGLE_VERTEX_PROJECT, GOOGLE_VERTEX_LOCATION, application default credentials).");
    }
    checkClassicOptions(config);
    this.config = freezeConfig(config);
    // The optional packages this configuration needs, loaded now so that a missing one is an
    // error naming the package at start-up, not a failed run later.
    loadAiSdk();
    const provider = providerOf(config.model);
    if (provider) loadProvider(provider);
    if (config.mcpServers?.length) loadMcpSdk();
  }

  /** The agent's configuration (read-only): classic (`model`, ...) or factory mode (`type`, `factory`). */
  get configuration(): Readonly<BuiltInAgentConfiguration> {
    return this.config;
  }

  /**
   * Whether a client may override `property` through `forwardedProps` (it is in
   * `overridableProperties`); always false in factory mode. CopilotKit 1.75's method.
   *
   * @example
   * ```ts
   * new BuiltInAgent({ model: "openai/gpt-4o", overridableProperties: ["temperature"] }).canOverride("temperature"); // true
   * ```
   */
  canOverride(property: OverridableProperty): boolean {
    const config = this.config;
    if (isFactoryConfig(config)) return false;
    return config.overridableProperties?.includes(property) ?? false;
  }

  /** Streams one run. Nothing happens until it is subscribed; unsubscribing stops the run. */
  run(input: RunAgentInput): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber) => {
      const controller = new AbortController();
      this.activeRuns.add(controller);
      const emit = (events: BaseEvent[]) => {
        for (const event of events) {
          if (subscriber.closed) return;
          subscriber.next(event);
        }
      };
      const shared = { input, agentId: this.agentId, forwardedHeaders: this.headers, log: loggerForAgent(this), emit };
      const config = this.config;
      const running = isFactoryConfig(config)
        ? executeFactoryRun({ ...shared, config, controller })
        : executeRun({ ...shared, config, signal: controller.signal });
      running.then(
        () => {
          this.activeRuns.delete(controller);
          subscriber.complete();
        },
        (error: unknown) => {
          // executeRun reports failures as events; reaching this is a bug, but must not hang the run
          this.activeRuns.delete(controller);
          subscriber.error(error);
        },
      );
      return () => {
        this.activeRuns.delete(controller);
        controller.abort();
      };
    });
  }

  /** Stops this instance's runs: the model requests are aborted and each run ends with RUN_FINISHED. */
  override abortRun(): void {
    for (const controller of this.activeRuns) controller.abort();
    super.abortRun();
  }

  /** A fresh agent with the same configuration, a copy of messages and state, and no running runs. */
  override clone(): BuiltInAgent {
    const copy = new BuiltInAgent(this.config as BuiltInAgentConfig);
    copy.agentId = this.agentId;
    copy.description = this.description;
    copy.threadId = this.threadId;
    if (this.headers) copy.headers = { ...this.headers };
    copy.messages = structuredClone(this.messages);
    copy.state = structuredClone(this.state);
    copy.subscribers = [...this.subscribers];
    copyPrivateField(this, copy, "middlewares");
    copyPrivateField(this, copy, "debug");
    if (Array.isArray(this.pendingInterrupts)) copy.pendingInterrupts = structuredClone(this.pendingInterrupts);
    return copy;
  }

  /**
   * What this agent supports, for clients that ask (AG-UI capabilities). The `capabilities` option
   * replaces whole categories of these (as CopilotKit merges them): a category given there is used
   * as is, the others keep the inferred value.
   */
  override async getCapabilities(): Promise<AgentCapabilities> {
    const inferred: AgentCapabilities = {
      transport: { streaming: true },
      tools: { supported: true, clientProvided: true },
      state: { snapshots: true, deltas: true },
      reasoning: { supported: true, streaming: true, encrypted: true },
      humanInTheLoop: { interrupts: true },
    };
    return { ...inferred, ...this.config.capabilities };
  }
}

function checkClassicOptions(config: BuiltInAgentConfig): void {
  config.tools?.forEach((tool) => checkToolDefinition(tool));
  config.mcpServers?.forEach((server, index) => checkHeaderSelection(server.forwardHeaders, `mcpServers[${index}].forwardHeaders`, { allowTrue: true }));
  checkHeaderSelection(config.forwardHeadersToModel, "forwardHeadersToModel", { allowTrue: false, refuse: PROVIDER_CREDENTIAL_HEADERS });
  config.mcpClients?.forEach((client, index) => {
    if (!client || typeof client.tools !== "function") throw new TypeError(`BuiltInAgent: mcpClients[${index}] must have a tools() method (e.g. a client from @ai-sdk/mcp's createMCPClient).`);
  });
}

const FACTORY_TYPES = new Set(["aisdk", "tanstack", "custom"]);
const CLASSIC_ONLY_OPTIONS = ["model", "tools", "mcpServers", "mcpClients", "prompt", "apiKey", "baseURL"] as const;

// Options of CopilotKit's BuiltInAgent that this one does not implement: refused by name rather
// than silently ignored.
function checkCommonOptions(config: BuiltInAgentConfiguration): void {
  if (!config || typeof config !== "object") throw new TypeError("BuiltInAgent needs a configuration object.");
  if ((config as { learnedSkills?: unknown }).learnedSkills !== undefined) {
    throw new TypeError("BuiltInAgent: learnedSkills (CopilotKit's Intelligence platform) is not supported by copilot-runtime.");
  }
  const capabilities = (config as { capabilities?: unknown }).capabilities;
  if (capabilities !== undefined && (capabilities === null || typeof capabilities !== "object" || Array.isArray(capabilities))) {
    throw new TypeError("BuiltInAgent: capabilities must be an object of AG-UI capability categories.");
  }
}

function checkFactoryConfig(config: BuiltInAgentFactoryConfig): void {
  if (!FACTORY_TYPES.has(config.type)) {
    throw new TypeError(`BuiltInAgent: unknown factory type ${JSON.stringify(config.type)}; use "aisdk", "tanstack" or "custom".`);
  }
  if (typeof config.factory !== "function") throw new TypeError(`BuiltInAgent: a "${config.type}" configuration needs a factory function.`);
  for (const option of CLASSIC_ONLY_OPTIONS) {
    if ((config as unknown as Record<string, unknown>)[option] !== undefined) {
      throw new TypeError(`BuiltInAgent: ${option} does not apply in factory mode (type "${config.type}"): the factory makes the model call.`);
    }
  }
}

// Agent middleware (use()) and debug settings live in fields the base class keeps to itself;
// a clone must carry them, as the base class's own clone() does.
function copyPrivateField(from: AbstractAgent, to: AbstractAgent, field: string): void {
  const value = (from as unknown as Record<string, unknown>)[field];
  if (value === undefined) return;
  (to as unknown as Record<string, unknown>)[field] = Array.isArray(value) ? [...value] : value;
}

function freezeConfig(config: BuiltInAgentConfig): Readonly<BuiltInAgentConfig> {
  if (Object.isFrozen(config)) return config; // already ours (a clone)
  return Object.freeze({
    ...config,
    tools: config.tools ? Object.freeze([...config.tools]) : undefined,
    mcpServers: config.mcpServers ? Object.freeze(config.mcpServers.map((server) => Object.freeze({ ...server }))) : undefined,
    mcpClients: config.mcpClients ? Object.freeze([...config.mcpClients]) : undefined,
    forwardHeadersToModel: config.forwardHeadersToModel ? Object.freeze([...config.forwardHeadersToModel]) : undefined,
    overridableProperties: config.overridableProperties ? Object.freeze([...config.overridableProperties]) : undefined,
    stopSequences: config.stopSequences ? Object.freeze([...config.stopSequences]) : undefined,
  }) as Readonly<BuiltInAgentConfig>;
}

/**
 * CopilotKit's older name of {@link BuiltInAgent} (deprecated in CopilotKit). The same
 * agent; prefer `BuiltInAgent`.
 *
 * @deprecated Use `BuiltInAgent`.
 * @example
 * ```ts
 * const agent = new BasicAgent({ model: "openai/gpt-4o" });
 * ```
 */
export class BasicAgent extends BuiltInAgent {
  static {
    Object.defineProperty(this, "name", { value: "BasicAgent" });
  }
}
