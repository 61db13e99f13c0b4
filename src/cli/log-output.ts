/**
 * `serve`'s log output: pino-compatible JSON lines (`{"level":30,"time":...,"pid":...,
 * "hostname":...,...fields,"msg":...}`, pino's numeric levels, errors as `err: {type, message,
 * stack}`), or one human line per record when stdout is a terminal. Written without pino, so the
 * runtime carries no logging dependency; pipe the JSON into `pino-pretty` or any pino tooling.
 */
import { hostname } from "node:os";
import type { LogFields, Logger } from "../logger.js";

/** `--log-format`: `json` (pino's lines) or `pretty` (one human line each). */
export type LogFormat = "json" | "pretty";
/** `--log-level`: the lowest level written; `silent` writes nothing. */
export type CliLogLevel = "debug" | "info" | "warn" | "error" | "silent";

export const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];
export const LOG_LEVELS: readonly CliLogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** pino's numbers. */
export const LEVEL_VALUES = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
const LEVEL_NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

export interface CliLoggerOptions {
  format: LogFormat;
  level: CliLogLevel;
  /** Where lines go (one call per line, newline included). Default: `process.stdout`. */
  write?: (line: string) => void;
  /** Default: `Date.now`. */
  now?: () => number;
}

/**
 * A pino-shaped logger writing JSON lines or pretty lines.
 *
 * @example
 * ```ts
 * const log = createCliLogger({ format: process.stdout.isTTY ? "pretty" : "json", level: "info" });
 * log.info({ port: 3001 }, "listening");
 * // {"level":30,"time":1733230000000,"pid":4242,"hostname":"box","port":3001,"msg":"listening"}
 * ```
 */
/**
 * Writes lines to stdout until stdout fails (a closed pipe: `serve | head`). Then it stops:
 * otherwise every failed write would raise an error whose log line fails again, a loop that
 * starves the event loop (a SIGTERM then never got to exit).
 */
function stdoutWriter(): (line: string) => void {
  let broken = false;
  process.stdout.on("error", () => {
    broken = true;
  });
  return (line) => {
    if (!broken && !process.stdout.destroyed) process.stdout.write(line);
  };
}

export function createCliLogger(options: CliLoggerOptions): Logger {
  const threshold = LEVEL_VALUES[options.level];
  const write = options.write ?? stdoutWriter();
  const now = options.now ?? Date.now;
  const base = { pid: process.pid, hostname: hostname() };

  const make = (bindings: LogFields): Logger => {
    const line = (level: 20 | 30 | 40 | 50) => (fields: LogFields, msg: string) => {
      if (level < threshold) return;
      const record: LogFields = { level, time: now(), ...base, ...bindings, ...serialiseFields(fields), msg };
      write(options.format === "json" ? `${toJson(record)}\n` : `${formatPretty(record)}\n`);
    };
    return {
      debug: line(20),
      info: line(30),
      warn: line(40),
      error: line(50),
      isLevelEnabled: (level) => (LEVEL_VALUES[level as keyof typeof LEVEL_VALUES] ?? 0) >= threshold,
      child: (more) => make({ ...bindings, ...serialiseFields(more) }),
    };
  };
  return make({});
}

/** `err` (and any other Error value) as pino's serialiser writes it: `{type, message, stack, ...}`. */
function serialiseFields(fields: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const key in fields) {
    const value = fields[key];
    if (value instanceof Error) (out ??= { ...fields })[key] = serialiseError(value, new Set());
  }
  return out ?? fields;
}

function serialiseError(error: Error, seen: Set<Error>): Record<string, unknown> {
  seen.add(error);
  const out: Record<string, unknown> = { type: error.constructor?.name ?? error.name, message: error.message, stack: error.stack };
  for (const key of Object.keys(error)) {
    if (key in out) continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    out[key] = value instanceof Error ? (seen.has(value) ? "[Circular]" : serialiseError(value, seen)) : value;
  }
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && !("cause" in out)) {
    out.cause = cause instanceof Error ? (seen.has(cause) ? "[Circular]" : serialiseError(cause, seen)) : cause;
  }
  return out;
}

/** JSON for any record: cycles become `"[Circular]"` and bigints strings, rather than losing the line. */
export function toJson(record: LogFields): string {
  try {
    return JSON.stringify(record);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(record, (_key, value: unknown) => {
      if (typeof value === "bigint") return value.toString();
      if (value instanceof Error) return serialiseError(value, new Set());
      if (typeof value === "object" && value !== null) {
        if (seen.has(value)) return "[Circular]";
        seen.add(value);
      }
      return value;
    });
  }
}

const PRETTY_SKIP = new Set(["level", "time", "pid", "hostname", "msg", "err"]);

/**
 * One record as a human line: `14:02:03.123 INFO  request method=GET route=info status=200`,
 * fields as `key=value` (strings with spaces quoted), then an error's stack on the lines below.
 */
export function formatPretty(record: LogFields): string {
  const time = typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 23) : "";
  const level = (LEVEL_NAMES[record.level as number] ?? String(record.level)).padEnd(5);
  let line = `${time} ${level} ${String(record.msg ?? "")}`;
  for (const key in record) {
    if (PRETTY_SKIP.has(key) || record[key] === undefined) continue;
    line += ` ${key}=${prettyValue(record[key])}`;
  }
  const err = record.err;
  if (err !== undefined) {
    const described = err as { stack?: unknown; message?: unknown; type?: unknown };
    const text =
      typeof described?.stack === "string"
        ? described.stack
        : typeof described?.message === "string"
          ? `${String(described.type ?? "Error")}: ${described.message}`
          : prettyValue(err);
    line += `\n    ${text.split("\n").join("\n    ")}`;
  }
  return line;
}

function prettyValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  if (typeof value === "object" && value !== null) return toJson(value as LogFields);
  return String(value);
}
