import { withHeaders } from "./sse.js";

export interface CopilotCorsConfig {
  /** Allowed origins: `"*"`, one origin, a list, or a function returning the origin to allow. Default `"*"`. */
  origin?: string | string[] | ((origin: string) => string | null | undefined);
  /** Send `Access-Control-Allow-Credentials: true`. Needs explicit origins. Default false. */
  credentials?: boolean;
  allowMethods?: string[];
  /** Default: echo the headers the browser asks for (a literal `*` is ignored on credentialed requests). */
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
}

export interface Cors {
  /** The answer to a preflight `OPTIONS`, or undefined when the request is not one. */
  preflight(request: Request): Response | undefined;
  /** Adds the CORS headers for this request's origin to a response. */
  apply(request: Request, response: Response): Response;
}

const DEFAULT_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];
const DEFAULT_EXPOSE = ["Content-Type"];

/**
 * CORS resolved once from its options. With `credentials: true` the origin must be explicit:
 * a wildcard would mean reflecting every origin with the user's cookies, so it is refused at
 * start-up instead of silently allowed.
 *
 * @example
 * ```ts
 * createCopilotRuntimeHandler({ runtime, cors: { origin: ["https://app.example.com"], credentials: true } });
 * ```
 */
export function createCors(option: boolean | CopilotCorsConfig | undefined): Cors | undefined {
  if (option === undefined || option === false) return undefined;
  const config: CopilotCorsConfig = option === true ? {} : option;
  const origin = config.origin ?? "*";
  const credentials = config.credentials === true;
  if (credentials && (origin === "*" || (Array.isArray(origin) && origin.includes("*")))) {
    throw new TypeError(
      "cors: `credentials: true` needs explicit origins (a string, a list or a function); `*` with credentials would let any site act with your users' cookies.",
    );
  }
  const methods = (config.allowMethods ?? DEFAULT_METHODS).join(", ");
  const allowHeaders = config.allowHeaders?.join(", ");
  const exposeHeaders = (config.exposeHeaders ?? DEFAULT_EXPOSE).join(", ");
  const maxAge = config.maxAge === undefined ? undefined : String(config.maxAge);
  const wildcard = origin === "*";

  const allowedOrigin = (requestOrigin: string | null): string | undefined => {
    if (wildcard) return "*";
    if (requestOrigin === null) return undefined;
    if (typeof origin === "string") return origin === requestOrigin ? origin : undefined;
    if (Array.isArray(origin)) return origin.includes(requestOrigin) ? requestOrigin : undefined;
    return origin(requestOrigin) ?? undefined;
  };

  /** `Vary` (unless the wildcard) and, for an allowed origin, the allow headers; false when it is not allowed. */
  const originHeaders = (request: Request, out: [string, string][]): boolean => {
    // The wildcard answers every origin alike: the request's headers are not read for it.
    const allowed = wildcard ? "*" : allowedOrigin(request.headers.get("origin"));
    if (!wildcard) out.push(["vary", "Origin"]);
    if (allowed === undefined) return false;
    out.push(["access-control-allow-origin", allowed]);
    if (credentials) out.push(["access-control-allow-credentials", "true"]);
    return true;
  };

  return {
    preflight(request) {
      if (request.method !== "OPTIONS") return undefined;
      const headers: [string, string][] = [];
      if (originHeaders(request, headers)) {
        headers.push(["access-control-allow-methods", methods]);
        const requested = request.headers.get("access-control-request-headers");
        const allowed = allowHeaders ?? requested;
        if (allowed) headers.push(["access-control-allow-headers", allowed]);
        if (allowHeaders === undefined) headers.push(["vary", "Access-Control-Request-Headers"]);
        if (maxAge !== undefined) headers.push(["access-control-max-age", maxAge]);
      }
      return new Response(null, { status: 204, headers });
    },
    apply(request, response) {
      const headers: [string, string][] = [];
      if (originHeaders(request, headers)) headers.push(["access-control-expose-headers", exposeHeaders]);
      return headers.length === 0 ? response : withHeaders(response, headers);
    },
  };
}
