import { IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from "node:http";
import { HTTP_ERRORS, errorResponse } from "../errors.js";
import { getRequestListener } from "@hono/node-server";
import { createCopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../http/handler.js";
import { NATIVE_SSE_HOST, nativeSseStream } from "../http/sse.js";
import { logger } from "../logger.js";
import { installNodeLoadProbe } from "./node-load.js";
import { NodeSseHost, NodeSseSink } from "./node-sse.js";

export {
  applyServerLimits,
  type CopilotServerLimits,
  DEFAULT_LISTEN_BACKLOG,
  DEFAULT_SERVER_LIMITS,
  resolveServerLimits,
} from "./node-server.js";

/** A `node:http` request listener: `createServer(listener)`. */
export type CopilotNodeListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
/** CopilotKit's name for what `createCopilotNodeHandler` returns. */
export type NodeFetchHandler = CopilotNodeListener;
/** CopilotKit's name for what `createCopilotNodeListener` returns. */
export type NodeCopilotListener = CopilotNodeListener;

export interface CopilotNodeHandlerOptions {
  /**
   * Let `@hono/node-server` install its lightweight `Request`/`Response` globals (subclasses of
   * the built-in ones): responses built from strings skip the stream machinery (about 1.5x the
   * throughput for small JSON answers in a quick local measurement). Default true, as in
   * `@hono/node-server`.
   */
  overrideGlobalObjects?: boolean;
}

/**
 * Serves any fetch handler (`(Request) => Promise<Response>`) from `node:http`, through
 * `@hono/node-server`'s request listener, the field's fastest Node-to-Fetch bridge: the
 * `Request` is built lazily (a `GET /info` never pays for one), the body streams from the
 * socket only when read, the request's signal aborts when the client leaves before the
 * response is complete, event-stream headers go out before the first event, and writes wait
 * for `drain`. A handler that throws gets a JSON 500, never a stack trace.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" });
 * createServer(createCopilotNodeHandler(handler)).listen(3001);
 * ```
 */
export function createCopilotNodeHandler(
  handler: (request: Request) => Response | Promise<Response>,
  options: CopilotNodeHandlerOptions = {},
): CopilotNodeListener {
  installNodeLoadProbe();
  const listener = getRequestListener(
    (request, env) => {
      const { incoming, outgoing } = env;
      // HTTP/2's compatibility API keeps the plain path.
      if (!(incoming instanceof IncomingMessage) || !(outgoing instanceof ServerResponse)) return handler(request);
      // Offer the handler native streaming: an event stream comes back as a body-less Response
      // that is written here straight to the socket (see NodeSseSink), and JSON bodies are read
      // from the IncomingMessage without a web Request behind them.
      (request as { [NATIVE_SSE_HOST]?: NodeSseHost })[NATIVE_SSE_HOST] = new NodeSseHost(incoming, outgoing);
      const response = handler(request);
      return isPromise(response) ? response.then((r) => sendNative(r, outgoing, request)) : sendNative(response, outgoing, request);
    },
    {
      overrideGlobalObjects: options.overrideGlobalObjects ?? true,
      errorHandler: (error) => {
        if (error instanceof Error && error.name === "RequestError") {
          return errorResponse(HTTP_ERRORS.invalidEnvelope, "The request URL or headers are malformed.");
        }
        logger.error({ err: error }, "the fetch handler threw");
        return errorResponse(HTTP_ERRORS.internalError, "The server failed to handle this request. See the server logs for details.");
      },
    },
  );
  return (req, res) => listener(req, res);
}

/**
 * The same function as {@link createCopilotNodeHandler}, under its older name.
 *
 * @deprecated Use `createCopilotNodeHandler` (CopilotKit deprecated this name too).
 * @example
 * ```ts
 * createServer(createNodeFetchHandler(createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" }))).listen(3001);
 * ```
 */
export const createNodeFetchHandler: typeof createCopilotNodeHandler = createCopilotNodeHandler;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === "function";
}

/** `@hono/node-server` leaves a response with this header alone: it was written already. */
let alreadySent: Response | undefined;

/** Streams a native event-stream response itself; anything else goes back to the listener. */
function sendNative(response: Response, res: ServerResponse, request: Request): Response {
  const stream = nativeSseStream(response);
  if (stream === undefined) return response;
  // The same header block @hono/node-server would write for these headers: lower-case names
  // in Headers order (sorted).
  const headers: OutgoingHttpHeaders = {};
  for (const name of Object.keys(stream.headers).sort()) headers[name] = stream.headers[name];
  new NodeSseSink(res, stream).start(200, headers);
  releaseCachedHeaders(request);
  alreadySent ??= new Response(null, { headers: { "x-hono-already-sent": "true" } });
  return alreadySent;
}

/** `@hono/node-server`'s request caches its `Headers` under a private symbol; found once. */
let headersCacheKey: symbol | null | undefined;

/**
 * `@hono/node-server`'s request stays reachable for as long as the response is open (its
 * `close` listener holds it), and with it the `Headers` built when the handler read them: a
 * `Headers`, its list, map and entries, ~0.7 KB per open stream. Once the stream is handed to
 * the sink they are dropped; the request's getter builds them again from the `IncomingMessage`
 * if anything asks later, so nothing changes for a reader.
 */
function releaseCachedHeaders(request: Request): void {
  if (headersCacheKey === undefined) {
    headersCacheKey = Object.getOwnPropertySymbols(request).find((key) => key.description === "headersKey") ?? null;
  }
  if (headersCacheKey === null) return;
  const cached = request as unknown as Record<symbol, unknown>;
  if (cached[headersCacheKey] !== undefined) cached[headersCacheKey] = undefined;
}

export interface CopilotNodeListenerOptions extends CopilotRuntimeHandlerOptions, CopilotNodeHandlerOptions {}

/**
 * A `node:http` listener serving the runtime under `basePath`, with no framework at all.
 * CORS is off unless `cors` is set (same-origin apps need none).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { CopilotRuntime } from "copilot-runtime";
 * import { createCopilotNodeListener } from "copilot-runtime/node";
 *
 * const runtime = new CopilotRuntime({ agents: { default: myAgent } });
 * createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", cors: true })).listen(3001);
 * ```
 */
export function createCopilotNodeListener(options: CopilotNodeListenerOptions): CopilotNodeListener {
  const { overrideGlobalObjects, ...handlerOptions } = options;
  return createCopilotNodeHandler(createCopilotRuntimeHandler(handlerOptions), { overrideGlobalObjects });
}

export { installProcessGuard } from "./process-guard.js";
export type { ProcessGuard } from "./process-guard.js";
