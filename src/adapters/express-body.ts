import type { IncomingMessage } from "node:http";
import { DEFAULT_INPUT_LIMITS, valueDepth } from "../events/input-limits.js";
import { jsonTooDeep } from "../http/body.js";
import type { WebRequestOptions } from "./node-request.js";

/** What a body parser may have left on the request. */
export type ParsedRequest = IncomingMessage & { body?: unknown };

/**
 * How to get the body of a request that went through Express middleware. If the socket stream
 * is still unread (no body parser, or one that skipped this content type or an empty body),
 * it is streamed as is. If a parser consumed it, the body is rebuilt from `req.body`: bytes
 * (`express.raw()`) and strings (`express.text()`) as they are, anything else as JSON. The
 * rebuilt body's length and encoding differ from the original, so those headers are dropped.
 *
 * Consumed means the stream ended (`readableEnded`), or Node has the whole message and the
 * stream is no longer readable: the check body-parser itself uses. `req.complete` alone is
 * not enough (a small body is complete while still buffered), and `req.body` alone is not
 * either (body-parser 1.x sets `{}` before deciding not to parse) — both misreads hung
 * CopilotKit's Express endpoint behind `express.json()`.
 *
 * A parsed body nested deeper than `maxJsonDepth` is refused here (`json_too_deep`, an
 * `HttpError`): serialising it again could overflow the stack.
 *
 * @example
 * ```ts
 * const request = toWebRequest(req, res, { path: req.originalUrl, ...bodyFromParsedRequest(req) });
 * ```
 */
export function bodyFromParsedRequest(
  req: ParsedRequest,
  maxJsonDepth: number = DEFAULT_INPUT_LIMITS.maxJsonDepth,
): Pick<WebRequestOptions, "body" | "headerOverrides"> {
  const consumed = req.readableEnded || (req.complete && !req.readable);
  if (!consumed) return {};
  const body = req.body;
  const dropped = { "content-length": null, "content-encoding": null, "transfer-encoding": null };
  if (body === undefined || body === null) return { body: null, headerOverrides: dropped };
  if (body instanceof Uint8Array) return { body, headerOverrides: dropped };
  if (typeof body === "string") return { body, headerOverrides: dropped };
  if (valueDepth(body, maxJsonDepth) > maxJsonDepth) throw jsonTooDeep(maxJsonDepth);
  return { body: JSON.stringify(body), headerOverrides: { ...dropped, "content-type": "application/json" } };
}
