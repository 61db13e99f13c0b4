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

  const setOriginHeaders = (headers: Headers, request: Request): boolean => {
    // The wildcard answers every origin alike: the request's headers are not read for it.
    const allowed = wildcard ? "*" : allowedOrigin(request.headers.get("origin"));
    if (!wildcard) headers.append("Vary", "Origin");
    if (allowed === undefined) return false;
    headers.set("Access-Control-Allow-Origin", allowed);
    if (credentials) headers.set("Access-Control-Allow-Credentials", "true");
    return true;
  };

  return {
    preflight(request) {
      if (request.method !== "OPTIONS") return undefined;
      const headers = new Headers();
      if (setOriginHeaders(headers, request)) {
        headers.set("Access-Control-Allow-Methods", methods);
        const requested = request.headers.get("access-control-request-headers");
        const allowed = allowHeaders ?? requested;
        if (allowed) headers.set("Access-Control-Allow-Headers", allowed);
        if (allowHeaders === undefined) headers.append("Vary", "Access-Control-Request-Headers");
        if (maxAge !== undefined) headers.set("Access-Control-Max-Age", maxAge);
      }
      return new Response(null, { status: 204, headers });
    },
    apply(request, response) {
      const headers = new Headers();
      if (!setOriginHeaders(headers, request) && wildcard) return response;
      if (headers.has("Access-Control-Allow-Origin")) headers.set("Access-Control-Expose-Headers", exposeHeaders);
      return withHeaders(response, headers);
    },
  };
}

/** Adds headers to a response, copying it when its headers are immutable. */
export function withHeaders(response: Response, extra: Headers): Response {
  try {
    extra.forEach((value, name) => (name === "vary" ? response.headers.append(name, value) : response.headers.set(name, value)));
    return response;
  } catch {
    const headers = new Headers(response.headers);
    extra.forEach((value, name) => (name === "vary" ? headers.append(name, value) : headers.set(name, value)));
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}
