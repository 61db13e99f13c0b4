import type { LanguageModel } from "ai";
import { PROVIDER_ENVIRONMENT, buildModel, providerForName } from "./resolve-model.js";
import type { ModelSpecifier } from "./types.js";

/**
 * Builds the AI SDK model for a model string, with CopilotKit 1.75's call shape: `"openai/gpt-4o"`,
 * `"anthropic:claude-sonnet-4-5"`, `"google/..."` (or `gemini/`), `"minimax/..."`, `"vertex/..."`.
 * The key is `apiKey` or the provider's environment variable; the base URL comes from
 * `OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`, `GOOGLE_GENERATIVE_AI_BASE_URL` or `MINIMAX_BASE_URL`.
 * `vertex/` needs `@ai-sdk/google-vertex` (a `MissingDependencyError` names it otherwise) and Google
 * Cloud credentials. A model object is returned as is. Throws a `BuiltInAgentError` for a bad string,
 * an unknown provider or a missing key.
 *
 * @example
 * ```ts
 * const model = resolveModel("openai/gpt-4.1-mini");
 * streamText({ model, prompt: "Hi" });
 * ```
 */
export function resolveModel(spec: ModelSpecifier, apiKey?: string): LanguageModel {
  return buildModel(spec, { apiKey }).model;
}

/** Which kind of endpoint a model reaches: a closed list, never the host itself. */
export type ModelHostClass =
  | "openai"
  | "azure"
  | "openrouter"
  | "anthropic"
  | "google"
  | "vertex"
  | "bedrock"
  | "groq"
  | "unify"
  | "minimax"
  | "local"
  | "other"
  | "unknown";

// Host suffixes, matched on whole labels so that "openai.azure.com.example.test" is not Azure.
const KNOWN_HOSTS: ReadonlyArray<readonly [string, ModelHostClass]> = [
  ["openai.azure.com", "azure"],
  ["services.ai.azure.com", "azure"],
  ["cognitiveservices.azure.com", "azure"],
  ["azure-api.net", "azure"],
  ["api.openai.com", "openai"],
  ["openrouter.ai", "openrouter"],
  ["api.anthropic.com", "anthropic"],
  ["generativelanguage.googleapis.com", "google"],
  ["aiplatform.googleapis.com", "vertex"],
  ["api.groq.com", "groq"],
  ["api.unify.ai", "unify"],
  ["api.minimax.io", "minimax"],
  ["api.minimaxi.com", "minimax"],
];
const LOCAL_SUFFIXES = ["localhost", "local", "internal"];
const REGIONAL_HOSTS: ReadonlyArray<readonly [RegExp, ModelHostClass]> = [
  [/^[a-z0-9-]+-aiplatform\.googleapis\.com$/, "vertex"],
  [/^bedrock[a-z0-9.-]*\.[a-z0-9-]+\.amazonaws\.com$/, "bedrock"],
];

const underSuffix = (host: string, suffix: string) => host === suffix || host.endsWith(`.${suffix}`);

function isPrivateAddress(host: string): boolean {
  if (host === "0.0.0.0" || host === "::1" || /^127\./.test(host) || /^10\./.test(host) || /^192\.168\./.test(host)) return true;
  const classB = /^172\.(\d{1,3})\./.exec(host);
  return classB !== null && Number(classB[1]) >= 16 && Number(classB[1]) <= 31;
}

/**
 * The kind of endpoint a base URL points at (`"azure"`, `"local"`, ...), or `fallback` when there is
 * no base URL; `"other"` for an unrecognised or unreadable one. Only the class is returned, so a
 * customer's resource name in the host never travels further.
 *
 * @example
 * ```ts
 * classifyModelHost("https://acme.openai.azure.com/openai", "openai"); // "azure"
 * classifyModelHost(undefined, "openai"); // "openai"
 * ```
 */
export function classifyModelHost(baseURL: string | undefined | null, fallback: ModelHostClass = "unknown"): ModelHostClass {
  const trimmed = baseURL?.trim();
  if (!trimmed) return fallback;
  let host: string;
  try {
    host = new URL(trimmed).hostname.toLowerCase().replace(/^\[|\]$/g, "");
  } catch {
    return "other";
  }
  if (!host) return "other";
  if (isPrivateAddress(host) || LOCAL_SUFFIXES.some((suffix) => underSuffix(host, suffix))) return "local";
  for (const [suffix, hostClass] of KNOWN_HOSTS) if (underSuffix(host, suffix)) return hostClass;
  for (const [pattern, hostClass] of REGIONAL_HOSTS) if (pattern.test(host)) return hostClass;
  return "other";
}

const PROVIDER_HOST_CLASS = { openai: "openai", anthropic: "anthropic", google: "google", minimax: "minimax", vertex: "vertex" } as const;

/**
 * Which kind of endpoint a model specifier reaches, as CopilotKit 1.75 reports it in telemetry: from
 * the provider and its base URL environment variable (`OPENAI_BASE_URL` pointing at Azure gives
 * `"azure"`). A model object or an unknown provider gives `"unknown"`; `vertex/` is always `"vertex"`.
 *
 * @example
 * ```ts
 * classifyModelSpec("anthropic/claude-sonnet-4-5"); // "anthropic" (ANTHROPIC_BASE_URL unset)
 * ```
 */
export function classifyModelSpec(spec: ModelSpecifier, env: Record<string, string | undefined> = process.env): ModelHostClass {
  // Only the provider matters here, so a string without a model id still classifies (as in 1.75).
  if (typeof spec !== "string") return "unknown";
  const provider = providerForName(spec.trim().split(/[/:]/)[0] ?? "");
  if (provider === undefined) return "unknown";
  if (provider === "vertex") return "vertex";
  const names = PROVIDER_ENVIRONMENT[provider];
  const baseURL = (names.baseURL && env[names.baseURL]) || names.defaultBaseURL;
  return classifyModelHost(baseURL, PROVIDER_HOST_CLASS[provider]);
}
