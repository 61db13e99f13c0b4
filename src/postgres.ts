/**
 * `copilot-runtime/postgres`: threads in PostgreSQL, for several processes or hosts. Needs `pg`
 * (an optional peer dependency): importing this entry without it throws a `MissingDependencyError`
 * naming the package.
 */
export { PostgresAgentRunner } from "./runners/postgres.js";
export type { PostgresAgentRunnerOptions } from "./runners/postgres.js";
export { DurableAgentRunner } from "./runners/durable/durable-runner.js";
export type { DurableRunnerOptions, RetentionOptions } from "./runners/durable/durable-runner.js";
export { MissingDependencyError } from "./optional-dependency.js";
