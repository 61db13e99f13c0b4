// The error type of BuiltInAgent, apart from the code that maps provider errors (which needs `ai`):
// the CLI parses model strings with it before deciding whether to load the AI SDK at all.

/**
 * Stable codes carried by the `RUN_ERROR` events of a BuiltInAgent.
 * Clients may branch on them; the message is for people.
 *
 * @example
 * ```ts
 * if (event.type === "RUN_ERROR" && event.code === ("rate_limited" satisfies BuiltInAgentErrorCode)) retryLater();
 * ```
 */
export type BuiltInAgentErrorCode =
  | "invalid_model"
  | "unknown_provider"
  | "missing_api_key"
  | "invalid_override"
  | "mcp_connection_failed"
  | "authentication_failed"
  | "rate_limited"
  | "invalid_request"
  | "provider_error"
  | "provider_unreachable"
  | "timeout"
  | "internal_error";

/**
 * An error whose message is safe to show to the client.
 *
 * @example
 * ```ts
 * throw new BuiltInAgentError("unknown_provider", 'Unknown model provider "foo".');
 * ```
 */
export class BuiltInAgentError extends Error {
  override readonly name = "BuiltInAgentError";
  constructor(
    readonly code: BuiltInAgentErrorCode,
    message: string,
    options?: { cause?: unknown; level?: LogLevel },
  ) {
    super(message, options);
    if (options?.level) this.level = options.level;
  }
  /** How loudly the runtime logs it; by default from the code (see `classifyRunError`). */
  readonly level?: LogLevel;
}

/** The level a BuiltInAgent failure is logged at: `warn` for the client's input, `error` otherwise. */
export type LogLevel = "warn" | "error";
