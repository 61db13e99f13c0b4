/**
 * The `POST /transcribe` route: request in, response out, with every failure mapped to the contract's
 * error codes.
 */
import { TranscriptionError, toTranscriptionError } from "./errors.js";
import { parseTranscribeRequest } from "./request.js";
import { createTranscriptionErrorResponse, createTranscriptionResponse } from "./response.js";
import type { TranscriptionService } from "./transcription-service.js";

/** Options of {@link handleTranscribe}. */
export interface HandleTranscribeOptions {
  /** Largest accepted audio file, in bytes. Default 25 MiB. */
  maxBytes?: number;
  /**
   * Called with every error response before it is sent, including the original error when a service
   * threw something else. The place to log `providerStatus`/`providerMessage`, which never reach the client.
   */
  onError?: (error: TranscriptionError, original: unknown) => void;
}

/**
 * Answers `POST /transcribe` with CopilotKit's responses:
 * - no service -> 503 `service_not_configured`, without reading the body;
 * - success -> 200 `{ "text", "size", "type" }`;
 * - failure -> `{ "error": code, "message", "retryable" }` with the code's status (400, 401, 413, 429,
 *   500, 502), plus `Retry-After` when a rate-limited provider gave one.
 *
 * The request's `signal` is passed to the service so a departed browser cancels the provider call.
 *
 * @example
 * ```ts
 * const service = new OpenAITranscriptionService();
 * app.post("/api/copilotkit/transcribe", (c) => handleTranscribe(c.req.raw, service));
 * ```
 */
export async function handleTranscribe(
  request: Request,
  service: TranscriptionService | undefined,
  options: HandleTranscribeOptions = {},
): Promise<Response> {
  if (!service) return fail(new TranscriptionError("service_not_configured"), undefined, options);

  const audio = await parseTranscribeRequest(request, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
  if (audio instanceof TranscriptionError) return fail(audio, audio, options);

  let text: unknown;
  try {
    text = await service.transcribeFile({
      audioFile: audio.file,
      mimeType: audio.mimeType,
      size: audio.size,
      signal: request.signal,
    });
  } catch (error) {
    return fail(toTranscriptionError(error), error, options);
  }
  if (typeof text !== "string") {
    const error = new TranscriptionError("provider_error", "Transcription service returned no text", { retryable: false });
    return fail(error, text, options);
  }
  return createTranscriptionResponse(text, audio.size, audio.mimeType);
}

function fail(error: TranscriptionError, original: unknown, options: HandleTranscribeOptions): Response {
  try {
    options.onError?.(error, original);
  } catch {
    // A failing logger must not turn a well-formed error response into a 500.
  }
  return createTranscriptionErrorResponse(error);
}
