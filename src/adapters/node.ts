import type { IncomingMessage, ServerResponse } from "node:http";
import { createCopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../http/handler.js";
import { jsonError } from "../http/errors.js";
import { logger } from "../logger.js";
import { toWebRequest } from "./node-request.js";
import { sendWebResponse } from "./node-response.js";

/** A `node:http` request listener: `createServer(listener)`. */
export type CopilotNodeListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Serves any fetch handler (`(Request) => Promise<Response>`) from `node:http`: the request
 * is converted once (streaming body, a signal that aborts when the client leaves) and the
 * response streamed back honouring backpressure, with event-stream headers flushed at once.
 * A handler that throws gets a 500 JSON answer, never a stack trace.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" });
 * createServer(createCopilotNodeHandler(handler)).listen(3001);
 * ```
 */
export function createCopilotNodeHandler(handler: (request: Request) => Response | Promise<Response>): CopilotNodeListener {
  return async function copilotNodeListener(req, res) {
    let request: Request;
    try {
      request = toWebRequest(req, res);
    } catch {
      // Only a Host header that cannot form a URL gets here.
      return sendWebResponse(res, jsonError(400, "invalid_request", "The request URL or headers are malformed."));
    }
    let response: Response;
    try {
      response = await handler(request);
    } catch (error) {
      logger.error("the fetch handler threw", error);
      response = jsonError(500, "internal_error", "The server failed to handle this request. See the server logs for details.");
    }
    await sendWebResponse(res, response);
  };
}

export type CopilotNodeListenerOptions = CopilotRuntimeHandlerOptions;

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
  return createCopilotNodeHandler(createCopilotRuntimeHandler(options));
}
