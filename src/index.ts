/**
 * The core: runtime, fetch handler, Hono endpoints, the in-memory runner, errors and types. It loads
 * no native module, no database driver, no AI SDK and no `node:` built-in, so it bundles for Bun,
 * Deno and workers. The rest lives behind subpaths, each loading only what it needs:
 * `copilot-runtime/sqlite`, `/postgres`, `/built-in` (BuiltInAgent), `/config` (defineConfig), and
 * the adapters `/node`, `/express`, `/hono`, `/next`.
 */
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
export type { CopilotRuntimeHandler, CopilotRuntimeHandlerOptions, RequestLimits } from "./http/handler.js";
export type { CopilotCorsConfig } from "./http/cors.js";
export type { ForwardHeadersPolicy } from "./http/forward-headers.js";
export { createCopilotEndpoint, createCopilotEndpointSingleRoute } from "./adapters/hono.js";
export type { CopilotEndpointOptions } from "./adapters/hono.js";
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
export { InMemoryAgentRunner } from "./runners/in-memory.js";
export type { InMemoryAgentRunnerOptions } from "./runners/in-memory.js";
export { TranscriptionService, TranscriptionError, OpenAITranscriptionService } from "./transcription/index.js";
export type { OpenAITranscriptionServiceOptions, TranscriptionErrorCode } from "./transcription/index.js";
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
