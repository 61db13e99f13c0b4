import type { PhoenixFrame } from "./types.js";

/** The outcome of reading one incoming text frame: the frame, or why it is not one. */
export type ParsedFrame = { ok: true; frame: PhoenixFrame } | { ok: false; reason: string };

/**
 * Reads one Phoenix v2 text frame, `[join_ref, ref, topic, event, payload]`. Never throws:
 * anything that is not a 5-element JSON array with string (or null) refs and a non-empty topic
 * and event comes back as `{ ok: false, reason }` for the caller to log and drop. Numeric refs
 * are read as strings, as clients other than phoenix.js sometimes count with numbers.
 *
 * @example
 * ```ts
 * const parsed = parseFrame('["1","1","room:lobby","phx_join",{}]');
 * if (parsed.ok) console.log(parsed.frame[2]); // "room:lobby"
 * ```
 */
export function parseFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (!Array.isArray(value) || value.length !== 5) return { ok: false, reason: "not a 5-element array" };
  const [joinRef, ref, topic, event, payload] = value as unknown[];
  const readJoinRef = readRef(joinRef);
  const readRefValue = readRef(ref);
  if (readJoinRef === undefined) return { ok: false, reason: "join_ref is neither a string nor null" };
  if (readRefValue === undefined) return { ok: false, reason: "ref is neither a string nor null" };
  if (typeof topic !== "string" || topic === "") return { ok: false, reason: "topic is not a non-empty string" };
  if (typeof event !== "string" || event === "") return { ok: false, reason: "event is not a non-empty string" };
  return { ok: true, frame: [readJoinRef, readRefValue, topic, event, payload] };
}

function readRef(value: unknown): string | null | undefined {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Writes one Phoenix v2 text frame. A `payload` given as a string is taken as already-serialized
 * JSON and spliced in verbatim, so an event serialized once can go to many sockets; anything
 * else is `JSON.stringify`ed (`undefined` becomes `{}`, as phoenix.js always expects an object).
 * Throws a TypeError when the payload cannot be serialized (a BigInt, a cycle): that is a bug
 * in the server code pushing it, not bad input from a client.
 *
 * @example
 * ```ts
 * serializeFrame("1", null, "room:lobby", "new_msg", '{"body":"hi"}');
 * // '["1",null,"room:lobby","new_msg",{"body":"hi"}]'
 * ```
 */
export function serializeFrame(joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown): string {
  const body = typeof payload === "string" ? payload : (JSON.stringify(payload ?? {}) ?? "{}");
  return `[${JSON.stringify(joinRef)},${JSON.stringify(ref)},${JSON.stringify(topic)},${JSON.stringify(event)},${body}]`;
}

/** A `phx_reply` to the client message `[joinRef, ref, topic, …]`: `{status, response}`. */
export function serializeReply(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  status: "ok" | "error",
  response: Record<string, unknown> = {},
): string {
  return serializeFrame(joinRef, ref, topic, "phx_reply", { status, response });
}
