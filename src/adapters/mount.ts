import { createCopilotRuntimeHandler, type CopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../http/handler.js";
import { normalizeBasePath } from "../http/router.js";
import { markOptionsChecked } from "../options/check-options.js";

/** Distinct mount points remembered before the cache starts over (route params can make many). */
const MAX_MOUNTS = 256;

/**
 * Fetch handlers keyed by the path a framework mounted the endpoint under. Frameworks that
 * mount sub-apps (`app.use("/api", router)`, `app.route("/api", honoApp)`) hand the core the
 * full URL, so the core's base path must be the mount prefix joined with the adapter's
 * `basePath`: the public URL is always `framework route + basePath`, wherever it is mounted.
 * A handler is built once per prefix; almost every app has exactly one.
 *
 * @example
 * ```ts
 * const handlerFor = createMountedHandlers({ runtime, basePath: "/copilotkit" });
 * const response = await handlerFor("/api")(request); // serves /api/copilotkit/...
 * ```
 */
export function createMountedHandlers(options: CopilotRuntimeHandlerOptions): (mountPrefix: string) => CopilotRuntimeHandler {
  const basePath = normalizeBasePath(options.basePath);
  const handlers = new Map<string, CopilotRuntimeHandler>();
  // Built now, so invalid options (e.g. credentials with a `*` origin) fail at start-up.
  // The adapter checked these options under its own name.
  handlers.set("", createCopilotRuntimeHandler(markOptionsChecked({ ...options, basePath })));
  return (mountPrefix) => {
    let handler = handlers.get(mountPrefix);
    if (handler === undefined) {
      if (handlers.size >= MAX_MOUNTS) handlers.clear();
      handler = createCopilotRuntimeHandler(markOptionsChecked({ ...options, basePath: joinPaths(mountPrefix, basePath) }));
      handlers.set(mountPrefix, handler);
    }
    return handler;
  };
}

/** Joins two normalised paths (`""` or `/a/b`, no trailing slash). */
export function joinPaths(prefix: string, path: string): string {
  const head = normalizeBasePath(prefix);
  return `${head}${path}`;
}
