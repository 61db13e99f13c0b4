import { type Logger, logger } from "../../logger.js";
import type { LogLevel, RunFailure } from "./errors.js";

/** Who a log line is about. */
export interface RunIdentity {
  /** The agent's id in the runtime (its key in `agents`), when known. */
  agent?: string;
  threadId: string;
  runId: string;
  /** The AI SDK provider of the model, e.g. `openai.responses`, `anthropic.messages`. */
  provider?: string;
  /** Where the lines go: the request's logger (with its `requestId`) when the HTTP layer started the run. */
  log?: Logger;
}

const omitUndefined = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));

/**
 * Logs a failed run, once, through the runtime's logger: the client got only the code and a safe
 * message, so this line is where operators find the provider's status and text and the original
 * error (all redacted before they get here).
 *
 * @example
 * ```ts
 * logRunFailure({ agent: "default", threadId, runId, provider: "openai.responses" }, classifyRunError(error, secrets));
 * // warn|error "BuiltInAgent run failed: rate_limited" { agent, threadId, runId, provider, code, status, providerMessage }
 * ```
 */
export function logRunFailure(identity: RunIdentity, failure: RunFailure): void {
  const details = omitUndefined({
    agent: identity.agent,
    agentId: identity.agent,
    threadId: identity.threadId,
    runId: identity.runId,
    provider: identity.provider,
    code: failure.code,
    status: failure.status,
    message: failure.message,
    providerMessage: failure.providerMessage,
    cause: failure.cause,
  });
  safely(identity.log, failure.level, `BuiltInAgent run failed: ${failure.code}`, details);
}

/**
 * Logs a server or MCP tool call that failed. The run goes on (the model is told), so it is its own
 * line, at `error` for an exception and `warn` for arguments the model got wrong.
 */
export function logToolFailure(
  identity: RunIdentity,
  tool: { name: string; toolCallId: string; level: LogLevel; error: string },
): void {
  safely(identity.log, tool.level, `BuiltInAgent tool "${tool.name}" failed`, omitUndefined({ ...ids(identity), toolCallId: tool.toolCallId, error: tool.error }));
}

/** Logs an MCP server left out of a run because it could not be reached or listed. */
export function logMcpServerSkipped(identity: RunIdentity, server: { url: string; error: string }): void {
  safely(identity.log, "warn", "BuiltInAgent skipped an MCP server it could not use", omitUndefined({ ...ids(identity), mcpServer: server.url, error: server.error }));
}

/** The identity as fields: the agent under `agent` (as before) and `agentId`. */
function ids(identity: RunIdentity): Record<string, unknown> {
  const { log: _log, ...rest } = identity;
  return { ...rest, agentId: identity.agent };
}

// A logger that throws must not turn a reported failure into an unreported one.
function safely(log: Logger | undefined, level: LogLevel, message: string, details: Record<string, unknown>): void {
  try {
    (log ?? logger)[level](details, message);
  } catch {
    // nothing left to tell
  }
}
