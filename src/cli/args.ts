import { parseArgs as parseArgsTokens, type ParseArgsConfig } from "node:util";
import { parseStorageFlag, STORAGE_HELP, type StorageArgs } from "../runners/select-runner.js";
import type { IntelligenceMode } from "./intelligence.js";
import { type CliLogLevel, type LogFormat, LOG_FORMATS, LOG_LEVELS } from "./log-output.js";

export interface ServeArgs {
  command: "serve" | "help" | "version";
  port: number;
  host: string;
  basePath: string;
  /** Where threads are kept: --db, --memory and the retention flags. */
  storage: StorageArgs;
  /** How long open runs may continue after SIGTERM/SIGINT before they are stopped. */
  shutdownTimeoutMs: number;
  /** `--config <path>`: the config file to load instead of looking for one in the working directory. */
  configPath?: string;
  /** The settings given by a flag or by PORT/HOST, which a config file does not override. */
  given?: Array<"port" | "host" | "basePath">;
  /** Server limits given by flags (the config file's `server` fills the rest, then the defaults). */
  server?: ServeServerArgs;
  /** Event-stream limits given by flags (the config file's `endpoint.limits` fills the rest, then the defaults). */
  limits?: ServeLimitArgs;
  /** `--no-metrics` (false) or `--metrics-port N`; unset: the config file's `metrics`, else on at the main port. */
  metrics?: { enabled: boolean; port?: number };
  /** `--log-format` and `--log-level`; unset: the config file's `log`, else pretty on a terminal (JSON otherwise) at `info`. */
  log?: { format?: LogFormat; level?: CliLogLevel };
  /** `--workers N`: HTTP worker processes on the one port; unset: the config file's `workers`, else one per core with a durable store. */
  workers?: number;
  /** `--bus redis://...`: the cross-instance live bus; unset: the config file's `bus`, else the store's own (see {@link ServeArgs.workers}). */
  bus?: string;
  /** `--intelligence` (the Intelligence platform beside the runtime) or `--intelligence-only` (the platform alone); unset: the config file's `intelligence`. */
  intelligence?: IntelligenceMode;
}

/** `--headers-timeout`, `--request-timeout`, `--keep-alive-timeout` (ms) and `--backlog`. */
export interface ServeServerArgs {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  backlog?: number;
}

/** `--max-streams` and `--max-streams-per-user`. */
export interface ServeLimitArgs {
  maxStreams?: number;
  maxStreamsPerUser?: number;
}

/** Parses `copilot-runtime serve --port N --host H --base-path P` (also `--flag=value`). */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeArgs {
  const args: ServeArgs = {
    command: "serve",
    port: env.PORT ? parsePort(env.PORT, "PORT") : 3001,
    host: env.HOST ?? "0.0.0.0",
    basePath: "/api/copilotkit",
    storage: {},
    shutdownTimeoutMs: 10_000,
    given: [...(env.PORT ? (["port"] as const) : []), ...(env.HOST ? (["host"] as const) : [])],
  };
  const rest = [...argv];
  if (rest[0] !== undefined && !rest[0].startsWith("-")) {
    const command = rest.shift()!;
    if (command === "serve" || command === "help" || command === "version") args.command = command;
    else throw new Error(`Unknown command '${command}'. Try: copilot-runtime serve --port 3001`);
  }
  for (const token of optionTokens(rest)) {
    const { flag } = token;
    if (token.error !== undefined) throw new Error(token.error);
    let used = false;
    const value = () => {
      used = true;
      if (token.inline) {
        if (token.value === "") throw new Error(`${flag} needs a value: ${flag}=<value> or ${flag} <value>`);
        return token.value!;
      }
      // `--port --host x` is a missing value, not the port "--host".
      if (token.value === undefined || token.value.startsWith("--")) throw new Error(`${flag} needs a value`);
      return token.value;
    };
    switch (flag) {
      case "--port":
      case "-p":
        args.port = parsePort(value(), flag);
        args.given!.push("port");
        break;
      case "--host":
        args.host = value();
        args.given!.push("host");
        break;
      case "--base-path":
        args.basePath = value();
        args.given!.push("basePath");
        break;
      case "--config":
      case "-c":
        args.configPath = value();
        break;
      case "--shutdown-timeout":
        args.shutdownTimeoutMs = parseWholeNumber(value(), flag, "milliseconds");
        break;
      case "--headers-timeout":
        (args.server ??= {}).headersTimeoutMs = parseWholeNumber(value(), flag, "milliseconds (0 turns it off)");
        break;
      case "--request-timeout":
        (args.server ??= {}).requestTimeoutMs = parseWholeNumber(value(), flag, "milliseconds (0 turns it off)");
        break;
      case "--keep-alive-timeout":
        (args.server ??= {}).keepAliveTimeoutMs = parseWholeNumber(value(), flag, "milliseconds (0 turns it off)");
        break;
      case "--backlog": {
        const backlog = parseWholeNumber(value(), flag, "connections");
        if (backlog < 1) throw new Error(`${flag} must be at least 1, got '${backlog}'`);
        (args.server ??= {}).backlog = backlog;
        break;
      }
      case "--max-streams":
        (args.limits ??= {}).maxStreams = parseWholeNumber(value(), flag, "streams (0 for no limit)");
        break;
      case "--max-streams-per-user":
        (args.limits ??= {}).maxStreamsPerUser = parseWholeNumber(value(), flag, "streams (0 for no limit)");
        break;
      case "--metrics-port":
        args.metrics = { enabled: true, port: parsePort(value(), flag) };
        break;
      case "--no-metrics":
        args.metrics = { enabled: false };
        break;
      case "--log-format":
        (args.log ??= {}).format = parseChoice(value(), flag, LOG_FORMATS);
        break;
      case "--log-level":
        (args.log ??= {}).level = parseChoice(value(), flag, LOG_LEVELS);
        break;
      case "--workers":
      case "-w": {
        const workers = parseWholeNumber(value(), flag, "processes");
        if (workers < 1) throw new Error(`${flag} must be at least 1, got '${workers}'`);
        args.workers = workers;
        break;
      }
      case "--bus":
        args.bus = parseBusUrl(value(), flag);
        break;
      case "--intelligence":
      case "--intelligence-only": {
        const mode = flag === "--intelligence" ? "beside" : "only";
        if (args.intelligence !== undefined && args.intelligence !== mode) {
          throw new Error("--intelligence and --intelligence-only cannot be combined: --intelligence serves the platform beside the runtime, --intelligence-only without it");
        }
        args.intelligence = mode;
        break;
      }
      case "--help":
      case "-h":
        args.command = "help";
        break;
      case "--version":
      case "-v":
        args.command = "version";
        break;
      default:
        if (parseStorageFlag(flag, value, args.storage)) break;
        throw new Error(`Unknown option '${flag}'. Try: copilot-runtime --help`);
    }
    if (token.inline && !used) throw new Error(`${flag} takes no value, got '${token.raw}'`);
  }
  return args;
}

/** Every flag and whether it takes a value (`string`) or not (`boolean`), as `node:util` parseArgs wants them. */
const OPTIONS = {
  port: { type: "string", short: "p" },
  host: { type: "string" },
  "base-path": { type: "string" },
  config: { type: "string", short: "c" },
  "shutdown-timeout": { type: "string" },
  "headers-timeout": { type: "string" },
  "request-timeout": { type: "string" },
  "keep-alive-timeout": { type: "string" },
  backlog: { type: "string" },
  "max-streams": { type: "string" },
  "max-streams-per-user": { type: "string" },
  "metrics-port": { type: "string" },
  "no-metrics": { type: "boolean" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  workers: { type: "string", short: "w" },
  bus: { type: "string" },
  intelligence: { type: "boolean" },
  "intelligence-only": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  // The storage flags (their values are checked by parseStorageFlag).
  db: { type: "string" },
  memory: { type: "boolean" },
  "retention-days": { type: "string" },
  "max-threads-per-user": { type: "string" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

interface OptionToken {
  /** As the user wrote it (`--port`, `-p`), for messages. */
  flag: string;
  /** The whole argument, e.g. `--memory=yes`. */
  raw: string;
  value?: string;
  /** `--flag=value` rather than `--flag value`. */
  inline: boolean;
  /** Set for an unknown flag or a stray argument; thrown when its turn comes, so earlier mistakes are reported first. */
  error?: string;
}

/**
 * The options in order, split by `node:util` parseArgs. Its own strict mode is not used: it rejects
 * `--headers-timeout -1` as ambiguous and words its errors for programmers, while this CLI's contract is
 * a message naming the flag and what it wants. So the same strictness is applied here over its tokens:
 * an unknown flag, a stray argument, a missing value or a value for a flag that takes none is an error,
 * the first one in the order given.
 */
function optionTokens(argv: string[]): OptionToken[] {
  const { tokens } = parseArgsTokens({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const options: OptionToken[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") {
      options.push({ flag: token.value, raw: token.value, inline: false, error: `Unexpected argument '${token.value}'. Try: copilot-runtime --help` });
      continue;
    }
    if (token.kind === "option-terminator") {
      options.push({ flag: "--", raw: "--", inline: false, error: "Unknown option '--'. Try: copilot-runtime --help" });
      continue;
    }
    const flag = token.rawName;
    if (!Object.hasOwn(OPTIONS, token.name)) {
      options.push({ flag, raw: flag, inline: false, error: `Unknown option '${flag}'. Try: copilot-runtime --help` });
      continue;
    }
    const raw = argv[token.index];
    // `-p=4000`, as before: parseArgs alone would read the value as "=4000".
    const value = !flag.startsWith("--") && token.inlineValue && raw.startsWith(`${flag}=`) ? raw.slice(flag.length + 1) : token.value;
    options.push({ flag, raw, value, inline: token.inlineValue === true });
  }
  return options;
}

function parsePort(raw: string, name: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new Error(`${name} must be a port number (0-65535), got '${raw}'`);
  return port;
}

function parseChoice<T extends string>(raw: string, name: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${choices.join(", ")}, got '${raw}'`);
  return raw as T;
}

/**
 * `--bus`: a `redis://`, `rediss://` or `nats://` URL (the buses besides the store's own).
 *
 * @example
 * ```ts
 * parseBusUrl("redis://127.0.0.1:6379", "--bus"); // "redis://127.0.0.1:6379"
 * ```
 */
export function parseBusUrl(raw: string, name: string): string {
  if (!/^(rediss?|nats):\/\/\S+$/i.test(raw)) throw new Error(`${name} must be a redis://, rediss:// or nats:// URL (the Redis or NATS live bus), got '${raw}'`);
  return raw;
}

/** Digits only: `1e3`, `0x10`, ` 5`, `-1` and `2.5` are mistakes, not numbers to guess at. */
function parseWholeNumber(raw: string, name: string, unit: string): number {
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be a whole number of ${unit}, got '${raw}'`);
  return n;
}

export const HELP = `copilot-runtime: a CopilotKit v2-compatible agent runtime

Usage:
  copilot-runtime serve [--port 3001] [--host 0.0.0.0] [--base-path /api/copilotkit]
                        [--shutdown-timeout 10000] [--config copilot-runtime.config.mjs]

Limits (flags win over the config file's server and endpoint.limits; times in ms, 0 = off):
  --headers-timeout 10000     time to receive a request's headers
  --request-timeout 30000     time to receive a whole request (headers and body); event
                              streams that follow are not cut by it
  --keep-alive-timeout 65000  how long an idle kept-alive connection stays open
  --backlog 4096              queue of connections waiting to be accepted (the kernel caps
                              it at net.core.somaxconn)
  --max-streams 10000         open event streams at once (run, connect, suggest); then 429
  --max-streams-per-user 64   the same per identifyUser id (anonymous callers: --max-streams only)

Operations:
  GET /healthz and GET /readyz on the main port (at the root, whatever --base-path is):
  liveness, and readiness (runner and database reachable; 503 once SIGTERM is received).
  GET /metrics: Prometheus metrics, on by default.
  --metrics-port 9464         serve /metrics (and /healthz, /readyz) on this port instead
  --no-metrics                no /metrics at all
  --log-format json|pretty    pino-compatible JSON lines on stdout (default when stdout is not
                              a terminal), or one human line each (default on a terminal)
  --log-level info            debug, info (default: an access line per request, run start and
                              end lines), warn, error or silent

Several processes (see README, "Running several instances"):
  --workers N, -w N           HTTP worker processes sharing the port (Node's cluster module).
                              Default: one per core with a SQLite file or PostgreSQL, 1 with
                              --memory (threads in memory cannot be shared: more is an error).
                              A crashed worker is restarted; SIGTERM/SIGINT drains them all.
  --bus redis://host:6379     wake-ups between instances over Redis pub/sub (ioredis), or
                              nats://host:4222 over NATS (nats), instead of
                              PostgreSQL LISTEN/NOTIFY (or, for SQLite, the workers' own channel);
                              the database stays the source of truth

Intelligence platform (self-hosted CopilotKit Intelligence; see README):
  --intelligence              also serve the platform on this port: REST /api/threads...,
                              /api/entitlements, Phoenix sockets /runner and /client
                              (WebSocket and long-poll). Point CopilotKit's runtime at it with
                              new CopilotKitIntelligence({ apiUrl: "http://host:3001",
                              wsUrl: "ws://host:3001", apiKey }). --base-path must not
                              overlap those paths (the default /api/copilotkit does not).
  --intelligence-only         the platform alone, no runtime
  Its threads go where the storage flags say (the same SQLite file, its own cpki_ tables;
  PostgreSQL; --memory: lost on restart). One worker: the runner's long-poll sessions
  live in the process that opened them, so --workers above 1 is refused (several
  instances: PostgreSQL and a balancer sticky on long-poll, see README).
  COPILOT_INTELLIGENCE_API_KEYS       accepted keys, cpk-<projectId>_<secret>, comma-separated
                                      (required; or intelligence.apiKeys in the config file)
  COPILOT_INTELLIGENCE_TOKEN_SECRET   HMAC key for browser join tokens; without it tokens
                                      die with the process (or intelligence.tokenSecret)

Agents:
  With a config file (--config, or copilot-runtime.config.{ts,mts,mjs,js,cjs} in the
  working directory), its agents and runtime options. Otherwise one agent, "default":
  a BuiltInAgent when a provider key is set (OPENAI_API_KEY -> openai/gpt-4.1,
  ANTHROPIC_API_KEY -> anthropic/claude-sonnet-4-5, GOOGLE_API_KEY or
  GOOGLE_GENERATIVE_AI_API_KEY -> google/gemini-2.5-flash), else the demo agent.

Environment:
  PORT, HOST            defaults for --port and --host
  COPILOT_RUNTIME_MODEL the model without a config file, e.g. openai/gpt-4o or
                        anthropic:claude-sonnet-4-5; "demo" for the demo agent
  OPENAI_API_KEY        also turns on /transcribe (OpenAI whisper-1)
  OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GOOGLE_GENERATIVE_AI_BASE_URL
                        other endpoints for the providers' APIs

${STORAGE_HELP}`;
