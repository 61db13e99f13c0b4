/**
 * Reads a request body into memory with a hard byte cap, so an upload over the limit is refused after
 * at most `limit` bytes rather than after buffering all of it.
 */
import { type BodyReadErrors, readBodyBytes } from "../http/body.js";
import { TranscriptionError } from "./errors.js";

/**
 * Reads the whole body of `request`, throwing a `payload_too_large` {@link TranscriptionError} as soon as
 * the declared `Content-Length` or the bytes actually received exceed `limit`. The stream is cancelled
 * when the limit is hit.
 *
 * @example
 * ```ts
 * const bytes = await readBodyWithLimit(request, 26 * 1024 * 1024);
 * ```
 */
export function readBodyWithLimit(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  return readBodyBytes(request, limit, TRANSCRIPTION_BODY_ERRORS);
}

const TRANSCRIPTION_BODY_ERRORS: BodyReadErrors = {
  tooLarge: (limit) => new TranscriptionError("payload_too_large", `Request body is larger than ${limit} bytes`),
  unreadable: (cause) => new TranscriptionError("invalid_request", "Could not read the request body", { cause }),
};
