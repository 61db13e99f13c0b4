import type { CopilotCorsConfig } from "../http/cors.js";

type OriginItem = string | RegExp;

/**
 * The options of the `cors` package, which CopilotKit's Express endpoint passes its `cors`
 * object to. Accepted by ours next to {@link CopilotCorsConfig}'s names, and translated.
 */
export interface ExpressCorsOptions {
  /** `true` reflects the request's origin, `false` sends no CORS headers; also a RegExp or a list. */
  origin?: boolean | OriginItem | OriginItem[] | ((origin: string) => string | null | undefined);
  credentials?: boolean;
  methods?: string | string[];
  allowedHeaders?: string | string[];
  exposedHeaders?: string | string[];
  maxAge?: number;
}

/**
 * The Express endpoint's `cors` option as the fetch handler's: our own names pass through, the
 * `cors` package's names (`methods`, `allowedHeaders`, `exposedHeaders`, comma-separated strings,
 * boolean and RegExp origins) are translated. Unset means permissive, as in CopilotKit.
 *
 * @example
 * ```ts
 * toHandlerCors({ origin: /\.example\.com$/, methods: "GET,POST", credentials: true });
 * ```
 */
export function toHandlerCors(cors: boolean | CopilotCorsConfig | ExpressCorsOptions | undefined): boolean | CopilotCorsConfig {
  if (cors === undefined) return true;
  if (typeof cors === "boolean") return cors;
  const given = cors as CopilotCorsConfig & ExpressCorsOptions;
  if (given.origin === false) return false;
  const config: CopilotCorsConfig = {};
  const origin = toOrigin(given.origin);
  if (origin !== undefined) config.origin = origin;
  if (given.credentials !== undefined) config.credentials = given.credentials;
  if (given.maxAge !== undefined) config.maxAge = given.maxAge;
  const allowMethods = given.allowMethods ?? list(given.methods);
  if (allowMethods !== undefined) config.allowMethods = allowMethods;
  const allowHeaders = given.allowHeaders ?? list(given.allowedHeaders);
  if (allowHeaders !== undefined) config.allowHeaders = allowHeaders;
  const exposeHeaders = given.exposeHeaders ?? list(given.exposedHeaders);
  if (exposeHeaders !== undefined) config.exposeHeaders = exposeHeaders;
  return config;
}

function list(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return (typeof value === "string" ? value.split(",") : value).map((item) => item.trim()).filter((item) => item !== "");
}

function toOrigin(origin: ExpressCorsOptions["origin"]): CopilotCorsConfig["origin"] {
  if (origin === undefined || typeof origin === "string") return origin;
  if (origin === true) return (requestOrigin) => requestOrigin;
  if (typeof origin === "function") {
    // The `cors` package's (origin, callback) form answers later; the handler needs the answer now.
    if (origin.length >= 2) throw new TypeError('createCopilotExpressHandler(): option "cors.origin" must return the origin to allow; the callback form (origin, callback) is not supported.');
    return origin;
  }
  const items = Array.isArray(origin) ? origin : [origin as OriginItem];
  if (items.every((item): item is string => typeof item === "string")) return items;
  return (requestOrigin) => (items.some((item) => (typeof item === "string" ? item === requestOrigin : item.test(requestOrigin))) ? requestOrigin : null);
}
