import type { BaseEvent, RunAgentInput } from "@ag-ui/core";
import type { ToolChoice, ToolSet } from "ai";
import { ai } from "./ai-sdk.js";
import { convertMessages } from "./convert-messages.js";
import { BuiltInAgentError, toRunErrorInfo } from "./errors.js";
import { AguiEventMapper } from "./event-mapper.js";
import { openMcpToolset, type McpToolset } from "./mcp.js";
import { providerOf, resolveModel } from "./resolve-model.js";
import { resolveRunSettings } from "./run-settings.js";
import { createStateTools } from "./state-tools.js";
import { buildSystemPrompt } from "./system-prompt.js";
import { assembleTools } from "./toolset.js";
import type { BuiltInAgentConfig } from "./types.js";

const TIMEOUT_MESSAGE = "The model did not answer in time.";

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
export async function executeRun({ input, config, signal, emit }: RunContext): Promise<void> {
  const mapper = new AguiEventMapper({ threadId: input.threadId, runId: input.runId });
  const secrets: string[] = config.apiKey ? [config.apiKey] : [];
  let mcp: McpToolset | undefined;
  emit(mapper.runStarted());
  try {
    const settings = resolveRunSettings(config, input.forwardedProps);
    const { model, apiKey } = resolveModel(settings.model, {
      apiKey: config.apiKey,
      baseURL: config.baseURL,
      provider: providerOf(config.model),
    });
    if (apiKey) secrets.push(apiKey);

    const { messages, instructions } = convertMessages(input.messages ?? [], config);
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
    if (config.mcpServers?.length) {
      mcp = await openMcpToolset(config.mcpServers, {
        signal,
        takenNames: new Set((config.tools ?? []).map((tool) => tool.name)),
      });
    }
    const tools = assembleTools({
      state: createStateTools(state),
      server: config.tools ?? [],
      mcp: mcp?.tools ?? {},
      frontend: input.tools ?? [],
    });

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
      onError: () => {}, // errors also arrive as `error` parts, handled below; the default logs them
    });
    for await (const part of result.fullStream) {
      if (signal.aborted) break;
      // Only our signal means "stopped"; an abort the AI SDK raised itself is one of its timeouts.
      if (part.type === "abort") throw new BuiltInAgentError("timeout", TIMEOUT_MESSAGE);
      if (part.type === "error") throw part.error;
      emit(mapper.map(part));
    }
    emit(signal.aborted ? mapper.runStopped() : mapper.runFinished());
  } catch (thrown) {
    const error = !signal.aborted && isAbortError(thrown) ? new BuiltInAgentError("timeout", TIMEOUT_MESSAGE) : thrown;
    if (signal.aborted) {
      emit(mapper.runStopped());
    } else {
      const info = toRunErrorInfo(error, secrets);
      try {
        config.onRunError?.(error, { threadId: input.threadId, runId: input.runId, code: info.code });
      } catch {
        // a failing logger must not keep the client from hearing about the error
      }
      emit(mapper.runError(info));
    }
  } finally {
    await mcp?.close();
  }
}
