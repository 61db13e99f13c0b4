/**
 * `copilot-runtime/built-in`: BuiltInAgent, an LLM agent on the Vercel AI SDK, with CopilotKit 1.75's
 * helpers (model strings, interrupts, factory mode converters). Needs `ai` (an optional peer
 * dependency) when imported, the provider package a model string names (`@ai-sdk/openai` for
 * `openai/` and `minimax/`, `@ai-sdk/anthropic`, `@ai-sdk/google`, `@ai-sdk/google-vertex` for
 * `vertex/`) when an agent is created with it, and `@modelcontextprotocol/sdk` for `mcpServers`; a
 * missing one is a `MissingDependencyError` naming it.
 */
export {
  BasicAgent,
  BuiltInAgent,
  BuiltInAgentError,
  classifyModelHost,
  classifyModelSpec,
  convertAISDKStream,
  convertInputToTanStackAI,
  convertTanStackStream,
  convertJsonSchemaToZodSchema,
  convertMessagesToVercelAISDKMessages,
  convertToolDefinitionsToVercelAITools,
  convertToolsToVercelAITools,
  defineTool,
  InterruptSignal,
  resolveModel,
} from "./agents/built-in/index.js";
export type {
  BuiltInAgentAISDKFactoryConfig,
  BuiltInAgentClassicConfig,
  BuiltInAgentConfiguration,
  BuiltInAgentCustomFactoryConfig,
  BuiltInAgentFactoryConfig,
  BuiltInAgentFactoryContext,
  BuiltInAgentTanStackFactoryConfig,
  ForwardedHeaderSelection,
  JsonSchema,
  TanStackChatMessage,
  TanStackInput,
  MCPClientProvider,
  MCPServerConfigHTTP,
  MCPServerConfigSSE,
  ModelHostClass,
  MessageConversionOptions,
  BuiltInAgentConfig,
  BasicAgentConfiguration,
  BuiltInAgentModel,
  MCPClientConfig,
  MCPClientConfigHTTP,
  MCPClientConfigSSE,
  BuiltInAgentTelemetry,
  BuiltInAgentErrorCode,
  MCPServerConfig,
  ModelSpecifier,
  OverridableProperty,
  ToolDefinition,
  ToolExecutionContext,
} from "./agents/built-in/index.js";
export { MissingDependencyError } from "./optional-dependency.js";
