/**
 * The error vocabulary of `POST /transcribe`: stable codes, their HTTP statuses, and a classifier that
 * turns anything a transcription provider throws into one of them without leaking the provider's text.
 */

/**
 * Stable error codes returned in the `error` field of a `/transcribe` error body.
 *
 * All but `payload_too_large` come from CopilotKit's contract (`@copilotkit/shared`
 * `TranscriptionErrorCode`); `payload_too_large` is ours, for uploads over the size limit, which
 * CopilotKit has no code for. Its client treats an unknown code as a generic transcription failure.
 */
export type TranscriptionErrorCode =
  | "service_not_configured"
  | "invalid_audio_format"
  | "audio_too_long"
  | "audio_too_short"
  | "rate_limited"
  | "auth_failed"
  | "provider_error"
  | "network_error"
  | "invalid_request"
  | "payload_too_large";

/**
 * HTTP status for each {@link TranscriptionErrorCode}.
 *
 * @example
 * ```ts
 * TRANSCRIPTION_ERROR_STATUS.rate_limited; // 429
 * ```
 */
export const TRANSCRIPTION_ERROR_STATUS: Readonly<Record<TranscriptionErrorCode, number>> = Object.freeze({
  service_not_configured: 503,
  invalid_audio_format: 400,
  audio_too_long: 400,
  audio_too_short: 400,
  rate_limited: 429,
  auth_failed: 401,
  provider_error: 500,
  network_error: 502,
  invalid_request: 400,
  payload_too_large: 413,
});

/** Client-safe default messages; the first nine match CopilotKit's wording. */
const DEFAULT_MESSAGES: Record<TranscriptionErrorCode, string> = {
  service_not_configured: "Transcription service is not configured",
  invalid_audio_format: "Unsupported audio format",
  audio_too_long: "Audio file is too long",
  audio_too_short: "Audio is too short to transcribe",
  rate_limited: "Rate limited. Please try again later.",
  auth_failed: "Authentication failed with transcription provider",
  provider_error: "Transcription provider returned an error",
  network_error: "Network error during transcription",
  invalid_request: "Invalid transcription request",
  payload_too_large: "Audio file is too large",
};

/** Codes a client may retry unchanged; CopilotKit marks exactly these as retryable. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<TranscriptionErrorCode> = new Set<TranscriptionErrorCode>([
  "rate_limited",
  "provider_error",
  "network_error",
]);

/** Options of {@link TranscriptionError} beyond its code and message. */
export interface TranscriptionErrorOptions {
  /** Overrides the code's default (true for rate_limited, provider_error, network_error). */
  retryable?: boolean;
  /** Seconds the provider asked us to wait (from `Retry-After`); sent as a `Retry-After` header. */
  retryAfterSeconds?: number;
  /** HTTP status the provider answered with, for logs. Never sent to the client. */
  providerStatus?: number;
  /** The provider's own error text, redacted and truncated, for logs. Never sent to the client. */
  providerMessage?: string;
  /** The original error, for logs. Never sent to the client. */
  cause?: unknown;
}

/** The JSON body of a `/transcribe` error response. */
export interface TranscriptionErrorBody {
  error: TranscriptionErrorCode;
  message: string;
  retryable?: boolean;
}

/**
 * A transcription failure with a stable `code`, its HTTP `status`, whether a retry may succeed, and a
 * `message` that is safe to show a browser. Throw it from a {@link TranscriptionService} to choose the
 * response exactly; anything else thrown is classified by {@link toTranscriptionError}.
 *
 * @example
 * ```ts
 * throw new TranscriptionError("audio_too_long", "Recordings are limited to 10 minutes");
 * // -> 400 {"error":"audio_too_long","message":"Recordings are limited to 10 minutes","retryable":false}
 * ```
 */
export class TranscriptionError extends Error {
  override readonly name = "TranscriptionError";
  readonly code: TranscriptionErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  readonly providerStatus?: number;
  readonly providerMessage?: string;

  constructor(code: TranscriptionErrorCode, message?: string, options: TranscriptionErrorOptions = {}) {
    super(message ?? DEFAULT_MESSAGES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = TRANSCRIPTION_ERROR_STATUS[code];
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.providerStatus !== undefined) this.providerStatus = options.providerStatus;
    if (options.providerMessage !== undefined) this.providerMessage = options.providerMessage;
  }

  /** The response body: `{ error, message, retryable }`, nothing else. */
  toJSON(): TranscriptionErrorBody {
    return { error: this.code, message: this.message, retryable: this.retryable };
  }
}

/**
 * Whether a value is a {@link TranscriptionError}, also across copies of this module.
 *
 * @example
 * ```ts
 * if (isTranscriptionError(result)) return createTranscriptionErrorResponse(result);
 * ```
 */
export function isTranscriptionError(value: unknown): value is TranscriptionError {
  return (
    value instanceof TranscriptionError ||
    (value instanceof Error &&
      value.name === "TranscriptionError" &&
      typeof (value as unknown as { code?: unknown }).code === "string" &&
      (value as unknown as { code: string }).code in TRANSCRIPTION_ERROR_STATUS)
  );
}

/** Details a status-based classification may use; `detail` is read, never echoed. */
export interface ProviderFailure {
  /** The provider's error text (for example `error.message` of an OpenAI error body). */
  detail?: string;
  /** Parsed `Retry-After`, in seconds. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * Maps a provider's HTTP error status (and, for 400s, the words of its error text) to a
 * {@link TranscriptionError}: 429 -> rate_limited, 401/403 -> auth_failed, 413 -> payload_too_large,
 * 400 about length/duration -> audio_too_long, 4xx about the file's format -> invalid_audio_format,
 * 404 -> provider_error (a wrong base URL or model is the server's fault, not the browser's),
 * other 4xx -> invalid_request, 408 -> network_error, 5xx -> provider_error (retryable).
 *
 * @example
 * ```ts
 * transcriptionErrorFromStatus(429, { retryAfterSeconds: 7 }).code; // "rate_limited"
 * ```
 */
export function transcriptionErrorFromStatus(status: number, failure: ProviderFailure = {}): TranscriptionError {
  const detail = (failure.detail ?? "").toLowerCase();
  const extra: TranscriptionErrorOptions = {
    providerStatus: status,
    cause: failure.cause,
    ...(failure.detail ? { providerMessage: redactProviderText(failure.detail) } : {}),
  };
  if (status === 429) {
    return new TranscriptionError("rate_limited", undefined, {
      ...extra,
      ...(failure.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
    });
  }
  if (status === 401 || status === 403) return new TranscriptionError("auth_failed", undefined, extra);
  if (status === 413) return new TranscriptionError("payload_too_large", undefined, extra);
  if (status === 408) return new TranscriptionError("network_error", "Transcription provider timed out", extra);
  if (status === 404) {
    return new TranscriptionError("provider_error", undefined, { ...extra, retryable: false });
  }
  if (status >= 400 && status < 500) {
    if (mentionsTooLong(detail)) return new TranscriptionError("audio_too_long", undefined, extra);
    if (mentionsTooShort(detail)) return new TranscriptionError("audio_too_short", undefined, extra);
    if (mentionsFormat(detail)) return new TranscriptionError("invalid_audio_format", undefined, extra);
    return new TranscriptionError("invalid_request", "The transcription provider rejected the request", extra);
  }
  return new TranscriptionError("provider_error", undefined, extra);
}

/**
 * Turns anything a transcription service threw into a {@link TranscriptionError} whose message is safe to
 * send to a browser. In order:
 * 1. a `TranscriptionError` passes through unchanged;
 * 2. an HTTP status found on the error (`status`, `statusCode` or `response.status`, as the OpenAI SDK and
 *    most HTTP clients set it) is mapped by {@link transcriptionErrorFromStatus};
 * 3. a timeout, an abort, or a socket-level failure (`ECONNREFUSED`, `ECONNRESET`, undici's
 *    `fetch failed`, ...) becomes `network_error`;
 * 4. otherwise CopilotKit's substring rules on the error text: rate/429/too many -> rate_limited;
 *    auth/401/api key/unauthorized -> auth_failed; too long/duration/length -> audio_too_long;
 *    anything else -> provider_error.
 *
 * The provider's own text only decides the code; it is kept on `providerMessage` (redacted) for logs and
 * never becomes the client-visible `message`.
 *
 * @example
 * ```ts
 * toTranscriptionError(new Error("429 Too Many Requests")).code;          // "rate_limited"
 * toTranscriptionError(new Error("Incorrect API key provided: sk-...")).message;
 * // "Authentication failed with transcription provider"
 * ```
 */
export function toTranscriptionError(error: unknown): TranscriptionError {
  if (isTranscriptionError(error)) return error;

  const status = findHttpStatus(error);
  const text = errorText(error);
  if (status !== undefined) return transcriptionErrorFromStatus(status, { detail: text, cause: error });

  const extra: TranscriptionErrorOptions = { cause: error, ...(text ? { providerMessage: redactProviderText(text) } : {}) };
  if (isNetworkFailure(error)) return new TranscriptionError("network_error", undefined, extra);

  const lower = text.toLowerCase();
  if (lower.includes("rate") || lower.includes("429") || lower.includes("too many")) {
    return new TranscriptionError("rate_limited", undefined, extra);
  }
  if (lower.includes("auth") || lower.includes("401") || lower.includes("api key") || lower.includes("unauthorized")) {
    return new TranscriptionError("auth_failed", undefined, extra);
  }
  if (lower.includes("too long") || lower.includes("duration") || lower.includes("length")) {
    return new TranscriptionError("audio_too_long", undefined, extra);
  }
  return new TranscriptionError("provider_error", undefined, extra);
}

/**
 * Removes things that look like credentials (`sk-...`, `Bearer ...`, `key=...`) and caps the length, so a
 * provider's error text can go to logs.
 *
 * @example
 * ```ts
 * redactProviderText("Incorrect API key provided: sk-proj-abc123xyz"); // "Incorrect API key provided: [redacted]"
 * ```
 */
export function redactProviderText(text: string): string {
  const redacted = text
    .replace(/\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]")
    .replace(/\b(sk|pk|rk|gsk|xai)[-_][A-Za-z0-9_*-]{6,}/g, "[redacted]")
    .replace(/\b(api[-_ ]?key|key|token)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, "$1$2[redacted]");
  return redacted.length > 500 ? `${redacted.slice(0, 500)}…` : redacted;
}

function mentionsTooLong(detail: string): boolean {
  return detail.includes("too long") || detail.includes("duration") || detail.includes("maximum length");
}

function mentionsTooShort(detail: string): boolean {
  return detail.includes("too short") || detail.includes("minimum audio length");
}

function mentionsFormat(detail: string): boolean {
  return (
    detail.includes("file format") ||
    detail.includes("invalid file") ||
    detail.includes("unsupported") ||
    detail.includes("could not be decoded") ||
    detail.includes("decode") ||
    detail.includes("corrupt")
  );
}

function findHttpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const candidates = [
    (error as { status?: unknown }).status,
    (error as { statusCode?: unknown }).statusCode,
    (error as { response?: { status?: unknown } }).response?.status,
  ];
  for (const candidate of candidates) {
    if (typeof candidate === "number" && Number.isInteger(candidate) && candidate >= 400 && candidate <= 599) {
      return candidate;
    }
  }
  return undefined;
}

const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

function isNetworkFailure(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== "object") return false;
    const { name, code, message } = current as { name?: unknown; code?: unknown; message?: unknown };
    if (name === "AbortError" || name === "TimeoutError") return true;
    if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) return true;
    // undici reports every transport failure as `TypeError: fetch failed` with the real reason in `cause`.
    if (name === "TypeError" && message === "fetch failed") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  return String(error);
}
