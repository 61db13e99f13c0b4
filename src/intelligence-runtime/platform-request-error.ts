/**
 * Thrown by {@link CopilotKitIntelligence} when the Intelligence platform answers a REST call
 * with a non-2xx status (CopilotKit's `PlatformRequestError`): `status` lets callers branch on
 * 404 or 409 without parsing the message.
 *
 * @example
 * ```ts
 * try {
 *   await intelligence.getThread({ threadId, userId });
 * } catch (error) {
 *   if (error instanceof PlatformRequestError && error.status === 404) console.log("no such thread");
 * }
 * ```
 */
export class PlatformRequestError extends Error {
  constructor(
    message: string,
    /** The HTTP status the platform answered (or 502/504 for a lookup that never got one). */
    readonly status: number,
    /** Whether retrying may succeed without a configuration change (set by the entitlement lookup). */
    readonly retryable?: boolean,
  ) {
    super(message);
    this.name = "PlatformRequestError";
  }
}

/** The HTTP status an error carries: a {@link PlatformRequestError}'s, or any error's numeric `status`. */
export function platformErrorStatus(error: unknown): number | undefined {
  if (error instanceof PlatformRequestError) return error.status;
  if (error !== null && typeof error === "object" && typeof (error as { status?: unknown }).status === "number") {
    return (error as { status: number }).status;
  }
  return undefined;
}
