/**
 * The JSON responses of `POST /transcribe`.
 */
import type { TranscriptionError } from "./errors.js";

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" } as const;

/**
 * The error response for a {@link TranscriptionError}: its status, the body
 * `{ "error": code, "message", "retryable" }`, and a `Retry-After` header when the provider sent one.
 *
 * @example
 * ```ts
 * createTranscriptionErrorResponse(new TranscriptionError("service_not_configured"));
 * // 503 {"error":"service_not_configured","message":"Transcription service is not configured","retryable":false}
 * ```
 */
export function createTranscriptionErrorResponse(error: TranscriptionError): Response {
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  return new Response(JSON.stringify(error.toJSON()), { status: error.status, headers });
}

/**
 * The success response: 200 `{ "text", "size", "type" }`, as CopilotKit's client expects.
 *
 * @example
 * ```ts
 * createTranscriptionResponse("hello", 5120, "audio/webm");
 * ```
 */
export function createTranscriptionResponse(text: string, size: number, type: string): Response {
  return new Response(JSON.stringify({ text, size, type }), { status: 200, headers: JSON_HEADERS });
}
