import type { RunAgentInput } from "@ag-ui/core";
import { describe, expect, it } from "vitest";
import { BuiltInAgent, convertInputToTanStackAI } from "../../../src/built-in.js";
import { collect, expectValidStream, makeInput, types, type AnyEvent } from "./helpers/verify.js";

// Factory mode with TanStack AI, fed the chunk shapes TanStack's chat() streams (per-turn lifecycle,
// a tool it runs itself and re-announces, an approval request), side by side with CopilotKit 1.75.

const chunks = (approval: boolean) => [
  { type: "RUN_STARTED", runId: "t1" },
  { type: "REASONING_START", messageId: "r1" },
  { type: "REASONING_MESSAGE_START", messageId: "r1" },
  { type: "REASONING_MESSAGE_CONTENT", messageId: "r1", delta: "thinking" },
  { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "Let me look." },
  { type: "TOOL_CALL_START", toolCallId: "c1", toolCallName: "search" },
  { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: '{"q":"x"}' },
  { type: "TOOL_CALL_END", toolCallId: "c1" },
  { type: "RUN_FINISHED", runId: "t1", finishReason: "tool_calls", usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } },
  { type: "TOOL_CALL_RESULT", toolCallId: "c1", content: '{"hits":1}' },
  { type: "RUN_STARTED", runId: "t2" },
  // chat() re-announces the call it ran when it prompts again
  { type: "TOOL_CALL_START", toolCallId: "c1", toolCallName: "search" },
  { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: '{"q":"x"}' },
  { type: "TOOL_CALL_END", toolCallId: "c1" },
  { type: "TEXT_MESSAGE_CONTENT", messageId: "m2", delta: "Found one." },
  ...(approval
    ? [
        { type: "TOOL_CALL_START", toolCallId: "c2", toolCallName: "delete" },
        { type: "TOOL_CALL_ARGS", toolCallId: "c2", delta: "{}" },
        { type: "TOOL_CALL_END", toolCallId: "c2" },
        { type: "CUSTOM", name: "approval-requested", value: { toolCallId: "c2", toolName: "delete" } },
      ]
    : []),
  { type: "RUN_FINISHED", runId: "t2", finishReason: approval ? "tool_calls" : "stop", usage: { promptTokens: 20, completionTokens: 7, totalTokens: 27 } },
];

async function* play(items: unknown[]) {
  for (const item of items) yield item;
}

const lifecycle = (events: AnyEvent[]) =>
  events
    .filter((event) => !event.type.startsWith("TEXT_MESSAGE") && !event.type.startsWith("REASONING"))
    .map((event) => ({ type: event.type, toolCallId: event.toolCallId, content: event.content, outcome: event.outcome }));

describe("factory mode: tanstack", () => {
  it("turns a multi-turn chat() stream into one valid run with the summed usage", async () => {
    const agent = new BuiltInAgent({ type: "tanstack", factory: () => play(chunks(false)) });
    const events = await collect(agent.run(makeInput()));
    await expectValidStream(events);
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    expect(events.at(-1)).toMatchObject({ metadata: { finishReason: "stop" }, usage: [{ inputTokens: 30, outputTokens: 12, totalTokens: 42 }] });
  });

  it("a TanStack RUN_ERROR ends the run with RUN_ERROR after closing what is open", async () => {
    const agent = new BuiltInAgent({ type: "tanstack", factory: () => play([{ type: "TEXT_MESSAGE_CONTENT", delta: "Hi" }, { type: "RUN_ERROR", message: "401 from provider" }]) });
    const events = await collect(agent.run(makeInput()));
    await expectValidStream(events);
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
  });

  it.each([false, true])("gives the same tool calls, results and outcome as CopilotKit 1.75 (approval: %s)", async (approval) => {
    const v2 = (await import("@copilotkit/runtime/v2")) as any;
    const theirs = await collect(new v2.BuiltInAgent({ type: "tanstack", factory: () => play(chunks(approval)) }).run(makeInput()));
    const mine = await collect(new BuiltInAgent({ type: "tanstack", factory: () => play(chunks(approval)) }).run(makeInput()));
    expect(lifecycle(mine)).toEqual(lifecycle(theirs));
    if (approval) expect(mine.at(-1)!.outcome.interrupts[0]).toMatchObject({ id: "c2", reason: "tool_approval" });
  });

  it("convertInputToTanStackAI gives 1.75's messages and system prompts", async () => {
    const v2 = (await import("@copilotkit/runtime/v2")) as any;
    const input: RunAgentInput = makeInput({
      messages: [
        { id: "s", role: "system", content: "Be brief." },
        { id: "u", role: "user", content: "Hi" },
        { id: "a", role: "assistant", content: "", toolCalls: [{ id: "c1", type: "function", function: { name: "search", arguments: '{"q":"x"}' } }] },
        { id: "t", role: "tool", toolCallId: "c1", content: "1 hit" },
        { id: "u2", role: "user", content: [{ type: "text", text: "and this" }] as any },
      ],
      context: [{ description: "Page", value: "/home" }],
      state: { n: 1 },
      tools: [{ name: "show", description: "Show", parameters: { type: "object", properties: { x: { type: "string" } } } }],
    });
    const mine = convertInputToTanStackAI(input);
    const theirs = v2.convertInputToTanStackAI(input);
    expect(mine.messages).toEqual(theirs.messages);
    expect(mine.systemPrompts).toEqual(theirs.systemPrompts);
    expect(mine.tools.map((tool) => tool.name)).toEqual(theirs.tools.map((tool: any) => tool.name));
  });
});
