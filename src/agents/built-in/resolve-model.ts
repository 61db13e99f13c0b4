import { BuiltInAgentError } from "./agent-error.js";
import { type KnownProvider, loadProvider } from "./packages.js";
import type { LanguageModelObject, ModelSpecifier } from "./types.js";

export type { KnownProvider };

/** The provider names a model string may start with, and the provider each means. */
export const PROVIDER_ALIASES: Readonly<Record<string, KnownProvider>> = {
  openai: "openai",
  anthropic: "anthropic",
  google: "google",
  gemini: "google",
  "google-gemini": "google",
  minimax: "minimax",
  vertex: "vertex",
};

/**
 * The provider a name means (`"gemini"` is `"google"`), or undefined. Own keys only: a model string
 * like `"constructor/x"` must not find Object's prototype.
 */
export function providerForName(name: string): KnownProvider | undefined {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(PROVIDER_ALIASES, key) ? PROVIDER_ALIASES[key] : undefined;
}

interface ProviderEnvironment {
  /** Where its key is read from; empty for a provider that uses other credentials (Vertex AI). */
  apiKeys: readonly string[];
  baseURL?: string;
  /** Used when neither the option nor the environment gives a base URL and the package's own default is wrong. */
  defaultBaseURL?: string;
}

/**
 * The environment variables of each provider. `PROVIDER_ENVIRONMENT.openai.apiKeys` lists where an
 * OpenAI key is looked up, in order.
 */
export const PROVIDER_ENVIRONMENT: Readonly<Record<KnownProvider, ProviderEnvironment>> = {
  openai: { apiKeys: ["OPENAI_API_KEY"], baseURL: "OPENAI_BASE_URL" },
  anthropic: { apiKeys: ["ANTHROPIC_API_KEY"], baseURL: "ANTHROPIC_BASE_URL" },
  google: { apiKeys: ["GOOGLE_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY"], baseURL: "GOOGLE_GENERATIVE_AI_BASE_URL" },
  minimax: { apiKeys: ["MINIMAX_API_KEY"], baseURL: "MINIMAX_BASE_URL", defaultBaseURL: "https://api.minimax.io/v1" },
  vertex: { apiKeys: [] },
};
const ENVIRONMENT = PROVIDER_ENVIRONMENT;

/** A model string split into its provider and model id. */
export interface ParsedModelId {
  provider: KnownProvider;
  modelId: string;
}

/**
 * Splits `"provider/model"` or `"provider:model"`; the model id may itself contain `/` or `:`.
 * Throws a {@link BuiltInAgentError} (`invalid_model`, `unknown_provider`).
 *
 * @example
 * ```ts
 * parseModelId("openai/gpt-4o"); // { provider: "openai", modelId: "gpt-4o" }
 * parseModelId("gemini:gemini-2.5-pro"); // { provider: "google", modelId: "gemini-2.5-pro" }
 * ```
 */
export function parseModelId(spec: string): ParsedModelId {
  const match = /^\s*([^/:\s]+)\s*[/:]\s*(\S.*?)\s*$/.exec(spec);
  if (!match) {
    throw new BuiltInAgentError(
      "invalid_model",
      `Invalid model "${spec}": use "provider/model", e.g. "openai/gpt-4o" or "anthropic/claude-sonnet-4-5".`,
    );
  }
  const provider = providerForName(match[1]);
  if (!provider) {
    throw new BuiltInAgentError(
      "unknown_provider",
      `Unknown model provider "${match[1]}" in "${spec}". Supported: openai, anthropic, google (gemini), minimax, vertex.`,
    );
  }
  return { provider, modelId: match[2] };
}

/** The credentials to build a model with; fields left out come from the environment. */
export interface ModelCredentials {
  apiKey?: string;
  baseURL?: string;
  /** Only used when the model string names this provider (an overridden model may name another). */
  provider?: KnownProvider;
  env?: Record<string, string | undefined>;
}

/** A model ready for the AI SDK, and the key it uses (so error messages can redact it). */
export interface ResolvedModel {
  model: LanguageModelObject;
  apiKey?: string;
}

function firstSet(env: Record<string, string | undefined>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * Builds the AI SDK model for a model specifier. Runs at the start of every run, so a missing key or a
 * typo in the provider is a RUN_ERROR for that run, never a crash at start-up.
 * Throws a {@link BuiltInAgentError} (`invalid_model`, `unknown_provider`, `missing_api_key`).
 *
 * @example
 * ```ts
 * const { model } = buildModel("anthropic/claude-sonnet-4-5", { apiKey: "sk-ant-..." });
 * ```
 */
export function buildModel(spec: ModelSpecifier, credentials: ModelCredentials = {}): ResolvedModel {
  if (typeof spec !== "string") return { model: spec };
  const { provider, modelId } = parseModelId(spec);
  const env = credentials.env ?? process.env;
  const ownCredentials = credentials.provider === undefined || credentials.provider === provider;
  const names = ENVIRONMENT[provider];
  const baseURL = (ownCredentials ? credentials.baseURL?.trim() : undefined) || (names.baseURL && firstSet(env, [names.baseURL])) || names.defaultBaseURL;
  if (names.apiKeys.length === 0) {
    // Vertex AI: Google Cloud credentials, never a key (BuiltInAgent refuses an apiKey for it up front).
    try {
      return { model: createModel(provider, modelId, undefined, baseURL) };
    } catch (error) {
      // The AI SDK's "setting is missing" names the variable to set and holds no secret.
      const message = error instanceof Error ? error.message : String(error);
      throw new BuiltInAgentError("missing_api_key", `Cannot create the "${provider}" model: ${message}`, { cause: error });
    }
  }
  const apiKey = (ownCredentials ? credentials.apiKey?.trim() : undefined) || firstSet(env, names.apiKeys);
  if (!apiKey) {
    throw new BuiltInAgentError(
      "missing_api_key",
      `No API key for provider "${provider}": set ${names.apiKeys.join(" or ")} or pass apiKey.`,
    );
  }
  return { model: createModel(provider, modelId, apiKey, baseURL), apiKey };
}

function createModel(provider: KnownProvider, modelId: string, apiKey: string | undefined, baseURL?: string): LanguageModelObject {
  return loadProvider(provider)({ ...(apiKey ? { apiKey } : {}), baseURL })(modelId);
}

/** The provider named by a model specifier, if it is a string naming a known provider. */
export function providerOf(spec: ModelSpecifier): KnownProvider | undefined {
  if (typeof spec !== "string") return undefined;
  try {
    return parseModelId(spec).provider;
  } catch {
    return undefined;
  }
}
