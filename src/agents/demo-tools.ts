/**
 * How the demo agent decides to call a frontend tool, with no model: plain rules over the
 * user's last message and the tools the client sent, so a tool round trip can be tried (and
 * tested) without an API key.
 */

/** A tool as it arrives in `RunAgentInput.tools`. */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters?: unknown;
}

/** A tool call the demo agent decided to make. */
export interface PlannedToolCall {
  tool: ToolSpec;
  args: Record<string, unknown>;
}

const VERBS = new Set(["set", "get", "change", "update", "make", "do", "run", "show", "use"]);

/**
 * The tool call the message asks for, if any. A tool is chosen when the message names it
 * (`setBackgroundColor`), names its words (`background color`), says "change the <x> to <y>"
 * where <x> is part of its name, or says "use the tool" (the first tool). Arguments come from
 * the tool's JSON schema: string properties get the value after "to" in the message.
 *
 * @example
 * ```ts
 * planToolCall("Change the background to teal", [{ name: "setBackgroundColor", parameters: { type: "object", properties: { color: { type: "string" } } } }]);
 * // { tool: { name: "setBackgroundColor", ... }, args: { color: "teal" } }
 * ```
 */
export function planToolCall(text: string, tools: readonly ToolSpec[]): PlannedToolCall | undefined {
  if (tools.length === 0 || text.trim() === "") return undefined;
  const tool = pickTool(text.toLowerCase(), tools);
  return tool === undefined ? undefined : { tool, args: argumentsFor(tool, text) };
}

function pickTool(lower: string, tools: readonly ToolSpec[]): ToolSpec | undefined {
  const named = tools.find((tool) => lower.includes(tool.name.toLowerCase()));
  if (named) return named;
  const byWords = tools.find((tool) => {
    const words = nameWords(tool.name).filter((word) => !VERBS.has(word));
    return words.length > 0 && words.every((word) => new RegExp(`\\b${escapeRegExp(word)}\\b`).test(lower));
  });
  if (byWords) return byWords;
  const change = /\b(?:change|set|make|turn)\s+(?:the\s+|my\s+)?([a-z]+)\b.*?\bto\b/.exec(lower);
  if (change) {
    const subject = change[1];
    const match = tools.find((tool) => nameWords(tool.name).includes(subject));
    if (match) return match;
  }
  if (/\buse (?:the|a|your|any) tools?\b/.test(lower)) return tools[0];
  return undefined;
}

/** `setBackgroundColor` -> `["set", "background", "color"]`; also splits `_` and `-`. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .map((word) => word.toLowerCase())
    .filter((word) => word !== "");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Arguments that satisfy the tool's JSON schema, taking string values from "... to <value>". */
function argumentsFor(tool: ToolSpec, text: string): Record<string, unknown> {
  const schema = tool.parameters as { properties?: Record<string, { type?: unknown; enum?: unknown[] }> } | undefined;
  const properties = schema?.properties ?? {};
  const value = /\bto\s+([^.,;!?\n]+?)\s*(?:please)?\s*[.,;!?]?\s*$/i.exec(text.trim())?.[1]?.trim();
  const args: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    if (Array.isArray(property?.enum) && property.enum.length > 0) {
      args[name] = property.enum.find((option) => typeof option === "string" && value?.toLowerCase() === option.toLowerCase()) ?? property.enum[0];
    } else if (property?.type === "number" || property?.type === "integer") {
      const number = Number(value);
      args[name] = Number.isFinite(number) ? number : 1;
    } else if (property?.type === "boolean") {
      args[name] = true;
    } else {
      args[name] = value ?? "demo";
    }
  }
  return args;
}

/** What the demo agent says once a tool's result comes back. */
export function toolResultReply(toolName: string, args: string, result: string): string {
  const shown = result.length > 300 ? `${result.slice(0, 300)}…` : result;
  return `Done: I called ${toolName} with ${args} and it answered "${shown}".`;
}
