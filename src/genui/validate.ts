/**
 * Checks the generative-UI options when `CopilotRuntime` is constructed, so a wrong shape is a
 * `TypeError` at startup naming the field, not a failure on some later run. CopilotKit 1.75 only
 * notices MCP Apps tool policies (`includeTools`/`excludeTools`, which its middleware does not
 * support) on each run, as a 500; here they stop the server from starting.
 */
import type { A2UIOptions, McpAppsConfig, OpenGenerativeUIConfig } from "./options.js";

const UNSUPPORTED_MCP_APPS_KEYS = ["includeTools", "excludeTools"] as const;

function fail(message: string): never {
  throw new TypeError(`CopilotRuntime: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function checkTargets(value: unknown, field: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((id) => typeof id !== "string")) fail(`\`${field}\` must be an array of agent ids.`);
}

/** `a2ui`: an object (or, as CopilotKit tolerates, `true` for `{}`); falsy means off. */
export function normalizeA2UIOption(value: unknown): A2UIOptions | undefined {
  if (!value) return undefined;
  if (value === true) return {};
  if (!isRecord(value)) fail("`a2ui` must be an object such as `{}` or `{ agents: [\"default\"] }`.");
  checkTargets(value.agents, "a2ui.agents");
  if (value.enabled !== undefined && typeof value.enabled !== "boolean") fail("`a2ui.enabled` must be a boolean.");
  return value as A2UIOptions;
}

/** `openGenerativeUI`: a boolean or `{ agents }`. */
export function normalizeOpenGenerativeUIOption(value: unknown): OpenGenerativeUIConfig | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  if (!isRecord(value)) fail("`openGenerativeUI` must be `true` or an object such as `{ agents: [\"default\"] }`.");
  checkTargets(value.agents, "openGenerativeUI.agents");
  return value as OpenGenerativeUIConfig;
}

/** `mcpApps`: `{ servers: [{ type: "http" | "sse", url, headers?, serverId?, agentId? }] }`. */
export function normalizeMcpAppsOption(value: unknown): McpAppsConfig | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !Array.isArray(value.servers)) fail("`mcpApps` must be `{ servers: [...] }`.");
  value.servers.forEach((server: unknown, index: number) => {
    const field = `mcpApps.servers[${index}]`;
    if (!isRecord(server)) fail(`\`${field}\` must be an object.`);
    if (server.type !== "http" && server.type !== "sse") fail(`\`${field}.type\` must be "http" or "sse".`);
    if (typeof server.url !== "string" || server.url === "") fail(`\`${field}.url\` must be a URL.`);
    if (server.agentId !== undefined && typeof server.agentId !== "string") fail(`\`${field}.agentId\` must be an agent id.`);
    for (const key of UNSUPPORTED_MCP_APPS_KEYS) {
      if (server[key] !== undefined) {
        fail(`\`${field}.${key}\` is not supported: the MCP Apps middleware owns per-server tool policy (as in CopilotKit 1.75).`);
      }
    }
  });
  return value as unknown as McpAppsConfig;
}
