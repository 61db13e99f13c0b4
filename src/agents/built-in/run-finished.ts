import type { RunFinishedDetails, RunTokenUsage } from "./event-mapper.js";

const count = (value: unknown) => (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined);

/**
 * The finish reason and the token counts of the whole run (all steps), as CopilotKit 1.75 reports
 * them: one usage entry for the model's provider and id, with only the counts the provider gave.
 *
 * @example
 * ```ts
 * if (part.type === "finish") details = runFinishedDetails(part, model); // { finishReason: "stop", usage: [...] }
 * ```
 */
export function runFinishedDetails(
  part: { finishReason: string; totalUsage: Record<string, unknown> & { inputTokenDetails?: { cacheWriteTokens?: unknown } } },
  model: { provider?: string; modelId?: string },
): RunFinishedDetails {
  const usage: RunTokenUsage = {
    inputTokens: count(part.totalUsage.inputTokens),
    outputTokens: count(part.totalUsage.outputTokens),
    totalTokens: count(part.totalUsage.totalTokens),
    reasoningTokens: count(part.totalUsage.reasoningTokens),
    cachedInputTokens: count(part.totalUsage.cachedInputTokens),
    cacheWriteInputTokens: count(part.totalUsage.inputTokenDetails?.cacheWriteTokens),
  };
  const counts = Object.fromEntries(Object.entries(usage).filter(([, value]) => value !== undefined));
  return {
    finishReason: part.finishReason,
    ...(Object.keys(counts).length > 0
      ? { usage: [{ ...(model.provider ? { provider: model.provider } : {}), ...(model.modelId ? { model: model.modelId } : {}), ...counts }] }
      : {}),
  };
}

