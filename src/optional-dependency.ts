/**
 * Loading the optional peer dependencies (`better-sqlite3`, `pg`, `ai`, `@ai-sdk/*`,
 * `@modelcontextprotocol/sdk`) so that an app without one gets a sentence naming the package
 * and the command that installs it, not Node's bare "Cannot find module".
 *
 * A static `import` of a missing package fails while Node links the module graph, before any
 * of our code runs, so it cannot be caught; a top-level `await import()` could be, but would
 * stop `require("copilot-runtime/...")` (Node refuses to require modules with top-level await).
 * `require` through `createRequire` is synchronous and catchable. Every package loaded here
 * ships a CommonJS build (the native and `pg` ones are CommonJS only), and resolution starts
 * from our own file, as an `import` from it would.
 *
 * Only the subpath entries that need these packages import this module: it uses `node:module`.
 */
import { createRequire } from "node:module";
import { MissingDependencyError, type OptionalDependency } from "./missing-dependency-error.js";

export { MissingDependencyError, type OptionalDependency };

const requireFromHere = createRequire(import.meta.url);

/**
 * Loads an optional peer dependency synchronously, or throws a {@link MissingDependencyError}.
 * Any other failure (a native module built for another Node version, a bug in the package) is
 * rethrown as it is: only a missing package gets the install hint.
 *
 * @example
 * ```ts
 * const Database = requireOptional<typeof import("better-sqlite3")>({
 *   specifier: "better-sqlite3", packageName: "better-sqlite3", version: "12", neededBy: "SqliteAgentRunner",
 * });
 * ```
 */
export function requireOptional<T>(dependency: OptionalDependency): T {
  try {
    return requireFromHere(dependency.specifier) as T;
  } catch (error) {
    if (isMissing(error, dependency)) throw new MissingDependencyError(dependency, error);
    throw error;
  }
}

/** The package itself is missing (not one of its own dependencies, which is a broken install). */
function isMissing(error: unknown, dependency: OptionalDependency): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== "MODULE_NOT_FOUND" && code !== "ERR_MODULE_NOT_FOUND") return false;
  const quoted = [dependency.specifier, dependency.packageName].map((name) => `'${name}'`);
  const firstLine = error.message.split("\n", 1)[0];
  return quoted.some((name) => firstLine.includes(name));
}
