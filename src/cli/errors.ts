/**
 * A problem with how the server was asked to start (a bad model name, a config file that does not load
 * or registers something that is not an agent). The CLI prints the message, without a stack trace,
 * and exits with code 2, the same as for bad arguments.
 *
 * @example
 * ```ts
 * throw new CliStartupError('COPILOT_RUNTIME_MODEL: unknown model provider "mistral"');
 * ```
 */
export class CliStartupError extends Error {
  readonly exitCode = 2;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliStartupError";
  }
}
