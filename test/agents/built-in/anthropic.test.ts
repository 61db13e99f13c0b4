import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BuiltInAgent, defineTool } from "../../../src/agents/built-in/index.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { anthropic, anthropicStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types } from "./helpers/verify.js";
import type { AnyEvent } from "./helpers/verify.js";

const provider = useFakeProvider();

const agentWith = (extra: Partial<ConstructorParameters<typeof BuiltInAgent>[0]> = {}) =>
  new BuiltInAgent({
    model: "anthropic/claude-sonnet-4-5",
    apiKey: "sk-ant-test-0123456789",
    baseURL: provider.url,
    providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } },
    ...extra,
  });

const idsOf = (events: AnyEvent[], type: string) =>
  events.filter((event) => event.type === type).map((event) => (event).messageId);

describe("BuiltInAgent with @ai-sdk/anthropic", () => {
  it("closes reasoning the provider never ends, before the text, with its own message id", async () => {
    provider.enqueue(
      anthropicStream([
        anthropic.thinking(["Let me ", "", "think."], { signature: "sig-abc", omitStop: true }),
        anthropic.text("The ", "answer."),
      ]),
    );
    const events = await collect(agentWith().run(makeInput()));

    expect(types(events)).toEqual([
      "RUN_STARTED",
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_ENCRYPTED_VALUE",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    const [reasoningId] = idsOf(events, "REASONING_START");
    const [textId] = idsOf(events, "TEXT_MESSAGE_START");
    expect(reasoningId).not.toBe(textId);
    expect(events[2]).toEqual({ type: "REASONING_MESSAGE_START", messageId: reasoningId, role: "reasoning" });
    expect(idsOf(events, "REASONING_MESSAGE_CONTENT")).toEqual([reasoningId, reasoningId]);
    expect(idsOf(events, "REASONING_END")).toEqual([reasoningId]);

    const request = provider.requests[0];
    expect(request.path).toBe("/v1/messages");
    expect(request.headers["x-api-key"]).toBe("sk-ant-test-0123456789");
    expect(request.body.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });

    const replays = await expectValidStream(events);
    for (const replay of replays) {
      const roles = replay.messages.map((message) => message.role);
      expect(roles).toEqual(["reasoning", "assistant"]);
      expect(replay.messages[0]).toMatchObject({ content: "Let me think." });
      expect(replay.messages[1]).toMatchObject({ content: "The answer." });
    }
  });

  it("closes reasoning that is still open when the stream ends", async () => {
    provider.enqueue(anthropicStream([anthropic.thinking(["Only thinking."], { omitStop: true })]));
    const events = await collect(agentWith().run(makeInput()));
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "RUN_FINISHED",
    ]);
    await expectValidStream(events);
  });

  it("closes reasoning before a tool call and sends the signed thinking back on the next turn", async () => {
    provider.enqueue(
      anthropicStream([
        anthropic.thinking(["I should ask."], { signature: "sig-xyz", omitStop: true }),
        anthropic.toolUse("toolu_1", "confirm", '{"question":', '"OK?"}'),
      ]),
    );
    const tools = [{ name: "confirm", description: "Ask", parameters: { type: "object", properties: { question: { type: "string" } } } }];
    const first = makeInput({ tools });
    const events = await collect(agentWith().run(first));
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_ENCRYPTED_VALUE",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "RUN_FINISHED",
    ]);
    const replays = await expectValidStream(events);
    const history = replays[0].messages;
    expect(history[0]).toMatchObject({ role: "reasoning", content: "I should ask.", encryptedValue: expect.any(String) });

    provider.enqueue(anthropicStream([anthropic.text("Thanks.")]));
    const second = await collect(
      agentWith().run(
        makeInput({
          tools,
          messages: [...first.messages, ...history, { id: "t1", role: "tool", toolCallId: "toolu_1", content: "yes" }],
        }),
      ),
    );
    await expectValidStream(second);
    const sent = provider.requests[1].body.messages;
    expect(sent).toEqual([
      { role: "user", content: [{ type: "text", text: "Hello" }] },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "I should ask.", signature: "sig-xyz" },
          { type: "tool_use", id: "toolu_1", name: "confirm", input: { question: "OK?" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "yes" }] },
    ]);
  });

  it("passes redacted thinking to the client and back to the provider", async () => {
    provider.enqueue(anthropicStream([anthropic.redacted("opaque-data"), anthropic.text("Hi.")]));
    const events = await collect(agentWith().run(makeInput()));
    const replays = await expectValidStream(events);
    expect(events.find((event) => event.type === "REASONING_ENCRYPTED_VALUE")).toMatchObject({ subtype: "message" });
    const history = replays[0].messages;
    expect(history.map((message) => message.role)).toEqual(["reasoning", "assistant"]);

    provider.enqueue(anthropicStream([anthropic.text("Again.")]));
    await collect(agentWith().run(makeInput({ messages: [{ id: "u", role: "user", content: "Hello" }, ...history, { id: "u2", role: "user", content: "More" }] })));
    expect(provider.requests[1].body.messages[1].content[0]).toEqual({ type: "redacted_thinking", data: "opaque-data" });
  });

  it("runs a server tool between two model calls", async () => {
    const lookup = defineTool({
      name: "lookup",
      description: "Look something up",
      parameters: z.object({ q: z.string() }),
      execute: async ({ q }) => `found ${q}`,
    });
    provider.enqueue(
      anthropicStream([anthropic.thinking(["Need data."], { signature: "s1", omitStop: true }), anthropic.toolUse("toolu_2", "lookup", '{"q":"x"}')]),
      anthropicStream([anthropic.thinking(["Got it."], { signature: "s2", omitStop: true }), anthropic.text("Found x.")]),
    );
    const events = await collect(agentWith({ tools: [lookup] }).run(makeInput()));
    expect(events.find((event) => event.type === "TOOL_CALL_RESULT")).toMatchObject({ toolCallId: "toolu_2", content: "found x" });
    const reasoningIds = idsOf(events, "REASONING_START");
    expect(reasoningIds).toHaveLength(2);
    expect(new Set(reasoningIds).size).toBe(2);
    expect(idsOf(events, "TEXT_MESSAGE_START").some((id) => reasoningIds.includes(id))).toBe(false);
    await expectValidStream(events);
    // Within the run the AI SDK itself sends the signed thinking back with the tool result.
    expect(provider.requests[1].body.messages[1].content[0]).toEqual({ type: "thinking", thinking: "Need data.", signature: "s1" });
  });
});
