import { createOpenAI } from "@ai-sdk/openai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BuiltInAgent, defineTool } from "../../../src/agents/built-in/index.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { chatStream, responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types } from "./helpers/verify.js";
import type { AnyEvent } from "./helpers/verify.js";

const provider = useFakeProvider();

const agentWith = (extra: Partial<ConstructorParameters<typeof BuiltInAgent>[0]> = {}) =>
  new BuiltInAgent({ model: "openai/gpt-4o", apiKey: "sk-test-key-1234567890", baseURL: provider.url, ...extra });

const textOf = (events: AnyEvent[]) =>
  events
    .filter((event) => event.type === "TEXT_MESSAGE_CONTENT")
    .map((event) => (event).delta)
    .join("");

describe("BuiltInAgent with @ai-sdk/openai (Responses API)", () => {
  it("streams plain text as one assistant message", async () => {
    provider.enqueue(responsesStream([responses.text("Hel", "", "lo ", "there!")]));
    const events = await collect(agentWith().run(makeInput({ threadId: "t-1", runId: "r-1" })));

    expect(types(events)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    expect(events[0]).toEqual({ type: "RUN_STARTED", threadId: "t-1", runId: "r-1" });
    expect(events.at(-1)).toEqual({
      type: "RUN_FINISHED",
      threadId: "t-1",
      runId: "r-1",
      // the fake's response.completed reports these counts
      usage: [{ provider: "openai.responses", model: "gpt-4o", inputTokens: 20, outputTokens: 10, totalTokens: 30, reasoningTokens: 0, cachedInputTokens: 0 }],
      metadata: { finishReason: "stop" },
    });
    expect(textOf(events)).toBe("Hello there!");
    expect(events[1]).toMatchObject({ role: "assistant" });

    const [request] = provider.requests;
    expect(request.path).toBe("/v1/responses");
    expect(request.headers.authorization).toBe("Bearer sk-test-key-1234567890");
    expect(request.body.stream).toBe(true);
    expect(request.body.model).toBe("gpt-4o");
    expect(request.body.input).toEqual([{ role: "user", content: [{ type: "input_text", text: "Hello" }] }]);

    const replays = await expectValidStream(events);
    for (const replay of replays) {
      expect(replay.messages).toEqual([{ id: expect.any(String), role: "assistant", content: "Hello there!" }]);
    }
  });

  it("sends the system prompt built from prompt, context and state", async () => {
    provider.enqueue(responsesStream([responses.text("ok")]));
    const events = await collect(
      agentWith({ prompt: "You are terse." }).run(
        makeInput({ context: [{ description: "User name", value: "Ada" }], state: { count: 2 } }),
      ),
    );
    await expectValidStream(events);
    const system = provider.requests[0].body.input[0];
    expect(system.role).toBe("system");
    expect(system.content).toContain("You are terse.");
    expect(system.content).toContain("## Context from the application");
    expect(system.content).toContain("User name:\nAda");
    expect(system.content).toContain('"count": 2');
    const toolNames = provider.requests[0].body.tools.map((tool: { name: string }) => tool.name);
    expect(toolNames).toEqual(expect.arrayContaining(["AGUISendStateSnapshot", "AGUISendStateDelta"]));
  });

  it("runs a server tool, streams its result and continues to a final answer", async () => {
    const calls: unknown[] = [];
    const weather = defineTool({
      name: "get_weather",
      description: "Weather in a city",
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }, { toolCallId }) => {
        calls.push({ city, toolCallId });
        return { city, celsius: 21 };
      },
    });
    provider.enqueue(
      responsesStream([responses.text("Let me check."), responses.call("call_1", "get_weather", '{"city":', '"Paris"}')]),
      responsesStream([responses.text("It is 21°C in Paris.")]),
    );
    const events = await collect(agentWith({ tools: [weather] }).run(makeInput()));

    expect(calls).toEqual([{ city: "Paris", toolCallId: "call_1" }]);
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    const firstText = events[1];
    const start = events[4];
    expect(start).toMatchObject({ toolCallId: "call_1", toolCallName: "get_weather", parentMessageId: firstText.messageId });
    expect(events[8]).toMatchObject({ toolCallId: "call_1", content: JSON.stringify({ city: "Paris", celsius: 21 }) });
    const secondText = events[9];
    expect(secondText.messageId).not.toBe(firstText.messageId);

    // The second model call carries the call and its result.
    const input = provider.requests[1].body.input;
    expect(input).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "function_call_output", call_id: "call_1", output: JSON.stringify({ city: "Paris", celsius: 21 }) }),
      ]),
    );

    const replays = await expectValidStream(events);
    for (const replay of replays) {
      expect(replay.messages.map((message) => message.role)).toEqual(["assistant", "tool", "assistant"]);
      expect(replay.messages[0]).toMatchObject({
        content: "Let me check.",
        toolCalls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      });
    }
  });

  it("ends the run when the model calls a frontend tool, leaving the call to the client", async () => {
    provider.enqueue(responsesStream([responses.call("call_9", "confirm", '{"question":"Proceed?"}')]));
    const input = makeInput({
      tools: [
        {
          name: "confirm",
          description: "Ask the user",
          parameters: { type: "object", properties: { question: { type: "string" } }, required: ["question"] },
        },
      ],
    });
    const events = await collect(agentWith().run(input));
    expect(types(events)).toEqual(["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED"]);
    expect(provider.requests).toHaveLength(1);
    const tool = provider.requests[0].body.tools.find((entry: { name: string }) => entry.name === "confirm");
    expect(tool).toMatchObject({ type: "function", name: "confirm", parameters: { properties: { question: { type: "string" } } } });

    const replays = await expectValidStream(events);
    for (const replay of replays) {
      expect(replay.messages).toEqual([
        {
          id: expect.any(String),
          role: "assistant",
          toolCalls: [{ id: "call_9", type: "function", function: { name: "confirm", arguments: '{"question":"Proceed?"}' } }],
        },
      ]);
    }

    // The client answers and runs again: the call and its result go back to the model.
    provider.enqueue(responsesStream([responses.text("Done.")]));
    const next = await collect(
      agentWith().run(
        makeInput({
          messages: [
            ...input.messages,
            ...replays[0].messages,
            { id: "tool-1", role: "tool", toolCallId: "call_9", content: "yes" },
          ],
          tools: input.tools,
        }),
      ),
    );
    await expectValidStream(next);
    expect(provider.requests[1].body.input).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "function_call", call_id: "call_9", name: "confirm" }),
        expect.objectContaining({ type: "function_call_output", call_id: "call_9", output: "yes" }),
      ]),
    );
  });

  it("turns the state tools into STATE_SNAPSHOT and STATE_DELTA", async () => {
    provider.enqueue(
      responsesStream([
        responses.call("call_s", "AGUISendStateSnapshot", '{"snapshot":{"todos":["a"]}}'),
        responses.call("call_d", "AGUISendStateDelta", '{"delta":[{"op":"add","path":"/todos/-","value":"b"}]}'),
      ]),
      responsesStream([responses.text("Updated.")]),
    );
    const events = await collect(agentWith().run(makeInput({ state: { todos: [] } })));
    const stateEvents = events.filter((event) => event.type.startsWith("STATE_"));
    expect(stateEvents).toEqual([
      { type: "STATE_SNAPSHOT", snapshot: { todos: ["a"] } },
      { type: "STATE_DELTA", delta: [{ op: "add", path: "/todos/-", value: "b" }] },
    ]);
    const replays = await expectValidStream(events);
    expect(replays[0].state).toEqual({ todos: ["a", "b"] });
  });

  it("returns an invalid state delta to the model as a tool error instead of emitting it", async () => {
    provider.enqueue(
      responsesStream([responses.call("call_d", "AGUISendStateDelta", '{"delta":[{"op":"replace","path":"/missing/x","value":1}]}')]),
      responsesStream([responses.text("Sorry.")]),
    );
    const events = await collect(agentWith().run(makeInput({ state: { count: 1 } })));
    expect(events.some((event) => event.type === "STATE_DELTA")).toBe(false);
    const result = events.find((event) => event.type === "TOOL_CALL_RESULT");
    expect(JSON.parse(result!.content)).toHaveProperty("error");
    await expectValidStream(events);
  });

  it("names the failing operation of a bad state patch, not the whole state, and leaves the state alone", async () => {
    // ~106 KB of state: fast-json-patch's own error message would copy all of it into the tool result.
    const state = { items: Array.from({ length: 1500 }, (_, i) => ({ id: i, title: `item number ${i}`, notes: "x".repeat(40) })) };
    expect(JSON.stringify(state).length).toBeGreaterThan(100_000);
    const delta = [
      { op: "replace", path: "/items/0/title", value: "first" },
      { op: "replace", path: "/items/99999/title", value: "nope" },
    ];
    provider.enqueue(
      responsesStream([responses.call("call_big", "AGUISendStateDelta", JSON.stringify({ delta }))]),
      responsesStream([responses.text("Sorry.")]),
    );
    const events = await collect(agentWith().run(makeInput({ state })));
    const result = events.find((event) => event.type === "TOOL_CALL_RESULT")!;
    expect(result.content.length).toBeLessThan(500);
    const message = 'The state was not changed: operation 1 (replace "/items/99999/title") failed because the path does not exist in the state.';
    expect(JSON.parse(result.content)).toEqual({ error: message });
    // the model reads the same, bounded, explanation
    const output = provider.requests[1].body.input.find((item: { type?: string }) => item.type === "function_call_output");
    expect(JSON.stringify(output)).toContain("operation 1 (replace");
    expect(JSON.stringify(output).length).toBeLessThan(500);
    expect(events.some((event) => event.type === "STATE_DELTA")).toBe(false);
    await expectValidStream(events);
  });

  it("streams reasoning summaries as their own reasoning messages and drops them from the next request", async () => {
    provider.enqueue(responsesStream([responses.reasoning("Thinking ", "hard."), responses.text("Answer.")]));
    const agent = agentWith({ model: "openai/o4-mini", providerOptions: { openai: { reasoningSummary: "auto" } } });
    const events = await collect(agent.run(makeInput()));
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    expect(provider.requests[0].body.reasoning).toEqual({ summary: "auto" });
    const replays = await expectValidStream(events);
    const history = replays[0].messages;
    expect(history.map((message) => message.role)).toEqual(["reasoning", "assistant"]);

    provider.enqueue(responsesStream([responses.text("More.")]));
    await collect(agent.run(makeInput({ messages: [{ id: "u", role: "user", content: "Hello" }, ...history, { id: "u2", role: "user", content: "Go on" }] })));
    // OpenAI rejects a reasoning item without the output that followed it: reasoning is not sent back.
    expect(provider.requests[1].body.input).toEqual([
      { role: "user", content: [{ type: "input_text", text: "Hello" }] },
      { role: "assistant", content: [{ type: "output_text", text: "Answer." }] },
      { role: "user", content: [{ type: "input_text", text: "Go on" }] },
    ]);
  });

  it("works through runAgent() and keeps the conversation on the agent", async () => {
    provider.enqueue(responsesStream([responses.text("Hi!")]));
    const agent = agentWith();
    agent.messages = [{ id: "u1", role: "user", content: "Hello" }];
    const seen: string[] = [];
    const failures: unknown[] = [];
    const result = await agent.runAgent({ runId: "r-9" }, {
      onEvent: ({ event }) => void seen.push(event.type),
      onRunFailed: ({ error }) => void failures.push(error),
    });
    expect(failures).toEqual([]);
    expect(seen).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    expect(result.newMessages).toEqual([{ id: expect.any(String), role: "assistant", content: "Hi!" }]);
    expect(agent.messages).toHaveLength(2);
  });

  it("accepts a LanguageModel object, e.g. the Chat Completions API", async () => {
    provider.enqueue(chatStream({ text: ["Hi", " from chat"] }));
    const model = createOpenAI({ apiKey: "sk-chat-key-123456", baseURL: provider.url }).chat("gpt-4o");
    const events = await collect(new BuiltInAgent({ model }).run(makeInput()));
    expect(provider.requests[0].path).toBe("/v1/chat/completions");
    expect(textOf(events)).toBe("Hi from chat");
    await expectValidStream(events);
  });

  it("runs a server tool over the Chat Completions API", async () => {
    const add = defineTool({
      name: "add",
      description: "Add two numbers",
      parameters: z.object({ a: z.number(), b: z.number() }),
      execute: async ({ a, b }) => a + b,
    });
    provider.enqueue(
      chatStream({ calls: [{ id: "call_a", name: "add", args: ['{"a":2,', '"b":3}'] }] }),
      chatStream({ text: ["5"] }),
    );
    const model = createOpenAI({ apiKey: "sk-chat-key-123456", baseURL: provider.url }).chat("gpt-4o");
    const events = await collect(new BuiltInAgent({ model, tools: [add] }).run(makeInput()));
    expect(events.find((event) => event.type === "TOOL_CALL_RESULT")).toMatchObject({ toolCallId: "call_a", content: "5" });
    expect(textOf(events)).toBe("5");
    await expectValidStream(events);
  });
});
