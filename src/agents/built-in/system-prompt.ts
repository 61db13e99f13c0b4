import type { Context } from "@ag-ui/core";

/** What the system prompt of one run is made of. */
export interface SystemPromptParts {
  prompt?: string;
  context?: readonly Context[];
  state?: unknown;
  /** The client's system/developer messages, when the agent is configured to forward them. */
  forwardedInstructions?: readonly string[];
}

/** True when the state carries something worth showing to the model. */
export function hasState(state: unknown): boolean {
  if (state === undefined || state === null) return false;
  if (Array.isArray(state)) return state.length > 0;
  if (typeof state === "object") return Object.keys(state).length > 0;
  return true;
}

/**
 * Builds the system prompt of a run: the configured prompt, then the client's context items and the
 * current state (which the model can change with the state tools). Undefined when there is nothing to say.
 * The headings match CopilotKit's BuiltInAgent, so prompts tuned for it keep working.
 *
 * @example
 * ```ts
 * buildSystemPrompt({ prompt: "Be brief.", context: [{ description: "User", value: "Ada" }] });
 * // "Be brief.\n\n## Context from the application\n\nUser:\nAda\n"
 * ```
 */
export function buildSystemPrompt(parts: SystemPromptParts): string | undefined {
  const sections: string[] = [];
  if (parts.prompt?.trim()) sections.push(parts.prompt.trim());
  for (const instruction of parts.forwardedInstructions ?? []) {
    if (instruction.trim()) sections.push(instruction.trim());
  }
  const context = (parts.context ?? []).filter((item) => item && (item.description || item.value));
  if (context.length > 0) {
    sections.push(
      ["## Context from the application", ...context.map((item) => `${item.description}:\n${item.value}`)].join("\n\n"),
    );
  }
  if (hasState(parts.state)) {
    sections.push(
      "## Application State\n" +
        "This is state from the application that you can edit by calling AGUISendStateSnapshot or AGUISendStateDelta.\n" +
        "```json\n" +
        `${JSON.stringify(parts.state, null, 2)}\n` +
        "```",
    );
  }
  return sections.length > 0 ? `${sections.join("\n\n")}\n` : undefined;
}
