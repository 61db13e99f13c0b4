/**
 * The core: runtime, fetch handler, Hono endpoints, the in-memory runner, errors and types. It loads
 * no native module, no database driver, no AI SDK and no `node:` built-in, so it bundles for Bun,
 * Deno and workers. The rest lives behind subpaths, each loading only what it needs:
 * `copilot-runtime/sqlite`, `/postgres`, `/built-in` (BuiltInAgent), `/config` (defineConfig), and
 * the adapters `/node`, `/express`, `/hono`, `/next`.
 */
export { CopilotRuntime, CopilotSseRuntime, CopilotIntelligenceRuntime, isIntelligenceRuntime, resolveAgents } from "./runtime.js";
export { CopilotKitIntelligence } from "./intelligence-runtime/copilotkit-intelligence.js";
export type { CopilotKitIntelligenceConfig } from "./intelligence-runtime/copilotkit-intelligence.js";
export { PlatformRequestError } from "./intelligence-runtime/platform-request-error.js";
export { IntelligenceAgentRunner } from "./intelligence-runtime/intelligence-agent-runner.js";
export type { IntelligenceAgentRunnerOptions, IntelligenceRunRequest, RunnerStartupBoundary } from "./intelligence-runtime/intelligence-agent-runner.js";
export { LearnedSkillsError } from "./intelligence-runtime/learned-skills-error.js";
export type { LearnedSkillsErrorCode } from "./intelligence-runtime/learned-skills-error.js";
export type { RuntimeEntitlementResponse, RuntimeLicenseStatus } from "./intelligence-runtime/entitlements.js";
export type {
  ListThreadsResponse,
  PlatformThreadSummary,
  ThreadConnectionResponse,
  ThreadDeletedPayload,
  ThreadMessage,
} from "./intelligence-runtime/platform-types.js";
export type {
  AfterRequestContext,
  AgentFactoryContext,
  AgentRecord,
  AgentsConfig,
  AgentsFactory,
  AgentsOption,
  BeforeRequestContext,
  CopilotRuntimeConstructor,
  CopilotRuntimeLike,
  CopilotRuntimeOptions,
  CopilotRuntimeUser,
  CopilotSseRuntimeLike,
  CopilotSseRuntimeOptions,
  IdentifyUserCallback,
  RuntimeMode,
  RuntimeUser,
} from "./runtime.js";
export { createCopilotRuntimeHandler } from "./http/handler.js";
export type {
  CopilotKitRequestHandler,
  CopilotRuntimeFetchHandler,
  CopilotRuntimeHandler,
  CopilotRuntimeHandlerOptions,
  RequestLimits,
} from "./http/handler.js";
export type {
  CopilotRuntimeHooks,
  ErrorHookContext,
  HandlerHookContext,
  HookContext,
  ResponseHookContext,
  RouteInfo,
} from "./http/hooks.js";
export type { CopilotCorsConfig } from "./http/cors.js";
export type { ForwardHeadersPolicy } from "./http/forward-headers.js";
export { createCopilotEndpoint, createCopilotEndpointSingleRoute, createCopilotHonoHandler, toFetchCorsConfig } from "./adapters/hono.js";
export type { CopilotEndpointCorsConfig, CopilotEndpointOptions, CopilotHonoApp } from "./adapters/hono.js";
export {
  AgentRunner,
  InvalidRunInputError,
  StoreUnavailableError,
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
export { supportsLocalThreadEndpoints } from "./runners/local-thread-endpoints.js";
export type { LocalThreadEndpointRunner } from "./runners/local-thread-endpoints.js";
export { InMemoryAgentRunner } from "./runners/in-memory.js";
export type { InMemoryAgentRunnerOptions, InMemoryLimits } from "./runners/in-memory.js";
export { TranscriptionService, TranscriptionError, OpenAITranscriptionService } from "./transcription/index.js";
export type { OpenAITranscriptionServiceOptions, TranscribeFileOptions, TranscriptionErrorCode } from "./transcription/index.js";
export { DemoAgent } from "./agents/demo.js";
export type { DemoAgentOptions } from "./agents/demo.js";
export type { AgentLike } from "./events/agent-contract.js";
export { createRunEventFinalizer, finalizeRunEvents } from "./events/finalize-run-events.js";
export type { FinalizeRunOptions, RunEventFinalizer } from "./events/finalize-run-events.js";
export { setSseLoadProbe, MAX_COALESCE_MS } from "./http/sse.js";
export type { SseLoadProbe } from "./http/sse.js";
export { fromConsoleLogger, setLogger } from "./logger.js";
export type { ConsoleLikeLogger, LogFields, Logger, LogLevel } from "./logger.js";
export { VERSION } from "./version.js";
export { createHealthHandler } from "./observability/health.js";
export type { HealthHandler, HealthHandlerOptions, Readiness, UnreadyReason } from "./observability/health.js";
export { MetricsRegistry, createMetricsHandler } from "./observability/metrics.js";
export type { MetricsHandlerOptions } from "./observability/metrics.js";
export type { StoreWriteObserver, StoreWriteOperation } from "./observability/store-metrics.js";
export { MissingDependencyError } from "./missing-dependency-error.js";
export { isA2UIEnabled } from "./genui/options.js";
export type {
  A2UIOptions,
  A2UIInlineCatalogSchema,
  A2UIComponentSchema,
  GenerativeUiTargets,
  McpAppsConfig,
  McpAppsServerConfig,
  OpenGenerativeUIConfig,
  OpenGenerativeUIOptions,
} from "./genui/options.js";
