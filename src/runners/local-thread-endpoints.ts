import type { AgentRunner } from "./agent-runner.js";

/** A runner that serves the thread routes (`GET /threads`, a thread's messages, events and state). */
export type LocalThreadEndpointRunner = AgentRunner & Required<Pick<AgentRunner, "listThreads" | "getThreadMessages">>;

/**
 * True when `runner` serves the thread list and inspection routes from its own store (what
 * `/info` advertises as `threadEndpoints.list` and `.inspect`, outside single-route mode).
 * CopilotKit's runners say so with the `ɵsupportsLocalThreadEndpoints` flag, which is honoured
 * both ways; this package's runners (in-memory, SQLite, PostgreSQL) say so by implementing
 * `listThreads` and `getThreadMessages`.
 *
 * @example
 * ```ts
 * supportsLocalThreadEndpoints(new InMemoryAgentRunner()); // true
 * ```
 */
export function supportsLocalThreadEndpoints(runner: AgentRunner): runner is LocalThreadEndpointRunner {
  const flag = (runner as { ɵsupportsLocalThreadEndpoints?: unknown }).ɵsupportsLocalThreadEndpoints;
  if (flag !== undefined) return flag === true;
  return typeof runner.listThreads === "function" && typeof runner.getThreadMessages === "function";
}
