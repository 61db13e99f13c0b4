/**
 * Adds the generative-UI middlewares a runtime's options call for to one run's agent clone, the
 * way CopilotKit 1.75 does: `agent.use(...)`, A2UI first, then MCP Apps, then Open Generative UI
 * (the first added sees the agent's events last, so A2UI also renders what the others produce).
 * The registered agent is never touched.
 */
import type { AgentLike } from "../events/agent-contract.js";
import type { RunInput } from "../events/types.js";
import type { Logger } from "../logger.js";
import { MissingDependencyError } from "../missing-dependency-error.js";
import { A2UI_MIDDLEWARE, MCP_APPS_MIDDLEWARE, OPEN_GENERATIVE_UI_MIDDLEWARE, loadMiddlewareClass, type MiddlewareLike } from "./load-middleware.js";
import { isA2UIEnabled, targetsAgent, type A2UIOptions, type McpAppsConfig, type McpAppsServerConfig, type OpenGenerativeUIConfig } from "./options.js";

export interface GenerativeUiSettings {
  a2ui?: A2UIOptions;
  mcpApps?: McpAppsConfig;
  openGenerativeUI?: OpenGenerativeUIConfig;
}

type UsableAgent = AgentLike & { use(...middlewares: MiddlewareLike[]): unknown };

/**
 * The middlewares for this run, added to `agent`. Resolves once the packages they come from are
 * loaded; rejects with a `MissingDependencyError` when one is not installed.
 *
 * @example
 * ```ts
 * const agent = registered.clone();
 * await applyGenerativeUi({ a2ui: {}, openGenerativeUI: true }, agent, "default", input, log);
 * // agent.use(new A2UIMiddleware({}), new OpenGenerativeUIMiddleware()) has been called
 * ```
 */
export async function applyGenerativeUi(
  settings: GenerativeUiSettings,
  agent: AgentLike,
  agentId: string,
  input: RunInput,
  log: Logger,
): Promise<void> {
  const planned = plannedMiddlewares(settings, agentId, input);
  if (planned.length === 0) return;
  if (!canUse(agent)) {
    log.warn({ agentId }, `agent '${agentId}' has no use() method, so ${planned.map((p) => p.name).join(", ")} cannot be applied to it`);
    return;
  }
  const middlewares = await Promise.all(planned.map((p) => createOrSkip(p, agentId, log)));
  for (const middleware of middlewares) if (middleware !== undefined) agent.use(middleware);
}

interface PlannedMiddleware {
  name: string;
  create(): Promise<MiddlewareLike>;
  /** Asked for by the client alone (not by the runtime's options): skipped when its package is missing. */
  clientRequested?: boolean;
}

/**
 * A middleware the runtime's options ask for must load (a missing package fails the run, with the
 * install command). One only the client asked for (A2UI through `a2uiCatalogAvailable`) must not
 * make a server that never opted in fail every run of that client: without its package, the run
 * goes on without it.
 */
async function createOrSkip(planned: PlannedMiddleware, agentId: string, log: Logger): Promise<MiddlewareLike | undefined> {
  try {
    return await planned.create();
  } catch (error) {
    if (!planned.clientRequested || !(error instanceof MissingDependencyError)) throw error;
    log.warn({ agentId, packageName: error.packageName }, `the client asked for A2UI, but ${error.packageName} is not installed; the run goes on without it`);
    return undefined;
  }
}

function plannedMiddlewares(settings: GenerativeUiSettings, agentId: string, input: RunInput): PlannedMiddleware[] {
  const planned: PlannedMiddleware[] = [];
  const a2ui = a2uiConfigFor(settings.a2ui, agentId, input);
  if (a2ui !== undefined) {
    planned.push({
      name: "A2UIMiddleware",
      create: async () => new (await loadMiddlewareClass(A2UI_MIDDLEWARE, "A2UIMiddleware"))(a2ui),
      clientRequested: !isA2UIEnabled(settings.a2ui),
    });
  }
  const mcpServers = mcpAppsServersFor(settings.mcpApps, agentId);
  if (mcpServers.length > 0) {
    planned.push({
      name: "MCPAppsMiddleware",
      create: async () => new (await loadMiddlewareClass(MCP_APPS_MIDDLEWARE, "MCPAppsMiddleware"))({ mcpServers }),
    });
  }
  const openGenerativeUI = settings.openGenerativeUI;
  if (openGenerativeUI && targetsAgent(typeof openGenerativeUI === "object" ? openGenerativeUI.agents : undefined, agentId)) {
    planned.push({
      name: "OpenGenerativeUIMiddleware",
      create: async () => new (await loadMiddlewareClass(OPEN_GENERATIVE_UI_MIDDLEWARE, "OpenGenerativeUIMiddleware"))(),
    });
  }
  return planned;
}

/**
 * The A2UI middleware's config for this run, or undefined for none. As in CopilotKit, a client
 * that says it has an A2UI catalog (`forwardedProps.a2uiCatalogAvailable: true`) turns A2UI on
 * with the render tool injected, unless the runtime set `a2ui.enabled: false`.
 */
function a2uiConfigFor(a2ui: A2UIOptions | undefined, agentId: string, input: RunInput): Record<string, unknown> | undefined {
  const clientHasCatalog = (input.forwardedProps as { a2uiCatalogAvailable?: unknown } | undefined)?.a2uiCatalogAvailable === true;
  const enabledByCatalog = clientHasCatalog && a2ui?.enabled !== false;
  if (!isA2UIEnabled(a2ui) && !enabledByCatalog) return undefined;
  const { agents, enabled: _enabled, injectA2UITool, ...middlewareConfig } = a2ui ?? {};
  if (!targetsAgent(agents, agentId)) return undefined;
  return { ...middlewareConfig, injectA2UITool: injectA2UITool ?? (clientHasCatalog ? true : undefined) };
}

/** The servers bound to this agent (or to every agent), without the runtime-only `agentId`. */
function mcpAppsServersFor(mcpApps: McpAppsConfig | undefined, agentId: string): Omit<McpAppsServerConfig, "agentId">[] {
  if (mcpApps === undefined) return [];
  return mcpApps.servers
    .filter((server) => !server.agentId || server.agentId === agentId)
    .map(({ agentId: _agentId, ...server }) => server);
}

function canUse(agent: AgentLike): agent is UsableAgent {
  return typeof (agent as { use?: unknown }).use === "function";
}
