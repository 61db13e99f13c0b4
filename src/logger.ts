/**
 * The runtime's logging. Every line is structured, in pino's shape: `logger.error(fields, msg)`,
 * with an error under `err` (the original `Error`) and ids under `requestId`, `agentId`,
 * `threadId`, `runId`. Errors from agents and providers are logged here in full and never sent
 * to clients.
 *
 * Where lines go: the runtime's `logger` option (`new CopilotRuntime({ logger })`) for everything
 * about a request and its runs; the process-wide logger (`setLogger`) for the rest (runners'
 * maintenance, adapters) and for runtimes without a `logger`. Both take a pino-shaped logger.
 */

/** The levels the runtime logs at, in pino's order. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The structured part of a line: `err` for an error, ids, counts, durations. */
export type LogFields = Record<string, unknown>;

/** One level's method: pino's `(mergingObject, message)`. */
export type LogMethod = (fields: LogFields, msg: string) => void;

/**
 * A logger of pino's shape: pino, bunyan, or anything whose methods take `(fields, message)`.
 * `debug`, `child` and `isLevelEnabled` are used when present. A console-shaped logger
 * (`(message, ...details)`, e.g. winston) goes through {@link fromConsoleLogger}; the `console`
 * object itself is recognised and adapted.
 */
export interface Logger {
  error(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  debug?(fields: LogFields, msg: string): void;
  /** A logger whose every line carries `bindings` (pino's `child`). */
  child?(bindings: LogFields): Logger;
  /** pino's level check, to skip building a line nobody will see. */
  isLevelEnabled?(level: string): boolean;
}

/** A console-shaped logger: `(message, ...details)`, like `console` or winston. */
export interface ConsoleLikeLogger {
  error(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  debug?(message: string, ...details: unknown[]): void;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/**
 * Adapts a console-shaped logger (`(message, ...details)`): each line becomes
 * `target[level]("[copilot-runtime] " + msg, fields)`, fields and all (the error under
 * `fields.err`), so nothing is dropped. Lines below `level` (default `"info"`) are skipped.
 *
 * @example
 * ```ts
 * import winston from "winston";
 * setLogger(fromConsoleLogger(winston.createLogger({ ... })));
 * ```
 */
export function fromConsoleLogger(target: ConsoleLikeLogger, options: { level?: LogLevel } = {}): Logger {
  const threshold = LEVEL_ORDER[options.level ?? "info"];
  const line =
    (level: LogLevel): LogMethod =>
    (fields, msg) => {
      if (LEVEL_ORDER[level] < threshold) return;
      const method = (level === "debug" ? (target.debug ?? target.info) : target[level]).bind(target);
      const text = `[copilot-runtime] ${msg}`;
      if (hasOwnKeys(fields)) method(text, fields);
      else method(text);
    };
  return {
    error: line("error"),
    warn: line("warn"),
    info: line("info"),
    debug: line("debug"),
    isLevelEnabled: (level) => (LEVEL_ORDER[level as LogLevel] ?? 0) >= threshold,
  };
}

function hasOwnKeys(fields: LogFields): boolean {
  for (const _ in fields) return true;
  return false;
}

/**
 * The logger the runtime uses for what the caller gave: the global `console` is adapted with
 * {@link fromConsoleLogger} (recognised by identity, never by guessing from the methods), and
 * anything else is taken as pino-shaped. The result never throws: a logger that fails must not
 * turn a reported failure into an unreported one, nor fail a request.
 */
export function toLogger(given: Logger | Console): Logger {
  if (given === globalThis.console) return new SafeLogger(fromConsoleLogger(given as Console));
  if (given instanceof SafeLogger) return given;
  return new SafeLogger(given as Logger);
}

/** Every call guarded; children come from the sink's own `child` when it has one. */
class SafeLogger implements Logger {
  constructor(
    private readonly sink: Logger,
    private readonly bindings?: LogFields,
  ) {}

  error(fields: LogFields, msg: string): void {
    this.write("error", fields, msg);
  }
  warn(fields: LogFields, msg: string): void {
    this.write("warn", fields, msg);
  }
  info(fields: LogFields, msg: string): void {
    this.write("info", fields, msg);
  }
  debug(fields: LogFields, msg: string): void {
    this.write("debug", fields, msg);
  }

  isLevelEnabled(level: string): boolean {
    if (level === "debug" && typeof this.sink.debug !== "function") return false;
    try {
      return typeof this.sink.isLevelEnabled === "function" ? this.sink.isLevelEnabled(level) : true;
    } catch {
      return true;
    }
  }

  child(bindings: LogFields): Logger {
    if (typeof this.sink.child === "function") {
      try {
        return new SafeLogger(this.sink.child(bindings), undefined);
      } catch {
        // fall back to binding the fields ourselves
      }
    }
    return new SafeLogger(this.sink, this.bindings === undefined ? bindings : { ...this.bindings, ...bindings });
  }

  private write(level: LogLevel, fields: LogFields, msg: string): void {
    const sink = this.sink;
    try {
      const method = sink[level];
      if (typeof method !== "function") return;
      method.call(sink, this.bindings === undefined ? fields : { ...this.bindings, ...fields }, msg);
    } catch {
      // nothing left to tell
    }
  }
}

/** Without any logger configured: the console, warnings and errors only (no per-request lines). */
const defaultLogger: Logger = toLogger(fromConsoleLogger(console, { level: "warn" }));

let current: Logger = defaultLogger;

/**
 * The process-wide logger, for code with no runtime at hand (runners, adapters) and for runtimes
 * without a `logger` option. It follows {@link setLogger}.
 */
export const logger: Logger = {
  error: (fields, msg) => current.error(fields, msg),
  warn: (fields, msg) => current.warn(fields, msg),
  info: (fields, msg) => current.info(fields, msg),
  debug: (fields, msg) => current.debug!(fields, msg),
  isLevelEnabled: (level) => current.isLevelEnabled!(level),
  child: (bindings) => current.child!(bindings),
};

/**
 * Routes the process-wide logs elsewhere; pass nothing to restore the default (the console,
 * warnings and errors). Takes a pino-shaped logger (`error(fields, msg)`), or `console`; a
 * console-shaped one (winston) goes through {@link fromConsoleLogger}. A console-shaped logger
 * passed as it is still gets every detail, as `(fields, msg)`: the fields object first.
 *
 * @example
 * ```ts
 * import pino from "pino";
 * setLogger(pino());
 * ```
 */
export function setLogger(next?: Logger | Console): void {
  current = next === undefined ? defaultLogger : toLogger(next);
}

/** True when a line at `level` would be written (pino's `isLevelEnabled`, else true). */
export function isLevelEnabled(log: Logger, level: LogLevel): boolean {
  return log.isLevelEnabled === undefined ? true : log.isLevelEnabled(level);
}

// --- request-scoped logs for code that only holds the request's agent ------------------------

const agentLogs = new WeakMap<object, Logger>();

/**
 * @internal The HTTP layer binds a request's logger (carrying its `requestId`) to the per-request
 * agent clone, so the run's own lines (RunSession, BuiltInAgent) carry the request id without
 * the runner, which knows no HTTP, passing it along.
 */
export function bindAgentLogger(agent: object, log: Logger): void {
  agentLogs.set(agent, log);
}

/** @internal The logger bound to a per-request agent, else the process-wide one. */
export function loggerForAgent(agent: object | undefined): Logger {
  return (agent !== undefined && agentLogs.get(agent)) || logger;
}
