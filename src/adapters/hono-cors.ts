import type { CopilotCorsConfig } from "../http/cors.js";

/**
 * CopilotKit's Hono CORS option: origins, and whether credentials are allowed. Its origin
 * function takes Hono's context as a second argument, which the fetch handler does not have.
 */
export interface CopilotEndpointCorsConfig {
  /** An exact origin, a list of them, or a function returning the origin to allow (or null). */
  origin: string | string[] | ((origin: string, c: any) => string | undefined | null);
  /** `Access-Control-Allow-Credentials: true`; needs explicit origins. */
  credentials?: boolean;
}

/**
 * Turns the Hono endpoint's CORS option into the fetch handler's: the same origin (a function
 * is called with the request's origin and no context, and its `undefined` becomes `null`) and
 * the same `credentials`. Nothing else is set, so methods and headers keep their defaults.
 *
 * @example
 * ```ts
 * const handler = createCopilotRuntimeHandler({
 *   runtime,
 *   cors: toFetchCorsConfig({ origin: ["https://app.example.com"], credentials: true }),
 * });
 * ```
 */
export function toFetchCorsConfig(config: CopilotEndpointCorsConfig): CopilotCorsConfig {
  if (config === null || typeof config !== "object") {
    throw new TypeError("toFetchCorsConfig: expected a CORS config object like { origin, credentials }.");
  }
  const origin = config.origin;
  return {
    origin: typeof origin === "function" ? (requestOrigin: string) => origin(requestOrigin, undefined) ?? null : origin,
    credentials: config.credentials,
  };
}
