/** The stable failure codes of learned-skill delivery (CopilotKit 1.75). */
export type LearnedSkillsErrorCode =
  | "INVALID_CONFIG"
  | "AUTHENTICATION_FAILED"
  | "AUTHORIZATION_FAILED"
  | "ENTITLEMENT_REQUIRED"
  | "DELIVERY_DISABLED"
  | "CONTAINER_NOT_FOUND"
  | "REVISION_NOT_FOUND"
  | "REVISION_REVOKED"
  | "NETWORK_ERROR"
  | "TIMEOUT"
  | "INVALID_SNAPSHOT"
  | "UNSUPPORTED_SERVER";

const MESSAGES: Record<LearnedSkillsErrorCode, string> = {
  INVALID_CONFIG: "Invalid learned-skills request configuration.",
  AUTHENTICATION_FAILED: "Learned-skills authentication failed.",
  AUTHORIZATION_FAILED: "Learned-skills access was denied.",
  ENTITLEMENT_REQUIRED: "Learned-skills delivery requires an entitlement.",
  DELIVERY_DISABLED: "Learned-skills delivery is disabled.",
  CONTAINER_NOT_FOUND: "The learning container was not found.",
  REVISION_NOT_FOUND: "The learned-skills revision was not found.",
  REVISION_REVOKED: "The learned-skills revision was revoked.",
  NETWORK_ERROR: "The learned-skills request failed during transport.",
  TIMEOUT: "The learned-skills request timed out.",
  INVALID_SNAPSHOT: "The learned-skills response metadata is invalid.",
  UNSUPPORTED_SERVER: "The server returned an unsupported learned-skills response.",
};

/**
 * CopilotKit's learned-skills error: a stable `code`, whether a retry may help, and a safe
 * message (never the server's body). Exported for code that catches it; this package fetches no
 * learned skills (Learning Containers are not implemented).
 *
 * @example
 * ```ts
 * if (error instanceof LearnedSkillsError && error.retryable) scheduleRetry();
 * ```
 */
export class LearnedSkillsError extends Error {
  declare readonly cause?: unknown;

  constructor(
    readonly code: LearnedSkillsErrorCode,
    readonly retryable: boolean,
    cause?: unknown,
  ) {
    super(MESSAGES[code] ?? "Learned-skills request failed.");
    this.name = "LearnedSkillsError";
    // Kept for diagnostics, but out of JSON serialization.
    Object.defineProperty(this, "cause", { value: cause, configurable: true });
  }
}
