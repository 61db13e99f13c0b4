import { config as rxjsConfig } from "rxjs";
import { logger } from "../logger.js";

/** What {@link installProcessGuard} installed, to remove it again. */
export interface ProcessGuard {
  /** How many errors it caught and logged since it was installed. */
  readonly caught: number;
  uninstall(): void;
}

let installed: ProcessGuard | undefined;

/**
 * The last line of defence of a server process: an error that escapes every request (an agent
 * library throwing from a timer, an observer rethrown by rxjs, a promise nobody awaited) is
 * logged and the process keeps serving its other users, instead of exiting and dropping every
 * open stream. Request input is checked long before this (JSON depth, ids), so anything caught
 * here is a bug worth reporting; each is logged at error level with its stack.
 *
 * `copilot-runtime serve` installs it. Installing it twice returns the same guard.
 *
 * @example
 * ```ts
 * import { installProcessGuard } from "copilot-runtime/node";
 * installProcessGuard();
 * ```
 */
export function installProcessGuard(): ProcessGuard {
  if (installed !== undefined) return installed;
  let caught = 0;
  const onUncaught = (error: unknown) => {
    caught++;
    logger.error({ err: error }, "an uncaught error escaped a request; the process keeps serving");
  };
  const onRejection = (reason: unknown) => {
    caught++;
    logger.error({ err: reason }, "an unhandled promise rejection escaped a request; the process keeps serving");
  };
  // rxjs rethrows an observer's error from a timer; with a handler it calls that instead.
  const previousRxjsHandler = rxjsConfig.onUnhandledError;
  rxjsConfig.onUnhandledError = onUncaught;
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onRejection);
  installed = {
    get caught() {
      return caught;
    },
    uninstall() {
      process.off("uncaughtException", onUncaught);
      process.off("unhandledRejection", onRejection);
      if (rxjsConfig.onUnhandledError === onUncaught) rxjsConfig.onUnhandledError = previousRxjsHandler;
      installed = undefined;
    },
  };
  return installed;
}
