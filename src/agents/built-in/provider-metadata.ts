import type { ProviderMetadata } from "ai";
import type { ProviderOptions } from "./types.js";

/*
 * Providers sign their reasoning (Anthropic thinking signatures, redacted thinking, Gemini thought
 * signatures) and want the signature back on the next turn, or they reject tool use that follows
 * thinking. AG-UI carries such blobs opaquely in `encryptedValue` (REASONING_ENCRYPTED_VALUE); we
 * put the few provider fields that matter in it as versioned JSON and read them back from the
 * client's next RunAgentInput.
 */

const ENVELOPE_VERSION = 1;

// Only these fields round-trip. OpenAI reasoning item ids are left out on purpose: resent without the
// item that followed them, the Responses API rejects the request.
const KEPT_FIELDS: Record<string, readonly string[]> = {
  anthropic: ["signature", "redactedData"],
  google: ["thoughtSignature"],
  vertex: ["thoughtSignature"],
};

function pick(metadata: ProviderMetadata | undefined): ProviderOptions | undefined {
  if (!metadata) return undefined;
  let picked: ProviderOptions | undefined;
  for (const [provider, fields] of Object.entries(KEPT_FIELDS)) {
    const source = metadata[provider];
    if (!source) continue;
    for (const field of fields) {
      const value = source[field];
      if (typeof value !== "string" || value === "") continue;
      picked ??= {};
      picked[provider] = { ...picked[provider], [field]: value };
    }
  }
  return picked;
}

/** Merges provider metadata seen over several stream parts (a signature arrives after the text). */
export function mergeProviderMetadata(
  current: ProviderMetadata | undefined,
  next: ProviderMetadata | undefined,
): ProviderMetadata | undefined {
  if (!next) return current;
  if (!current) return next;
  const merged: ProviderMetadata = { ...current };
  for (const [provider, values] of Object.entries(next)) merged[provider] = { ...merged[provider], ...values };
  return merged;
}

/**
 * The `encryptedValue` to send for a reasoning message or tool call, or undefined when the provider
 * metadata holds nothing that must come back.
 *
 * @example
 * ```ts
 * encodeEncryptedValue({ anthropic: { signature: "EqQB..." } }); // '{"v":1,"anthropic":{"signature":"EqQB..."}}'
 * ```
 */
export function encodeEncryptedValue(metadata: ProviderMetadata | undefined): string | undefined {
  const picked = pick(metadata);
  return picked ? JSON.stringify({ v: ENVELOPE_VERSION, ...picked }) : undefined;
}

/** Reads back an `encryptedValue` written by {@link encodeEncryptedValue}; anything else yields undefined. */
export function decodeEncryptedValue(value: unknown): ProviderOptions | undefined {
  if (typeof value !== "string" || !value.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(value) as Record<string, unknown>;
    if (parsed.v !== ENVELOPE_VERSION) return undefined;
    const { v: _version, ...rest } = parsed;
    return pick(rest as ProviderMetadata);
  } catch {
    return undefined;
  }
}
