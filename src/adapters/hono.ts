import { Hono } from "hono";
import { HTTP_ERRORS, errorResponse } from "../errors.js";
import type { CopilotRuntimeHandlerOptions } from "../http/handler.js";
import type { CopilotCorsConfig } from "../http/cors.js";
import { normalizeBasePath } from "../http/router.js";
import type { CopilotRuntime } from "../runtime.js";
import { createMountedHandlers } from "./mount.js";

export interface CopilotEndpointOptions extends Omit<CopilotRuntimeHandlerOptions, "cors" | "mode" | "basePath"> {
  runtime: CopilotRuntime;
  /** The full path the endpoint answers under, e.g. `/api/copilotkit`. */
  basePath: string;
  /** CORS, permissive (`*`, no credentials) unless set; `false` turns it off. */
  cors?: boolean | CopilotCorsConfig;
  /**
   * `"multi-route"` (default): every route under `basePath`, and the envelope at `POST basePath`.
   * `"single-route"`: the envelope only (`createCopilotEndpointSingleRoute` sets it).
   */
  mode?: "multi-route" | "single-route";
}

/**
 * A Hono app serving every route under `basePath` (and the single-route envelope at
 * `POST basePath`). CORS defaults to permissive, as in CopilotKit. Mount it inside a larger
 * app with `app.route(prefix, endpoint)`: it then answers at `prefix + basePath`, and
 * leaves every other path to the parent app.
 *
 * @example
 * ```ts
 * import { serve } from "@hono/node-server";
 * serve({ fetch: createCopilotEndpoint({ runtime, basePath: "/api/copilotkit" }).fetch, port: 3001 });
 * ```
 */
export function createCopilotEndpoint(options: CopilotEndpointOptions): Hono {
  return honoApp(options, options.mode ?? "multi-route");
}

/** A Hono app serving only the single-route envelope at `POST basePath`. */
export function createCopilotEndpointSingleRoute(options: CopilotEndpointOptions): Hono {
  return honoApp(options, "single-route");
}

function honoApp(options: CopilotEndpointOptions, mode: "multi-route" | "single-route"): Hono {
  const basePath = normalizeBasePath(options.basePath);
  const handlerFor = createMountedHandlers({ ...options, basePath, mode, cors: options.cors ?? true });
  const app = new Hono();
  // Only paths under basePath are ours (`/x/*` also matches `/x`); the rest of a larger app
  // keeps its own routes. Mounted with `parent.route("/api", app)`, the route becomes
  // `/api<basePath>/*`: the public URL is always framework route + basePath.
  app.all(`${basePath}/*`, (c) => handlerFor(mountPrefix(c.req.routePath, c.req.path, basePath))(c.req.raw));
  // Served on its own, other paths get the runtime's JSON 404; a parent app keeps its own 404.
  app.notFound((c) => errorResponse(HTTP_ERRORS.notFound, `No route for ${c.req.method} ${c.req.path}.`));
  return app;
}

/**
 * The prefix a parent app mounted us under: the matched route minus our own `<basePath>/*`.
 * A prefix with parameters (`/t/:tenant`) is read from the request path, segment for segment.
 */
function mountPrefix(routePath: string, path: string, basePath: string): string {
  const full = routePath.endsWith("/*") ? routePath.slice(0, -2) : routePath;
  const prefix = full.slice(0, full.length - basePath.length);
  if (prefix === "") return "";
  if (!prefix.includes(":") && !prefix.includes("*")) return prefix;
  const depth = prefix.split("/").length;
  return path.split("/").slice(0, depth).join("/");
}
