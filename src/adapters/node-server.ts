import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { HTTP_ERRORS, type HttpErrorSpec } from "../errors.js";
import type { Duplex } from "node:stream";

/**
 * Time limits for a `node:http` server, in milliseconds; `0` turns one off. A response that
 * streams (an event stream) is never cut by them: they cover receiving the request.
 */
export interface CopilotServerLimits {
  /** Time to receive a request's headers (Node's `headersTimeout`). Default 10 s. */
  headersTimeoutMs?: number;
  /**
   * Time to receive a whole request, headers and body (Node's `requestTimeout`); a body that
   * trickles in is answered 408 when it runs out. Default 30 s.
   */
  requestTimeoutMs?: number;
  /**
   * Time an idle kept-alive connection waits for its next request (Node's `keepAliveTimeout`).
   * Default 65 s: longer than the 60 s idle timeout of common load balancers, so they close
   * first and never send a request on a socket this server is closing.
   */
  keepAliveTimeoutMs?: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<Required<CopilotServerLimits>> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
};

/**
 * The pending-connection queue for `server.listen({ backlog })`. Node's default, 511, drops
 * (ECONNRESET) part of a burst of a few thousand new connections; the kernel caps the value
 * at `net.core.somaxconn` (4096 on current Linux).
 */
export const DEFAULT_LISTEN_BACKLOG = 4096;

/** The longest Node waits between two looks for requests past their time (its default is 30 s). */
const MAX_CHECK_INTERVAL_MS = 1_000;

/**
 * Applies the time limits to `server` and answers the requests Node refuses before any
 * handler runs (headers too large, a malformed request line, a request past its time) with
 * the runtime's JSON error shape instead of Node's plain text. Call it before `listen()`:
 * Node reads how often to look for expired requests when it starts listening.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { applyServerLimits, createCopilotNodeListener, DEFAULT_LISTEN_BACKLOG } from "copilot-runtime/node";
 *
 * const server = applyServerLimits(createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit" })));
 * server.listen({ port: 3001, backlog: DEFAULT_LISTEN_BACKLOG });
 * ```
 */
export function applyServerLimits<S extends Server>(server: S, limits: CopilotServerLimits = {}): S {
  const resolved = resolveServerLimits(limits);
  server.headersTimeout = resolved.headersTimeoutMs;
  server.requestTimeout = resolved.requestTimeoutMs;
  server.keepAliveTimeout = resolved.keepAliveTimeoutMs;
  const shortest = Math.min(...[resolved.headersTimeoutMs, resolved.requestTimeoutMs].filter((ms) => ms > 0));
  if (Number.isFinite(shortest)) {
    // A limit is only as exact as this interval: a quarter of the shortest one, at most a second.
    (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(10, Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(shortest / 4)));
  }
  const responses = new WeakMap<Duplex, ServerResponse>();
  // Which response a socket is writing, from public events only: a keep-alive socket carries
  // its requests one after another, so the latest one is the one a parse error interrupts.
  server.on("request", (request: IncomingMessage, response: ServerResponse) => responses.set(request.socket, response));
  server.on("clientError", (error: Error & { code?: string }, socket: Duplex) => answerClientError(error, socket, responses.get(socket)));
  return server;
}

/** The limits with their defaults, checked; throws a `RangeError` naming the first bad one. */
export function resolveServerLimits(limits: CopilotServerLimits = {}): Required<CopilotServerLimits> {
  const resolved = { ...DEFAULT_SERVER_LIMITS };
  for (const name of Object.keys(DEFAULT_SERVER_LIMITS) as Array<keyof CopilotServerLimits>) {
    const value = limits[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of milliseconds (0 turns it off), got ${String(value)}`);
    resolved[name] = value;
  }
  // A shorter request limit alone shortens the default headers limit with it (the whole request includes them).
  if (limits.headersTimeoutMs === undefined && resolved.requestTimeoutMs > 0 && resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
    resolved.headersTimeoutMs = resolved.requestTimeoutMs;
  }
  // Node refuses this pair at construction; set as properties it would silently let the body limit win.
  if (resolved.requestTimeoutMs > 0 && resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
    throw new RangeError(
      `headersTimeoutMs (${resolved.headersTimeoutMs}) must not be longer than requestTimeoutMs (${resolved.requestTimeoutMs}), which includes the headers`,
    );
  }
  return resolved;
}

const CLIENT_ERRORS: Record<string, readonly [reason: string, error: HttpErrorSpec, message: string]> = {
  HPE_HEADER_OVERFLOW: ["Request Header Fields Too Large", HTTP_ERRORS.requestHeaderTooLarge, "The request's headers are too large."],
  ERR_HTTP_REQUEST_TIMEOUT: ["Request Timeout", HTTP_ERRORS.requestTimeout, "The request was not received in time."],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ["Payload Too Large", HTTP_ERRORS.chunkExtensionsTooLarge, "The request's chunk extensions are too large."],
};

/**
 * `clientError`: Node's own answer (plain text) in the runtime's JSON shape, when the socket
 * can still take one and no response has started on it; the socket is closed either way.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex, current: ServerResponse | undefined): void {
  const started = current !== undefined && current.headersSent && !current.writableFinished;
  if (error.code === "ECONNRESET" || !socket.writable || started) {
    socket.destroy();
    return;
  }
  const [reason, { status, code }, message] = CLIENT_ERRORS[error.code ?? ""] ?? [
    "Bad Request",
    HTTP_ERRORS.badRequest,
    `The request could not be parsed as HTTP${error.code ? ` (${error.code})` : ""}.`,
  ];
  const body = JSON.stringify({ error: code, message });
  const head =
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  // A client that does not read cannot keep the socket: it goes after a moment regardless.
  const timer = setTimeout(() => socket.destroy(), 1_000);
  timer.unref();
  socket.end(head + body, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}
