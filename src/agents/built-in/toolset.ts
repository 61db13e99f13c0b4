import type { Tool as AguiTool } from "@ag-ui/core";
import type { JSONSchema7, Tool, ToolSet } from "ai";
import { ai } from "./ai-sdk.js";
import { toAiSdkTool } from "./define-tool.js";
import type { ToolDefinition } from "./types.js";

/** The tools of one run, by where they run. */
export interface ToolSources {
  /** BuiltInAgent's state tools. */
  state: Record<string, Tool>;
  /** Tools defined with `defineTool`. */
  server: readonly ToolDefinition<any>[];
  /** Tools listed by the MCP servers. */
  mcp: Record<string, Tool>;
  /** Tools the client declared in RunAgentInput.tools; it executes them itself. */
  frontend: readonly AguiTool[];
}

/**
 * Merges the tools offered to the model. On a name clash the first source wins, in the order
 * state, server, MCP, frontend: what the server defines cannot be shadowed by a client.
 *
 * @example
 * ```ts
 * const tools = assembleTools({ state: {}, server: [weather], mcp: {}, frontend: input.tools });
 * ```
 */
export function assembleTools(sources: ToolSources): ToolSet {
  const tools: ToolSet = { ...sources.state };
  const add = (name: string, tool: Tool) => {
    if (!Object.hasOwn(tools, name)) tools[name] = tool;
  };
  for (const definition of sources.server) add(definition.name, toAiSdkTool(definition));
  for (const [name, tool] of Object.entries(sources.mcp)) add(name, tool);
  for (const tool of sources.frontend) {
    if (tool && typeof tool.name === "string" && tool.name) add(tool.name, toFrontendTool(tool));
  }
  return tools;
}

/**
 * A client-side tool: offered to the model but without `execute`, so the AI SDK stops after the model
 * calls it and the run ends for the client to execute it and run again with the result.
 */
export function toFrontendTool(tool: AguiTool): Tool {
  return {
    description: tool.description ?? "",
    inputSchema: ai.jsonSchema(normalizeParameters(tool.parameters)),
  } as Tool;
}

// Providers require an object schema at the top level; clients often send {} or omit it.
function normalizeParameters(parameters: unknown): JSONSchema7 {
  if (!parameters || typeof parameters !== "object" || Array.isArray(parameters)) {
    return { type: "object", properties: {} };
  }
  const schema = parameters as JSONSchema7;
  if (schema.type === undefined) return { type: "object", properties: {}, ...schema };
  return schema;
}
