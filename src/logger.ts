/**
 * The runtime's log sink. Errors from agents and providers are logged here in full and never
 * sent to clients; replace it with `setLogger` to route into pino, winston or a test spy.
 */
export interface Logger {
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

const consoleLogger: Logger = {
  info: (message, ...details) => console.log(`[copilot-runtime] ${message}`, ...details),
  warn: (message, ...details) => console.warn(`[copilot-runtime] ${message}`, ...details),
  error: (message, ...details) => console.error(`[copilot-runtime] ${message}`, ...details),
};

let current: Logger = consoleLogger;

export const logger: Logger = {
  info: (message, ...details) => current.info(message, ...details),
  warn: (message, ...details) => current.warn(message, ...details),
  error: (message, ...details) => current.error(message, ...details),
};

/** Routes the runtime's logs elsewhere; pass nothing to restore the console. */
export function setLogger(next?: Logger): void {
  current = next ?? consoleLogger;
}
