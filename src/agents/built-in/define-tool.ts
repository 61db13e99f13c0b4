import type { FlexibleSchema, Tool } from "ai";
import type { InferSchemaOutput, StandardSchemaV1, ToolDefinition, ToolExecutionContext } from "./types.js";

/** Tool names every provider accepts (OpenAI is the strictest: letters, digits, `_`, `-`, at most 64). */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Names BuiltInAgent uses for its own state tools. */
export const STATE_SNAPSHOT_TOOL = "AGUISendStateSnapshot";
export const STATE_DELTA_TOOL = "AGUISendStateDelta";

/**
 * Defines a tool that runs on the server. `parameters` is any Standard Schema with JSON Schema support
 * (zod 4 works as is); the arguments are validated before `execute` runs, and what `execute` returns
 * (or throws) is given to the model and streamed to the client as a `TOOL_CALL_RESULT`.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 *
 * const weather = defineTool({
 *   name: "get_weather",
 *   description: "Current weather in a city",
 *   parameters: z.object({ city: z.string() }),
 *   execute: async ({ city }) => ({ city, celsius: 21 }),
 * });
 * new BuiltInAgent({ model: "openai/gpt-4o", tools: [weather] });
 * ```
 */
export function defineTool<S extends StandardSchemaV1>(definition: {
  name: string;
  description: string;
  parameters: S;
  execute: (args: InferSchemaOutput<S>, context: ToolExecutionContext) => unknown;
}): ToolDefinition<S> {
  if (!TOOL_NAME_PATTERN.test(definition.name)) {
    throw new TypeError(
      `Invalid tool name "${definition.name}": use 1-64 letters, digits, "_" or "-" (a limit shared by the model providers).`,
    );
  }
  if (definition.name === STATE_SNAPSHOT_TOOL || definition.name === STATE_DELTA_TOOL) {
    throw new TypeError(`The tool name "${definition.name}" is reserved for BuiltInAgent's state tools.`);
  }
  if (typeof definition.execute !== "function") {
    throw new TypeError(`Tool "${definition.name}" needs an execute function.`);
  }
  return Object.freeze({ ...definition });
}

const NEVER_ABORTED = new AbortController().signal;

/** The AI SDK form of a server tool. */
export function toAiSdkTool(definition: ToolDefinition<any>): Tool {
  return {
    description: definition.description,
    // The AI SDK validates Standard Schemas itself (zod directly, others through their JSON Schema).
    inputSchema: definition.parameters as unknown as FlexibleSchema<unknown>,
    execute: (args: unknown, options: { toolCallId: string; abortSignal?: AbortSignal }) =>
      definition.execute(args, { toolCallId: options.toolCallId, abortSignal: options.abortSignal ?? NEVER_ABORTED }),
  } as Tool;
}
