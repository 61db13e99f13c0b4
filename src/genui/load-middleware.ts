/**
 * Loading the generative-UI middlewares, which are optional peer dependencies: an app that sets
 * none of `a2ui`, `openGenerativeUI` and `mcpApps` never loads them (the MCP Apps one pulls in the
 * MCP SDK), and one that sets an option without installing the package gets a
 * `MissingDependencyError` naming the install command.
 *
 * The core stays web-standard, so this cannot use `createRequire` (see optional-dependency.ts);
 * it uses `import()` with the specifier in a variable. A literal would make bundlers (esbuild,
 * wrangler) pull the middlewares, and the MCP SDK behind them, into every worker bundle.
 */
import { MissingDependencyError, type OptionalDependency } from "../missing-dependency-error.js";

/** The structural shape of an AG-UI `Middleware` instance, whichever `@ag-ui/client` made it. */
export interface MiddlewareLike {
  run(input: unknown, next: unknown): unknown;
}

type MiddlewareClass<Config> = new (config?: Config) => MiddlewareLike;

export const A2UI_MIDDLEWARE: OptionalDependency = {
  specifier: "@ag-ui/a2ui-middleware",
  packageName: "@ag-ui/a2ui-middleware",
  version: "0.0.10",
  neededBy: "CopilotRuntime's `a2ui` option",
};

export const MCP_APPS_MIDDLEWARE: OptionalDependency = {
  specifier: "@ag-ui/mcp-apps-middleware",
  packageName: "@ag-ui/mcp-apps-middleware",
  version: "0.1",
  neededBy: "CopilotRuntime's `mcpApps` option",
};

/** CopilotKit publishes its Open Generative UI middleware only in `@copilotkit/shared`. */
export const OPEN_GENERATIVE_UI_MIDDLEWARE: OptionalDependency = {
  specifier: "@copilotkit/shared/event-transforms",
  packageName: "@copilotkit/shared",
  version: "1",
  neededBy: "CopilotRuntime's `openGenerativeUI` option",
};

const loaded = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports an optional package once per process. A missing package rejects with a
 * `MissingDependencyError` (and is tried again next time, so installing it and restarting is all
 * it takes); any other failure is rethrown as it is.
 */
export function importOptional(dependency: OptionalDependency): Promise<Record<string, unknown>> {
  let module = loaded.get(dependency.specifier);
  if (module === undefined) {
    const specifier = dependency.specifier;
    module = (import(/* @vite-ignore */ specifier) as Promise<Record<string, unknown>>).catch((error: unknown) => {
      loaded.delete(specifier);
      throw isMissingPackage(error, dependency) ? new MissingDependencyError(dependency, error) : error;
    });
    loaded.set(specifier, module);
  }
  return module;
}

/** One named export of an optional package that must be a class (a middleware constructor). */
export async function loadMiddlewareClass<Config>(dependency: OptionalDependency, exportName: string): Promise<MiddlewareClass<Config>> {
  const module = await importOptional(dependency);
  const value = module[exportName];
  if (typeof value !== "function") {
    throw new TypeError(`${dependency.packageName} does not export ${exportName}: install ${dependency.packageName}@${dependency.version}.`);
  }
  return value as MiddlewareClass<Config>;
}

/** The package itself is missing, not one of its own dependencies (a broken install says so as it is). */
function isMissingPackage(error: unknown, dependency: OptionalDependency): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  const firstLine = error.message.split("\n", 1)[0];
  return firstLine.includes(`'${dependency.packageName}'`) || firstLine.includes(`'${dependency.specifier}'`);
}
