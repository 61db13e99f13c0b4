/**
 * `copilot-runtime/sqlite`: threads in a SQLite file. Needs `better-sqlite3` (an optional peer
 * dependency): importing this entry without it throws a `MissingDependencyError` naming the package.
 */
export { SqliteAgentRunner } from "./runners/sqlite.js";
export type { SqliteAgentRunnerOptions } from "./runners/sqlite.js";
export { DurableAgentRunner } from "./runners/durable/durable-runner.js";
export type { DurableRunnerOptions, RetentionOptions } from "./runners/durable/durable-runner.js";
export { MissingDependencyError } from "./optional-dependency.js";
