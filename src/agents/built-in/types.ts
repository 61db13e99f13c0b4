import type { AgentCapabilities, BaseEvent, Interrupt, ResumeEntry, RunAgentInput } from "@ag-ui/core";
import type { SSEClientTransportOptions } from "@modelcontextprotocol/sdk/client/sse.js";
import type { StreamableHTTPClientTransportOptions } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { JSONValue, LanguageModel, ToolSet } from "ai";

/**
 * A language model given as an object (for example `openai.chat("gpt-4o")` from `@ai-sdk/openai`).
 * Plain strings are parsed by BuiltInAgent itself, never sent to the AI SDK's gateway.
 *
 * @example
 * ```ts
 * import { createOpenAI } from "@ai-sdk/openai";
 * // an OpenAI-compatible server that only speaks Chat Completions:
 * const model: LanguageModelObject = createOpenAI({ baseURL: "http://localhost:8000/v1" }).chat("llama-3.1-8b");
 * ```
 */
export type LanguageModelObject = Exclude<LanguageModel, string>;

/**
 * The model of a BuiltInAgent: `"provider/model"`, `"provider:model"` (providers: `openai`,
 * `anthropic`, `google`, alias `gemini`) or a language model object.
 *
 * @example
 * ```ts
 * const a: ModelSpecifier = "openai/gpt-4o";
 * const b: ModelSpecifier = "anthropic:claude-sonnet-4-5";
 * ```
 */
export type ModelSpecifier = string | LanguageModelObject;

/**
 * The options a client may override through `forwardedProps`, when listed in `overridableProperties`.
 *
 * @example
 * ```ts
 * const allowed: OverridableProperty[] = ["model", "temperature"];
 * // a client then sends forwardedProps: { model: "openai/gpt-4.1-mini", temperature: 0.2 }
 * ```
 */
export type OverridableProperty =
  | "model"
  | "prompt"
  | "maxSteps"
  | "temperature"
  | "maxOutputTokens"
  | "topP"
  | "topK"
  | "presencePenalty"
  | "frequencyPenalty"
  | "stopSequences"
  | "seed"
  | "maxRetries"
  | "toolChoice"
  | "providerOptions";

/**
 * How the model may pick tools, as in the AI SDK.
 *
 * @example
 * ```ts
 * const choice: ToolChoiceOption = { type: "tool", toolName: "get_weather" };
 * ```
 */
export type ToolChoiceOption = "auto" | "none" | "required" | { type: "tool"; toolName: string };

/**
 * Per-provider options passed through to the AI SDK provider.
 *
 * @example
 * ```ts
 * const options: ProviderOptions = { anthropic: { thinking: { type: "enabled", budgetTokens: 2048 } } };
 * ```
 */
export type ProviderOptions = Record<string, Record<string, JSONValue>>;

/**
 * The part of the Standard Schema interface (https://standardschema.dev) that BuiltInAgent relies on.
 * zod 4, valibot and arktype schemas all satisfy it.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * const parameters: StandardSchemaV1 = z.object({ city: z.string() });
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => unknown;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/**
 * The parsed arguments type of a Standard Schema.
 *
 * @example
 * ```ts
 * const schema = z.object({ n: z.number() });
 * type Args = InferSchemaOutput<typeof schema>; // { n: number }
 * ```
 */
export type InferSchemaOutput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["output"];

/**
 * What a server tool's `execute` receives besides its arguments.
 *
 * @example
 * ```ts
 * execute: async ({ url }, { abortSignal }) => (await fetch(url, { signal: abortSignal })).text();
 * ```
 */
export interface ToolExecutionContext {
  /** The id of the tool call the model made. */
  toolCallId: string;
  /** Aborted when the run is stopped. */
  abortSignal: AbortSignal;
}

/**
 * A tool defined on the server. Create it with `defineTool`, which checks the name. A tool either
 * runs on the server (`execute`) or is an interrupt tool (`interrupt: true`, no `execute`): calling
 * it pauses the run for a human, whose answer becomes the tool's result on the resumed run.
 *
 * @example
 * ```ts
 * const tools: ToolDefinition<any>[] = [defineTool({ name: "now", description: "Time", parameters: z.object({}), execute: () => Date.now() })];
 * ```
 */
export interface ToolDefinition<S extends StandardSchemaV1 = StandardSchemaV1> {
  name: string;
  description: string;
  parameters: S;
  /** Runs the tool on the server. Absent only on interrupt tools. */
  execute?: (args: InferSchemaOutput<S>, context: ToolExecutionContext) => unknown;
  /**
   * When true, a call to this tool ends the run with RUN_FINISHED `outcome: { type: "interrupt" }`
   * (one interrupt per call, its id the tool call's id) instead of executing; the client resumes with
   * `RunAgentInput.resume` and the answer is given to the model as the tool's result.
   */
  interrupt?: boolean;
  /** The interrupt's `reason` (default `"tool_call"`). */
  interruptReason?: string;
  /** The interrupt's human-readable `message`. */
  interruptMessage?: string;
}

/**
 * How a request's forwarded headers reach an outbound call: `true` for all of them, or a list of
 * header names (any case). Only headers the runtime's `forwardHeaders` policy let through to the
 * agent are candidates; a header the configuration sets itself wins.
 *
 * @example
 * ```ts
 * const forward: ForwardedHeaderSelection = ["authorization", "x-tenant-id"];
 * ```
 */
export type ForwardedHeaderSelection = boolean | string[];

/**
 * An MCP server whose tools are offered to the model. `http` is the streamable HTTP transport,
 * `sse` the older HTTP+SSE transport. A client is opened per run and closed when the run ends.
 * `options` goes to the MCP SDK's transport as is (`fetch`, `authProvider` for OAuth,
 * `requestInit`, `reconnectionOptions`, ...), as in CopilotKit.
 *
 * @example
 * ```ts
 * const server: MCPServerConfig = { type: "http", url: "https://mcp.example.com/mcp", headers: { "x-team": "a" }, forwardHeaders: ["authorization"] };
 * ```
 */
export type MCPServerConfig = MCPServerConfigHTTP | MCPServerConfigSSE;

interface MCPServerConfigBase {
  url: string;
  /** Headers sent with every request to the server. */
  headers?: Record<string, string>;
  /**
   * Send the user's forwarded request headers (e.g. their `authorization`) to this server too, so a
   * token flows from the browser to the tools. Off by default: a server should not get a user's
   * credentials unless it is meant to.
   */
  forwardHeaders?: ForwardedHeaderSelection;
}

/** An MCP server on the streamable HTTP transport. */
export interface MCPServerConfigHTTP extends MCPServerConfigBase {
  type: "http";
  /** Options of the MCP SDK's `StreamableHTTPClientTransport` (custom `fetch`, OAuth `authProvider`, ...). */
  options?: StreamableHTTPClientTransportOptions;
}

/** An MCP server on the older HTTP+SSE transport. */
export interface MCPServerConfigSSE extends MCPServerConfigBase {
  type: "sse";
  /** Options of the MCP SDK's `SSEClientTransport` (custom `fetch`, OAuth `authProvider`, ...). */
  options?: SSEClientTransportOptions;
}

/**
 * An MCP client the application manages (connects, caches, closes), e.g. what `createMCPClient()`
 * of `@ai-sdk/mcp` returns: its `tools()` are read at the start of each run. The agent never
 * closes it.
 *
 * @example
 * ```ts
 * const client = await createMCPClient({ transport: { type: "http", url: "https://mcp.example.com/mcp" } });
 * new BuiltInAgent({ model: "openai/gpt-4o", mcpClients: [client] });
 * ```
 */
export interface MCPClientProvider {
  tools(): Promise<ToolSet>;
}

/**
 * Options of a {@link BuiltInAgent}.
 *
 * @example
 * ```ts
 * const config: BuiltInAgentConfig = {
 *   model: "openai/gpt-4o",
 *   prompt: "You are a helpful assistant.",
 *   maxSteps: 5,
 *   overridableProperties: ["temperature"],
 * };
 * ```
 */
export interface BuiltInAgentConfig {
  /** `"provider/model"`, `"provider:model"` or a language model object. */
  model: ModelSpecifier;
  /** API key of the model's provider; defaults to the provider's environment variable. */
  apiKey?: string;
  /** Base URL of the provider's API; defaults to the provider's environment variable or its public URL. */
  baseURL?: string;
  /** The system prompt; the client's context and the current state are appended to it. */
  prompt?: string;
  /**
   * The most model calls in one run (each tool round-trip is one more). Default 10.
   * CopilotKit's BuiltInAgent defaults to 1, which stops right after a server tool's result.
   */
  maxSteps?: number;
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  topK?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  stopSequences?: string[];
  seed?: number;
  /** Retries of a failed model call (429, 5xx); the AI SDK's default is 2. */
  maxRetries?: number;
  toolChoice?: ToolChoiceOption;
  providerOptions?: ProviderOptions;
  /**
   * Time limits of the model calls, in milliseconds: a number for the whole run, or
   * `{ totalMs, stepMs, chunkMs }` (`chunkMs` catches a provider that stops sending mid-stream).
   * A run that runs out of time ends with RUN_ERROR code `timeout`. None by default.
   */
  timeout?: number | { totalMs?: number; stepMs?: number; chunkMs?: number };
  /** Which options the client's `forwardedProps` may override. None by default. */
  overridableProperties?: OverridableProperty[];
  /** Tools executed on the server. */
  tools?: ToolDefinition<any>[];
  /** MCP servers whose tools are offered to the model. */
  mcpServers?: MCPServerConfig[];
  /** MCP clients the application manages; their tools are offered to the model on each run. */
  mcpClients?: MCPClientProvider[];
  /**
   * Send some of the user's forwarded request headers to the model provider as well (a list of
   * names; e.g. a gateway's `x-user-id`). Names that carry the provider's key (`authorization`,
   * `x-api-key`, `api-key`, `x-goog-api-key`) are refused.
   */
  forwardHeadersToModel?: string[];
  /**
   * What a run does when an MCP server cannot be reached or listed: `"skip"` (the default, as
   * CopilotKit does) leaves its tools out, answers without them and logs a warning; `"fail"` ends the
   * run with RUN_ERROR `mcp_connection_failed`. Either way the server's address stays in the log.
   */
  onMcpServerError?: "skip" | "fail";
  /** Append the client's `system` messages to the system prompt. Default false: clients are not trusted with it. */
  forwardSystemMessages?: boolean;
  /** Append the client's `developer` messages to the system prompt. Default false. */
  forwardDeveloperMessages?: boolean;
  /**
   * Called with the original error when a run fails. The client only gets a RUN_ERROR with a safe
   * message and a code; use this to log the full cause.
   */
  onRunError?: (error: unknown, context: { threadId: string; runId: string; code: string }) => void;
  /**
   * The AI SDK's OpenTelemetry spans for each model call (`experimental_telemetry`), off by default.
   * `true` turns them on; an object also names the call (`functionId`), adds attributes (`metadata`)
   * and can keep prompts and answers out of the spans (`recordInputs` / `recordOutputs: false`).
   * The thread, run and agent ids are always added to the metadata. The spans nest under the
   * runtime's `copilot_runtime.agent` span; they go nowhere unless the app installs an OpenTelemetry SDK.
   *
   * @example
   * ```ts
   * new BuiltInAgent({ model: "openai/gpt-4o", telemetry: { functionId: "support-chat", recordInputs: false } });
   * ```
   */
  telemetry?: boolean | BuiltInAgentTelemetry;
  /**
   * What `getCapabilities()` reports, merged over the inferred capabilities by category: a category
   * given here (e.g. `tools`) replaces the inferred one whole, as in CopilotKit.
   *
   * @example
   * ```ts
   * new BuiltInAgent({ model: "openai/gpt-4o", capabilities: { tools: { supported: true, clientProvided: false } } });
   * ```
   */
  capabilities?: Partial<AgentCapabilities>;
  /** Shown by the runtime's `/info`. */
  description?: string;
  agentId?: string;
}

/** The `telemetry` option of BuiltInAgent as an object (see `BuiltInAgentConfig.telemetry`). */
export interface BuiltInAgentTelemetry {
  /** Groups the AI SDK's spans by function (`ai.telemetry.functionId`). */
  functionId?: string;
  /** Extra attributes on the AI SDK's spans (`ai.telemetry.metadata.<key>`). */
  metadata?: Record<string, string | number | boolean | Array<string> | Array<number> | Array<boolean>>;
  /** Record prompts in the spans. Default true (the AI SDK's default). */
  recordInputs?: boolean;
  /** Record the model's answers in the spans. Default true (the AI SDK's default). */
  recordOutputs?: boolean;
}

/** The options of a BuiltInAgent that calls the model itself (the classic configuration). */
export type BuiltInAgentClassicConfig = BuiltInAgentConfig;

/**
 * What a factory-mode BuiltInAgent's `factory` gets for each run.
 *
 * @example
 * ```ts
 * factory: ({ input, abortSignal }) => streamText({ model, messages: convertMessagesToVercelAISDKMessages(input.messages), abortSignal })
 * ```
 */
export interface BuiltInAgentFactoryContext {
  /**
   * The run's input. On a resumed run of an `aisdk` or `tanstack` factory, each resume entry not yet
   * answered by a tool message is appended as a `tool` message for the paused call (content: the
   * payload as JSON, or `{"status":"cancelled"}`), so converting the messages gives the model the
   * answer. A `custom` factory gets `resume` untouched and reads it through `interrupt()`.
   */
  input: RunAgentInput;
  /** For backends that need the controller itself (TanStack AI). Stop runs with `abortRun()`, not with it. */
  abortController: AbortController;
  /** Aborted when the run is stopped; pass it to the model call. */
  abortSignal: AbortSignal;
  /**
   * Pauses the run for a human: unless `input.resume` answers every one of `interrupts` (by id), it
   * throws an {@link InterruptSignal} and the run ends with RUN_FINISHED
   * `outcome: { type: "interrupt", interrupts }`. On the resumed run it returns the matching entries.
   */
  interrupt: (interrupts: Interrupt[]) => Promise<ResumeEntry[]>;
  /** CopilotKit's learned skills (Intelligence platform); not supported here, always empty. */
  learnedSkills: { readonly catalog: string; readonly tools: Readonly<ToolSet> };
}

/** Options every factory-mode configuration accepts besides `type` and `factory`. */
export interface BuiltInAgentFactoryCommonConfig {
  /** Called with the original error when a run fails (the client gets a safe RUN_ERROR). */
  onRunError?: BuiltInAgentConfig["onRunError"];
  /** Merged over the inferred capabilities by category, as in the classic configuration. */
  capabilities?: Partial<AgentCapabilities>;
  /** Shown by the runtime's `/info`. */
  description?: string;
  agentId?: string;
}

/**
 * Factory mode with the AI SDK: `factory` returns what `streamText()` returns (only `fullStream` is
 * read); BuiltInAgent turns it into AG-UI events and owns the run's lifecycle.
 *
 * @example
 * ```ts
 * new BuiltInAgent({ type: "aisdk", factory: ({ input, abortSignal }) =>
 *   streamText({ model: openai("gpt-4o"), messages: convertMessagesToVercelAISDKMessages(input.messages), abortSignal }) });
 * ```
 */
export interface BuiltInAgentAISDKFactoryConfig extends BuiltInAgentFactoryCommonConfig {
  type: "aisdk";
  factory: (context: BuiltInAgentFactoryContext) => { fullStream: AsyncIterable<unknown> } | Promise<{ fullStream: AsyncIterable<unknown> }>;
}

/**
 * Factory mode with TanStack AI: `factory` returns TanStack AI's stream of chunks.
 *
 * @example
 * ```ts
 * new BuiltInAgent({ type: "tanstack", factory: ({ input, abortController }) => chat({ adapter, ...convertInputToTanStackAI(input), abortController }) });
 * ```
 */
export interface BuiltInAgentTanStackFactoryConfig extends BuiltInAgentFactoryCommonConfig {
  type: "tanstack";
  factory: (context: BuiltInAgentFactoryContext) => AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>;
}

/**
 * Factory mode with any backend: `factory` yields AG-UI events itself. BuiltInAgent sends
 * RUN_STARTED and the final RUN_FINISHED (a RUN_FINISHED from the factory lends it its fields);
 * a RUN_ERROR from the factory ends the run.
 *
 * @example
 * ```ts
 * new BuiltInAgent({ type: "custom", async *factory() {
 *   yield { type: EventType.TEXT_MESSAGE_START, messageId: "m1", role: "assistant" };
 *   yield { type: EventType.TEXT_MESSAGE_CONTENT, messageId: "m1", delta: "Hi" };
 *   yield { type: EventType.TEXT_MESSAGE_END, messageId: "m1" };
 * } });
 * ```
 */
export interface BuiltInAgentCustomFactoryConfig extends BuiltInAgentFactoryCommonConfig {
  type: "custom";
  factory: (context: BuiltInAgentFactoryContext) => AsyncIterable<BaseEvent> | Promise<AsyncIterable<BaseEvent>>;
}

/** A factory-mode configuration: you make the model call, BuiltInAgent runs the AG-UI side. */
export type BuiltInAgentFactoryConfig = BuiltInAgentAISDKFactoryConfig | BuiltInAgentTanStackFactoryConfig | BuiltInAgentCustomFactoryConfig;

/**
 * Everything `new BuiltInAgent(...)` accepts: the classic configuration (`model`, ...) or a
 * factory-mode one (`type` + `factory`).
 *
 * @example
 * ```ts
 * const classic: BuiltInAgentConfiguration = { model: "openai/gpt-4o" };
 * const custom: BuiltInAgentConfiguration = { type: "custom", factory: async function* () {} };
 * ```
 */
export type BuiltInAgentConfiguration = BuiltInAgentConfig | BuiltInAgentFactoryConfig;

/**
 * True for a factory-mode configuration.
 *
 * @example
 * ```ts
 * if (isFactoryConfig(config)) config.factory; else config.model;
 * ```
 */
export function isFactoryConfig(config: Readonly<BuiltInAgentConfiguration>): config is Readonly<BuiltInAgentFactoryConfig> {
  return typeof (config as { factory?: unknown }).factory === "function" || "type" in config;
}

/** CopilotKit's name for the classic configuration of its deprecated `BasicAgent`. */
export type BasicAgentConfiguration = BuiltInAgentConfig;
/** CopilotKit's name for {@link MCPServerConfig}. */
export type MCPClientConfig = MCPServerConfig;
/** CopilotKit's name for {@link MCPServerConfigHTTP}. */
export type MCPClientConfigHTTP = MCPServerConfigHTTP;
/** CopilotKit's name for {@link MCPServerConfigSSE}. */
export type MCPClientConfigSSE = MCPServerConfigSSE;

/**
 * A model string, with the well-known ones offered by editors; any `"provider/model"` of a
 * supported provider is accepted.
 *
 * @example
 * ```ts
 * const model: BuiltInAgentModel = "anthropic/claude-sonnet-4-5";
 * ```
 */
export type BuiltInAgentModel =
  | "openai/gpt-5"
  | "openai/gpt-5-mini"
  | "openai/gpt-4.1"
  | "openai/gpt-4.1-mini"
  | "openai/gpt-4o"
  | "openai/gpt-4o-mini"
  | "openai/o3"
  | "openai/o4-mini"
  | "anthropic/claude-sonnet-4-6"
  | "anthropic/claude-sonnet-4-5"
  | "anthropic/claude-haiku-4-5"
  | "google/gemini-2.5-pro"
  | "google/gemini-2.5-flash"
  | "minimax/MiniMax-M3"
  | (string & {});
