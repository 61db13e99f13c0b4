/**
 * Strict base64 decoding for the JSON form of `/transcribe`, with the size check done on the encoded
 * text before any bytes are allocated.
 */
import { TranscriptionError } from "./errors.js";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const WHITESPACE = /[\t\n\f\r ]+/g;
/** Decoded in slices so a 25 MB upload never exists as one 25 MB binary string. Multiple of 4. */
const SLICE = 1 << 20;

/**
 * Decodes base64 audio, optionally prefixed by a data URL (`data:audio/webm;base64,`). Throws a
 * `payload_too_large` {@link TranscriptionError} when the decoded size would exceed `maxBytes` (decided from
 * the encoded length alone) and an `invalid_request` one when the text is not valid base64 or decodes to
 * nothing.
 *
 * @example
 * ```ts
 * decodeBase64Audio("data:audio/webm;base64,GkXfow==", 1024); // Uint8Array [26, 69, 223, 163]
 * ```
 */
export function decodeBase64Audio(input: string, maxBytes: number): Uint8Array<ArrayBuffer> {
  const encoded = stripDataUrlPrefix(input).replace(WHITESPACE, "");

  const padding = encoded.endsWith("==") ? 2 : encoded.endsWith("=") ? 1 : 0;
  const decodedSize = Math.floor((encoded.length * 3) / 4) - padding;
  if (decodedSize > maxBytes) {
    throw new TranscriptionError("payload_too_large", `Audio is larger than ${maxBytes} bytes`);
  }
  if (!BASE64.test(encoded) || encoded.length % 4 === 1 || (padding > 0 && encoded.length % 4 !== 0)) {
    throw invalid();
  }

  const bytes = new Uint8Array(decodedSize);
  let offset = 0;
  try {
    for (let start = 0; start < encoded.length; start += SLICE) {
      const binary = atob(encoded.slice(start, start + SLICE));
      for (let i = 0; i < binary.length; i++) bytes[offset++] = binary.charCodeAt(i);
    }
  } catch {
    throw invalid();
  }
  if (offset === 0) throw invalid();
  return offset === bytes.length ? bytes : bytes.subarray(0, offset);
}

/**
 * Upper bound of the base64 text length that can still decode to at most `maxBytes` bytes.
 *
 * @example
 * ```ts
 * maxBase64Length(3); // 4
 * ```
 */
export function maxBase64Length(maxBytes: number): number {
  return Math.ceil(maxBytes / 3) * 4;
}

function stripDataUrlPrefix(input: string): string {
  if (!input.startsWith("data:")) return input;
  const comma = input.indexOf(",");
  return comma < 0 ? input : input.slice(comma + 1);
}

function invalid(): TranscriptionError {
  return new TranscriptionError("invalid_request", "Failed to decode base64 audio data");
}
