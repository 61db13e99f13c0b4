/**
 * Everything `copilot-runtime serve` decides before it listens: the config file, the agents, the
 * runtime and endpoint options, and the lines that tell the user what was chosen.
 */
import type { AgentLike } from "../events/agent-contract.js";
import { type CopilotServerLimits, DEFAULT_LISTEN_BACKLOG, resolveServerLimits } from "../adapters/node-server.js";
import { DEFAULT_STREAM_LIMITS } from "../http/stream-limits.js";
import type { CopilotRuntimeHandlerOptions, RequestLimits } from "../http/handler.js";
import type { CopilotRuntimeOptions } from "../runtime.js";
import { createSelectedAgent, missingApiKey, MODEL_VARIABLE, selectModel, selectTranscription } from "./agents.js";
import type { ServeArgs } from "./args.js";
import { findConfigFile, loadConfig, type LoadedConfig } from "./config.js";
import { CliStartupError } from "./errors.js";
import { type IntelligenceSettings, inProcessPublicWsUrl, resolveIntelligence } from "./intelligence.js";
import type { CliLogLevel, LogFormat } from "./log-output.js";

type Env = Record<string, string | undefined>;

/** What `serve` runs with. */
export interface ServeSetup {
  /** Settings from the config file for what no flag (or PORT/HOST) set; spread over the parsed arguments. */
  args: Partial<Pick<ServeArgs, "port" | "host" | "basePath">>;
  runtimeOptions: CopilotRuntimeOptions;
  endpointOptions: Pick<CopilotRuntimeHandlerOptions, "cors" | "maxBodyBytes" | "maxAudioBytes" | "heartbeatMs" | "limits" | "hooks">;
  /** The HTTP server's timeouts and listen backlog: flags, else the config file's `server`, else the defaults. */
  server: ServeServerSettings;
  /** Prometheus metrics: on (at the main port, or at `port`) or off. */
  metrics: ServeMetricsSettings;
  /** Log output: flags, else the config file's `log`, else pretty on a terminal and JSON otherwise, at `info`. */
  log: { format?: LogFormat; level: CliLogLevel };
  /** `--workers`, else the config file's `workers`; undefined: the default for the storage (see `decideWorkers`). */
  workers?: number;
  /** `--bus`, else the config file's `bus`; undefined: the store's own bus. */
  bus?: string;
  /** Lines to print before listening: config file, each agent, transcription. */
  lines: string[];
  /** A short form for the listening line, e.g. `agent "default": BuiltInAgent openai/gpt-4.1`. */
  agentSummary: string;
  /** The agent the start-up curl example runs: "default" when registered, else the first; none for a per-request factory. */
  tryAgentId?: string;
  /** The Intelligence platform to serve (`--intelligence`, `--intelligence-only`, the config's `intelligence`); undefined: none. */
  intelligence?: IntelligenceSettings;
}

/** Where `serve` answers `GET /metrics`. */
export interface ServeMetricsSettings {
  enabled: boolean;
  /** A port of its own (with `/healthz` and `/readyz`); undefined: the main port. */
  port?: number;
}

/** What `serve` applies to its `node:http` server. */
export interface ServeServerSettings extends Required<CopilotServerLimits> {
  backlog: number;
}

/**
 * Loads the config file (from `--config` or the working directory), else picks the agent from the
 * environment, and enables `/transcribe` when `OPENAI_API_KEY` is set and the config does not decide.
 * Throws a {@link CliStartupError} for anything the user must fix.
 *
 * @example
 * ```ts
 * const setup = await prepareServe(parseArgs(process.argv.slice(2)), process.env, process.cwd());
 * const runtime = new CopilotRuntime(setup.runtimeOptions);
 * ```
 */
export async function prepareServe(args: ServeArgs, env: Env, cwd: string): Promise<ServeSetup> {
  const lines: string[] = [];
  const path = findConfigFile(cwd, args.configPath);
  const config: LoadedConfig | undefined = path ? await loadConfig(path, env) : undefined;
  if (config) lines.push(`config: ${config.path}${config.loadedWith === "typescript" ? " (transpiled with typescript)" : ""}`);

  const configMode = config?.intelligence === undefined ? undefined : (config.intelligence.mode ?? "beside");
  // The platform alone: no runtime, so no agents to choose (nor keys to demand for them).
  const platformOnly = (args.intelligence ?? configMode) === "only";

  let agents: CopilotRuntimeOptions["agents"];
  let agentSummary: string;
  let tryAgentId: string | undefined = "default";
  if (platformOnly) {
    agents = {};
    agentSummary = "Intelligence platform only, no runtime";
    tryAgentId = undefined;
    lines.push(`runtime: off (${args.intelligence === "only" ? "--intelligence-only" : 'the config\'s intelligence.mode "only"'}): the Intelligence platform alone`);
  } else if (config?.agents !== undefined) {
    agents = config.agents;
    if (typeof config.agents === "function") {
      lines.push("agents: chosen per request by the config's agents function");
      agentSummary = "agents: per request";
      tryAgentId = undefined;
    } else {
      const entries = Object.entries(config.agents);
      tryAgentId = entries.some(([id]) => id === "default") ? "default" : entries[0]?.[0];
      for (const [id, agent] of entries) {
        // The same check as for the agent chosen from the environment: a missing key stops the start.
        const missing = missingApiKey(agent, env);
        if (missing) {
          throw new CliStartupError(
            `Config ${config.path}: agent "${id}" (BuiltInAgent, model ${missing.model}) needs an API key for "${missing.provider}": ` +
              `set ${missing.keys.join(" or ")}, or pass apiKey to the BuiltInAgent.`,
          );
        }
        lines.push(`agent "${id}": ${describeAgent(agent)}`);
      }
      agentSummary = entries.length === 1 ? `agent "${entries[0][0]}": ${describeAgent(entries[0][1])}` : `agents: ${entries.map(([id]) => id).join(", ")}`;
    }
    if (env[MODEL_VARIABLE]?.trim()) lines.push(`${MODEL_VARIABLE} ignored: the config file registers the agents`);
  } else {
    const selected = await createSelectedAgent(selectModel(env));
    agents = { default: selected.agent };
    lines.push(`agent "default": ${selected.description}`);
    agentSummary = `agent "default": ${describeAgent(selected.agent)}`;
  }

  const { transcriptionService: configuredTranscription, ...runtime } = config?.runtime ?? {};
  let transcriptionService;
  if (platformOnly) {
    // no runtime, no /transcribe
  } else if (configuredTranscription === false) {
    lines.push("transcription: off (the config file sets transcriptionService: false)");
  } else if (configuredTranscription !== undefined) {
    transcriptionService = configuredTranscription;
    lines.push(`transcription: /transcribe on (${nameOf(configuredTranscription)} from the config file)`);
  } else {
    const selected = selectTranscription(env);
    transcriptionService = selected.service;
    lines.push(`transcription: ${selected.description}`);
  }
  if (runtime.runner) lines.push(`runner: ${nameOf(runtime.runner)} from the config file`);

  const given = new Set(args.given ?? []);
  const overrides: ServeSetup["args"] = {};
  if (config?.port !== undefined && !given.has("port")) overrides.port = config.port;
  if (config?.host !== undefined && !given.has("host")) overrides.host = config.host;
  if (config?.basePath !== undefined && !given.has("basePath")) overrides.basePath = config.basePath;

  const server = serverSettings(args, config);
  const { limits: configLimits, ...endpoint } = config?.endpoint ?? {};
  // A flag wins over the file for its own limit; the file's other limits stay.
  const limits: RequestLimits | undefined =
    args.limits !== undefined && Object.keys(args.limits).length > 0 ? { ...configLimits, ...args.limits } : configLimits;
  lines.push(describeLimits(server, limits));
  const metrics = metricsSettings(args, config);
  const intelligence = resolveIntelligence(args.intelligence, config?.intelligence, env, overrides.basePath ?? args.basePath);
  if (intelligence?.inProcessRuntime !== undefined) {
    // Decided now, as the runtime is built before the server listens.
    const publicWsUrl = inProcessPublicWsUrl(intelligence.inProcessRuntime, overrides.host ?? args.host, overrides.port ?? args.port);
    intelligence.inProcessRuntime = { publicWsUrl };
    lines.push(`runtime: Intelligence mode on this process's own platform, in process (intelligence.runtime: true); browsers open ${publicWsUrl}/client`);
  }

  return {
    args: overrides,
    runtimeOptions: { ...runtime, agents, transcriptionService },
    endpointOptions: { ...(config?.cors !== undefined ? { cors: config.cors } : {}), ...endpoint, ...(limits !== undefined ? { limits } : {}) },
    server,
    metrics,
    log: { format: args.log?.format ?? config?.log?.format, level: args.log?.level ?? config?.log?.level ?? "info" },
    workers: args.workers ?? config?.workers,
    bus: args.bus ?? config?.bus,
    lines,
    agentSummary,
    tryAgentId,
    ...(intelligence !== undefined ? { intelligence } : {}),
  };
}

/** The smallest valid RunAgentInput: one user message on a new thread. */
const TRY_INPUT = {
  threadId: "try-thread",
  runId: "try-run",
  state: {},
  messages: [{ id: "try-message", role: "user", content: "Hello!" }],
  tools: [],
  context: [],
  forwardedProps: {},
};

/**
 * The line after "listening": a curl that runs an agent (its events stream back as SSE), and where
 * the example chat app is.
 *
 * @example
 * ```ts
 * nextStepsLine("http://localhost:3001/api/copilotkit", "default");
 * // "next steps: try curl -N -X POST http://localhost:3001/api/copilotkit/agent/default/run -H 'content-type: application/json' -d '{...}'; ..."
 * ```
 */
export function nextStepsLine(url: string, agentId: string | undefined): string {
  const app = "a chat UI against this server: examples/chat (how to run it: examples/chat/README.md)";
  if (agentId === undefined) return `next steps: ${app}`;
  // The body goes between single quotes in a shell: an id with a quote in it gets the shell's '\'' escape.
  const body = JSON.stringify(TRY_INPUT).replace(/'/g, "'\\''");
  const endpoint = `${url}/agent/${encodeURIComponent(agentId)}/run`;
  return `next steps: try curl -N -X POST ${endpoint} -H 'content-type: application/json' -d '${body}'; ${app}`;
}

/** `--no-metrics` / `--metrics-port`, else the config file's `metrics`, else on at the main port. */
function metricsSettings(args: ServeArgs, config: LoadedConfig | undefined): ServeMetricsSettings {
  if (args.metrics !== undefined) return args.metrics;
  const configured = config?.metrics;
  if (configured === false) return { enabled: false };
  if (typeof configured === "object" && configured.port !== undefined) return { enabled: true, port: configured.port };
  return { enabled: true };
}

function serverSettings(args: ServeArgs, config: LoadedConfig | undefined): ServeServerSettings {
  const { backlog: flagBacklog, ...flagLimits } = args.server ?? {};
  const { backlog: configBacklog, ...configLimits } = config?.server ?? {};
  try {
    return { ...resolveServerLimits({ ...configLimits, ...flagLimits }), backlog: flagBacklog ?? configBacklog ?? DEFAULT_LISTEN_BACKLOG };
  } catch (error) {
    throw new CliStartupError(`Server limits: ${(error as Error).message} (--headers-timeout, --request-timeout or the config's server).`);
  }
}

function describeLimits(server: ServeServerSettings, limits: RequestLimits | undefined): string {
  const time = (ms: number) => (ms === 0 ? "off" : `${ms / 1000} s`);
  const count = (n: number) => (n === 0 ? "no limit" : String(n));
  const streams = `${count(limits?.maxStreams ?? DEFAULT_STREAM_LIMITS.maxStreams)} open, ${count(limits?.maxStreamsPerUser ?? DEFAULT_STREAM_LIMITS.maxStreamsPerUser)} per user`;
  return (
    `limits: headers ${time(server.headersTimeoutMs)}, request ${time(server.requestTimeoutMs)}, keep-alive ${time(server.keepAliveTimeoutMs)}, ` +
    `backlog ${server.backlog}; event streams ${streams}`
  );
}

/**
 * One line about an agent: its class, and its model (BuiltInAgent) or URL (HttpAgent), without
 * credentials.
 */
export function describeAgent(agent: AgentLike): string {
  const model = (agent as { configuration?: { model?: unknown } }).configuration?.model;
  if (model !== undefined) return `${nameOf(agent, "BuiltInAgent")}, model ${typeof model === "string" ? model : describeModelObject(model)}`;
  const url = (agent as { url?: unknown }).url;
  if (typeof url === "string") return `${nameOf(agent, "HttpAgent")} -> ${withoutCredentials(url)}`;
  return nameOf(agent, "agent");
}

/** The class name, or `fallback` when there is none or a minifier shortened it (`@ag-ui/client`'s HttpAgent is `Vt`). */
function nameOf(value: object, fallback = "object"): string {
  const name: unknown = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === "string" && name.length > 3 && name !== "Object" ? name : fallback;
}

function describeModelObject(model: unknown): string {
  const { provider, modelId } = (model ?? {}) as { provider?: unknown; modelId?: unknown };
  return typeof modelId === "string" ? `${typeof provider === "string" ? `${provider} ` : ""}${modelId}` : "(model object)";
}

function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    url.search = url.search ? "?..." : "";
    return url.toString();
  } catch {
    return raw;
  }
}
