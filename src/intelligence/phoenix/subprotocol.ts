/** The subprotocol prefix phoenix.js puts before the base64 of its `authToken`. */
export const AUTH_TOKEN_PREFIX = "base64url.bearer.phx.";

/** The subprotocol a Phoenix server answers with. */
export const PHOENIX_SUBPROTOCOL = "phoenix";

export interface OfferedSubprotocols {
  /** Every protocol the client listed, in order, bearer token included. */
  offered: string[];
  /** The decoded bearer token, or null when none was offered or it does not decode. */
  authToken: string | null;
}

/**
 * Reads `Sec-WebSocket-Protocol` as phoenix.js sends it with an `authToken`:
 * `phoenix, base64url.bearer.phx.<token>`. We parse it ourselves, leniently, because the token
 * is standard base64 (`+` and `/`, padding stripped) despite its "base64url" name, and `/` is
 * not a legal token character, so strict parsers (ws's among them) reject the whole header.
 *
 * @example
 * ```ts
 * readSubprotocols("phoenix, base64url.bearer.phx.c2VjcmV0");
 * // { offered: ["phoenix", "base64url.bearer.phx.c2VjcmV0"], authToken: "secret" }
 * ```
 */
export function readSubprotocols(header: string | string[] | undefined): OfferedSubprotocols {
  const joined = Array.isArray(header) ? header.join(",") : (header ?? "");
  const offered = joined
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const bearer = offered.find((part) => part.startsWith(AUTH_TOKEN_PREFIX));
  return { offered, authToken: bearer === undefined ? null : decodeBearerToken(bearer.slice(AUTH_TOKEN_PREFIX.length)) };
}

/**
 * Decodes the token part of the bearer subprotocol: standard or URL-safe base64, with or
 * without padding. Bytes map to characters one to one (Latin-1), the inverse of the `btoa`
 * that encoded it. Null when it is empty or not base64.
 */
export function decodeBearerToken(encoded: string): string | null {
  const standard = encoded.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (standard === "" || !/^[A-Za-z0-9+/]+$/.test(standard) || standard.length % 4 === 1) return null;
  return Buffer.from(standard, "base64").toString("latin1");
}
