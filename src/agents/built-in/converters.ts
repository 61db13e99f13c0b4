// CopilotKit 1.75's public converter helpers, with its call shapes, for factory-mode agents that
// make the AI SDK call themselves. Each one is a thin face on what BuiltInAgent uses internally.
import type { Message, Tool as AguiTool } from "@ag-ui/core";
import type { ModelMessage, ToolSet } from "ai";
import { z } from "zod";
import { convertMessages, type MessageConversionOptions } from "./convert-messages.js";
import { toAiSdkTool } from "./define-tool.js";
import { toFrontendTool } from "./toolset.js";
import type { ToolDefinition } from "./types.js";

/**
 * Converts AG-UI messages into AI SDK messages, as BuiltInAgent does: every tool call gets exactly
 * one result (missing ones are filled in, since providers reject unpaired calls), signed reasoning
 * goes back to its provider, and `system`/`developer` messages are kept only when forwarded — as
 * system messages at the start.
 *
 * @example
 * ```ts
 * streamText({ model, messages: convertMessagesToVercelAISDKMessages(input.messages), abortSignal });
 * ```
 */
export function convertMessagesToVercelAISDKMessages(messages: Message[], options: MessageConversionOptions = {}): ModelMessage[] {
  const converted = convertMessages(messages ?? [], options);
  const instructions: ModelMessage[] = converted.instructions.map((content) => ({ role: "system", content }));
  return [...instructions, ...converted.messages];
}

/**
 * The client's tools (`RunAgentInput.tools`) as AI SDK tools without `execute`: the model may call
 * them, and the client runs them. Their JSON Schemas are passed on as they are.
 *
 * @example
 * ```ts
 * streamText({ model, messages, tools: convertToolsToVercelAITools(input.tools) });
 * ```
 */
export function convertToolsToVercelAITools(tools: AguiTool[]): ToolSet {
  const result: ToolSet = {};
  for (const tool of tools ?? []) {
    if (!tool || typeof tool.name !== "string" || !tool.name) throw new TypeError("Each tool needs a name.");
    result[tool.name] = toFrontendTool(tool);
  }
  return result;
}

/**
 * Tools made with `defineTool` as AI SDK tools (interrupt tools get no `execute`).
 *
 * @example
 * ```ts
 * streamText({ model, messages, tools: convertToolDefinitionsToVercelAITools([weather]) });
 * ```
 */
export function convertToolDefinitionsToVercelAITools(tools: ToolDefinition<any>[]): ToolSet {
  const result: ToolSet = {};
  for (const tool of tools ?? []) result[tool.name] = toAiSdkTool(tool);
  return result;
}

/** The JSON Schema subset {@link convertJsonSchemaToZodSchema} understands. */
export interface JsonSchema {
  type?: "object" | "string" | "number" | "integer" | "boolean" | "array" | "null";
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/**
 * Builds a zod schema from a tool's JSON Schema, as CopilotKit 1.75 does: objects (with `required`),
 * strings (with `enum`), numbers and integers, booleans, arrays, null and `anyOf`/`oneOf` unions; a
 * schema without `type` is an empty object. `required: false` makes the result optional.
 * Descriptions are kept. Throws on an array without `items` or an unknown type.
 *
 * @example
 * ```ts
 * const schema = convertJsonSchemaToZodSchema({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }, true);
 * schema.parse({ city: "Paris" });
 * ```
 */
export function convertJsonSchemaToZodSchema(jsonSchema: JsonSchema, required: boolean): z.ZodType {
  const finish = (schema: z.ZodType) => {
    const described = schema.describe(jsonSchema.description ?? "");
    return required ? described : described.optional();
  };
  const variants = jsonSchema.anyOf ?? jsonSchema.oneOf;
  if (Array.isArray(variants) && variants.length > 0) {
    if (variants.length === 1) return convertJsonSchemaToZodSchema(variants[0], required);
    const members = variants.map((variant) => convertJsonSchemaToZodSchema(variant, true));
    return finish(z.union(members as [z.ZodType, z.ZodType, ...z.ZodType[]]));
  }
  switch (jsonSchema.type) {
    case undefined:
      return required ? z.object({}) : z.object({}).optional();
    case "null":
      return finish(z.null());
    case "object": {
      const properties = Object.entries(jsonSchema.properties ?? {});
      if (properties.length === 0) return required ? z.object({}) : z.object({}).optional();
      const shape: Record<string, z.ZodType> = {};
      for (const [key, value] of properties) shape[key] = convertJsonSchemaToZodSchema(value, jsonSchema.required?.includes(key) ?? false);
      return finish(z.object(shape));
    }
    case "string":
      return finish(jsonSchema.enum?.length ? z.enum(jsonSchema.enum as [string, ...string[]]) : z.string());
    case "number":
    case "integer":
      return finish(z.number());
    case "boolean":
      return finish(z.boolean());
    case "array":
      if (!jsonSchema.items) throw new Error("Array type must have items property");
      return finish(z.array(convertJsonSchemaToZodSchema(jsonSchema.items, true)));
    default:
      throw new Error("Invalid JSON schema");
  }
}
