/**
 * Finding, loading and checking `copilot-runtime.config.{ts,mts,mjs,js,cjs}`. Every problem becomes a
 * {@link CliStartupError} whose message names the file and says what to change.
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createCors } from "../http/cors.js";
import { LOG_FORMATS, LOG_LEVELS } from "./log-output.js";
import { parseBusUrl } from "./args.js";
import type { AgentLike } from "../events/agent-contract.js";
import type { AgentRecord, AgentsOption } from "../runtime.js";
import type { CopilotRuntimeConfig } from "./define-config.js";
import { describeLoadError } from "./error-location.js";
import { CliStartupError } from "./errors.js";

/** The names looked for in the working directory, in this order. */
export const CONFIG_FILE_NAMES = [
  "copilot-runtime.config.ts",
  "copilot-runtime.config.mts",
  "copilot-runtime.config.mjs",
  "copilot-runtime.config.js",
  "copilot-runtime.config.cjs",
] as const;

const TOP_LEVEL_KEYS = ["agents", "runtime", "basePath", "port", "host", "cors", "endpoint", "server", "metrics", "log", "workers", "bus", "intelligence"] as const;
const RUNTIME_KEYS = [
  "runner",
  "transcriptionService",
  "beforeRequestMiddleware",
  "afterRequestMiddleware",
  "forwardHeaders",
  "identifyUser",
  "logger",
  "a2ui",
  "mcpApps",
  "openGenerativeUI",
  "debug",
  // Intelligence mode: the runtime hands runs to an Intelligence platform (this one's or another's).
  "intelligence",
  "generateThreadNames",
  "lockTtlSeconds",
  "lockKeyPrefix",
  "lockHeartbeatIntervalSeconds",
  "maxReconnectMs",
  "maxRejoinMs",
] as const;
const ENDPOINT_KEYS = ["maxBodyBytes", "maxAudioBytes", "heartbeatMs", "limits", "hooks"] as const;
const HOOK_KEYS = ["onRequest", "onBeforeHandler", "onResponse", "onError"] as const;
const ENDPOINT_SIZE_KEYS = ["maxBodyBytes", "maxAudioBytes", "heartbeatMs"] as const;
const LIMIT_KEYS = ["maxStreams", "maxStreamsPerUser", "retryAfterSeconds"] as const;
const INPUT_LIMIT_KEYS = ["maxJsonDepth", "maxIdLength", "maxNameLength"] as const;
const INTELLIGENCE_KEYS = ["mode", "apiKeys", "tokenSecret", "clientOrigins", "store", "lockTtlSeconds", "tokenTtlMs", "runtime", "publicWsUrl"] as const;
const INTELLIGENCE_MODES = ["beside", "only", "off"] as const;
const SERVER_KEYS = ["headersTimeoutMs", "requestTimeoutMs", "keepAliveTimeoutMs", "backlog"] as const;
const TYPESCRIPT_EXTENSIONS = new Set([".ts", ".mts", ".cts"]);

/** A config file, checked: agents given as a promise are awaited, so only a record or a factory remains. */
export interface LoadedConfig extends Omit<CopilotRuntimeConfig, "agents"> {
  /** The file it came from (absolute). */
  path: string;
  agents?: AgentRecord | Exclude<AgentsOption, AgentRecord | Promise<AgentRecord>>;
  /** How the file was loaded, for the start-up line. */
  loadedWith: "import" | "typescript";
}

/** The subset of the `typescript` package the loader uses. */
export interface TypeScriptTranspiler {
  transpileModule(
    input: string,
    options: { compilerOptions?: Record<string, unknown>; fileName?: string },
  ): { outputText: string };
  ModuleKind: { ESNext: number };
  ScriptTarget: { ES2022: number };
}

/** Seams for tests; the defaults are Node's `import()` and the `typescript` package wherever it resolves. */
export interface LoadConfigOptions {
  importModule?: (url: string) => Promise<unknown>;
  loadTypeScript?: (configPath: string) => TypeScriptTranspiler | undefined;
}

/**
 * The config file to load: `explicitPath` (which must exist), else the first of
 * {@link CONFIG_FILE_NAMES} in `cwd`, else undefined.
 */
export function findConfigFile(cwd: string, explicitPath?: string): string | undefined {
  if (explicitPath !== undefined) {
    const path = resolve(cwd, explicitPath);
    if (!existsSync(path)) throw new CliStartupError(`--config: no such file: ${path}`);
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(cwd, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/**
 * Imports, evaluates and checks a config file. A default export that is a function is called with
 * `{ env }` and awaited.
 *
 * @example
 * ```ts
 * const config = await loadConfig("/srv/app/copilot-runtime.config.mjs", process.env);
 * ```
 */
export async function loadConfig(
  path: string,
  env: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const { module, loadedWith } = await importConfigModule(
    path,
    options.importModule ?? ((url) => import(url)),
    options.loadTypeScript ?? findTypeScript,
  );
  const exported = (module as { default?: unknown }).default;
  if (exported === undefined) {
    throw new CliStartupError(
      `Config ${path} has no default export. Write: export default defineConfig({ agents: { default: ... } })`,
    );
  }
  let config: unknown = exported;
  if (typeof exported === "function") {
    try {
      config = await (exported as (context: { env: typeof env }) => unknown)({ env });
    } catch (error) {
      throw new CliStartupError(`Config ${path}: its default export (a function) threw: ${describeLoadError(error, path)}`, { cause: error });
    }
  }
  return { ...(await checkConfig(config, path)), path, loadedWith };
}

async function importConfigModule(
  path: string,
  importModule: (url: string) => Promise<unknown>,
  loadTypeScript: (configPath: string) => TypeScriptTranspiler | undefined,
): Promise<{ module: unknown; loadedWith: LoadedConfig["loadedWith"] }> {
  try {
    return { module: await importModule(pathToFileURL(path).href), loadedWith: "import" };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const isTypeScript = TYPESCRIPT_EXTENSIONS.has(extname(path));
    if (!isTypeScript || (code !== "ERR_UNKNOWN_FILE_EXTENSION" && code !== "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING")) {
      throw new CliStartupError(`Could not load config ${path}:\n${describeLoadError(error, path)}`, { cause: error });
    }
  }
  // This Node cannot run TypeScript by itself: transpile with the `typescript` package
  // when the project (or this package) has it, which covers a self-contained config file.
  const ts = loadTypeScript(path);
  if (!ts) {
    throw new CliStartupError(
      `Could not load config ${path}: Node ${process.version} does not run TypeScript files by itself.\n` +
        `Either rename it to ${basename(path).replace(/\.[cm]?ts$/, ".mjs")} (plain JavaScript),\n` +
        `or start the CLI with a TypeScript loader (for example: npx tsx node_modules/.bin/copilot-runtime serve),\n` +
        `or install typescript in your project (npm install -D typescript) so the CLI can transpile the file.`,
    );
  }
  const output = ts.transpileModule(readFileSync(path, "utf8"), {
    fileName: path,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  }).outputText;
  // Written beside the original so its relative and package imports resolve the same way.
  const temporary = writeTemporary(dirname(path), output);
  // The inline source map then turns a throw's place in the temporary file into file:line in the .ts.
  process.setSourceMapsEnabled(true);
  try {
    return { module: await importModule(pathToFileURL(temporary).href), loadedWith: "typescript" };
  } catch (error) {
    throw new CliStartupError(
      `Could not load config ${path} (transpiled with typescript):\n${error instanceof SyntaxError ? errorText(error) : describeLoadError(error, path)}\n` +
        `If it imports other TypeScript files, start the CLI with a TypeScript loader (npx tsx ...) or write the config as .mjs.`,
      { cause: error },
    );
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
  }
}

function writeTemporary(directory: string, source: string): string {
  const name = `.copilot-runtime.config.${process.pid}-${Math.random().toString(36).slice(2)}.mjs`;
  try {
    writeFileSync(join(directory, name), source);
    return join(directory, name);
  } catch {
    // A read-only project directory: imports relative to the config will not resolve, the rest works.
    writeFileSync(join(tmpdir(), name), source);
    return join(tmpdir(), name);
  }
}

/** `typescript` from the config's project, else from wherever this package can resolve it. */
function findTypeScript(configPath: string): TypeScriptTranspiler | undefined {
  for (const from of [configPath, import.meta.url]) {
    try {
      return createRequire(from)("typescript") as TypeScriptTranspiler;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/**
 * Checks a config object and awaits `agents` when it is a promise. Throws a {@link CliStartupError}
 * naming the first problem.
 *
 * @example
 * ```ts
 * await checkConfig({ agents: { default: new DemoAgent() } }, "inline"); // ok
 * await checkConfig({ agents: { default: "gpt-4o" } }, "inline"); // throws: agent "default" is not an AG-UI agent ...
 * ```
 */
export async function checkConfig(value: unknown, source: string): Promise<Omit<LoadedConfig, "path" | "loadedWith">> {
  const fail = (message: string): never => {
    throw new CliStartupError(`Config ${source}: ${message}`);
  };
  if (!isPlainObject(value)) fail(`the default export must be an object (use defineConfig({ agents: {...} })), got ${describe(value)}.`);
  const config = value as Record<string, unknown>;
  checkKeys(config, TOP_LEVEL_KEYS, "", fail);

  let agents: LoadedConfig["agents"];
  if (config.agents !== undefined) {
    let candidate: unknown = config.agents;
    if (isThenable(candidate)) {
      try {
        candidate = await candidate;
      } catch (error) {
        fail(`the agents promise was rejected: ${errorText(error)}`);
      }
    }
    if (typeof candidate === "function") {
      agents = candidate as LoadedConfig["agents"]; // a per-request factory: checked on each request by the runtime
    } else if (isPlainObject(candidate)) {
      const record = candidate as Record<string, unknown>;
      const ids = Object.keys(record);
      if (ids.length === 0) fail("`agents` is empty: register at least one agent, e.g. { default: new BuiltInAgent({ model: \"openai/gpt-4.1\" }) }.");
      for (const id of ids) {
        if (id.trim() === "" || id.includes("/")) fail(`agent id "${id}" cannot be used in a URL (/agent/<id>/run): use letters, digits, "-" or "_".`);
        const agent = record[id];
        if (!isAgent(agent)) {
          const hint =
            typeof agent === "function"
              ? " Register an instance (new " + ((agent as { name?: string }).name || "MyAgent") + "(...)), not the class."
              : " Use an AG-UI agent such as new BuiltInAgent({ model }), new HttpAgent({ url }) or an instance of your AbstractAgent subclass.";
          fail(`agent "${id}" is not an AG-UI agent (an object with clone() and run() or runAgent()); got ${describe(agent)}.${hint}`);
        }
      }
      agents = record as AgentRecord;
    } else {
      fail(`\`agents\` must be a record of agents by id, a promise of one, or a factory function; got ${describe(candidate)}.`);
    }
  }

  if (config.runtime !== undefined) {
    if (!isPlainObject(config.runtime)) fail(`\`runtime\` must be an object of runtime options, got ${describe(config.runtime)}.`);
    const runtime = config.runtime as Record<string, unknown>;
    checkKeys(runtime, RUNTIME_KEYS, "runtime.", fail);
    for (const name of ["beforeRequestMiddleware", "afterRequestMiddleware", "identifyUser"] as const) {
      if (runtime[name] !== undefined && typeof runtime[name] !== "function") fail(`runtime.${name} must be a function, got ${describe(runtime[name])}.`);
    }
    if (runtime.intelligence !== undefined && runtime.runner !== undefined) {
      fail("runtime.runner cannot be given with runtime.intelligence: in Intelligence mode the platform keeps the threads (drop one of the two).");
    }
    const runner = runtime.runner as Record<string, unknown> | undefined;
    if (runner !== undefined && !(isObject(runner) && ["run", "connect", "stop", "isRunning"].every((m) => typeof runner[m] === "function"))) {
      fail(`runtime.runner must be an AgentRunner (run, connect, stop, isRunning), got ${describe(runner)}.`);
    }
    const transcription = runtime.transcriptionService as Record<string, unknown> | undefined | false;
    if (transcription !== undefined && transcription !== false && !(isObject(transcription) && typeof transcription.transcribeFile === "function")) {
      fail(`runtime.transcriptionService must be a TranscriptionService (with transcribeFile) or false, got ${describe(transcription)}.`);
    }
  }

  if (config.basePath !== undefined && (typeof config.basePath !== "string" || !config.basePath.startsWith("/"))) {
    fail(`\`basePath\` must be a path starting with "/", got ${describe(config.basePath)}.`);
  }
  if (config.port !== undefined && !(Number.isInteger(config.port) && (config.port as number) >= 0 && (config.port as number) <= 65535)) {
    fail(`\`port\` must be a port number (0-65535), got ${describe(config.port)}.`);
  }
  if (config.host !== undefined && (typeof config.host !== "string" || config.host.trim() === "")) {
    fail(`\`host\` must be a host name or address, got ${describe(config.host)}.`);
  }
  if (config.cors !== undefined) {
    if (typeof config.cors !== "boolean" && !isPlainObject(config.cors)) fail(`\`cors\` must be true, false or a CORS options object, got ${describe(config.cors)}.`);
    try {
      createCors(config.cors as boolean | object);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  if (config.endpoint !== undefined) {
    if (!isPlainObject(config.endpoint)) fail(`\`endpoint\` must be an object, got ${describe(config.endpoint)}.`);
    const endpoint = config.endpoint as Record<string, unknown>;
    checkKeys(endpoint, ENDPOINT_KEYS, "endpoint.", fail);
    for (const name of ENDPOINT_SIZE_KEYS) {
      const n = endpoint[name];
      if (n !== undefined && !(typeof n === "number" && Number.isFinite(n) && n > 0)) fail(`endpoint.${name} must be a positive number, got ${describe(n)}.`);
    }
    if (endpoint.hooks !== undefined) {
      // A config file is strict: a misspelt hook (an auth gate that never runs) stops the start.
      if (!isPlainObject(endpoint.hooks)) fail(`endpoint.hooks must be an object ({ onRequest, onBeforeHandler, onResponse, onError }), got ${describe(endpoint.hooks)}.`);
      const hooks = endpoint.hooks as Record<string, unknown>;
      checkKeys(hooks, HOOK_KEYS, "endpoint.hooks.", fail);
      for (const name of HOOK_KEYS) {
        if (hooks[name] !== undefined && typeof hooks[name] !== "function") fail(`endpoint.hooks.${name} must be a function, got ${describe(hooks[name])}.`);
      }
    }
    const limits = endpoint.limits;
    if (limits !== undefined) {
      if (!isPlainObject(limits)) fail(`endpoint.limits must be an object ({ maxStreams, maxStreamsPerUser, maxJsonDepth, ... }), got ${describe(limits)}.`);
      const { maxJsonDepth, maxIdLength, maxNameLength, ...streamLimits } = limits as Record<string, unknown>;
      checkWholeNumbers(streamLimits, [...LIMIT_KEYS, ...INPUT_LIMIT_KEYS], "endpoint.limits.", "(0 for no limit)", fail);
      for (const [name, n] of Object.entries({ maxJsonDepth, maxIdLength, maxNameLength })) {
        if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 1)) fail(`endpoint.limits.${name} must be a whole number of at least 1, got ${describe(n)}.`);
      }
    }
  }
  if (config.server !== undefined) {
    if (!isPlainObject(config.server)) fail(`\`server\` must be an object, got ${describe(config.server)}.`);
    const server = config.server as Record<string, unknown>;
    checkWholeNumbers(server, SERVER_KEYS, "server.", "(milliseconds; 0 turns a timeout off)", fail);
    if (server.backlog === 0) fail("server.backlog must be at least 1, got number 0.");
  }
  if (config.metrics !== undefined && typeof config.metrics !== "boolean") {
    if (!isPlainObject(config.metrics)) fail(`\`metrics\` must be true, false or { port }, got ${describe(config.metrics)}.`);
    const metrics = config.metrics as Record<string, unknown>;
    checkKeys(metrics, ["port"], "metrics.", fail);
    const port = metrics.port;
    if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535)) {
      fail(`metrics.port must be a port number (0-65535), got ${describe(port)}.`);
    }
  }
  if (config.workers !== undefined && !(Number.isSafeInteger(config.workers) && (config.workers as number) >= 1)) {
    fail(`\`workers\` must be a whole number of processes, at least 1, got ${describe(config.workers)}.`);
  }
  if (config.bus !== undefined) {
    try {
      parseBusUrl(config.bus as string, "`bus`");
    } catch (error) {
      fail(typeof config.bus === "string" ? `${(error as Error).message}.` : `\`bus\` must be a redis:// or nats:// URL, got ${describe(config.bus)}.`);
    }
  }
  if (config.intelligence !== undefined) {
    checkIntelligence(config.intelligence, fail);
    checkInProcessRuntime(config.intelligence as Record<string, unknown>, config.runtime as Record<string, unknown> | undefined, fail);
  }
  if (config.log !== undefined) {
    if (!isPlainObject(config.log)) fail(`\`log\` must be an object ({ format, level }), got ${describe(config.log)}.`);
    const log = config.log as Record<string, unknown>;
    checkKeys(log, ["format", "level"], "log.", fail);
    if (log.format !== undefined && !(LOG_FORMATS as readonly unknown[]).includes(log.format)) {
      fail(`log.format must be one of ${LOG_FORMATS.join(", ")}, got ${describe(log.format)}.`);
    }
    if (log.level !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(log.level)) {
      fail(`log.level must be one of ${LOG_LEVELS.join(", ")}, got ${describe(log.level)}.`);
    }
  }
  return { ...(config as Omit<CopilotRuntimeConfig, "agents">), agents };
}

/** The `intelligence` section: what the platform of `serve --intelligence` runs with. */
function checkIntelligence(value: unknown, fail: (message: string) => never): void {
  if (!isPlainObject(value)) fail(`\`intelligence\` must be an object ({ apiKeys, tokenSecret, ... }), got ${describe(value)}.`);
  const section = value as Record<string, unknown>;
  checkKeys(section, INTELLIGENCE_KEYS, "intelligence.", fail);
  if (section.mode !== undefined && !(INTELLIGENCE_MODES as readonly unknown[]).includes(section.mode)) {
    fail(`intelligence.mode must be one of ${INTELLIGENCE_MODES.join(", ")}, got ${describe(section.mode)}.`);
  }
  const strings = (name: string, example: string) => {
    const list = section[name];
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === "string" && item.trim() !== ""))) {
      fail(`intelligence.${name} must be an array of strings such as ${example}, got ${describe(list)}.`);
    }
  };
  // The keys' shape (cpk-<projectId>_<secret>) is checked with the environment's, where they are chosen.
  strings("apiKeys", '["cpk-1_<secret>"]');
  strings("clientOrigins", '["https://app.example.com"]');
  if (section.tokenSecret !== undefined && !(typeof section.tokenSecret === "string" && section.tokenSecret.trim() !== "")) {
    fail(`intelligence.tokenSecret must be a non-empty string, got ${describe(section.tokenSecret)}.`);
  }
  if (section.runtime !== undefined && typeof section.runtime !== "boolean") {
    fail(`intelligence.runtime must be true or false, got ${describe(section.runtime)}.`);
  }
  if (section.publicWsUrl !== undefined && !(typeof section.publicWsUrl === "string" && /^wss?:\/\/[^/\s]/.test(section.publicWsUrl))) {
    fail(`intelligence.publicWsUrl must be a ws:// or wss:// URL such as "wss://app.example.com", got ${describe(section.publicWsUrl)}.`);
  }
  const store = section.store as Record<string, unknown> | undefined;
  if (store !== undefined && !(isObject(store) && ["migrate", "appendRunEvents", "close"].every((m) => typeof store[m] === "function"))) {
    fail(`intelligence.store must be an IntelligenceStore (new SqliteIntelligenceStore(...) from copilot-runtime/intelligence/sqlite, or the PostgreSQL or memory one), got ${describe(store)}.`);
  }
  for (const [name, keys] of [
    ["lockTtlSeconds", ["default", "max"]],
    ["tokenTtlMs", ["thread", "userMeta"]],
  ] as const) {
    const times = section[name];
    if (times === undefined) continue;
    if (!isPlainObject(times)) fail(`intelligence.${name} must be an object ({ ${keys.join(", ")} }), got ${describe(times)}.`);
    const record = times as Record<string, unknown>;
    checkKeys(record, keys, `intelligence.${name}.`, fail);
    for (const key of keys) {
      const n = record[key];
      if (n !== undefined && !(typeof n === "number" && Number.isFinite(n) && n > 0)) fail(`intelligence.${name}.${key} must be a positive number, got ${describe(n)}.`);
    }
  }
}

/** `intelligence.runtime: true` makes the runtime use this platform: nothing may point it elsewhere. */
function checkInProcessRuntime(section: Record<string, unknown>, runtime: Record<string, unknown> | undefined, fail: (message: string) => never): void {
  if (section.runtime !== true) return;
  if (section.mode === "only" || section.mode === "off") {
    fail(`intelligence.runtime: true needs the runtime and the platform in this process, but intelligence.mode is "${section.mode}" (drop one of the two).`);
  }
  if (runtime?.intelligence !== undefined) {
    fail("intelligence.runtime: true and runtime.intelligence both choose the runtime's platform: keep runtime.intelligence for another platform, or intelligence.runtime for this one in process.");
  }
  if (runtime?.runner !== undefined) {
    fail("runtime.runner cannot be given with intelligence.runtime: true: in Intelligence mode the platform keeps the threads (drop one of the two).");
  }
  if (typeof runtime?.identifyUser !== "function") {
    fail("intelligence.runtime: true puts the runtime in Intelligence mode, which needs runtime.identifyUser: (request) => ({ id, name }) (threads are kept per user).");
  }
}

function checkWholeNumbers(object: Record<string, unknown>, allowed: readonly string[], prefix: string, hint: string, fail: (message: string) => never): void {
  checkKeys(object, allowed, prefix, fail);
  for (const name of allowed) {
    const n = object[name];
    if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 0)) fail(`${prefix}${name} must be a whole number ${hint}, got ${describe(n)}.`);
  }
}

function checkKeys(object: Record<string, unknown>, allowed: readonly string[], prefix: string, fail: (message: string) => never): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) fail(`unknown option \`${prefix}${key}\`. Known: ${allowed.map((name) => prefix + name).join(", ")}.`);
  }
}

/** What the runtime relies on: `clone()` and `run()` or `runAgent()` (see AgentLike). */
export function isAgent(value: unknown): value is AgentLike {
  if (!isObject(value) || typeof (value as AgentLike).clone !== "function") return false;
  return typeof (value as AgentLike).run === "function" || typeof (value as AgentLike).runAgent === "function";
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value) || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return isObject(value) && typeof (value as { then?: unknown }).then === "function";
}

/** A short, safe description of a value for an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  if (Array.isArray(value)) return "an array";
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  if (name && name !== "Object") return `an instance of ${name}`;
  const keys = Object.keys(value as object);
  return keys.length === 0 ? "an empty object" : `an object with keys ${keys.slice(0, 5).join(", ")}`;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}
