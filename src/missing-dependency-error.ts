// Apart from the loader (optional-dependency.ts, which needs node:module) so that the main entry can
// export the class for `instanceof` checks around `await import("copilot-runtime/sqlite")`.

/** What needs a package, and the install command to print when it is missing. */
export interface OptionalDependency {
  /** The package to load, e.g. `"better-sqlite3"` or `"@modelcontextprotocol/sdk/client/index.js"`. */
  specifier: string;
  /** The package name an install command takes, e.g. `"@modelcontextprotocol/sdk"`. */
  packageName: string;
  /** The range the command installs, e.g. `"12"`. */
  version: string;
  /** Who needs it, for the message: `"SqliteAgentRunner"`, `"BuiltInAgent with mcpServers"`. */
  neededBy: string;
}

/**
 * Thrown when an optional peer dependency is not installed. `code` is stable; `packageName`
 * and `installCommand` say what to do.
 *
 * @example
 * ```ts
 * try {
 *   await import("copilot-runtime/sqlite");
 * } catch (error) {
 *   if (error.code === "ERR_COPILOT_RUNTIME_MISSING_DEPENDENCY") console.error(error.installCommand);
 * }
 * ```
 */
export class MissingDependencyError extends Error {
  readonly code = "ERR_COPILOT_RUNTIME_MISSING_DEPENDENCY";
  readonly packageName: string;
  readonly installCommand: string;

  constructor(dependency: OptionalDependency, cause?: unknown) {
    const installCommand = `npm install ${dependency.packageName}@${dependency.version}`;
    super(
      `${dependency.neededBy} needs ${dependency.packageName}, which is not installed: ${installCommand}` +
        ` (it is an optional peer dependency of copilot-runtime).`,
      { cause },
    );
    this.name = "MissingDependencyError";
    this.packageName = dependency.packageName;
    this.installCommand = installCommand;
  }
}
