import { DEFAULT_INPUT_LIMITS, jsonTextDepth } from "../events/input-limits.js";
import { HTTP_ERRORS, httpError } from "../errors.js";
import { HttpError } from "./errors.js";

/** The default request body limit: 10 MB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Reads a request body as text, refusing more than `maxBytes`: a declared `Content-Length`
 * over the limit is refused before reading, and a chunked body is counted as it arrives and
 * cut off the moment it passes the limit.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const bytes = await readBodyBytes(request, maxBytes);
  return new TextDecoder().decode(bytes);
}

/** How a body read reports its two failures; the HTTP core and `/transcribe` word them differently. */
export interface BodyReadErrors {
  tooLarge: (maxBytes: number) => Error;
  unreadable: (cause: unknown) => Error;
}

/** The HTTP core's wording of a body read's failures (the Node adapter's native reader uses it too). */
export const HTTP_BODY_ERRORS: BodyReadErrors = {
  tooLarge: (maxBytes) => tooLarge(maxBytes),
  unreadable: () => httpError(HTTP_ERRORS.bodyReadFailed, "The request body could not be read (the client may have gone away)."),
};

/**
 * The one bounded body reader: refuses a declared `Content-Length` over `maxBytes` before
 * reading, counts a chunked body as it arrives, and cancels the stream the moment it passes.
 */
export async function readBodyBytes(
  request: Request,
  maxBytes: number,
  errors: BodyReadErrors = HTTP_BODY_ERRORS,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw errors.tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (cause) {
        throw errors.unreadable(cause);
      }
      if (result.done) break;
      total += result.value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw errors.tooLarge(maxBytes);
      }
      chunks.push(result.value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads and parses a JSON body; malformed JSON is a 400 `invalid_json`, JSON nested deeper than
 * `maxDepth` a 400 `json_too_deep`.
 */
export async function readJsonBody(request: Request, maxBytes: number, maxDepth = DEFAULT_INPUT_LIMITS.maxJsonDepth): Promise<unknown> {
  return parseJsonText(await readBodyText(request, maxBytes), maxDepth);
}

/**
 * Parses a body already read as text, with the same errors as `readJsonBody`. The depth is
 * checked on the text before parsing: a value nested thousands of levels deep would overflow
 * the stack of everything that walks it later (`JSON.stringify` in the event encoder first).
 */
export function parseJsonText(text: string, maxDepth = DEFAULT_INPUT_LIMITS.maxJsonDepth): unknown {
  if (text.trim() === "") throw httpError(HTTP_ERRORS.invalidJson, "The request body is empty; expected a JSON object.");
  if (jsonTextDepth(text, maxDepth) > maxDepth) throw jsonTooDeep(maxDepth);
  try {
    return JSON.parse(text);
  } catch {
    throw httpError(HTTP_ERRORS.invalidJson, "The request body is not valid JSON.");
  }
}

/** The 400 for a body nested deeper than the limit (`limits.maxJsonDepth`). */
export function jsonTooDeep(maxDepth: number): HttpError {
  return httpError(HTTP_ERRORS.jsonTooDeep, `The request body nests arrays and objects deeper than ${maxDepth} levels.`, { limit: maxDepth });
}

function tooLarge(maxBytes: number): HttpError {
  return httpError(HTTP_ERRORS.payloadTooLarge, `The request body exceeds the limit of ${maxBytes} bytes.`, { limit: maxBytes });
}
