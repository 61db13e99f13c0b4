import type { ServerResponse } from "node:http";
import { HTTP_ERRORS, errorResponse } from "../errors.js";
import type { CopilotCorsConfig } from "../http/cors.js";
import type { CopilotRuntimeHandlerOptions } from "../http/handler.js";
import { HttpError } from "../http/errors.js";
import { resolveInputLimits } from "../events/input-limits.js";
import { normalizeBasePath } from "../http/router.js";
import { logger } from "../logger.js";
import type { CopilotRuntime } from "../runtime.js";
import { bodyFromParsedRequest, type ParsedRequest } from "./express-body.js";
import { createMountedHandlers } from "./mount.js";
import { type ExpressCorsOptions, toHandlerCors } from "./express-cors.js";

export type { ExpressCorsOptions };
import { checkOptions, loggerOf } from "../options/check-options.js";
import { EXPRESS_ENDPOINT_OPTIONS, EXPRESS_SINGLE_ROUTE_OPTIONS } from "../options/option-tables.js";
import { installNodeLoadProbe } from "./node-load.js";
import { toWebRequest } from "./node-request.js";
import { sendWebResponse } from "./node-response.js";

export interface CopilotExpressEndpointOptions extends Omit<CopilotRuntimeHandlerOptions, "cors" | "mode" | "basePath"> {
  runtime: CopilotRuntime;
  /** Where the endpoint answers, relative to where the middleware is mounted, e.g. `/api/copilotkit`. */
  basePath: string;
  /**
   * `"multi-route"` (default): every route under `basePath`, and the envelope at `POST basePath`.
   * `"single-route"`: only `POST` (and `OPTIONS`) at `basePath` itself, the envelope; every
   * other request goes on to `next()`, as with CopilotKit's Express router.
   */
  mode?: "multi-route" | "single-route";
  /**
   * CORS, permissive (`*`, no credentials) unless set, as in CopilotKit; `false` turns it off.
   * Takes the fetch handler's config or the `cors` package's options (as CopilotKit's does).
   */
  cors?: boolean | CopilotCorsConfig | ExpressCorsOptions;
}

/** The request Express hands a middleware (only the fields the endpoint reads). */
export type ExpressLikeRequest = ParsedRequest & { originalUrl?: string; baseUrl?: string };

/** An Express middleware: `app.use(endpoint)` or `app.use("/prefix", endpoint)`. */
export type CopilotExpressMiddleware = (req: ExpressLikeRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

/** CopilotKit's name for {@link CopilotExpressEndpointOptions}. */
export type CopilotExpressEndpointParams = CopilotExpressEndpointOptions;
/** CopilotKit's name for what the Express factories return (here a middleware, usable with `app.use`). */
export type CopilotExpressRouter = CopilotExpressMiddleware;

/**
 * Express middleware serving every route under `basePath` and the single-route envelope at
 * `POST basePath`; requests outside `basePath` go on to `next()`. It works with or without
 * `express.json()` (or any body parser) in front of it, streams events without buffering
 * (calling `compression`'s `flush()` when present) and aborts the request's signal when the
 * client goes away. `basePath` is relative to the mount point, so
 * `app.use("/api", createCopilotEndpointExpress({ runtime, basePath: "/copilotkit" }))`
 * answers at `/api/copilotkit`. Needs no Express import at runtime.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { CopilotRuntime } from "copilot-runtime";
 * import { createCopilotEndpointExpress } from "copilot-runtime/express";
 *
 * const app = express();
 * app.use(express.json()); // optional
 * app.use(createCopilotEndpointExpress({ runtime: new CopilotRuntime({ agents }), basePath: "/api/copilotkit" }));
 * app.listen(3001);
 * ```
 */
export function createCopilotEndpointExpress(options: CopilotExpressEndpointOptions): CopilotExpressMiddleware {
  checkOptions(EXPRESS_ENDPOINT_OPTIONS, options, "createCopilotExpressHandler()", loggerOf(options?.runtime));
  return expressMiddleware(options, options.mode ?? "multi-route");
}

/**
 * Express middleware serving only the single-route envelope at `POST basePath`.
 *
 * @example
 * ```ts
 * app.use(createCopilotEndpointSingleRouteExpress({ runtime, basePath: "/api/copilotkit" }));
 * ```
 */
export function createCopilotEndpointSingleRouteExpress(options: CopilotExpressEndpointOptions): CopilotExpressMiddleware {
  checkOptions(EXPRESS_SINGLE_ROUTE_OPTIONS, options, "createCopilotEndpointSingleRouteExpress()", loggerOf(options?.runtime));
  return expressMiddleware(options, "single-route");
}

/**
 * CopilotKit's newer name for the same middleware; `mode: "single-route"` serves only the envelope.
 *
 * @example
 * ```ts
 * app.use(createCopilotExpressHandler({ runtime, basePath: "/api/copilotkit", mode: "single-route" }));
 * ```
 */
export const createCopilotExpressHandler = createCopilotEndpointExpress;

function expressMiddleware(options: CopilotExpressEndpointOptions, mode: "multi-route" | "single-route"): CopilotExpressMiddleware {
  const basePath = normalizeBasePath(options.basePath);
  const handlerFor = createMountedHandlers({ ...options, basePath, mode, cors: toHandlerCors(options.cors) });
  installNodeLoadProbe();
  const maxJsonDepth = resolveInputLimits(options.limits).maxJsonDepth;

  const isOurs = mode === "single-route" ? isEnvelopeRequest : isUnder;
  return function copilotExpressEndpoint(req, res, next) {
    // `req.url` is relative to the mount point; the part under our basePath is ours.
    if (!isOurs(req.url ?? "/", basePath, req.method)) {
      next();
      return;
    }
    let request: Request;
    try {
      request = toWebRequest(req, res, { path: req.originalUrl ?? req.url, ...bodyFromParsedRequest(req, maxJsonDepth) });
    } catch (error) {
      if (error instanceof HttpError) {
        void sendWebResponse(res, error.toResponse());
        return;
      }
      void sendWebResponse(res, errorResponse(HTTP_ERRORS.invalidEnvelope, "The request URL or headers are malformed."));
      return;
    }
    handlerFor(normalizeBasePath(req.baseUrl))(request)
      .then((response) => sendWebResponse(res, response))
      .catch((error: unknown) => {
        logger.error({ err: error }, "the copilot endpoint failed");
        if (!res.headersSent) next(error);
        else res.destroy();
      });
  };
}

/** True when `url`'s path is `basePath` itself or below it (on a segment boundary). */
function isUnder(url: string, basePath: string): boolean {
  if (basePath === "") return true;
  if (!url.startsWith(basePath)) return false;
  const next = url.charCodeAt(basePath.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/**
 * Single-route mode: `POST` or `OPTIONS` at `basePath` itself (a trailing slash allowed), the
 * routes CopilotKit's single-route Express router declares.
 */
function isEnvelopeRequest(url: string, basePath: string, method: string | undefined): boolean {
  if (method !== "POST" && method !== "OPTIONS") return false;
  const query = url.indexOf("?");
  const path = (query === -1 ? url : url.slice(0, query)).replace(/\/+$/, "");
  return path === basePath;
}
