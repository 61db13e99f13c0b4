import type { APICallError } from "ai";
import { ai } from "./ai-sdk.js";
import { BuiltInAgentError, type BuiltInAgentErrorCode, type LogLevel } from "./agent-error.js";

export { BuiltInAgentError, type BuiltInAgentErrorCode, type LogLevel } from "./agent-error.js";


/** The `message` and `code` of a RUN_ERROR event. */
export interface RunErrorInfo {
  message: string;
  code: BuiltInAgentErrorCode;
}


/**
 * A classified run failure: what the client is told (`code`, `message`) and what only the server
 * log gets (`status`, `providerMessage`, `cause`), already redacted.
 */
export interface RunFailure extends RunErrorInfo {
  /** `warn` when the client's input caused it, `error` for provider, configuration and internal failures. */
  level: LogLevel;
  /** The provider's HTTP status, when there was one. */
  status?: number;
  /** The provider's own error text (redacted, bounded). Never sent to the client. */
  providerMessage?: string;
  /** The original error (name, message and stack for internal errors; redacted, bounded). Never sent to the client. */
  cause?: string;
}

const MAX_LOG_TEXT = 2_000;
const MIN_SECRET_LENGTH = 4;

/** Codes a client's own input produces; everything else is the provider's, the configuration's or ours. */
const CLIENT_CAUSED: ReadonlySet<BuiltInAgentErrorCode> = new Set(["invalid_request", "invalid_override"]);

// Shapes of well-known credentials, redacted even when we were not told the key (e.g. echoed by a proxy).
const CREDENTIAL_PATTERNS = [
  /sk-[A-Za-z0-9_-]{8,}/g,
  /AIza[0-9A-Za-z_-]{20,}/g,
  /Bearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];
// `scheme://user:password@host`: credentials in a URL or connection string.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi;

/**
 * Removes every given secret, credentials embedded in URLs and anything shaped like a well-known
 * API key from a text. The given secrets are removed whatever they look like: the shapes are only a
 * second line of defence.
 *
 * @example
 * ```ts
 * redactSecrets("key abc123xyz rejected", ["abc123xyz"]); // "key [redacted] rejected"
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= MIN_SECRET_LENGTH) result = result.split(secret).join("[redacted]");
  }
  result = result.replace(URL_CREDENTIALS, "$1[redacted]@");
  for (const pattern of CREDENTIAL_PATTERNS) result = result.replace(pattern, "[redacted]");
  return result;
}

/** A redacted, whitespace-collapsed, bounded version of a text, for logs and the model. */
export function sanitizeText(text: string, secrets: readonly string[], limit = MAX_LOG_TEXT): string {
  const clean = redactSecrets(text, secrets).replace(/\s+/g, " ").trim();
  return clean.length > limit ? `${clean.slice(0, limit)}…` : clean;
}

// Providers put a readable reason in `error.message` of their JSON body; the AI SDK copies it to `message`.
function providerText(error: APICallError): string | undefined {
  const body = error.responseBody;
  if (body) {
    try {
      const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
      if (typeof parsed.error === "object" && typeof parsed.error?.message === "string") return parsed.error.message;
      if (typeof parsed.error === "string") return parsed.error;
      if (typeof parsed.message === "string") return parsed.message;
    } catch {
      // not JSON: the raw body is the provider's text
    }
    return body;
  }
  return error.message;
}

const where = (status: number | undefined) => (status ? ` (HTTP ${status})` : "");

/** What an HTTP status from the provider means, without the provider's words. */
function fromStatus(status: number): RunErrorInfo {
  const at = where(status);
  if (status === 401 || status === 403) {
    return { code: "authentication_failed", message: `The model provider rejected the API key${at}.` };
  }
  if (status === 429) {
    return { code: "rate_limited", message: `The model provider is rate limiting requests${at}. Try again later.` };
  }
  if (status === 404) {
    return { code: "invalid_model", message: `The model provider does not know this model${at}.` };
  }
  if (status === 408) return { code: "timeout", message: `The model provider timed out${at}.` };
  if (status >= 400 && status < 500) {
    return { code: "invalid_request", message: `The model provider rejected the request${at}.` };
  }
  if (status >= 200 && status < 300) {
    // The response started well, then its body broke off or could not be read.
    return { code: "provider_error", message: "The model provider's response broke off or could not be read." };
  }
  return { code: "provider_error", message: `The model provider failed${at}.` };
}

/**
 * Error types and codes that providers send inside a stream (Anthropic `error` events, OpenAI
 * Responses `error` and `response.failed`, Chat Completions error chunks), by what they mean.
 */
const STREAM_ERROR_TYPES: Record<string, RunErrorInfo> = {
  rate_limit_error: { code: "rate_limited", message: "The model provider is rate limiting requests. Try again later." },
  rate_limit_exceeded: { code: "rate_limited", message: "The model provider is rate limiting requests. Try again later." },
  insufficient_quota: { code: "rate_limited", message: "The model provider's quota is exhausted." },
  authentication_error: { code: "authentication_failed", message: "The model provider rejected the API key." },
  permission_error: { code: "authentication_failed", message: "The model provider rejected the API key." },
  invalid_api_key: { code: "authentication_failed", message: "The model provider rejected the API key." },
  invalid_request_error: { code: "invalid_request", message: "The model provider rejected the request." },
  context_length_exceeded: { code: "invalid_request", message: "The conversation is too long for the model." },
  request_too_large: { code: "invalid_request", message: "The conversation is too long for the model." },
  invalid_prompt: { code: "invalid_request", message: "The model provider rejected the request." },
  not_found_error: { code: "invalid_model", message: "The model provider does not know this model." },
  model_not_found: { code: "invalid_model", message: "The model provider does not know this model." },
  timeout_error: { code: "timeout", message: "The model provider timed out." },
};
const STREAM_FAILED: RunErrorInfo = { code: "provider_error", message: "The model provider failed while streaming." };

// The AI SDK hands stream errors over as the provider's plain error object. (For the Responses API
// it adds a `statusCode: 500` of its own; that is no HTTP status, so it is not reported as one.)
function streamedProviderError(error: unknown): (RunErrorInfo & { providerMessage: string }) | undefined {
  if (typeof error !== "object" || error === null || error instanceof Error) return undefined;
  const { type, code, message } = error as { type?: unknown; code?: unknown; message?: unknown };
  if (typeof type !== "string" && typeof code !== "string") return undefined;
  const known = (typeof code === "string" && STREAM_ERROR_TYPES[code]) || (typeof type === "string" && STREAM_ERROR_TYPES[type]);
  let providerMessage = typeof message === "string" ? message : "";
  if (!providerMessage) {
    try {
      providerMessage = JSON.stringify(error);
    } catch {
      providerMessage = String(error);
    }
  }
  return { ...(known || STREAM_FAILED), providerMessage };
}

/** The original error for a log line: name, message, stack and causes, redacted and bounded. */
export function describeError(error: unknown, secrets: readonly string[]): string {
  return describeCause(error, secrets);
}

function describeCause(error: unknown, secrets: readonly string[]): string {
  if (error instanceof Error) {
    const text = error.stack ?? `${error.name}: ${error.message}`;
    const cause = error.cause !== undefined ? ` [cause: ${describeCause(error.cause, secrets)}]` : "";
    return sanitizeText(`${text}${cause}`, secrets);
  }
  let text: string;
  try {
    text = typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
  } catch {
    text = String(error);
  }
  return sanitizeText(text, secrets);
}

function levelOf(code: BuiltInAgentErrorCode): LogLevel {
  return CLIENT_CAUSED.has(code) ? "warn" : "error";
}

/**
 * Classifies anything thrown during a run: a stable code and a message safe for the client (never
 * the provider's text, an address, a stack trace or a tool's exception), and, for the server log
 * only, the provider's status and text and the original error, all with the secrets redacted.
 *
 * @example
 * ```ts
 * const failure = classifyRunError(error, [apiKey]);
 * // { code: "rate_limited", message: "...", level: "error", status: 429, providerMessage: "..." }
 * ```
 */
export function classifyRunError(error: unknown, secrets: readonly string[] = []): RunFailure {
  if (error instanceof BuiltInAgentError) {
    const cause = error.cause !== undefined ? describeCause(error.cause, secrets) : undefined;
    return {
      code: error.code,
      message: redactSecrets(error.message, secrets),
      level: error.level ?? levelOf(error.code),
      ...(cause ? { cause } : {}),
    };
  }
  if (ai.RetryError.isInstance(error)) return classifyRunError(error.lastError, secrets);
  if (ai.LoadAPIKeyError.isInstance(error)) {
    return { code: "missing_api_key", message: "No API key is configured for the model provider.", level: "error" };
  }
  if (ai.APICallError.isInstance(error)) {
    const providerMessage = sanitizeText(providerText(error) ?? "", secrets) || undefined;
    const cause = describeCause(error.cause ?? error, secrets);
    if (error.statusCode === undefined) {
      return { code: "provider_unreachable", message: "The model provider could not be reached.", level: "error", cause };
    }
    const info = fromStatus(error.statusCode);
    return { ...info, level: levelOf(info.code), status: error.statusCode, ...(providerMessage ? { providerMessage } : {}), cause };
  }
  if (ai.JSONParseError.isInstance(error) || ai.TypeValidationError.isInstance(error)) {
    return {
      code: "provider_error",
      message: "The model provider sent a response that could not be read.",
      level: "error",
      cause: describeCause(error, secrets),
    };
  }
  const streamed = streamedProviderError(error);
  if (streamed) {
    const { providerMessage, ...info } = streamed;
    return { ...info, level: levelOf(info.code), providerMessage: sanitizeText(providerMessage, secrets) };
  }
  if (isNetworkError(error)) {
    return { code: "provider_unreachable", message: "The model provider could not be reached.", level: "error", cause: describeCause(error, secrets) };
  }
  return { code: "internal_error", message: "The agent failed while running.", level: "error", cause: describeCause(error, secrets) };
}

/**
 * The `message` and `code` of the RUN_ERROR for anything thrown during a run.
 *
 * @example
 * ```ts
 * const { message, code } = toRunErrorInfo(error, [apiKey]); // code: "rate_limited", ...
 * ```
 */
export function toRunErrorInfo(error: unknown, secrets: readonly string[] = []): RunErrorInfo {
  const { code, message } = classifyRunError(error, secrets);
  return { code, message };
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return (
    (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|UND_ERR_)/.test(code)) ||
    (error instanceof TypeError && error.message === "fetch failed")
  );
}
