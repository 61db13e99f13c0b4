import type { Tool, ToolSet } from "ai";
import { ai } from "./ai-sdk.js";
import { describeError, sanitizeText, type LogLevel } from "./errors.js";

// What the model reads about a failed tool: enough to correct itself, not a novel.
const MAX_MODEL_TEXT = 1_000;

/**
 * A tool call that failed. Its `message` is what the model reads in this run (redacted); its
 * `clientMessage` is what the client gets in TOOL_CALL_RESULT and keeps in the thread.
 * For an exception the two differ: the client only learns that the tool failed.
 */
export class ToolCallFailure extends Error {
  override readonly name = "ToolCallFailure";
  constructor(
    message: string,
    readonly clientMessage: string,
    readonly level: LogLevel,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * A failure the tool reports on purpose (an MCP result with `isError`, a state patch that does not
   * apply): its text is meant for the model and the client alike.
   */
  static reported(text: string): ToolCallFailure {
    return new ToolCallFailure(text, text, "warn");
  }
}

/**
 * Wraps every tool that runs on the server so that whatever it throws becomes a
 * {@link ToolCallFailure} with the configured secrets redacted: the model still learns what went
 * wrong, the client gets a safe message, and a stop still stops.
 *
 * @example
 * ```ts
 * const tools = guardToolErrors(assembleTools(sources), secrets);
 * ```
 */
export function guardToolErrors(tools: ToolSet, secrets: readonly string[]): ToolSet {
  const guarded: ToolSet = {};
  for (const [name, tool] of Object.entries(tools)) {
    const execute = tool.execute;
    if (typeof execute !== "function") {
      guarded[name] = tool;
      continue;
    }
    guarded[name] = {
      ...tool,
      execute: async (args: unknown, options: { abortSignal?: AbortSignal }) => {
        try {
          return await (execute as (args: unknown, options: unknown) => unknown)(args, options);
        } catch (error) {
          if (options?.abortSignal?.aborted) throw error;
          throw toToolCallFailure(name, error, secrets);
        }
      },
    } as Tool;
  }
  return guarded;
}

function toToolCallFailure(name: string, error: unknown, secrets: readonly string[]): ToolCallFailure {
  if (error instanceof ToolCallFailure) {
    return new ToolCallFailure(
      sanitizeText(error.message, secrets, MAX_MODEL_TEXT),
      sanitizeText(error.clientMessage, secrets, MAX_MODEL_TEXT),
      error.level,
      { cause: error.cause },
    );
  }
  const text = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  return new ToolCallFailure(
    sanitizeText(text, secrets, MAX_MODEL_TEXT) || `The tool "${name}" failed.`,
    `The tool "${name}" failed.`,
    "error",
    { cause: error },
  );
}

/** The `error` a client sees in the TOOL_CALL_RESULT of a failed call. */
export function clientToolError(toolName: string, error: unknown): string {
  if (error instanceof ToolCallFailure) return error.clientMessage;
  // The model reads the full validation report and retries; the client learns which tool it was.
  // (The AI SDK hands invalid calls over as the error's message, a string.)
  if (ai.InvalidToolInputError.isInstance(error) || (typeof error === "string" && error.startsWith("Invalid input for tool")))
    return `Invalid input for the tool "${toolName}": the arguments did not match its parameters.`;
  if (ai.NoSuchToolError.isInstance(error) || (typeof error === "string" && error.startsWith("Model tried to call unavailable tool"))) {
    return `The model called a tool that does not exist ("${toolName}").`;
  }
  return `The tool "${toolName}" failed.`;
}

/** What the log says about a failed call, and how loudly. */
export function describeToolFailure(error: unknown, secrets: readonly string[]): { level: LogLevel; error: string } {
  if (error instanceof ToolCallFailure) {
    return { level: error.level, error: error.cause !== undefined ? describeError(error.cause, secrets) : error.message };
  }
  // arguments the model got wrong, or a tool it made up: the model's mistake, told to it to correct
  return { level: "warn", error: sanitizeText(error instanceof Error ? error.message : String(error), secrets) };
}
