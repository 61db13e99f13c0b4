/**
 * Scripts for agents that produce generative UI, as a model would: an A2UI `render_a2ui` tool
 * call, an Open Generative UI `generateSandboxedUi` call, and a call to an MCP Apps UI tool. The
 * runtime's middlewares turn these into the activity events CopilotKit's client renders.
 *
 * @example
 * ```ts
 * const agent = new ScriptedAgent({ script: a2uiSurfaceReply() });
 * const runtime = new CopilotRuntime({ agents: { default: agent }, a2ui: {} });
 * ```
 */
import type { RunAgentInput } from "@ag-ui/client";
import type { Script, ScriptEvent } from "./agents.js";

/** The surface `a2uiSurfaceReply` draws: a title, a line bound to the data model, a button. */
export const A2UI_SURFACE = {
  surfaceId: "flight-card",
  components: [
    { id: "root", component: "Column", children: ["title", "status"] },
    { id: "title", component: "Text", text: "Flight LX 1820 to Lisbon", variant: "h2" },
    { id: "status", component: "Text", text: { path: "/status" } },
  ],
  data: { status: "Boarding at gate 42" },
};

/** The tool call id a generative-UI script uses in a run: stable per run. */
export function uiToolCallId(input: RunAgentInput, name: string): string {
  return `${name}-${input.runId}`;
}

/** Streams `args` as JSON in a few pieces, like a model streaming tool arguments. */
function streamedToolCall(input: RunAgentInput, name: string, args: unknown, pieces = 3): ScriptEvent[] {
  const toolCallId = uiToolCallId(input, name);
  const json = JSON.stringify(args);
  const size = Math.ceil(json.length / pieces);
  const deltas: ScriptEvent[] = [];
  for (let i = 0; i < json.length; i += size) deltas.push({ type: "TOOL_CALL_ARGS", toolCallId, delta: json.slice(i, i + size) });
  return [
    { type: "TOOL_CALL_START", toolCallId, toolCallName: name, parentMessageId: `msg-${input.runId}` },
    ...deltas,
    { type: "TOOL_CALL_END", toolCallId },
  ];
}

function run(input: RunAgentInput, body: ScriptEvent[]): ScriptEvent[] {
  return [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    ...body,
    { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
  ];
}

/** A run whose agent calls `render_a2ui` with {@link A2UI_SURFACE} (what an LLM does with the injected tool). */
export function a2uiSurfaceReply(surface: typeof A2UI_SURFACE = A2UI_SURFACE): Script {
  return (input) => run(input, streamedToolCall(input, "render_a2ui", surface, 4));
}

/** A run whose agent calls Open Generative UI's `generateSandboxedUi` tool. */
export function sandboxedUiReply(): Script {
  return (input) =>
    run(
      input,
      streamedToolCall(input, "generateSandboxedUi", {
        initialHeight: 240,
        placeholderMessages: ["Drawing the chart"],
        css: ".bar { background: teal; }",
        html: "<div class=\"bar\">42</div>",
      }),
    );
}

/** A run whose agent calls `toolName` when the run's tools offer it (MCP Apps adds UI tools), else only answers. */
export function callToolIfOffered(toolName: string, args: Record<string, unknown>): Script {
  return (input) => {
    const offered = (input.tools ?? []).some((tool) => tool.name === toolName);
    const messageId = `msg-${input.runId}`;
    const text: ScriptEvent[] = [
      { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId, delta: offered ? "Here it is." : "I have no such tool." },
      { type: "TEXT_MESSAGE_END", messageId },
    ];
    return run(input, offered ? [...text, ...streamedToolCall(input, toolName, args, 1)] : text);
  };
}
