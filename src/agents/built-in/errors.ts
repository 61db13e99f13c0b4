import type { APICallError } from "ai";
import { ai } from "./ai-sdk.js";
import { BuiltInAgentError, type BuiltInAgentErrorCode } from "./agent-error.js";

export { BuiltInAgentError, type BuiltInAgentErrorCode } from "./agent-error.js";

/** The `message` and `code` of a RUN_ERROR event. */
export interface RunErrorInfo {
  message: string;
  code: BuiltInAgentErrorCode;
}

const MAX_DETAIL_LENGTH = 300;

// Shapes of well-known credentials, redacted even when we were not told the key (e.g. echoed by a proxy).
const CREDENTIAL_PATTERNS = [
  /sk-[A-Za-z0-9_-]{8,}/g,
  /AIza[0-9A-Za-z_-]{20,}/g,
  /Bearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

/** Removes the given secrets and anything shaped like an API key from a text. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join("[redacted]");
  }
  for (const pattern of CREDENTIAL_PATTERNS) result = result.replace(pattern, "[redacted]");
  return result;
}

function providerDetail(error: APICallError, secrets: readonly string[]): string {
  const raw = extractProviderMessage(error) ?? "";
  const clean = redactSecrets(raw, secrets).replace(/\s+/g, " ").trim();
  if (!clean) return "";
  return `: ${clean.length > MAX_DETAIL_LENGTH ? `${clean.slice(0, MAX_DETAIL_LENGTH)}…` : clean}`;
}

// Providers put a readable reason in `error.message` of their JSON body; the AI SDK copies it to `message`.
function extractProviderMessage(error: APICallError): string | undefined {
  const body = error.responseBody;
  if (body) {
    try {
      const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
      if (typeof parsed.error === "object" && typeof parsed.error?.message === "string") return parsed.error.message;
      if (typeof parsed.error === "string") return parsed.error;
      if (typeof parsed.message === "string") return parsed.message;
    } catch {
      // not JSON: fall back to the SDK's message
    }
  }
  return error.message;
}

function fromStatus(status: number | undefined, error: APICallError, secrets: readonly string[]): RunErrorInfo {
  const where = status ? ` (HTTP ${status})` : "";
  if (status === 401 || status === 403) {
    // Never echo the provider's text here: it often quotes (part of) the rejected key.
    return { code: "authentication_failed", message: `The model provider rejected the API key${where}.` };
  }
  if (status === 429) {
    return { code: "rate_limited", message: `The model provider is rate limiting requests${where}. Try again later.` };
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return {
      code: "invalid_request",
      message: `The model provider rejected the request${where}${providerDetail(error, secrets)}`,
    };
  }
  return { code: "provider_error", message: `The model provider failed${where}${providerDetail(error, secrets)}` };
}

/**
 * Turns anything thrown during a run into the `message` and `code` of a RUN_ERROR,
 * without leaking API keys or stack traces.
 *
 * @example
 * ```ts
 * const { message, code } = toRunErrorInfo(error, [apiKey]); // code: "rate_limited", ...
 * ```
 */
export function toRunErrorInfo(error: unknown, secrets: readonly string[] = []): RunErrorInfo {
  if (error instanceof BuiltInAgentError) {
    return { code: error.code, message: redactSecrets(error.message, secrets) };
  }
  if (ai.RetryError.isInstance(error)) return toRunErrorInfo(error.lastError, secrets);
  if (ai.LoadAPIKeyError.isInstance(error)) {
    return { code: "missing_api_key", message: "No API key is configured for the model provider." };
  }
  if (ai.APICallError.isInstance(error)) {
    if (error.statusCode === undefined) {
      return { code: "provider_unreachable", message: "The model provider could not be reached." };
    }
    return fromStatus(error.statusCode, error, secrets);
  }
  // Anthropic (and OpenAI's responses API) can report overload or rate limits inside a 200 stream.
  const streamed = streamedProviderError(error);
  if (streamed) return streamed;
  if (isNetworkError(error)) {
    return { code: "provider_unreachable", message: "The model provider could not be reached." };
  }
  return { code: "internal_error", message: "The agent failed while running." };
}

function streamedProviderError(error: unknown): RunErrorInfo | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { type, message } = error as { type?: unknown; message?: unknown };
  if (typeof type !== "string") return undefined;
  if (type === "rate_limit_error") {
    return { code: "rate_limited", message: "The model provider is rate limiting requests. Try again later." };
  }
  if (type === "overloaded_error" || type === "api_error") {
    return { code: "provider_error", message: "The model provider failed while streaming." };
  }
  if (type.endsWith("_error") && typeof message === "string") {
    return { code: "provider_error", message: `The model provider failed while streaming: ${redactSecrets(message).slice(0, MAX_DETAIL_LENGTH)}` };
  }
  return undefined;
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return (
    (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|UND_ERR_)/.test(code)) ||
    (error instanceof TypeError && error.message === "fetch failed")
  );
}
