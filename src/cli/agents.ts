/**
 * Which agent `copilot-runtime serve` runs when no config file registers agents: a BuiltInAgent on the
 * model of the provider whose API key is in the environment, or the demo agent when there is none.
 */
import { PROVIDER_ENVIRONMENT, parseModelId, providerOf, type KnownProvider } from "../agents/built-in/resolve-model.js";
import { DemoAgent } from "../agents/demo.js";
import type { AgentLike } from "../events/agent-contract.js";
import { OpenAITranscriptionService } from "../transcription/openai.js";
import type { TranscriptionService } from "../transcription/transcription-service.js";
import { MissingDependencyError } from "../optional-dependency.js";
import { CliStartupError } from "./errors.js";

type Env = Record<string, string | undefined>;

/** The environment variable that picks the model, e.g. `openai/gpt-4o`; `demo` forces the demo agent. */
export const MODEL_VARIABLE = "COPILOT_RUNTIME_MODEL";

/**
 * Providers in the order their keys are looked for, each with the model used when
 * `COPILOT_RUNTIME_MODEL` is not set: capable, fast, tool-calling models that are not reasoning-only,
 * so a chat answers without a long silent pause.
 */
export const PROVIDER_DEFAULTS: ReadonlyArray<{ provider: KnownProvider; keys: readonly string[]; model: string }> = [
  // The key names match BuiltInAgent's own lookup (src/agents/built-in/resolve-model.ts).
  { provider: "openai", keys: ["OPENAI_API_KEY"], model: "openai/gpt-4.1" },
  { provider: "anthropic", keys: ["ANTHROPIC_API_KEY"], model: "anthropic/claude-sonnet-4-5" },
  { provider: "google", keys: ["GOOGLE_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY"], model: "google/gemini-2.5-flash" },
];

/** What the environment asks for: a BuiltInAgent on a model, or the demo agent. */
export type ModelSelection =
  | {
      kind: "built-in";
      /** Normalised `provider/model`. */
      model: string;
      provider: KnownProvider;
      /** The environment variable holding the provider's key (its value is never kept or printed). */
      keyVariable: string;
      /** Whether the model was named by `COPILOT_RUNTIME_MODEL` or is the provider's default. */
      source: "env" | "default";
    }
  | { kind: "demo"; reason: "no-key" | "forced" };

function firstKey(env: Env, names: readonly string[]): string | undefined {
  return names.find((name) => Boolean(env[name]?.trim()));
}

/**
 * Picks the model from the environment. Pure: reads only `env`.
 * `COPILOT_RUNTIME_MODEL` wins (and then its provider's key must be set); otherwise the first provider
 * with a key (OpenAI, Anthropic, Google) gets its default model; with no key, the demo agent.
 * Throws a {@link CliStartupError} for a malformed model, an unknown provider or a missing key.
 *
 * @example
 * ```ts
 * selectModel({ ANTHROPIC_API_KEY: "sk-ant-..." }); // { kind: "built-in", model: "anthropic/claude-sonnet-4-5", ... }
 * selectModel({ OPENAI_API_KEY: "sk-...", COPILOT_RUNTIME_MODEL: "openai:gpt-4o" }); // model "openai/gpt-4o"
 * selectModel({}); // { kind: "demo", reason: "no-key" }
 * ```
 */
export function selectModel(env: Env): ModelSelection {
  const requested = env[MODEL_VARIABLE]?.trim();
  if (requested) {
    if (requested.toLowerCase() === "demo") return { kind: "demo", reason: "forced" };
    let parsed;
    try {
      parsed = parseModelId(requested);
    } catch (error) {
      throw new CliStartupError(`${MODEL_VARIABLE}: ${(error as Error).message} Or set it to "demo" for the demo agent.`);
    }
    const keys = PROVIDER_ENVIRONMENT[parsed.provider].apiKeys;
    if (keys.length === 0) {
      // Vertex AI authenticates with Google Cloud credentials, which this selection does not check.
      throw new CliStartupError(`${MODEL_VARIABLE}=${requested}: "${parsed.provider}" models use Google Cloud credentials; register the agent in a config file (--config) instead.`);
    }
    const entry = { keys };
    const keyVariable = firstKey(env, entry.keys);
    if (!keyVariable) {
      throw new CliStartupError(
        `${MODEL_VARIABLE}=${requested} needs an API key for "${parsed.provider}": set ${entry.keys.join(" or ")}.`,
      );
    }
    return { kind: "built-in", model: `${parsed.provider}/${parsed.modelId}`, provider: parsed.provider, keyVariable, source: "env" };
  }
  for (const entry of PROVIDER_DEFAULTS) {
    const keyVariable = firstKey(env, entry.keys);
    if (keyVariable) return { kind: "built-in", model: entry.model, provider: entry.provider, keyVariable, source: "default" };
  }
  return { kind: "demo", reason: "no-key" };
}

/**
 * For a BuiltInAgent on a `"provider/model"` string with neither its own `apiKey` nor the provider's key
 * in `env`: the provider and the variables that would do. Such an agent would start and then fail every
 * run, so `serve` refuses to start instead. Anything else (other agents, model objects): undefined.
 *
 * @example
 * ```ts
 * missingApiKey(new BuiltInAgent({ model: "anthropic/claude-sonnet-4-5" }), {}); // { provider: "anthropic", keys: ["ANTHROPIC_API_KEY"] }
 * ```
 */
export function missingApiKey(agent: AgentLike, env: Env): { provider: KnownProvider; model: string; keys: readonly string[] } | undefined {
  if (!isBuiltInAgent(agent)) return undefined;
  const { model, apiKey } = (agent as { configuration?: { model?: unknown; apiKey?: unknown } }).configuration ?? {};
  if (typeof model !== "string") return undefined;
  const provider = providerOf(model);
  if (provider === undefined) return undefined;
  if (typeof apiKey === "string" && apiKey.trim()) return undefined;
  // Providers without a default here (minimax, vertex) are checked when the agent runs.
  const entry = PROVIDER_DEFAULTS.find((candidate) => candidate.provider === provider);
  if (!entry) return undefined;
  return firstKey(env, entry.keys) ? undefined : { provider, model, keys: entry.keys };
}

/** By class name along the prototype chain: the config file may import BuiltInAgent from another copy of this package. */
function isBuiltInAgent(agent: object): boolean {
  for (let prototype = Object.getPrototypeOf(agent); prototype !== null; prototype = Object.getPrototypeOf(prototype)) {
    if (prototype.constructor?.name === "BuiltInAgent") return true;
  }
  return false;
}

/** The agent for a selection, and a line saying which it is (never a key). */
export async function createSelectedAgent(selection: ModelSelection): Promise<{ agent: AgentLike; description: string }> {
  if (selection.kind === "demo") {
    const why =
      selection.reason === "forced"
        ? `${MODEL_VARIABLE}=demo`
        : "no provider key: set OPENAI_API_KEY, ANTHROPIC_API_KEY or GOOGLE_API_KEY for a real model";
    return { agent: new DemoAgent(), description: `demo agent (${why})` };
  }
  // Loaded only now: the demo agent needs none of the AI SDK, which is an optional peer dependency.
  let agent: AgentLike;
  try {
    const { BuiltInAgent } = await import("../agents/built-in/agent.js");
    agent = new BuiltInAgent({ model: selection.model, description: `An assistant on ${selection.model}.` });
  } catch (error) {
    if (error instanceof MissingDependencyError) {
      throw new CliStartupError(`${error.message} Or unset the provider key (or set ${MODEL_VARIABLE}=demo) for the demo agent.`);
    }
    throw error;
  }
  const why =
    selection.source === "env"
      ? `from ${MODEL_VARIABLE}; key from ${selection.keyVariable}`
      : `${selection.keyVariable} is set; choose another model with ${MODEL_VARIABLE}`;
  return { agent, description: `BuiltInAgent, model ${selection.model} (${why})` };
}

/**
 * `/transcribe` through OpenAI when `OPENAI_API_KEY` is set (with `OPENAI_BASE_URL` if given), and a
 * line saying so either way.
 *
 * @example
 * ```ts
 * selectTranscription({}); // { service: undefined, description: "off (set OPENAI_API_KEY to enable /transcribe)" }
 * ```
 */
export function selectTranscription(env: Env): { service?: TranscriptionService; description: string } {
  const apiKey = env.OPENAI_API_KEY?.trim();
  if (!apiKey) return { description: "off (set OPENAI_API_KEY to enable /transcribe)" };
  const service = new OpenAITranscriptionService({ apiKey, baseURL: env.OPENAI_BASE_URL?.trim() || undefined });
  return { service, description: `/transcribe on: OpenAI ${service.model} (OPENAI_API_KEY is set)` };
}
