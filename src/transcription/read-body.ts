/**
 * Reads a request body into memory with a hard byte cap, so an upload over the limit is refused after
 * at most `limit` bytes rather than after buffering all of it.
 */
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
export async function readBodyWithLimit(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((cause: unknown) => {
        throw new TranscriptionError("invalid_request", "Could not read the request body", { cause });
      });
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }

  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(limit: number): TranscriptionError {
  return new TranscriptionError("payload_too_large", `Request body is larger than ${limit} bytes`);
}
