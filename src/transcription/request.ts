/**
 * Parses a `POST /transcribe` request (multipart upload or the single-route JSON/base64 form) into a
 * validated audio file, using web-standard APIs only.
 */
import {
  DEFAULT_MAX_AUDIO_BYTES,
  FALLBACK_AUDIO_FILENAME,
  FALLBACK_AUDIO_TYPE,
  SUPPORTED_AUDIO_TYPES,
  isAcceptedAudioType,
  isUnlabelledAudioType,
} from "./audio-format.js";
import { decodeBase64Audio, maxBase64Length } from "./base64.js";
import { TranscriptionError, isTranscriptionError } from "./errors.js";
import { readBodyWithLimit } from "./read-body.js";

/** Room for multipart boundaries and part headers, or JSON keys, a data-URL prefix and line breaks. */
const ENVELOPE_ALLOWANCE = 64 * 1024;

/** Options of {@link parseTranscribeRequest}. */
export interface ParseTranscribeRequestOptions {
  /** Largest accepted audio file, in bytes. Default {@link DEFAULT_MAX_AUDIO_BYTES} (25 MiB). */
  maxBytes?: number;
}

/** A validated upload, ready for `TranscriptionService.transcribeFile`. */
export interface TranscribeAudio {
  file: File;
  /** `file.type`: an accepted audio type, possibly with parameters (`audio/webm;codecs=opus`). */
  mimeType: string;
  /** `file.size` in bytes, always at least 1. */
  size: number;
}

/**
 * Reads and validates the audio of a `/transcribe` request, following CopilotKit's contract:
 * - `multipart/form-data`: the file in field `audio`;
 * - `application/json`: `{ audio: <base64, optional data-URL prefix>, mimeType, filename? }`;
 * - any other content type: `invalid_request`.
 *
 * Files typed empty or `application/octet-stream` are re-stamped as `audio/webm` named `recording.webm`.
 * Other non-audio types give `invalid_audio_format`; an empty file gives `audio_too_short`; a file (or a
 * body) over `maxBytes` gives `payload_too_large`, decided from `Content-Length` or the encoded base64
 * length before the audio is buffered or decoded whenever possible.
 *
 * Returns the error instead of throwing it, so callers branch without try/catch.
 *
 * @example
 * ```ts
 * const audio = await parseTranscribeRequest(request, { maxBytes: 10 * 1024 * 1024 });
 * if (audio instanceof TranscriptionError) return createTranscriptionErrorResponse(audio);
 * const text = await service.transcribeFile({ audioFile: audio.file, mimeType: audio.mimeType, size: audio.size });
 * ```
 */
export async function parseTranscribeRequest(
  request: Request,
  options: ParseTranscribeRequestOptions = {},
): Promise<TranscribeAudio | TranscriptionError> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_AUDIO_BYTES;
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
  try {
    if (contentType.includes("multipart/form-data")) return await parseMultipart(request, contentType, maxBytes);
    if (contentType.includes("application/json")) return await parseJson(request, maxBytes);
    return new TranscriptionError(
      "invalid_request",
      "Request must be multipart/form-data or application/json with base64 audio",
    );
  } catch (error) {
    if (isTranscriptionError(error)) return error;
    throw error;
  }
}

async function parseMultipart(request: Request, contentType: string, maxBytes: number): Promise<TranscribeAudio | TranscriptionError> {
  const body = await readBodyWithLimit(request, maxBytes + ENVELOPE_ALLOWANCE);
  let form: FormData;
  try {
    // Re-wrapping the bounded bytes lets the platform's multipart parser do the parsing.
    form = await new Response(body, { headers: { "content-type": request.headers.get("content-type") ?? contentType } }).formData();
  } catch {
    return new TranscriptionError("invalid_request", "Malformed multipart/form-data body");
  }
  const entry = form.get("audio");
  if (entry === null || typeof entry === "string") {
    return new TranscriptionError(
      "invalid_request",
      "No audio file found in form data. Please include an 'audio' field.",
    );
  }
  return validateAudio(entry, entry.type, entry.name, maxBytes);
}

async function parseJson(request: Request, maxBytes: number): Promise<TranscribeAudio | TranscriptionError> {
  // Base64 grows data by 4/3; allow the same again in whitespace/escapes before calling it too large.
  const encodedLimit = maxBase64Length(maxBytes);
  const bytes = await readBodyWithLimit(request, encodedLimit + Math.ceil(encodedLimit / 8) + ENVELOPE_ALLOWANCE);

  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return new TranscriptionError("invalid_request", "Request body must be valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return new TranscriptionError("invalid_request", "Request body must be a JSON object");
  }
  const { audio, mimeType, filename } = body as { audio?: unknown; mimeType?: unknown; filename?: unknown };
  if (typeof audio !== "string" || audio === "") {
    return new TranscriptionError(
      "invalid_request",
      "Request must include 'audio' field with base64-encoded audio data",
    );
  }
  if (typeof mimeType !== "string" || mimeType === "") {
    return new TranscriptionError("invalid_request", "Request must include 'mimeType' field (e.g., 'audio/webm')");
  }
  if (filename !== undefined && filename !== null && typeof filename !== "string") {
    return new TranscriptionError("invalid_request", "'filename' must be a string");
  }
  // Check the type before decoding: a wrong format should not cost a 25 MB decode.
  const formatError = checkFormat(mimeType);
  if (formatError) return formatError;

  const data = decodeBase64Audio(audio, maxBytes);
  const file = new File([data], filename || FALLBACK_AUDIO_FILENAME, { type: mimeType });
  return validateAudio(file, mimeType, file.name, maxBytes);
}

function validateAudio(blob: Blob, type: string, name: string, maxBytes: number): TranscribeAudio | TranscriptionError {
  const formatError = checkFormat(type);
  if (formatError) return formatError;
  if (blob.size === 0) return new TranscriptionError("audio_too_short", "Audio file is empty");
  if (blob.size > maxBytes) return new TranscriptionError("payload_too_large", `Audio is larger than ${maxBytes} bytes`);

  const file = isUnlabelledAudioType(type)
    ? new File([blob], FALLBACK_AUDIO_FILENAME, { type: FALLBACK_AUDIO_TYPE })
    : blob instanceof File && blob.type === type
      ? blob
      : new File([blob], name, { type });
  return { file, mimeType: file.type, size: file.size };
}

function checkFormat(type: string): TranscriptionError | undefined {
  if (isUnlabelledAudioType(type) || isAcceptedAudioType(type)) return undefined;
  const shown = type.length > 100 ? `${type.slice(0, 100)}…` : type;
  return new TranscriptionError(
    "invalid_audio_format",
    `Unsupported audio format: ${shown}. Supported: ${SUPPORTED_AUDIO_TYPES.join(", ")}`,
  );
}
