import { createOpenAI } from "@ai-sdk/openai";
import type { Message } from "@ag-ui/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BuiltInAgent, defineTool, type ToolDefinition } from "../../../src/agents/built-in/index.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { agentLines, useLogCapture } from "./helpers/logs.js";
import { responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types, type AnyEvent } from "./helpers/verify.js";

// Interrupt tools (defineTool({ interrupt: true })) and resumed runs, on the fake OpenAI provider,
// and side by side with CopilotKit 1.75's BuiltInAgent where the behaviour is meant to match.

const provider = useFakeProvider();
const logs = useLogCapture();
const KEY = "sk-test-0123456789";

const approveRefund = defineTool({
  name: "approve_refund",
  description: "Ask a human to approve a refund",
  parameters: z.object({ amount: z.number() }),
  interrupt: true,
  interruptMessage: "Approve this refund?",
});
const lookUpOrder = defineTool({
  name: "look_up_order",
  description: "Find an order",
  parameters: z.object({ id: z.string() }),
  execute: async ({ id }) => ({ id, total: 40 }),
});

const agentWith = (tools: ToolDefinition<any>[] = [approveRefund, lookUpOrder]) =>
  new BuiltInAgent({ model: "openai/gpt-4o", apiKey: KEY, baseURL: provider.url, maxRetries: 0, tools });

/** The conversation a client holds after an interrupted run: the paused call has no result. */
const pausedConversation: Message[] = [
  { id: "u1", role: "user", content: "Refund order 7" },
  {
    id: "a1",
    role: "assistant",
    toolCalls: [{ id: "call_1", type: "function", function: { name: "approve_refund", arguments: '{"amount":40}' } }],
  },
];

const functionOutputs = (body: any) => (body.input as any[]).filter((item) => item.type === "function_call_output");

describe("interrupt tools", () => {
  it("a call to an interrupt tool ends the run paused, with one interrupt keyed by the tool call id", async () => {
    provider.enqueue(responsesStream([responses.text("Let me ask."), responses.call("call_1", "approve_refund", '{"amount":', "40}")]));
    const events = await collect(agentWith().run(makeInput()));

    await expectValidStream(events);
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "RUN_FINISHED",
    ]);
    expect(events.at(-1)!.outcome).toEqual({
      type: "interrupt",
      interrupts: [{ id: "call_1", toolCallId: "call_1", reason: "tool_call", message: "Approve this refund?" }],
    });
    expect(provider.requests).toHaveLength(1); // paused: no second model call without the human's answer
  });

  it("uses the tool's interruptReason, and one interrupt per call when the model calls it twice", async () => {
    const ask = defineTool({ name: "ask", description: "Ask", parameters: z.object({ q: z.string() }), interrupt: true, interruptReason: "approval" });
    provider.enqueue(responsesStream([responses.call("c1", "ask", '{"q":"a"}'), responses.call("c2", "ask", '{"q":"b"}')]));
    const events = await collect(agentWith([ask]).run(makeInput()));
    await expectValidStream(events);
    expect(events.at(-1)!.outcome.interrupts).toEqual([
      { id: "c1", toolCallId: "c1", reason: "approval" },
      { id: "c2", toolCallId: "c2", reason: "approval" },
    ]);
  });

  it("a server tool called beside the interrupt tool still runs, and the run pauses after it", async () => {
    provider.enqueue(responsesStream([responses.call("c1", "look_up_order", '{"id":"7"}'), responses.call("c2", "approve_refund", '{"amount":40}')]));
    const events = await collect(agentWith().run(makeInput()));
    await expectValidStream(events);
    const results = events.filter((event) => event.type === "TOOL_CALL_RESULT");
    expect(results.map((event) => [event.toolCallId, JSON.parse(event.content)])).toEqual([["c1", { id: "7", total: 40 }]]);
    expect(events.at(-1)!.outcome.interrupts.map((interrupt: any) => interrupt.id)).toEqual(["c2"]);
    expect(provider.requests).toHaveLength(1);
  });

  it("a run without an interrupt tool call finishes without an outcome", async () => {
    provider.enqueue(responsesStream([responses.text("Done.")]));
    const events = await collect(agentWith().run(makeInput()));
    expect(events.at(-1)).not.toHaveProperty("outcome");
  });

  it("resume gives the human's payload to the model as the paused call's result, and the run continues", async () => {
    provider.enqueue(responsesStream([responses.text("Refunded.")]));
    const events = await collect(
      agentWith().run(makeInput({ messages: pausedConversation, resume: [{ interruptId: "call_1", status: "resolved", payload: { approved: true } }] })),
    );
    await expectValidStream(events, pausedConversation);
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED" });
    expect(events.at(-1)).not.toHaveProperty("outcome");
    const input = provider.requests[0].body.input as any[];
    // the answer sits right after its call, where every provider expects it
    const callIndex = input.findIndex((item) => item.type === "function_call" && item.call_id === "call_1");
    expect(input[callIndex + 1]).toMatchObject({ type: "function_call_output", call_id: "call_1" });
    expect(JSON.parse(input[callIndex + 1].output)).toEqual({ approved: true });
  });

  it("a cancelled resume answers { status: 'cancelled' }; a resolved one without payload { status: 'resolved' }", async () => {
    provider.enqueue(responsesStream([responses.text("ok")]), responsesStream([responses.text("ok")]));
    await collect(agentWith().run(makeInput({ messages: pausedConversation, resume: [{ interruptId: "call_1", status: "cancelled", payload: { x: 1 } }] })));
    await collect(agentWith().run(makeInput({ messages: pausedConversation, resume: [{ interruptId: "call_1", status: "resolved" }] })));
    expect(JSON.parse(functionOutputs(provider.requests[0].body)[0].output)).toEqual({ status: "cancelled" });
    expect(JSON.parse(functionOutputs(provider.requests[1].body)[0].output)).toEqual({ status: "resolved" });
  });

  it("a tool message the client already added for the call wins over the resume entry (no double answer)", async () => {
    provider.enqueue(responsesStream([responses.text("ok")]));
    const messages: Message[] = [...pausedConversation, { id: "t1", role: "tool", toolCallId: "call_1", content: '{"approved":false}' }];
    await collect(agentWith().run(makeInput({ messages, resume: [{ interruptId: "call_1", status: "resolved", payload: { approved: true } }] })));
    const outputs = functionOutputs(provider.requests[0].body);
    expect(outputs).toHaveLength(1);
    expect(outputs[0].output).toBe('{"approved":false}');
  });

  it.each([
    ["not an array", { interruptId: "call_1", status: "resolved" }, "resume must be an array"],
    ["an unknown status", [{ interruptId: "call_1", status: "ok" }], 'resume[0].status must be "resolved" or "cancelled"'],
    ["no interruptId", [{ status: "resolved" }], "resume[0].interruptId must be a non-empty string"],
    ["an id no tool call has", [{ interruptId: "call_9", status: "resolved" }], 'resume[0].interruptId "call_9" answers no tool call'],
    ["the same id twice", [{ interruptId: "call_1", status: "resolved" }, { interruptId: "call_1", status: "cancelled" }], "resume[1] answers interrupt"],
  ])("a resume with %s is RUN_ERROR invalid_request naming the entry, before any model call", async (_, resume, message) => {
    const events = await collect(agentWith().run(makeInput({ messages: pausedConversation, resume: resume as any })));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(events[1]).toMatchObject({ code: "invalid_request" });
    expect(events[1].message).toContain(message);
    expect(provider.requests).toHaveLength(0);
    expect(agentLines(logs).map((line) => line.level)).toEqual(["warn"]); // the client's mistake, not the server's
  });

  it("reports humanInTheLoop.interrupts in its capabilities, and the capabilities option replaces whole categories", async () => {
    expect(await agentWith().getCapabilities()).toMatchObject({ humanInTheLoop: { interrupts: true }, tools: { supported: true, clientProvided: true } });
    const custom = new BuiltInAgent({ model: "openai/gpt-4o", capabilities: { tools: { supported: true } } });
    const capabilities = await custom.getCapabilities();
    expect(capabilities.tools).toEqual({ supported: true });
    expect(capabilities.transport).toEqual({ streaming: true });
  });
});

describe("defineTool with interrupt", () => {
  const base = { name: "ask", description: "Ask", parameters: z.object({}) };
  it("rejects an interrupt tool with execute, a plain tool without it, and interrupt texts without interrupt", () => {
    expect(() => defineTool({ ...base, interrupt: true, execute: async () => 1 })).toThrow(/takes no execute function/);
    expect(() => defineTool({ ...base })).toThrow(/needs an execute function \(or interrupt: true/);
    expect(() => defineTool({ ...base, execute: async () => 1, interruptMessage: "?" })).toThrow(/only apply with interrupt: true/);
    expect(() => defineTool({ ...base, interrupt: true, interruptReason: "" })).toThrow(/interruptReason must be a non-empty string/);
  });

  it("BuiltInAgent applies the same checks to tools written as plain objects", () => {
    expect(() => new BuiltInAgent({ model: "openai/gpt-4o", tools: [{ ...base, interrupt: true, execute: async () => 1 }] })).toThrow(/takes no execute function/);
    expect(() => new BuiltInAgent({ model: "openai/gpt-4o", tools: [{ ...base, name: "bad name", execute: async () => 1 }] })).toThrow(/Invalid tool name "bad name"/);
    expect(() => new BuiltInAgent({ model: "openai/gpt-4o", tools: [{ ...base, interrupt: true }] })).not.toThrow();
  });
});

// ---------------------------------------------------------------- side by side with CopilotKit 1.75

/** The events that say what a run did, without the text framing where the two agents differ by design. */
const shape = (events: AnyEvent[]) =>
  events
    .filter((event) => !event.type.startsWith("TEXT_MESSAGE"))
    .map((event) =>
      event.type === "RUN_FINISHED" ? { type: event.type, outcome: event.outcome } : event.type === "TOOL_CALL_START" ? { type: event.type, name: event.toolCallName, id: event.toolCallId } : { type: event.type },
    );

describe("interrupt tools side by side with CopilotKit 1.75's BuiltInAgent", () => {
  async function reference(tools: "interrupt") {
    const v2 = (await import("@copilotkit/runtime/v2")) as any;
    const model = createOpenAI({ apiKey: KEY, baseURL: provider.url })("gpt-4o");
    const refTool = v2.defineTool({
      name: "approve_refund",
      description: "Ask a human to approve a refund",
      parameters: z.object({ amount: z.number() }),
      interrupt: tools === "interrupt",
      interruptMessage: "Approve this refund?",
    });
    return new v2.BuiltInAgent({ model, tools: [refTool], maxRetries: 0 });
  }
  const ours = () =>
    new BuiltInAgent({ model: createOpenAI({ apiKey: KEY, baseURL: provider.url })("gpt-4o"), tools: [approveRefund], maxRetries: 0 });

  it("emits the same tool-call events and the same interrupt outcome on a paused run", async () => {
    const script = () => responsesStream([responses.text("Asking."), responses.call("call_1", "approve_refund", '{"amount":40}')]);
    provider.enqueue(script(), script());
    const theirs = await collect((await reference("interrupt")).run(makeInput()));
    const mine = await collect(ours().run(makeInput()));
    expect(theirs.at(-1)!.outcome?.type).toBe("interrupt");
    expect(shape(mine)).toEqual(shape(theirs));
    expect(mine.at(-1)!.outcome).toEqual(theirs.at(-1)!.outcome);
  });

  it("sends the model the same tool result on resume", async () => {
    provider.enqueue(responsesStream([responses.text("ok")]), responsesStream([responses.text("ok")]));
    const resume = [{ interruptId: "call_1", status: "resolved" as const, payload: { approved: true, note: "fine" } }];
    const theirs = await collect((await reference("interrupt")).run(makeInput({ messages: pausedConversation, resume })));
    const mine = await collect(ours().run(makeInput({ messages: pausedConversation, resume })));
    expect(shape(mine)).toEqual(shape(theirs));
    expect(functionOutputs(provider.requests[0].body)).toHaveLength(1);
    expect(functionOutputs(provider.requests[1].body)).toEqual(functionOutputs(provider.requests[0].body));
    // and the same conversation items in the same order
    const items = (body: any) => (body.input as any[]).map((item) => item.type ?? item.role);
    expect(items(provider.requests[1].body)).toEqual(items(provider.requests[0].body));
  });

  it("answers a cancelled resume the same way", async () => {
    provider.enqueue(responsesStream([responses.text("ok")]), responsesStream([responses.text("ok")]));
    const resume = [{ interruptId: "call_1", status: "cancelled" as const }];
    await collect((await reference("interrupt")).run(makeInput({ messages: pausedConversation, resume })));
    await collect(ours().run(makeInput({ messages: pausedConversation, resume })));
    expect(functionOutputs(provider.requests[1].body)).toEqual(functionOutputs(provider.requests[0].body));
  });
});

describe("an interrupt round trip through the runtime, with @ag-ui/client's HttpAgent", () => {
  it("pauses, then resumes on the same thread with the human's answer", async () => {
    const { CopilotRuntime } = await import("../../../src/index.js");
    const { startServer } = await import("../../helpers/server.js");
    const { HttpAgent } = await import("@ag-ui/client");
    const server = await startServer({ runtime: new CopilotRuntime({ agents: { default: agentWith() } }) });
    try {
      const client = () => new HttpAgent({ url: `${server.runtimeUrl}/agent/default/run` });
      provider.enqueue(responsesStream([responses.call("call_1", "approve_refund", '{"amount":40}')]));
      const paused = await collect(client().run(makeInput({ threadId: "refunds", runId: "r1", messages: pausedConversation.slice(0, 1) })));
      expect(paused.at(-1)).toMatchObject({
        type: "RUN_FINISHED",
        outcome: { type: "interrupt", interrupts: [{ id: "call_1", toolCallId: "call_1", reason: "tool_call" }] },
      });
      // a client that reloads the thread (connect) sees the pending interrupt too
      const replay = await fetch(`${server.runtimeUrl}/agent/default/connect`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify(makeInput({ threadId: "refunds", runId: "r1-connect", messages: [] })),
      });
      const replayed = (await replay.text())
        .split("\n\n")
        .map((frame) => frame.split("\n").find((line) => line.startsWith("data:")))
        .filter((line): line is string => Boolean(line))
        .map((line) => JSON.parse(line.slice(5)) as AnyEvent);
      expect(replayed.filter((event) => event.type === "RUN_FINISHED").at(-1)!.outcome).toEqual(paused.at(-1)!.outcome);

      provider.enqueue(responsesStream([responses.text("Refund approved.")]));
      const resumed = await collect(
        client().run(makeInput({ threadId: "refunds", runId: "r2", messages: pausedConversation, resume: [{ interruptId: "call_1", status: "resolved", payload: { approved: true } }] })),
      );
      expect(resumed.at(-1)!.type).toBe("RUN_FINISHED");
      expect(resumed.at(-1)).not.toHaveProperty("outcome");
      expect(JSON.parse(functionOutputs(provider.requests[1].body)[0].output)).toEqual({ approved: true });
    } finally {
      await server.close();
    }
  });
});
