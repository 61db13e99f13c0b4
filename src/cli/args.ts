import { parseStorageFlag, STORAGE_HELP, type StorageArgs } from "../runners/select-runner.js";

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
  while (rest.length > 0) {
    const token = rest.shift()!;
    const [flag, inline] = token.includes("=") ? [token.slice(0, token.indexOf("=")), token.slice(token.indexOf("=") + 1)] : [token, undefined];
    const value = () => {
      const v = inline ?? rest.shift();
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
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
      case "--shutdown-timeout": {
        const ms = Number(value());
        if (!Number.isInteger(ms) || ms < 0) throw new Error(`${flag} must be a whole number of milliseconds`);
        args.shutdownTimeoutMs = ms;
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
  }
  return args;
}

function parsePort(raw: string, name: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number (0-65535), got '${raw}'`);
  return port;
}

export const HELP = `copilot-runtime: a CopilotKit v2-compatible agent runtime

Usage:
  copilot-runtime serve [--port 3001] [--host 0.0.0.0] [--base-path /api/copilotkit]
                        [--shutdown-timeout 10000] [--config copilot-runtime.config.mjs]

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
