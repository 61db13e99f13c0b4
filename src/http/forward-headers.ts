/**
 * Which inbound headers reach agents (HttpAgent and friends use them for their outbound call).
 * Eligible: `authorization`, every `x-*` header and the names in `allow`; minus infrastructure
 * headers (proxies, CDNs, tracing) that would leak or confuse, unless `allow` names them.
 */
export interface ForwardHeadersPolicy {
  /** Apply the built-in infrastructure denylist. Default true. */
  useDefaultDenylist?: boolean;
  /** More header names never forwarded. */
  deny?: string[];
  /** More name prefixes never forwarded. */
  denyPrefixes?: string[];
  /** Header names forwarded even when not `x-*`, or when a denylist names them. */
  allow?: string[];
}

const DEFAULT_DENY = new Set([
  "x-real-ip",
  "x-amzn-trace-id",
  "x-amz-cf-id",
  "x-cloud-trace-context",
  "x-cache",
  "x-served-by",
  "x-request-id",
  "x-copilotcloud-public-api-key",
]);
const DEFAULT_DENY_PREFIXES = ["x-forwarded-", "x-amz-", "x-azure-", "x-fastly-", "x-vercel-", "x-middleware-", "x-copilotcloud-"];

/**
 * Where request headers come from: a `Headers`, or a host's own view of them (the Node adapter
 * reads the raw header list, so no `Headers` is built). Names may come in any case and may
 * repeat; repeated values are joined with `, ` as `Headers` does.
 */
export interface HeaderSource {
  forEach(callback: (value: string, name: string) => void): void;
}

export type HeaderSelector = (headers: HeaderSource) => Record<string, string>;

/** Builds the selector once, outside the request path. */
export function createHeaderSelector(policy: ForwardHeadersPolicy = {}): HeaderSelector {
  const useDefaults = policy.useDefaultDenylist !== false;
  const deny = new Set([...(useDefaults ? DEFAULT_DENY : []), ...(policy.deny ?? []).map(lower)]);
  const denyPrefixes = [...(useDefaults ? DEFAULT_DENY_PREFIXES : []), ...(policy.denyPrefixes ?? []).map(lower)];
  const allow = new Set((policy.allow ?? []).map(lower));
  if (useDefaults) deny.add("x-forwarded-for");

  return (headers) => {
    const out: Record<string, string> = {};
    headers.forEach((value, rawName) => {
      const name = lower(rawName);
      if (!allow.has(name)) {
        if (name !== "authorization" && !name.startsWith("x-")) return;
        if (deny.has(name) || denyPrefixes.some((prefix) => name.startsWith(prefix))) return;
      }
      const previous = out[name];
      out[name] = previous === undefined ? value : `${previous}, ${value}`;
    });
    return out;
  };
}

/** Forwarded headers under the agent's own: a server-configured header wins, whatever its case. */
export function mergeAgentHeaders(forwarded: Record<string, string>, configured: Record<string, string> | undefined): Record<string, string> {
  if (configured === undefined || Object.keys(configured).length === 0) return forwarded;
  const merged: Record<string, string> = {};
  const configuredNames = new Set(Object.keys(configured).map(lower));
  for (const [name, value] of Object.entries(forwarded)) if (!configuredNames.has(name)) merged[name] = value;
  return Object.assign(merged, configured);
}

function lower(name: string): string {
  return name.toLowerCase();
}
