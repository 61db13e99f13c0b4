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
 * With `interrupt: true` (and no `execute`) the tool asks a human instead: the model's call ends the
 * run with RUN_FINISHED `outcome: { type: "interrupt", interrupts: [{ id: <toolCallId>, reason, message }] }`,
 * and the next run's `resume: [{ interruptId: <toolCallId>, status: "resolved", payload }]` becomes
 * the tool's result (`{ status: "cancelled" }` when cancelled).
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
 * const approve = defineTool({
 *   name: "approve_refund",
 *   description: "Ask a human to approve a refund",
 *   parameters: z.object({ amount: z.number() }),
 *   interrupt: true,
 *   interruptMessage: "Approve this refund?",
 * });
 * new BuiltInAgent({ model: "openai/gpt-4o", tools: [weather, approve] });
 * ```
 */
export function defineTool<S extends StandardSchemaV1>(definition: {
  name: string;
  description: string;
  parameters: S;
  execute?: (args: InferSchemaOutput<S>, context: ToolExecutionContext) => unknown;
  interrupt?: boolean;
  interruptReason?: string;
  interruptMessage?: string;
}): ToolDefinition<S> {
  checkToolDefinition(definition);
  return Object.freeze({ ...definition });
}

/**
 * The checks of {@link defineTool}, for tools written as plain objects in `BuiltInAgentConfig.tools`:
 * a valid name that is not a state tool's, and either `execute` or `interrupt: true`.
 *
 * @example
 * ```ts
 * config.tools?.forEach(checkToolDefinition); // throws a TypeError naming the tool
 * ```
 */
export function checkToolDefinition(definition: Omit<ToolDefinition<any>, "parameters"> & { parameters?: unknown }): void {
  if (!definition || typeof definition !== "object") throw new TypeError("Each tool must be an object (use defineTool).");
  if (typeof definition.name !== "string" || !TOOL_NAME_PATTERN.test(definition.name)) {
    throw new TypeError(
      `Invalid tool name "${String(definition.name)}": use 1-64 letters, digits, "_" or "-" (a limit shared by the model providers).`,
    );
  }
  if (definition.name === STATE_SNAPSHOT_TOOL || definition.name === STATE_DELTA_TOOL) {
    throw new TypeError(`The tool name "${definition.name}" is reserved for BuiltInAgent's state tools.`);
  }
  checkInterruptOptions(definition);
}

/** A tool runs on the server or asks a human, never both; the interrupt texts must be strings. */
function checkInterruptOptions(definition: Omit<ToolDefinition<any>, "parameters">): void {
  const { name, interrupt, execute, interruptReason, interruptMessage } = definition;
  if (interrupt !== undefined && typeof interrupt !== "boolean") {
    throw new TypeError(`Tool "${name}": interrupt must be true or false.`);
  }
  if (interrupt && execute !== undefined) {
    throw new TypeError(`Tool "${name}" is an interrupt tool: its result comes from the human who resumes the run, so it takes no execute function.`);
  }
  if (!interrupt && typeof execute !== "function") {
    throw new TypeError(`Tool "${name}" needs an execute function (or interrupt: true to ask a human).`);
  }
  if (!interrupt && (interruptReason !== undefined || interruptMessage !== undefined)) {
    throw new TypeError(`Tool "${name}": interruptReason and interruptMessage only apply with interrupt: true.`);
  }
  for (const [option, value] of [["interruptReason", interruptReason], ["interruptMessage", interruptMessage]] as const) {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new TypeError(`Tool "${name}": ${option} must be a non-empty string.`);
    }
  }
}

/** True for a tool that pauses the run for a human instead of executing. */
export function isInterruptTool(definition: ToolDefinition<any>): boolean {
  return definition.interrupt === true;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * The AI SDK form of a server tool. An interrupt tool gets no `execute`: the AI SDK then ends the
 * step without a result for its call, which is where the run pauses.
 */
export function toAiSdkTool(definition: ToolDefinition<any>): Tool {
  const execute = definition.execute;
  if (isInterruptTool(definition) || !execute) {
    return { description: definition.description, inputSchema: definition.parameters as unknown as FlexibleSchema<unknown> } as Tool;
  }
  return {
    description: definition.description,
    // The AI SDK validates Standard Schemas itself (zod directly, others through their JSON Schema).
    inputSchema: definition.parameters as unknown as FlexibleSchema<unknown>,
    execute: (args: unknown, options: { toolCallId: string; abortSignal?: AbortSignal }) =>
      execute(args, { toolCallId: options.toolCallId, abortSignal: options.abortSignal ?? NEVER_ABORTED }),
  } as Tool;
}
