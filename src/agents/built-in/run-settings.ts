import { z } from "zod";
import { BuiltInAgentError } from "./errors.js";
import type { BuiltInAgentConfig, OverridableProperty } from "./types.js";

/** The model call settings of one run: the agent's options with the client's allowed overrides. */
/** Every overridable option is a run setting; `maxSteps` always has a value. */
export type RunSettings = Pick<BuiltInAgentConfig, Exclude<OverridableProperty, "maxSteps">> & { maxSteps: number };

/** Default of `maxSteps`: enough for a few tool round-trips, bounded so a looping model stops. */
export const DEFAULT_MAX_STEPS = 10;

const finite = z.number().finite();
const OVERRIDE_SCHEMAS: Record<OverridableProperty, z.ZodType> = {
  model: z.string().trim().min(1),
  prompt: z.string(),
  maxSteps: z.number().int().min(1).max(100),
  temperature: finite,
  maxOutputTokens: z.number().int().positive(),
  topP: finite,
  topK: z.number().int().positive(),
  presencePenalty: finite,
  frequencyPenalty: finite,
  stopSequences: z.array(z.string()).max(16),
  seed: z.number().int(),
  maxRetries: z.number().int().min(0).max(10),
  toolChoice: z.union([
    z.enum(["auto", "none", "required"]),
    z.object({ type: z.literal("tool"), toolName: z.string().min(1) }).strict(),
  ]),
  providerOptions: z.record(z.string(), z.record(z.string(), z.json())),
};

/**
 * Applies the client's `forwardedProps` to the agent's options. Only properties listed in
 * `overridableProperties` are read; others are ignored, since clients forward all kinds of props.
 * A listed property with a wrong type is an `invalid_override` error rather than a silent fallback.
 *
 * @example
 * ```ts
 * resolveRunSettings({ model: "openai/gpt-4o", overridableProperties: ["temperature"] }, { temperature: 0.2 });
 * // { model: "openai/gpt-4o", temperature: 0.2, maxSteps: 10, ... }
 * ```
 */
export function resolveRunSettings(config: BuiltInAgentConfig, forwardedProps: unknown): RunSettings {
  const settings: RunSettings = {
    model: config.model,
    prompt: config.prompt,
    maxSteps: config.maxSteps ?? DEFAULT_MAX_STEPS,
    temperature: config.temperature,
    maxOutputTokens: config.maxOutputTokens,
    topP: config.topP,
    topK: config.topK,
    presencePenalty: config.presencePenalty,
    frequencyPenalty: config.frequencyPenalty,
    stopSequences: config.stopSequences,
    seed: config.seed,
    maxRetries: config.maxRetries,
    toolChoice: config.toolChoice,
    providerOptions: config.providerOptions,
  };
  if (!forwardedProps || typeof forwardedProps !== "object" || Array.isArray(forwardedProps)) return settings;
  const props = forwardedProps as Record<string, unknown>;
  for (const property of new Set(config.overridableProperties ?? [])) {
    const schema = OVERRIDE_SCHEMAS[property];
    if (!schema || props[property] === undefined) continue;
    const parsed = schema.safeParse(props[property]);
    if (!parsed.success) {
      throw new BuiltInAgentError("invalid_override", `forwardedProps.${property} is invalid: ${parsed.error.issues[0]?.message ?? "wrong type"}.`);
    }
    (settings as Record<string, unknown>)[property] = parsed.data;
  }
  return settings;
}
