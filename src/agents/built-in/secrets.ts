import type { LanguageModelObject, MCPServerConfig } from "./types.js";

// Header values shorter than this are flags or versions ("1", "2023-06-01"), not credentials.
const MIN_HEADER_SECRET = 8;
// Headers every request carries that describe the client, not who it is.
const PUBLIC_HEADERS = new Set(["user-agent", "accept", "content-type", "anthropic-version", "anthropic-beta"]);

/**
 * Every credential an agent is configured with, so that logs, the model and the client never see
 * one, whatever its shape: the provider key (given, from the environment, or inside a model object's
 * request headers), and the header values, URL passwords and query values of every MCP server.
 *
 * @example
 * ```ts
 * const secrets = configuredSecrets({ apiKey, model, mcpServers });
 * redactSecrets(text, secrets);
 * ```
 */
export function configuredSecrets(sources: {
  apiKeys?: ReadonlyArray<string | undefined>;
  model?: unknown;
  mcpServers?: readonly MCPServerConfig[];
  /** Request headers forwarded from the caller (its own token, for instance). */
  headers?: Record<string, string>;
}): string[] {
  const secrets = new Set<string>();
  for (const key of sources.apiKeys ?? []) {
    if (key?.trim()) secrets.add(key.trim());
  }
  if (sources.model && typeof sources.model === "object") {
    addHeaders(secrets, modelHeaders(sources.model as LanguageModelObject));
  }
  addHeaders(secrets, sources.headers);
  for (const server of sources.mcpServers ?? []) {
    addHeaders(secrets, server.headers);
    addUrlSecrets(secrets, server.url);
  }
  return [...secrets];
}

function addHeaders(secrets: Set<string>, headers: Record<string, unknown> | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!PUBLIC_HEADERS.has(name.toLowerCase())) addHeaderValue(secrets, value);
  }
}

function addHeaderValue(secrets: Set<string>, value: unknown): void {
  if (typeof value !== "string") return;
  const trimmed = value.trim();
  if (trimmed.length < MIN_HEADER_SECRET) return;
  secrets.add(trimmed);
  // "Bearer <token>", "Basic <credentials>": the token alone may be echoed too.
  const scheme = /^[A-Za-z][A-Za-z0-9_-]*\s+(\S+)$/.exec(trimmed);
  if (scheme && scheme[1].length >= MIN_HEADER_SECRET) secrets.add(scheme[1]);
}

function addUrlSecrets(secrets: Set<string>, raw: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return;
  }
  if (url.password) secrets.add(decodeURIComponent(url.password));
  for (const value of url.searchParams.values()) {
    if (value.length >= MIN_HEADER_SECRET) secrets.add(value);
  }
}

/**
 * The request headers of a model built by an AI SDK provider (`createOpenAI`, `createAnthropic`,
 * `createGoogleGenerativeAI`, and the OpenAI-compatible ones keep them in `config.headers`), which
 * hold its key. Best effort: other model objects simply contribute nothing.
 */
function modelHeaders(model: LanguageModelObject): Record<string, unknown> | undefined {
  try {
    const config = (model as unknown as { config?: { headers?: unknown } }).config;
    const headers = typeof config?.headers === "function" ? (config.headers as () => unknown)() : config?.headers;
    if (!headers || typeof headers !== "object" || headers instanceof Promise) return undefined;
    return headers as Record<string, unknown>;
  } catch {
    return undefined; // a provider whose headers need something we do not have (e.g. a missing env key)
  }
}
