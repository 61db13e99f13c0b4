import { Hono } from "hono";
import { createCopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../http/handler.js";
import type { CopilotCorsConfig } from "../http/cors.js";
import type { CopilotRuntime } from "../runtime.js";

export interface CopilotEndpointOptions extends Omit<CopilotRuntimeHandlerOptions, "cors" | "mode" | "basePath"> {
  runtime: CopilotRuntime;
  /** The full path the endpoint answers under, e.g. `/api/copilotkit`. */
  basePath: string;
  /** CORS, permissive (`*`, no credentials) unless set; `false` turns it off. */
  cors?: boolean | CopilotCorsConfig;
}

/**
 * A Hono app serving every route under `basePath` (and the single-route envelope at
 * `POST basePath`). CORS defaults to permissive, as in CopilotKit.
 *
 * @example
 * ```ts
 * import { serve } from "@hono/node-server";
 * serve({ fetch: createCopilotEndpoint({ runtime, basePath: "/api/copilotkit" }).fetch, port: 3001 });
 * ```
 */
export function createCopilotEndpoint(options: CopilotEndpointOptions): Hono {
  return honoApp(createCopilotRuntimeHandler({ ...options, cors: options.cors ?? true, mode: "multi-route" }));
}

/** A Hono app serving only the single-route envelope at `POST basePath`. */
export function createCopilotEndpointSingleRoute(options: CopilotEndpointOptions): Hono {
  return honoApp(createCopilotRuntimeHandler({ ...options, cors: options.cors ?? true, mode: "single-route" }));
}

function honoApp(handler: (request: Request) => Promise<Response>): Hono {
  const app = new Hono();
  app.all("*", (c) => handler(c.req.raw));
  return app;
}
