import type { BaseEvent, RunAgentInput } from "@ag-ui/core";
import type { Logger } from "../../logger.js";
import type { TelemetrySettings, ToolChoice, ToolSet } from "ai";
import { ai } from "./ai-sdk.js";
import { convertMessages } from "./convert-messages.js";
import { BuiltInAgentError, classifyRunError, describeError, redactSecrets } from "./errors.js";
import { AguiEventMapper, type RunFinishedDetails } from "./event-mapper.js";
import { outboundHeaders } from "./forwarded-headers.js";
import { InterruptCollector, parseResume, resumeToolResults } from "./interrupts.js";
import { openMcpToolset, type McpToolset } from "./mcp.js";
import { buildModel, providerOf } from "./resolve-model.js";
import { logMcpServerSkipped, logRunFailure, logToolFailure, type RunIdentity } from "./run-log.js";
import { runFinishedDetails } from "./run-finished.js";
import { resolveRunSettings } from "./run-settings.js";
import { configuredSecrets } from "./secrets.js";
import { createStateTools } from "./state-tools.js";
import { buildSystemPrompt } from "./system-prompt.js";
import { describeToolFailure, guardToolErrors } from "./tool-errors.js";
import { assembleTools } from "./toolset.js";
import type { BuiltInAgentConfig } from "./types.js";

const TIMEOUT_MESSAGE = "The model did not answer in time.";
const CUT_OFF_MESSAGE = "The model provider's response ended before it was complete.";
const MODEL_CODES: ReadonlySet<string> = new Set(["invalid_model", "unknown_provider", "missing_api_key"]);

/**
 * A step whose stream ended without the provider's closing frame (`response.completed`,
 * `finish_reason`, `message_delta`): the AI SDK reports it as finish reason `other` with no token
 * counts, which every provider sends when it finishes. Passing it on as RUN_FINISHED would present
 * a truncated answer as complete.
 */
function isCutOff(part: { finishReason: string; usage: { inputTokens?: number; outputTokens?: number } }): boolean {
  return part.finishReason === "other" && part.usage.inputTokens === undefined && part.usage.outputTokens === undefined;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/** Everything one run needs. */
export interface RunContext {
  input: RunAgentInput;
  config: BuiltInAgentConfig;
  /** Aborted by `abortRun()` or when the subscriber goes away; cancels the model request. */
  signal: AbortSignal;
  emit: (events: BaseEvent[]) => void;
  /** The agent's id in the runtime, for the log. */
  agentId?: string;
  /** Request headers the runtime forwards to this agent (redacted from logs, the model and the client). */
  forwardedHeaders?: Record<string, string>;
  /** Where the run's lines go (the request's logger); default the process-wide one. */
  log?: Logger;
}

/**
 * Runs one turn: resolves the model and tools, streams the model's answer through the AI SDK, and
 * emits AG-UI events. Never throws: every failure, including a bad configuration, ends the run with
 * RUN_ERROR; a stop ends it with RUN_FINISHED after marking unanswered tool calls as stopped.
 *
 * @example
 * ```ts
 * await executeRun({ input, config, signal: controller.signal, emit: (events) => events.forEach(send) });
 * ```
 */
export async function executeRun({ input, config, signal, emit, agentId, forwardedHeaders, log }: RunContext): Promise<void> {
  const mapper = new AguiEventMapper({ threadId: input.threadId, runId: input.runId });
  const identity: RunIdentity = { agent: agentId, threadId: input.threadId, runId: input.runId, log };
  const secrets = configuredSecrets({
    apiKeys: [config.apiKey],
    model: config.model,
    mcpServers: config.mcpServers,
    headers: forwardedHeaders,
  });
  let mcp: McpToolset | undefined;
  let clientChoseModel = false;
  emit(mapper.runStarted());
  try {
    const settings = resolveRunSettings(config, input.forwardedProps);
    clientChoseModel = settings.model !== config.model;
    const { model, apiKey } = buildModel(settings.model, {
      apiKey: config.apiKey,
      baseURL: config.baseURL,
      provider: providerOf(config.model),
    });
    identity.provider = model.provider;
    secrets.push(...configuredSecrets({ apiKeys: [apiKey], model }));

    const resume = parseResume((input as { resume?: unknown }).resume);
    const { messages, instructions } = convertMessages(input.messages ?? [], {
      forwardSystemMessages: config.forwardSystemMessages,
      forwardDeveloperMessages: config.forwardDeveloperMessages,
      pendingResults: resumeToolResults(resume, input.messages ?? []),
    });
    if (messages.length === 0) {
      throw new BuiltInAgentError("invalid_request", "The conversation has no message for the model to answer.");
    }
    const system = buildSystemPrompt({
      prompt: settings.prompt,
      context: input.context,
      state: input.state,
      forwardedInstructions: instructions,
    });
    const state = { current: structuredClone(input.state ?? {}) };
    if (config.mcpServers?.length || config.mcpClients?.length) {
      mcp = await openMcpToolset(config.mcpServers ?? [], {
        signal,
        forwardedHeaders,
        clients: config.mcpClients,
        takenNames: new Set((config.tools ?? []).map((tool) => tool.name)),
        onServerError: config.onMcpServerError,
        onSkip: (server, error) => logMcpServerSkipped(identity, { url: redactSecrets(server.url, secrets), error: describeError(error, secrets) }),
      });
    }
    const tools = guardToolErrors(
      assembleTools({
        state: createStateTools(state),
        server: config.tools ?? [],
        mcp: mcp?.tools ?? {},
        frontend: input.tools ?? [],
      }),
      secrets,
    );

    const result = ai.streamText({
      model,
      system,
      messages,
      tools,
      toolChoice: settings.toolChoice as ToolChoice<ToolSet> | undefined,
      stopWhen: ai.stepCountIs(settings.maxSteps),
      temperature: settings.temperature,
      maxOutputTokens: settings.maxOutputTokens,
      topP: settings.topP,
      topK: settings.topK,
      presencePenalty: settings.presencePenalty,
      frequencyPenalty: settings.frequencyPenalty,
      stopSequences: settings.stopSequences,
      seed: settings.seed,
      maxRetries: settings.maxRetries,
      providerOptions: settings.providerOptions,
      timeout: config.timeout,
      abortSignal: signal,
      ...modelHeaders(forwardedHeaders, config.forwardHeadersToModel),
      onError: () => {}, // errors also arrive as `error` parts, handled below; the default logs them
      experimental_telemetry: telemetrySettings(config.telemetry, identity),
    });
    let finished: RunFinishedDetails = {};
    const interrupts = new InterruptCollector(config.tools ?? []);
    for await (const part of result.fullStream) {
      if (signal.aborted) break;
      if (part.type === "finish") finished = runFinishedDetails(part, model);
      // An interrupt tool has no execute, so the AI SDK ends the run after its call: the run pauses.
      if (part.type === "tool-call" && !part.providerExecuted && !part.invalid) interrupts.onToolCall(part.toolCallId, part.toolName);
      // Only our signal means "stopped"; an abort the AI SDK raised itself is one of its timeouts.
      if (part.type === "abort") throw new BuiltInAgentError("timeout", TIMEOUT_MESSAGE);
      if (part.type === "error") throw part.error;
      if (part.type === "tool-error" && !part.providerExecuted) {
        logToolFailure(identity, { name: part.toolName, toolCallId: part.toolCallId, ...describeToolFailure(part.error, secrets) });
      }
      if (part.type === "finish-step" && isCutOff(part)) throw new BuiltInAgentError("provider_error", CUT_OFF_MESSAGE);
      emit(mapper.map(part));
    }
    emit(signal.aborted ? mapper.runStopped() : mapper.runFinished({ ...finished, interrupts: interrupts.list }));
  } catch (thrown) {
    const error = !signal.aborted && isAbortError(thrown) ? new BuiltInAgentError("timeout", TIMEOUT_MESSAGE) : thrown;
    if (signal.aborted) {
      emit(mapper.runStopped());
    } else {
      const failure = classifyRunError(error, secrets);
      // A model the client picked (forwardedProps.model) that does not resolve is the client's mistake.
      if (clientChoseModel && error instanceof BuiltInAgentError && MODEL_CODES.has(error.code)) failure.level = "warn";
      logRunFailure(identity, failure);
      try {
        config.onRunError?.(error, { threadId: input.threadId, runId: input.runId, code: failure.code });
      } catch {
        // a failing hook must not keep the client from hearing about the error
      }
      emit(mapper.runError({ code: failure.code, message: failure.message }));
    }
  } finally {
    await mcp?.close();
  }
}

/** `headers` for the model request: the forwarded headers the agent chose to pass on, if any. */
function modelHeaders(forwarded: Record<string, string> | undefined, names: readonly string[] | undefined): { headers?: Record<string, string> } {
  if (!names?.length) return {};
  const headers = outboundHeaders(forwarded, [...names], undefined);
  return Object.keys(headers).length > 0 ? { headers } : {};
}

/** The AI SDK's `experimental_telemetry` for the `telemetry` option: undefined (off) unless asked for. */
function telemetrySettings(option: BuiltInAgentConfig["telemetry"], identity: RunIdentity): TelemetrySettings | undefined {
  if (option === undefined || option === false) return undefined;
  const given = option === true ? {} : option;
  const metadata: NonNullable<TelemetrySettings["metadata"]> = { ...given.metadata, "ag_ui.thread_id": identity.threadId, "ag_ui.run_id": identity.runId };
  if (identity.agent !== undefined) metadata["copilot_runtime.agent_id"] = identity.agent;
  return { isEnabled: true, functionId: given.functionId, metadata, recordInputs: given.recordInputs, recordOutputs: given.recordOutputs };
}
