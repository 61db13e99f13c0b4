/**
 * Loads, when the runtime is built, the middleware packages its options will need, so a missing
 * one is in the log at start-up rather than first noticed as a failed run (which still answers
 * 500 `missing_dependency` with the install command).
 */
import type { Logger } from "../logger.js";
import { MissingDependencyError } from "../missing-dependency-error.js";
import type { GenerativeUiSettings } from "./apply.js";
import { A2UI_MIDDLEWARE, MCP_APPS_MIDDLEWARE, OPEN_GENERATIVE_UI_MIDDLEWARE, importOptional } from "./load-middleware.js";
import { isA2UIEnabled } from "./options.js";
import type { OptionalDependency } from "../missing-dependency-error.js";

/** The packages `settings` call for; loading starts now and never rejects (failures are logged). */
export function preloadGenerativeUi(settings: GenerativeUiSettings, log: Logger): void {
  const needed: OptionalDependency[] = [];
  if (isA2UIEnabled(settings.a2ui)) needed.push(A2UI_MIDDLEWARE);
  if (settings.mcpApps !== undefined && settings.mcpApps.servers.length > 0) needed.push(MCP_APPS_MIDDLEWARE);
  if (settings.openGenerativeUI) needed.push(OPEN_GENERATIVE_UI_MIDDLEWARE);
  for (const dependency of needed) {
    importOptional(dependency).catch((error: unknown) => {
      if (error instanceof MissingDependencyError) log.error({ packageName: error.packageName }, error.message);
      else log.error({ err: error }, `${dependency.packageName} failed to load; runs that need it will fail`);
    });
  }
}
