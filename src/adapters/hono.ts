import { Hono } from "hono";
import { HTTP_ERRORS, errorResponse } from "../errors.js";
import type { CopilotRuntimeHandlerOptions } from "../http/handler.js";
import type { CopilotCorsConfig } from "../http/cors.js";
import { normalizeBasePath } from "../http/router.js";
import type { CopilotRuntime } from "../runtime.js";
import { type CopilotEndpointCorsConfig, toFetchCorsConfig } from "./hono-cors.js";
import { createMountedHandlers } from "./mount.js";

export { toFetchCorsConfig, type CopilotEndpointCorsConfig };

/** CopilotKit's name for what `createCopilotHonoHandler` returns: a Hono app. */
export type CopilotHonoApp = Hono;

export interface CopilotEndpointOptions extends Omit<CopilotRuntimeHandlerOptions, "cors" | "mode" | "basePath"> {
  runtime: CopilotRuntime;
  /** The full path the endpoint answers under, e.g. `/api/copilotkit`. */
  basePath: string;
  /**
   * `"multi-route"` (default): every route under `basePath` plus the single-route envelope at
   * `POST basePath`; `"single-route"`: the envelope only.
   */
  mode?: "multi-route" | "single-route";
  /**
   * CORS, permissive (`*`, no credentials) unless set; `false` turns it off. Takes the fetch
   * handler's config or CopilotKit's Hono one (`{ origin, credentials }`, see `toFetchCorsConfig`).
   */
  cors?: boolean | CopilotCorsConfig | CopilotEndpointCorsConfig;
}

/**
 * A Hono app serving every route under `basePath` (and the single-route envelope at
 * `POST basePath`), or with `mode: "single-route"` the envelope only. CORS defaults to
 * permissive, as in CopilotKit. Mount it inside a larger app with `app.route(prefix, endpoint)`:
 * it then answers at `prefix + basePath`, and leaves every other path to the parent app.
 *
 * @example
 * ```ts
 * import { serve } from "@hono/node-server";
 * import { CopilotRuntime, createCopilotHonoHandler } from "copilot-runtime";
 *
 * const app = createCopilotHonoHandler({ runtime: new CopilotRuntime({ agents }), basePath: "/api/copilotkit" });
 * serve({ fetch: app.fetch, port: 3001 });
 * ```
 */
export function createCopilotHonoHandler(options: CopilotEndpointOptions): Hono {
  return honoApp(options, options.mode ?? "multi-route");
}

/**
 * The same function as {@link createCopilotHonoHandler}, under its older name.
 *
 * @deprecated Use `createCopilotHonoHandler` (CopilotKit deprecated this name too).
 * @example
 * ```ts
 * serve({ fetch: createCopilotEndpoint({ runtime, basePath: "/api/copilotkit" }).fetch, port: 3001 });
 * ```
 */
export const createCopilotEndpoint: (options: CopilotEndpointOptions) => Hono = createCopilotHonoHandler;

/**
 * A Hono app serving only the single-route envelope at `POST basePath`.
 *
 * @example
 * ```ts
 * serve({ fetch: createCopilotEndpointSingleRoute({ runtime, basePath: "/api/copilotkit" }).fetch });
 * ```
 */
export function createCopilotEndpointSingleRoute(options: CopilotEndpointOptions): Hono {
  return honoApp(options, "single-route");
}

function honoApp(options: CopilotEndpointOptions, mode: "multi-route" | "single-route"): Hono {
  const basePath = normalizeBasePath(options.basePath);
  // CopilotKit's origin function takes (origin, context); ours is called with the origin alone,
  // which is what CopilotKit's own conversion passes it too.
  const cors = (options.cors ?? true) as boolean | CopilotCorsConfig;
  const handlerFor = createMountedHandlers({ ...options, basePath, mode, cors });
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
