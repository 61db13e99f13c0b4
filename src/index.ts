export { CopilotRuntime } from "./runtime.js";
export type {
  AfterRequestContext,
  AgentRecord,
  AgentsOption,
  BeforeRequestContext,
  CopilotRuntimeOptions,
  RuntimeUser,
} from "./runtime.js";
export { createCopilotRuntimeHandler } from "./http/handler.js";
export type { CopilotRuntimeHandler, CopilotRuntimeHandlerOptions } from "./http/handler.js";
export type { CopilotCorsConfig } from "./http/cors.js";
export type { ForwardHeadersPolicy } from "./http/forward-headers.js";
export { createCopilotEndpoint, createCopilotEndpointSingleRoute } from "./adapters/hono.js";
export type { CopilotEndpointOptions } from "./adapters/hono.js";
export {
  AgentRunner,
  InvalidRunInputError,
  ThreadAgentMismatchError,
  ThreadBusyError,
  ThreadNotFoundError,
} from "./runners/agent-runner.js";
export type {
  AgentRunnerConnectRequest,
  AgentRunnerIsRunningRequest,
  AgentRunnerRunRequest,
  AgentRunnerStopRequest,
  ListThreadsRequest,
  ThreadRequest,
  ThreadSummary,
  UpdateThreadRequest,
} from "./runners/agent-runner.js";
export { InMemoryAgentRunner } from "./runners/in-memory.js";
export type { InMemoryAgentRunnerOptions } from "./runners/in-memory.js";
export { SqliteAgentRunner } from "./runners/sqlite.js";
export type { SqliteAgentRunnerOptions } from "./runners/sqlite.js";
export { PostgresAgentRunner } from "./runners/postgres.js";
export type { PostgresAgentRunnerOptions } from "./runners/postgres.js";
export { DurableAgentRunner } from "./runners/durable/durable-runner.js";
export type { DurableRunnerOptions, RetentionOptions } from "./runners/durable/durable-runner.js";
export { TranscriptionService, TranscriptionError, OpenAITranscriptionService } from "./transcription/index.js";
export type { OpenAITranscriptionServiceOptions, TranscriptionErrorCode } from "./transcription/index.js";
export { DemoAgent } from "./agents/demo.js";
export type { DemoAgentOptions } from "./agents/demo.js";
export type { AgentLike } from "./events/agent-contract.js";
export { setSseLoadProbe, MAX_COALESCE_MS } from "./http/sse.js";
export type { SseLoadProbe } from "./http/sse.js";
export { setLogger } from "./logger.js";
export type { Logger } from "./logger.js";
export { VERSION } from "./version.js";
export { BuiltInAgent, BuiltInAgentError, defineTool } from "./agents/built-in/index.js";
export type {
  BuiltInAgentConfig,
  BuiltInAgentErrorCode,
  MCPServerConfig,
  ModelSpecifier,
  OverridableProperty,
  ToolDefinition,
  ToolExecutionContext,
} from "./agents/built-in/index.js";
export { defineConfig } from "./cli/define-config.js";
export type {
  CopilotRuntimeConfig,
  CopilotRuntimeConfigContext,
  CopilotRuntimeConfigFactory,
  CopilotRuntimeConfigRuntimeOptions,
} from "./cli/define-config.js";
export { createHealthHandler } from "./observability/health.js";
export type { HealthHandler, HealthHandlerOptions, Readiness, UnreadyReason } from "./observability/health.js";
export { MetricsRegistry, createMetricsHandler } from "./observability/metrics.js";
export type { MetricsHandlerOptions } from "./observability/metrics.js";
export type { StoreWriteObserver, StoreWriteOperation } from "./observability/store-metrics.js";
