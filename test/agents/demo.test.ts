/**
 * The demo agent's frontend-tool behaviour: it calls a tool the client offers when the user
 * asks for it, ends the run there, and acknowledges the result on the next run.
 */
import type { BaseEvent, RunAgentInput } from "@ag-ui/client";
import { describe, expect, it } from "vitest";
import { planToolCall } from "../../src/agents/demo-tools.js";
import { DemoAgent } from "../../src/agents/demo.js";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { SseReader } from "../adapters/support.js";

type Event = BaseEvent & Record<string, any>;

const setBackgroundColor = {
  name: "setBackgroundColor",
  description: "Sets the page background colour.",
  parameters: { type: "object", properties: { color: { type: "string" } }, required: ["color"] },
};
const showNotice = { name: "showNotice", description: "Shows a notice.", parameters: { type: "object", properties: { text: { type: "string" } } } };

function input(messages: RunAgentInput["messages"], tools = [setBackgroundColor, showNotice]): RunAgentInput {
  return { threadId: "t", runId: `r${Math.random()}`, state: {}, messages, tools, context: [], forwardedProps: {} };
}

const user = (content: string) => ({ id: `u-${content}`, role: "user" as const, content });

function runToEnd(agent: DemoAgent, runInput: RunAgentInput): Promise<Event[]> {
  return new Promise((resolve, reject) => {
    const events: Event[] = [];
    agent.run(runInput).subscribe({ next: (e) => void events.push(e as Event), error: reject, complete: () => resolve(events) });
  });
}

const text = (events: Event[]) =>
  events
    .filter((e) => e.type === "TEXT_MESSAGE_CONTENT")
    .map((e) => e.delta)
    .join("");

describe("DemoAgent with frontend tools", () => {
  it("calls the tool the user asks for, attached to its message, and ends the run", async () => {
    const events = await runToEnd(new DemoAgent({ wordDelayMs: 0 }), input([user("Change the background to teal")]));
    expect(events.map((e) => e.type)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "RUN_FINISHED",
    ]);
    const start = events.find((e) => e.type === "TOOL_CALL_START")!;
    expect(start.toolCallName).toBe("setBackgroundColor");
    expect(start.parentMessageId).toBe(events.find((e) => e.type === "TEXT_MESSAGE_START")!.messageId);
    const args = events.find((e) => e.type === "TOOL_CALL_ARGS")!;
    expect(args.toolCallId).toBe(start.toolCallId);
    expect(JSON.parse(args.delta)).toEqual({ color: "teal" });
  });

  it("acknowledges the tool's result on the next run instead of calling it again", async () => {
    const messages: RunAgentInput["messages"] = [
      user("Change the background to teal"),
      {
        id: "a1",
        role: "assistant",
        content: "Calling setBackgroundColor.",
        toolCalls: [{ id: "call-1", type: "function", function: { name: "setBackgroundColor", arguments: '{"color":"teal"}' } }],
      },
      { id: "tool-1", role: "tool", toolCallId: "call-1", content: "Background changed to teal" },
    ];
    const events = await runToEnd(new DemoAgent({ wordDelayMs: 0 }), input(messages));
    expect(events.some((e) => e.type === "TOOL_CALL_START")).toBe(false);
    expect(text(events)).toBe('Done: I called setBackgroundColor with {"color":"teal"} and it answered "Background changed to teal".');
  });

  it("does not call a tool the client did not offer", async () => {
    const events = await runToEnd(new DemoAgent({ wordDelayMs: 0 }), input([user("Change the background to teal")], []));
    expect(events.some((e) => e.type === "TOOL_CALL_START")).toBe(false);
    expect(text(events)).toContain('You said: "Change the background to teal"');
  });

  it("does not call a tool when the message does not ask for one", async () => {
    const events = await runToEnd(new DemoAgent({ wordDelayMs: 0 }), input([user("Hello there, how are you?")]));
    expect(events.some((e) => e.type === "TOOL_CALL_START")).toBe(false);
  });

  it("still gives a long reply when asked for one", async () => {
    const events = await runToEnd(new DemoAgent({ wordDelayMs: 0 }), input([user("Tell me something long")]));
    expect(text(events).split(" ")).toHaveLength(400);
  });
});

describe("planToolCall", () => {
  const tools = [setBackgroundColor, showNotice];

  it.each([
    ["setBackgroundColor to navy", "setBackgroundColor", { color: "navy" }],
    ["please set the background color to light green.", "setBackgroundColor", { color: "light green" }],
    ["make the background to gold!", "setBackgroundColor", { color: "gold" }],
    ["Use the tool", "setBackgroundColor", { color: "demo" }],
    ["show notice to everyone", "showNotice", { text: "everyone" }],
  ])("%j calls %s with %j", (message, name, args) => {
    const plan = planToolCall(message, tools);
    expect(plan?.tool.name).toBe(name);
    expect(plan?.args).toEqual(args);
  });

  it("fills number, boolean and enum parameters from the schema", () => {
    const tool = {
      name: "configure",
      parameters: {
        type: "object",
        properties: { size: { type: "number" }, on: { type: "boolean" }, mode: { enum: ["dark", "light"] } },
      },
    };
    expect(planToolCall("use the tool to light", [tool])?.args).toEqual({ size: 1, on: true, mode: "light" });
  });
});

describe("DemoAgent tool round trip through the runtime", () => {
  it("streams the tool call, acknowledges the result, and replays both runs on connect", async () => {
    const handler = createCopilotRuntimeHandler({
      runtime: new CopilotRuntime({ agents: { default: new DemoAgent({ wordDelayMs: 0 }) } }),
      basePath: "/api/copilotkit",
    });
    const post = async (route: string, body: unknown) =>
      new SseReader(
        await handler(
          new Request(`http://localhost/api/copilotkit/agent/default/${route}`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
          }),
        ),
      ).rest();

    const first = input([user("Change the background to teal")]);
    const firstEvents = await post("run", { ...first, threadId: "round-trip" });
    const call = firstEvents.find((e) => e.type === "TOOL_CALL_START")!;
    expect(call.toolCallName).toBe("setBackgroundColor");

    const messages = [
      ...first.messages,
      {
        id: call.parentMessageId,
        role: "assistant",
        content: "Calling setBackgroundColor.",
        toolCalls: [{ id: call.toolCallId, type: "function", function: { name: "setBackgroundColor", arguments: '{"color":"teal"}' } }],
      },
      { id: "tool-result", role: "tool", toolCallId: call.toolCallId, content: "ok" },
    ];
    const secondEvents = await post("run", { ...input(messages as RunAgentInput["messages"]), threadId: "round-trip" });
    expect(text(secondEvents as Event[])).toContain('it answered "ok"');

    const replay = await post("connect", { ...input([]), threadId: "round-trip" });
    expect(replay.filter((e) => e.type === "TOOL_CALL_START")).toHaveLength(1);
    expect(replay.filter((e) => e.type === "RUN_FINISHED")).toHaveLength(2);
  });
});
