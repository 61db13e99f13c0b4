/**
 * BuiltInAgent: an AG-UI agent on the Vercel AI SDK, with server, client, MCP and state tools.
 *
 * @example
 * ```ts
 * import { BuiltInAgent, defineTool } from "./agents/built-in/index.js";
 * const agent = new BuiltInAgent({ model: "anthropic/claude-sonnet-4-5" });
 * ```
 */
export { BasicAgent, BuiltInAgent } from "./agent.js";
export { defineTool } from "./define-tool.js";
export { convertAISDKStream } from "./convert-ai-sdk-stream.js";
export {
  convertJsonSchemaToZodSchema,
  convertMessagesToVercelAISDKMessages,
  convertToolDefinitionsToVercelAITools,
  convertToolsToVercelAITools,
  type JsonSchema,
} from "./converters.js";
export type { MessageConversionOptions } from "./convert-messages.js";
export { InterruptSignal } from "./interrupts.js";
export { convertInputToTanStackAI, convertTanStackStream, type TanStackChatMessage, type TanStackInput } from "./tanstack.js";
export { BuiltInAgentError, type BuiltInAgentErrorCode } from "./errors.js";
export { buildModel, parseModelId, type KnownProvider } from "./resolve-model.js";
export { classifyModelHost, classifyModelSpec, resolveModel, type ModelHostClass } from "./model-spec.js";
export type {
  BuiltInAgentAISDKFactoryConfig,
  BuiltInAgentClassicConfig,
  BuiltInAgentConfiguration,
  BuiltInAgentCustomFactoryConfig,
  BuiltInAgentFactoryConfig,
  BuiltInAgentFactoryContext,
  BuiltInAgentTanStackFactoryConfig,
  BuiltInAgentConfig,
  BasicAgentConfiguration,
  BuiltInAgentModel,
  MCPClientConfig,
  MCPClientConfigHTTP,
  MCPClientConfigSSE,
  ForwardedHeaderSelection,
  MCPClientProvider,
  MCPServerConfigHTTP,
  MCPServerConfigSSE,
  BuiltInAgentTelemetry,
  InferSchemaOutput,
  LanguageModelObject,
  MCPServerConfig,
  ModelSpecifier,
  OverridableProperty,
  ProviderOptions,
  StandardSchemaV1,
  ToolChoiceOption,
  ToolDefinition,
  ToolExecutionContext,
} from "./types.js";
