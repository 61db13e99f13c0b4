/**
 * The generative-UI options of `CopilotRuntime` (`a2ui`, `openGenerativeUI`, `mcpApps`), in
 * CopilotKit 1.75's shapes. The types are declared here rather than imported from the middleware
 * packages: those are optional peers, and the public types must not need them installed.
 */

/** Which agents a middleware applies to. */
export interface GenerativeUiTargets {
  /** Only these agent ids get the middleware; every agent does when omitted. */
  agents?: string[];
}

/** An A2UI v0.9 inline catalog: component schemas keyed by component name. */
export interface A2UIInlineCatalogSchema {
  catalogId: string;
  components: Record<string, Record<string, unknown>>;
}

/** The legacy `{ name, props }` component schema `@ag-ui/a2ui-middleware` still accepts. */
export interface A2UIComponentSchema {
  name: string;
  description?: string;
  props?: Record<string, unknown>;
  slots?: string[];
}

/**
 * `a2ui`: runs `A2UIMiddleware` (from `@ag-ui/a2ui-middleware`) on the targeted agents. Every
 * field but `agents` and `enabled` is handed to the middleware as it is.
 */
export interface A2UIOptions extends GenerativeUiTargets {
  /** `false` turns A2UI off while keeping the rest of the config; `{}` alone is on. */
  enabled?: boolean;
  /** The components agents may use, sent to them as context. */
  schema?: A2UIInlineCatalogSchema | A2UIComponentSchema[];
  /** How the client shows building, retrying and failed surfaces. */
  recovery?: {
    debugExposure?: "hidden" | "collapsed" | "verbose";
    showProgressTokens?: boolean;
    maxAttempts?: number;
  };
  /** Adds a `render_a2ui` tool (or one with this name) to the agent's tools. */
  injectA2UITool?: boolean | string;
  /** Tool calls whose streamed arguments are rendered as surfaces. Default `["render_a2ui"]`. */
  a2uiToolNames?: string[];
  /** The catalog a streamed surface is created with. */
  defaultCatalogId?: string;
}

/** `openGenerativeUI`: `true` for every agent, or `{ agents }` to target some. */
export type OpenGenerativeUIOptions = GenerativeUiTargets;
export type OpenGenerativeUIConfig = boolean | OpenGenerativeUIOptions;

/** One MCP server whose UI tools (MCP Apps) are offered to agents. */
export interface McpAppsServerConfig {
  type: "http" | "sse";
  url: string;
  /** Sent with every request to the server, e.g. `Authorization`. */
  headers?: Record<string, string>;
  /** A stable name the frontend can address the server by. */
  serverId?: string;
  /** Only this agent gets the server; every agent does when omitted. */
  agentId?: string;
}

/** `mcpApps`: runs `MCPAppsMiddleware` (from `@ag-ui/mcp-apps-middleware`) with these servers. */
export interface McpAppsConfig {
  servers: McpAppsServerConfig[];
}

/**
 * Whether A2UI is on for a runtime's `a2ui` option: any object is on unless it says
 * `enabled: false`. `/info`'s `a2uiEnabled` and the run path both ask this, so the client mounts
 * the A2UI renderer exactly when runs carry A2UI.
 *
 * @example
 * ```ts
 * isA2UIEnabled(undefined); // false
 * isA2UIEnabled({}); // true
 * isA2UIEnabled({ enabled: false, schema }); // false
 * ```
 */
export function isA2UIEnabled(a2ui: A2UIOptions | undefined): a2ui is A2UIOptions {
  return !!a2ui && a2ui.enabled !== false;
}

/** True when a middleware scoped by `targets` applies to `agentId`. */
export function targetsAgent(targets: string[] | undefined, agentId: string): boolean {
  return targets === undefined || targets.includes(agentId);
}
