/**
 * `serve --intelligence`: what the self-hosted Intelligence platform runs with (API keys, token
 * secret, browser origins, lock and token lifetimes), decided from the flags, the environment and
 * the config file's `intelligence` section, and the checks that keep it from colliding with the
 * runtime on the shared port. Nothing here opens a store or a socket (see intelligence-server.ts).
 */
import { parseApiKey } from "../intelligence/api-keys.js";
import type { IntelligenceStore } from "../intelligence/store/types.js";
import type { CopilotRuntimeIntelligenceConfig } from "./define-config.js";
import { CliStartupError } from "./errors.js";

/** `beside`: the platform on the runtime's port; `only`: the platform alone, no runtime. */
export type IntelligenceMode = "beside" | "only";

/** The environment variable of the accepted API keys (comma-separated). */
export const API_KEYS_VARIABLE = "COPILOT_INTELLIGENCE_API_KEYS";
/** The environment variable of the join token HMAC key. */
export const TOKEN_SECRET_VARIABLE = "COPILOT_INTELLIGENCE_TOKEN_SECRET";


/** What the platform is started with. */
export interface IntelligenceSettings {
  mode: IntelligenceMode;
  apiKeys: string[];
  /** Where the keys came from, for the start-up line. */
  apiKeysFrom: typeof API_KEYS_VARIABLE | "config";
  tokenSecret?: string;
  clientOrigins?: string[];
  /** The config file's own store; undefined: the store the storage flags choose. */
  store?: IntelligenceStore;
  lockTtlSeconds?: { default?: number; max?: number };
  tokenTtlMs?: { thread?: number; userMeta?: number };
  /** The runtime on this port uses the platform in process (`intelligence.runtime: true`). */
  inProcessRuntime?: { publicWsUrl?: string };
}

/**
 * The path prefixes the platform answers on the shared port: its REST API (the runtime's
 * `apiUrl` + `/api/...`) and the two Phoenix sockets (`wsUrl` + `/runner`, `/client`). Only
 * these go to the platform, so the runtime keeps `/api/copilotkit` (the default basePath)
 * and everything else under `/api`.
 */
export const PLATFORM_PATH_PREFIXES = ["/api/threads", "/api/entitlements", "/api/inspector", "/api/_inspect", "/runner", "/client"] as const;

/**
 * True when `path` (without its query) belongs to the platform.
 *
 * @example
 * ```ts
 * isPlatformPath("/api/threads/t1/lock"); // true
 * isPlatformPath("/api/copilotkit/info"); // false
 * ```
 */
export function isPlatformPath(path: string): boolean {
  return PLATFORM_PATH_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/**
 * Decides whether and how the platform runs. Flags win (`--intelligence`, `--intelligence-only`),
 * then the config file's `intelligence` section (present: on, unless `mode: "off"`). Keys come
 * from `COPILOT_INTELLIGENCE_API_KEYS`, else `intelligence.apiKeys`; the secret from
 * `COPILOT_INTELLIGENCE_TOKEN_SECRET`, else `intelligence.tokenSecret` (the environment wins,
 * as `PORT` does over `port`). Throws a {@link CliStartupError} (exit 2) for anything to fix.
 *
 * @example
 * ```ts
 * resolveIntelligence("beside", undefined, { COPILOT_INTELLIGENCE_API_KEYS: "cpk-1_s3cret" }, "/api/copilotkit");
 * // { mode: "beside", apiKeys: ["cpk-1_s3cret"], apiKeysFrom: "COPILOT_INTELLIGENCE_API_KEYS" }
 * ```
 */
export function resolveIntelligence(
  flag: IntelligenceMode | undefined,
  section: CopilotRuntimeIntelligenceConfig | undefined,
  env: Record<string, string | undefined>,
  basePath: string,
): IntelligenceSettings | undefined {
  const configured = section === undefined ? undefined : (section.mode ?? "beside");
  const mode = flag ?? (configured === "off" ? undefined : configured);
  if (mode === undefined) return undefined;
  const asked = flag === "only" ? "--intelligence-only" : flag === "beside" ? "--intelligence" : "the config's intelligence section";

  const fromEnv = env[API_KEYS_VARIABLE]?.trim();
  const apiKeys = fromEnv ? splitKeys(fromEnv) : (section?.apiKeys ?? []);
  const source = fromEnv ? API_KEYS_VARIABLE : "intelligence.apiKeys";
  if (apiKeys.length === 0) {
    throw new CliStartupError(
      `${asked} needs at least one API key: set ${API_KEYS_VARIABLE}=cpk-<projectId>_<secret> (comma-separated for several projects), ` +
        `or intelligence.apiKeys in the config file. CopilotKit's runtime sends it as apiKey in new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey }).`,
    );
  }
  apiKeys.forEach((key, index) => {
    if (parseApiKey(key) === null) {
      throw new CliStartupError(`${source}: key ${index + 1} (${redactApiKey(key)}) must look like cpk-<projectId>_<secret>, projectId a positive whole number, e.g. cpk-1_${"x".repeat(8)}.`);
    }
  });

  if (section?.runtime === true && mode === "only") {
    throw new CliStartupError("--intelligence-only serves no runtime, but the config's intelligence.runtime: true asks for one on this platform: drop one of the two.");
  }
  if (mode === "beside") checkBasePath(basePath, asked);
  const secret = env[TOKEN_SECRET_VARIABLE]?.trim() || section?.tokenSecret;
  return {
    mode,
    apiKeys,
    apiKeysFrom: fromEnv ? API_KEYS_VARIABLE : "config",
    ...(secret ? { tokenSecret: secret } : {}),
    ...(section?.clientOrigins !== undefined ? { clientOrigins: section.clientOrigins } : {}),
    ...(section?.store !== undefined ? { store: section.store } : {}),
    ...(section?.lockTtlSeconds !== undefined ? { lockTtlSeconds: section.lockTtlSeconds } : {}),
    ...(section?.tokenTtlMs !== undefined ? { tokenTtlMs: section.tokenTtlMs } : {}),
    ...(section?.runtime === true ? { inProcessRuntime: section.publicWsUrl !== undefined ? { publicWsUrl: section.publicWsUrl } : {} } : {}),
  };
}

function splitKeys(raw: string): string[] {
  return raw
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "");
}

/**
 * Refuses a runtime basePath that shares a path with the platform: one of them would never see
 * its requests (`/`, `/api`, `/api/threads...`, `/runner`, `/client`).
 */
export function checkBasePath(basePath: string, asked = "--intelligence"): void {
  const base = basePath.replace(/\/+$/, "");
  const clash = base === "" ? PLATFORM_PATH_PREFIXES[0] : PLATFORM_PATH_PREFIXES.find((prefix) => base === prefix || base.startsWith(`${prefix}/`) || prefix.startsWith(`${base}/`));
  if (clash === undefined) return;
  throw new CliStartupError(
    `${asked}: the runtime's base path ${basePath === "" ? "/" : basePath} overlaps the Intelligence platform's ${clash} ` +
      `(the platform answers ${PLATFORM_PATH_PREFIXES.join(", ")} on the same port). ` +
      `Choose another --base-path (the default /api/copilotkit works), or serve the platform alone with --intelligence-only.`,
  );
}

/**
 * Where browsers reach the platform's `/client` socket when the runtime uses it in process:
 * `intelligence.publicWsUrl`, else this server's own address (which needs a known port).
 *
 * @example
 * ```ts
 * inProcessPublicWsUrl({}, "0.0.0.0", 3001); // "ws://localhost:3001"
 * ```
 */
export function inProcessPublicWsUrl(runtime: { publicWsUrl?: string }, host: string, port: number): string {
  if (runtime.publicWsUrl !== undefined) return runtime.publicWsUrl.replace(/\/$/, "");
  if (port === 0) {
    throw new CliStartupError(
      "intelligence.runtime: true with port 0: browsers must be told the platform's socket address before the port is chosen. " +
        'Set intelligence.publicWsUrl (e.g. "wss://app.example.com"), or a fixed --port.',
    );
  }
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `ws://${shown}:${port}`;
}

/**
 * The worker count with the platform on: one. Long-poll sessions (CopilotKit's runner on Node 20
 * uses long-poll) and the platform's live fan-out live in one process, so a second worker would
 * receive half of a session's polls and none of its messages. An explicit count above one is a
 * start-up error rather than a silent change.
 */
export function intelligenceWorkers(requested: number | undefined): { count: 1; line: string } {
  if (requested !== undefined && requested > 1) {
    throw new CliStartupError(
      `workers ${requested} (--workers or the config's workers) cannot serve the Intelligence platform: its Phoenix long-poll sessions (CopilotKit's runner uses long-poll on Node 20) ` +
        `and its live fan-out live in one process, so a poll landing on another worker would find no session. ` +
        `Use --workers 1 (the default with --intelligence), or run the platform as its own process (--intelligence-only) beside a multi-worker runtime.`,
    );
  }
  return { count: 1, line: "workers: 1 (the Intelligence platform keeps long-poll sessions and live fan-out in one process)" };
}

/**
 * A key for logs: the project shows, the secret does not.
 *
 * @example
 * ```ts
 * redactApiKey("cpk-7_supersecret"); // "cpk-7_***"
 * ```
 */
export function redactApiKey(key: string): string {
  const parsed = parseApiKey(key);
  return parsed === null ? "***" : `cpk-${parsed.projectId}_***`;
}

/**
 * The start-up lines that say how to point CopilotKit's runtime at the platform.
 *
 * @example
 * ```ts
 * intelligenceUrlLines("http://localhost:3001", settings);
 * // ["intelligence: ... new CopilotKitIntelligence({ apiUrl: \"http://localhost:3001\", wsUrl: \"ws://localhost:3001\", apiKey: \"cpk-1_***\" }) ..."]
 * ```
 */
export function intelligenceUrlLines(root: string, settings: IntelligenceSettings): string[] {
  const wsUrl = root.replace(/^http/, "ws");
  const projects = [...new Set(settings.apiKeys.map((key) => parseApiKey(key)!.projectId))];
  const key = redactApiKey(settings.apiKeys[0]);
  const from = settings.apiKeysFrom === "config" ? "intelligence.apiKeys" : settings.apiKeysFrom;
  return [
    `intelligence: platform on ${root} (REST ${root}/api/threads..., Phoenix sockets ${wsUrl}/runner and ${wsUrl}/client; ` +
      `${settings.apiKeys.length} API key${settings.apiKeys.length === 1 ? "" : "s"} from ${from}, project${projects.length === 1 ? "" : "s"} ${projects.join(", ")})`,
    `intelligence: point CopilotKit's runtime at it with new CopilotKitIntelligence({ apiUrl: "${root}", wsUrl: "${wsUrl}", apiKey: "${key}" })` +
      " (behind TLS: https:// and wss:// with your public host)",
  ];
}
