import { createOpenAI } from "@ai-sdk/openai";
import { EventType, type BaseEvent, type Message } from "@ag-ui/core";
import { streamText, tool } from "ai";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  BuiltInAgent,
  convertAISDKStream,
  convertJsonSchemaToZodSchema,
  convertMessagesToVercelAISDKMessages,
  convertToolsToVercelAITools,
  InterruptSignal,
  type BuiltInAgentFactoryContext,
} from "../../../src/built-in.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { agentLines, useLogCapture } from "./helpers/logs.js";
import { responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types, type AnyEvent } from "./helpers/verify.js";

// Factory mode: the application makes the model call (AI SDK, or any source of AG-UI events) and
// BuiltInAgent owns the run: lifecycle, interrupts, resume, errors, stop.

const provider = useFakeProvider();
const logs = useLogCapture();
const model = () => createOpenAI({ apiKey: "sk-test-0123456789", baseURL: provider.url })("gpt-4o");

const aisdkAgent = (extraTools: Record<string, any> = {}) =>
  new BuiltInAgent({
    type: "aisdk",
    factory: ({ input, abortSignal }: BuiltInAgentFactoryContext) =>
      streamText({
        model: model(),
        messages: convertMessagesToVercelAISDKMessages(input.messages),
        tools: { ...convertToolsToVercelAITools(input.tools), ...extraTools },
        abortSignal,
        maxRetries: 0,
      }),
  });

const pausedConversation: Message[] = [
  { id: "u1", role: "user", content: "Delete file a.txt" },
  { id: "a1", role: "assistant", toolCalls: [{ id: "call_1", type: "function", function: { name: "delete_file", arguments: '{"path":"a.txt"}' } }] },
];
const deleteFile = tool({ description: "Delete a file", inputSchema: z.object({ path: z.string() }), needsApproval: true, execute: async () => "deleted" });

describe("factory mode: aisdk", () => {
  it("streams the factory's streamText() as AG-UI events and finishes with its finish reason and usage", async () => {
    provider.enqueue(responsesStream([responses.text("Hello ", "there")]));
    const events = await collect(aisdkAgent().run(makeInput()));
    await expectValidStream(events);
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    expect(events.at(-1)).toMatchObject({ metadata: { finishReason: "stop" }, usage: [{ inputTokens: 20, outputTokens: 10, totalTokens: 30 }] });
  });

  it("a frontend tool call from the client's tools stays open for the client", async () => {
    provider.enqueue(responsesStream([responses.call("call_9", "show_chart", '{"n":1}')]));
    const input = makeInput({ tools: [{ name: "show_chart", description: "Show", parameters: { type: "object", properties: { n: { type: "number" } } } }] });
    const events = await collect(aisdkAgent().run(input));
    await expectValidStream(events);
    expect(types(events)).toEqual(["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED"]);
    expect(provider.requests[0].body.tools.map((t: any) => t.name)).toEqual(["show_chart"]);
  });

  it("an AI SDK tool with needsApproval pauses the run; the resume answer reaches the model as the call's result", async () => {
    provider.enqueue(responsesStream([responses.call("call_1", "delete_file", '{"path":"a.txt"}')]));
    const paused = await collect(aisdkAgent({ delete_file: deleteFile }).run(makeInput()));
    await expectValidStream(paused);
    expect(paused.at(-1)!.outcome).toEqual({
      type: "interrupt",
      interrupts: [{ id: "call_1", toolCallId: "call_1", reason: "tool_approval", message: 'Approve "delete_file"?', metadata: { toolName: "delete_file" } }],
    });

    provider.enqueue(responsesStream([responses.text("Done.")]));
    const resume = [{ interruptId: "call_1", status: "resolved" as const, payload: { approved: false } }];
    const resumed = await collect(aisdkAgent({ delete_file: deleteFile }).run(makeInput({ messages: pausedConversation, resume })));
    await expectValidStream(resumed, pausedConversation);
    const output = (provider.requests[1].body.input as any[]).find((item) => item.type === "function_call_output");
    expect(output).toMatchObject({ call_id: "call_1" });
    expect(JSON.parse(output.output)).toEqual({ approved: false });
  });

  it("a factory that throws, or returns no stream, ends the run with a safe RUN_ERROR and calls onRunError with the cause", async () => {
    const onRunError = vi.fn();
    const failing = new BuiltInAgent({ type: "aisdk", onRunError, factory: () => { throw new Error("db password=hunter2 rejected"); } });
    const events = await collect(failing.run(makeInput()));
    await expectValidStream(events);
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(events[1].message).not.toContain("hunter2");
    expect(onRunError).toHaveBeenCalledWith(expect.objectContaining({ message: "db password=hunter2 rejected" }), expect.objectContaining({ code: events[1].code }));
    expect(agentLines(logs)).toHaveLength(1);

    const wrong = new BuiltInAgent({ type: "aisdk", factory: () => ({}) as any });
    const wrongEvents = await collect(wrong.run(makeInput()));
    expect(types(wrongEvents)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
  });
});

describe("factory mode: custom", () => {
  const say = (text: string): BaseEvent[] => [
    { type: EventType.TEXT_MESSAGE_START, messageId: `m-${text}`, role: "assistant" } as BaseEvent,
    { type: EventType.TEXT_MESSAGE_CONTENT, messageId: `m-${text}`, delta: text } as BaseEvent,
    { type: EventType.TEXT_MESSAGE_END, messageId: `m-${text}` } as BaseEvent,
  ];

  it("passes the factory's events through between one RUN_STARTED and one RUN_FINISHED (the factory's lends its fields)", async () => {
    const agent = new BuiltInAgent({
      type: "custom",
      async *factory({ input }) {
        yield { type: EventType.RUN_STARTED, threadId: input.threadId, runId: input.runId } as BaseEvent;
        yield* say("hi");
        yield { type: EventType.RUN_FINISHED, threadId: input.threadId, runId: input.runId, result: { ok: true } } as BaseEvent;
      },
    });
    const events = await collect(agent.run(makeInput({ runId: "r-c1" })));
    await expectValidStream(events);
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    expect(events.at(-1)).toEqual({ type: "RUN_FINISHED", threadId: "thread-1", runId: "r-c1", result: { ok: true } });
  });

  it("interrupt() pauses a fresh run and returns the answers on the resumed one", async () => {
    const agent = () =>
      new BuiltInAgent({
        type: "custom",
        async *factory({ interrupt }) {
          const [answer] = await interrupt([{ id: "confirm-1", reason: "confirmation", message: "Send it?" }]);
          yield* say(answer.status === "resolved" ? `sent:${JSON.stringify(answer.payload)}` : "cancelled");
        },
      });
    const paused = await collect(agent().run(makeInput()));
    await expectValidStream(paused);
    expect(types(paused)).toEqual(["RUN_STARTED", "RUN_FINISHED"]);
    expect(paused[1].outcome).toEqual({ type: "interrupt", interrupts: [{ id: "confirm-1", reason: "confirmation", message: "Send it?" }] });

    const resumed = await collect(agent().run(makeInput({ resume: [{ interruptId: "confirm-1", status: "resolved", payload: { to: "bob" } }] })));
    await expectValidStream(resumed);
    expect(resumed.find((event) => event.type === "TEXT_MESSAGE_CONTENT")!.delta).toBe('sent:{"to":"bob"}');
    expect(resumed.at(-1)).not.toHaveProperty("outcome");
  });

  it("a factory may throw InterruptSignal itself", async () => {
    const agent = new BuiltInAgent({ type: "custom", factory: async () => { throw new InterruptSignal([{ id: "i1", reason: "input_required" }]); } });
    const events = await collect(agent.run(makeInput()));
    expect(events.at(-1)!.outcome).toEqual({ type: "interrupt", interrupts: [{ id: "i1", reason: "input_required" }] });
  });

  it("a RUN_ERROR from the factory ends the run with it; abortRun() ends a hanging factory with RUN_FINISHED", async () => {
    const erroring = new BuiltInAgent({
      type: "custom",
      async *factory() {
        yield { type: EventType.RUN_ERROR, message: "backend down", code: "backend" } as BaseEvent;
        yield* say("never");
      },
    });
    const errored = await collect(erroring.run(makeInput()));
    expect(types(errored)).toEqual(["RUN_STARTED", "RUN_ERROR"]);

    const hanging = new BuiltInAgent({
      type: "custom",
      async *factory({ abortSignal }) {
        yield* say("partial");
        await new Promise((resolve) => abortSignal.addEventListener("abort", resolve));
      },
    });
    const run = collect(hanging.run(makeInput()));
    setTimeout(() => hanging.abortRun(), 20);
    const stopped = await run;
    expect(types(stopped)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
  });
});

describe("factory mode configuration", () => {
  it("refuses an unknown type, a missing factory, classic options and learnedSkills", () => {
    expect(() => new BuiltInAgent({ type: "langchain", factory: () => [] } as any)).toThrow(/unknown factory type "langchain"/);
    expect(() => new BuiltInAgent({ type: "custom" } as any)).toThrow(/needs a factory function/);
    expect(() => new BuiltInAgent({ type: "custom", factory: async function* () {}, model: "openai/gpt-4o" } as any)).toThrow(/model does not apply in factory mode/);
    expect(() => new BuiltInAgent({ model: "openai/gpt-4o", learnedSkills: {} } as any)).toThrow(/learnedSkills/);
  });
});

// ---------------------------------------------------------------- side by side with CopilotKit 1.75

const lifecycle = (events: AnyEvent[]) =>
  events.filter((event) => !event.type.startsWith("TEXT_MESSAGE")).map((event) => ({ type: event.type, outcome: event.outcome }));

describe("factory mode side by side with CopilotKit 1.75", () => {
  it("custom factory: the same lifecycle and interrupt outcome, fresh and resumed", async () => {
    const v2 = (await import("@copilotkit/runtime/v2")) as any;
    const factory = async function* ({ interrupt }: BuiltInAgentFactoryContext) {
      const [answer] = await interrupt([{ id: "confirm-1", reason: "confirmation", message: "Send it?" }]);
      yield { type: EventType.TEXT_MESSAGE_START, messageId: "m1", role: "assistant" } as BaseEvent;
      yield { type: EventType.TEXT_MESSAGE_CONTENT, messageId: "m1", delta: String(answer.status) } as BaseEvent;
      yield { type: EventType.TEXT_MESSAGE_END, messageId: "m1" } as BaseEvent;
    };
    for (const resume of [undefined, [{ interruptId: "confirm-1", status: "resolved" as const }]]) {
      const theirs = await collect(new v2.BuiltInAgent({ type: "custom", factory }).run(makeInput({ resume })));
      const mine = await collect(new BuiltInAgent({ type: "custom", factory }).run(makeInput({ resume })));
      expect(lifecycle(mine)).toEqual(lifecycle(theirs));
    }
  });

  it("aisdk factory with needsApproval: the same interrupt, and the same tool result sent on resume", async () => {
    const v2 = (await import("@copilotkit/runtime/v2")) as any;
    const factory = ({ input, abortSignal }: BuiltInAgentFactoryContext) =>
      streamText({ model: model(), messages: v2.convertMessagesToVercelAISDKMessages(input.messages), tools: { delete_file: deleteFile }, abortSignal, maxRetries: 0 });
    const script = () => responsesStream([responses.call("call_1", "delete_file", '{"path":"a.txt"}')]);
    provider.enqueue(script(), script());
    const theirs = await collect(new v2.BuiltInAgent({ type: "aisdk", factory }).run(makeInput()));
    const mine = await collect(new BuiltInAgent({ type: "aisdk", factory }).run(makeInput()));
    expect(theirs.at(-1)!.outcome?.type).toBe("interrupt");
    expect(mine.at(-1)!.outcome).toEqual(theirs.at(-1)!.outcome);
    expect(lifecycle(mine).filter((event) => event.type !== "TOOL_CALL_ARGS")).toEqual(lifecycle(theirs).filter((event) => event.type !== "TOOL_CALL_ARGS"));

    provider.enqueue(responsesStream([responses.text("ok")]), responsesStream([responses.text("ok")]));
    const resume = [{ interruptId: "call_1", status: "cancelled" as const }];
    await collect(new v2.BuiltInAgent({ type: "aisdk", factory }).run(makeInput({ messages: pausedConversation, resume })));
    await collect(new BuiltInAgent({ type: "aisdk", factory }).run(makeInput({ messages: pausedConversation, resume })));
    const outputs = (body: any) => (body.input as any[]).filter((item) => item.type === "function_call_output");
    expect(outputs(provider.requests[3].body)).toEqual(outputs(provider.requests[2].body));
    expect(outputs(provider.requests[2].body)).toHaveLength(1);
  });

  it("convertJsonSchemaToZodSchema accepts and rejects the same values as 1.75's", async () => {
    const v2 = (await import("@copilotkit/runtime/v2")) as any;
    const table: Array<[any, boolean, unknown[]]> = [
      [{ type: "string" }, true, ["a", 1, undefined, null]],
      [{ type: "string" }, false, ["a", 1, undefined]],
      [{ type: "string", enum: ["x", "y"] }, true, ["x", "z"]],
      [{ type: "integer" }, true, [1, 1.5, "1"]],
      [{ type: "boolean" }, true, [true, "true"]],
      [{ type: "null" }, true, [null, 0]],
      [{ type: "array", items: { type: "number" } }, true, [[1, 2], [1, "2"], []]],
      [{ type: "object", properties: { a: { type: "string" }, b: { type: "number" } }, required: ["a"] }, true, [{ a: "x" }, { b: 1 }, { a: "x", b: "1" }, {}]],
      [{ type: "object" }, true, [{}, { extra: 1 }, 1]],
      [{}, false, [undefined, {}, "x"]],
      [{ anyOf: [{ type: "string" }, { type: "number" }] }, true, ["a", 2, true]],
      [{ oneOf: [{ type: "object", properties: { kind: { type: "string", enum: ["a"] } }, required: ["kind"] }] }, true, [{ kind: "a" }, { kind: "b" }]],
    ];
    for (const [schema, required, values] of table) {
      const mine = convertJsonSchemaToZodSchema(schema, required);
      const theirs = v2.convertJsonSchemaToZodSchema(schema, required);
      for (const value of values) {
        expect({ schema, required, value, ok: mine.safeParse(value).success }).toEqual({ schema, required, value, ok: theirs.safeParse(value).success });
      }
    }
    expect(() => convertJsonSchemaToZodSchema({ type: "array" }, true)).toThrow("Array type must have items property");
  });
});

describe("convertAISDKStream", () => {
  it("closes what the stream left open and rethrows an error part after closing", async () => {
    async function* parts() {
      yield { type: "start-step" };
      yield { type: "text-start", id: "t" };
      yield { type: "text-delta", id: "t", text: "cut" };
      yield { type: "error", error: new Error("boom") };
    }
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of convertAISDKStream(parts(), new AbortController().signal)) seen.push(event.type);
      })(),
    ).rejects.toThrow("boom");
    expect(seen).toEqual(["TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END"]);
  });
});
