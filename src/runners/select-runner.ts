/**
 * Where `copilot-runtime serve` keeps threads: the command-line flags and environment
 * variables that choose a runner, and the runner they choose. Kept apart from the CLI so the
 * choice is testable without starting a server.
 */
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import type { AgentRunner } from "./agent-runner.js";
import type { RetentionOptions } from "./durable/durable-runner.js";
import type { LiveBus } from "./durable/live-bus.js";
import { MissingDependencyError } from "../missing-dependency-error.js";
import { InMemoryAgentRunner } from "./in-memory.js";
import type { PostgresAgentRunner } from "./postgres.js";
import type { SqliteAgentRunner } from "./sqlite.js";

/** The storage flags of `serve`. */
export interface StorageArgs {
  /** `--memory`: threads live in the process and are lost on restart. */
  memory?: boolean;
  /** `--db <path | postgres://...>`: a SQLite file, or a PostgreSQL URL. */
  db?: string;
  /** `--retention-days <n>`: threads not updated for this many days are deleted. */
  retentionDays?: number;
  /** `--max-threads-per-user <n>`: each user keeps this many threads, newest first. */
  maxThreadsPerUser?: number;
}

export const DEFAULT_DB_FILE = "copilot-runtime.db";

export const STORAGE_HELP = `Threads (default: a SQLite file, ./${DEFAULT_DB_FILE}):
  --db <file>                     SQLite file to keep threads in (created if missing)
  --db postgres://...             PostgreSQL instead (same as DATABASE_URL)
  --memory                        keep threads in memory only; lost on restart
  --retention-days <n>            delete threads not updated for n days
  --max-threads-per-user <n>      keep only each user's n most recent threads
  Environment: COPILOT_RUNTIME_DB (file), DATABASE_URL (postgres://...),
  COPILOT_RUNTIME_RETENTION_DAYS, COPILOT_RUNTIME_MAX_THREADS_PER_USER.
  Precedence: --memory, --db, DATABASE_URL, COPILOT_RUNTIME_DB, the default file.
`;

/**
 * Consumes one storage flag for the argument parser; false when `flag` is not one.
 *
 * @example
 * ```ts
 * const storage: StorageArgs = {};
 * parseStorageFlag("--db", () => "./threads.db", storage); // true; storage.db === "./threads.db"
 * ```
 */
export function parseStorageFlag(flag: string, value: () => string, target: StorageArgs): boolean {
  switch (flag) {
    case "--memory":
      target.memory = true;
      return true;
    case "--db":
      target.db = value();
      return true;
    case "--retention-days":
      target.retentionDays = positiveNumber(value(), flag);
      return true;
    case "--max-threads-per-user":
      target.maxThreadsPerUser = positiveInteger(value(), flag);
      return true;
    default:
      return false;
  }
}

export interface SelectedRunner {
  runner: AgentRunner;
  /** For the start-up line, e.g. `SQLite ./copilot-runtime.db (retention: 30 days)`. */
  description: string;
  /** Ends timers and connections; call on shutdown. */
  close(): Promise<void>;
  /**
   * The files this call created (a SQLite database that did not exist, with its `-wal`, `-shm` and
   * `-journal` companions), so a start that fails later can remove them. Empty for a database that
   * was already there: that one is never deleted.
   */
  createdFiles: string[];
}

type Env = Record<string, string | undefined>;

/** Where threads will be kept, decided from the flags and environment without opening anything. */
export type StorageKind = "memory" | "sqlite" | "postgres";

/**
 * The kind of store {@link selectRunner} will open for these flags and environment (same
 * precedence). A SQLite `:memory:` database counts as memory: each process has its own.
 *
 * @example
 * ```ts
 * storageKind({ db: "postgres://db/app" }, {}); // "postgres"
 * ```
 */
export function storageKind(args: StorageArgs, env: Env): StorageKind {
  if (args.memory) return "memory";
  const target = storageTarget(args, env);
  if (isPostgresUrl(target)) return "postgres";
  return target === ":memory:" ? "memory" : "sqlite";
}

/** The `--db` value in effect: the flag, else DATABASE_URL (postgres), else COPILOT_RUNTIME_DB, else the default file. */
export function storageTarget(args: StorageArgs, env: Env): string {
  return args.db ?? (isPostgresUrl(env.DATABASE_URL) ? env.DATABASE_URL : undefined) ?? env.COPILOT_RUNTIME_DB ?? DEFAULT_DB_FILE;
}

/** What {@link selectRunner} adds to the durable runner it opens. */
export interface SelectRunnerOptions {
  /** The live bus between instances (Redis, or the workers' own channel); default: the store's own. */
  liveBus?: LiveBus;
}

/**
 * Builds the runner the flags and environment ask for, ready to serve (schema migrated,
 * left-over runs recovered). Throws with a message for the user when the database is unusable.
 *
 * @example
 * ```ts
 * const { runner, description } = await selectRunner({ db: "./threads.db" }, process.env, process.cwd());
 * console.log(`threads: ${description}`);
 * ```
 */
export async function selectRunner(args: StorageArgs, env: Env, cwd: string, options: SelectRunnerOptions = {}): Promise<SelectedRunner> {
  const { liveBus } = options;
  const retention = retentionFrom(args, env);
  if (args.memory) {
    const runner = new InMemoryAgentRunner();
    const ignored = retention ? "; retention flags ignored" : "";
    return { runner, description: `in memory (lost on restart; --db or DATABASE_URL to keep them)${ignored}`, close: async () => {}, createdFiles: [] };
  }
  const target = storageTarget(args, env);
  const retentionNote = retention ? ` (${describeRetention(retention)})` : "";
  if (isPostgresUrl(target)) {
    const what = `PostgreSQL at ${redact(target)}`;
    // Loaded only when chosen: pg and better-sqlite3 are optional peer dependencies.
    const { PostgresAgentRunner } = await load(() => import("./postgres.js"), what);
    const runner = await open(() => new PostgresAgentRunner({ connectionString: target, retention, liveBus }), what);
    return { runner, description: `PostgreSQL ${redact(target)}${retentionNote}`, close: () => runner.close(), createdFiles: [] };
  }
  const file = target === ":memory:" ? target : path.resolve(cwd, target);
  const what = `SQLite file ${file}`;
  const { SqliteAgentRunner } = await load(() => import("./sqlite.js"), what);
  const createdFiles = file === ":memory:" || existsSync(file) ? [] : SQLITE_SUFFIXES.map((suffix) => file + suffix);
  let runner;
  try {
    runner = await open(() => new SqliteAgentRunner({ path: file, retention, liveBus }), what);
  } catch (error) {
    removeFiles(createdFiles);
    throw error;
  }
  return { runner, description: `SQLite ${file}${retentionNote}`, close: () => runner.close(), createdFiles };
}

/** A SQLite database and the companions it may create beside it. */
const SQLITE_SUFFIXES = ["", "-wal", "-shm", "-journal"];

/**
 * Deletes files a failed start created (see {@link SelectedRunner.createdFiles}); missing ones are fine.
 *
 * @example
 * ```ts
 * await storage.close();
 * removeFiles(storage.createdFiles);
 * ```
 */
export function removeFiles(files: readonly string[]): void {
  for (const file of files) rmSync(file, { force: true });
}

/** Imports a runner's module; a missing driver becomes one message with the way out. */
async function load<M>(importModule: () => Promise<M>, what: string): Promise<M> {
  try {
    return await importModule();
  } catch (error) {
    if (!(error instanceof MissingDependencyError)) throw error;
    throw new Error(`Cannot keep threads in ${what}: ${error.message} Or start with --memory to keep threads in memory.`);
  }
}

/** Creates the runner and waits until it can serve, turning any failure into one message. */
async function open<R extends SqliteAgentRunner | PostgresAgentRunner>(create: () => R, what: string): Promise<R> {
  let runner: R | undefined;
  try {
    runner = create();
    await runner.ready();
    return runner;
  } catch (error) {
    await runner?.close().catch(() => {});
    throw new Error(`Cannot keep threads in ${what}: ${(error as Error).message}`);
  }
}

function retentionFrom(args: StorageArgs, env: Env): RetentionOptions | undefined {
  const days = args.retentionDays ?? optional(env.COPILOT_RUNTIME_RETENTION_DAYS, "COPILOT_RUNTIME_RETENTION_DAYS", positiveNumber);
  const perUser = args.maxThreadsPerUser ?? optional(env.COPILOT_RUNTIME_MAX_THREADS_PER_USER, "COPILOT_RUNTIME_MAX_THREADS_PER_USER", positiveInteger);
  if (days === undefined && perUser === undefined) return undefined;
  return { ...(days !== undefined ? { maxAgeMs: days * 86_400_000 } : {}), ...(perUser !== undefined ? { maxThreadsPerUser: perUser } : {}) };
}

function describeRetention(retention: RetentionOptions): string {
  const parts: string[] = [];
  if (retention.maxAgeMs !== undefined) parts.push(`threads kept ${retention.maxAgeMs / 86_400_000} days`);
  if (retention.maxThreadsPerUser !== undefined) parts.push(`at most ${retention.maxThreadsPerUser} per user`);
  return `retention: ${parts.join(", ")}`;
}

function isPostgresUrl(value: string | undefined): value is string {
  return value !== undefined && /^postgres(ql)?:\/\//i.test(value);
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

function optional<T>(raw: string | undefined, name: string, parse: (value: string, name: string) => T): T | undefined {
  return raw === undefined || raw.trim() === "" ? undefined : parse(raw.trim(), name);
}

function positiveNumber(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

function positiveInteger(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got '${raw}'`);
  return value;
}
