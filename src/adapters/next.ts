import { createCopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../http/handler.js";
import { checkOptions, loggerOf, markOptionsChecked } from "../options/check-options.js";
import { NEXT_HANDLER_OPTIONS } from "../options/option-tables.js";

export interface CopilotNextHandlerOptions extends Omit<CopilotRuntimeHandlerOptions, "basePath"> {
  /**
   * The public path of the route folder, e.g. `/api/copilotkit` for
   * `app/api/copilotkit/[...slug]/route.ts` (include Next's own `basePath` if you set one:
   * the handler sees the full request URL).
   */
  basePath: string;
}

/** A Next.js App Router route handler (the second `{ params }` argument is not needed). */
export type NextRouteHandler = (request: Request) => Promise<Response>;

export interface CopilotNextHandlers {
  GET: NextRouteHandler;
  /** The GET answer's status and headers without its body. */
  HEAD: NextRouteHandler;
  POST: NextRouteHandler;
  PATCH: NextRouteHandler;
  DELETE: NextRouteHandler;
  OPTIONS: NextRouteHandler;
}

/**
 * The route handlers for a Next.js App Router catch-all route. The runtime routes on the full
 * request URL, so the slug is never read and a catch-all cannot lose part of the path.
 * Use `[...slug]` for the REST routes, or `[[...slug]]` to also answer the single-route
 * envelope at the bare `POST /api/copilotkit` (the auto-detect fallback). CORS is off by
 * default: the page and the route share an origin.
 *
 * @example
 * ```ts
 * // app/api/copilotkit/[...slug]/route.ts
 * import { CopilotRuntime } from "copilot-runtime";
 * import { createCopilotNextHandlers } from "copilot-runtime/next";
 *
 * const runtime = new CopilotRuntime({ agents: { default: myAgent } });
 * export const { GET, HEAD, POST, PATCH, DELETE, OPTIONS } = createCopilotNextHandlers({ runtime, basePath: "/api/copilotkit" });
 * ```
 */
export function createCopilotNextHandlers(options: CopilotNextHandlerOptions): CopilotNextHandlers {
  checkOptions(NEXT_HANDLER_OPTIONS, options, "createCopilotNextHandlers()", loggerOf(options?.runtime));
  const handler = createCopilotRuntimeHandler(markOptionsChecked({ ...options }));
  const route: NextRouteHandler = (request) => handler(request);
  return { GET: route, HEAD: route, POST: route, PATCH: route, DELETE: route, OPTIONS: route };
}
