import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BuiltInAgent, defineTool } from "../../../src/agents/built-in/index.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { anthropic, anthropicStream, responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types } from "./helpers/verify.js";

const provider = useFakeProvider();

const config = { model: "openai/gpt-4o", apiKey: "sk-test-0123456789", baseURL: "", maxRetries: 0 };
const agentWith = (extra: Partial<ConstructorParameters<typeof BuiltInAgent>[0]> = {}) =>
  new BuiltInAgent({ ...config, baseURL: provider.url, ...extra });

describe("BuiltInAgent", () => {
  it("never throws at construction, whatever the model", () => {
    expect(() => new BuiltInAgent({ model: "nope/x" })).not.toThrow();
    expect(() => new BuiltInAgent({ model: "" })).not.toThrow();
  });

  it("clone() gives an independent agent with the same configuration", async () => {
    const agent = agentWith({ description: "helper", agentId: "a1" });
    agent.threadId = "thread-x";
    agent.messages = [{ id: "u1", role: "user", content: "Hi" }];
    agent.state = { n: 1 };
    const clone = agent.clone();

    expect(clone).toBeInstanceOf(BuiltInAgent);
    expect(clone).not.toBe(agent);
    expect(clone.configuration).toBe(agent.configuration);
    expect([clone.agentId, clone.description, clone.threadId]).toEqual(["a1", "helper", "thread-x"]);
    expect(clone.messages).toEqual(agent.messages);
    expect(clone.messages).not.toBe(agent.messages);
    (clone.state as { n: number }).n = 2;
    expect(agent.state).toEqual({ n: 1 });

    provider.enqueue(responsesStream([responses.text("from clone")]));
    const events = await collect(clone.run(makeInput()));
    await expectValidStream(events);
  });

  it("runs several runs of one instance concurrently", async () => {
    provider.enqueue(responsesStream([responses.text("one")], { frameDelayMs: 2 }), responsesStream([responses.text("two")], { frameDelayMs: 2 }));
    const agent = agentWith();
    const [a, b] = await Promise.all([collect(agent.run(makeInput({ runId: "ra" }))), collect(agent.run(makeInput({ runId: "rb" })))]);
    expect(a.at(-1)).toEqual({ type: "RUN_FINISHED", threadId: "thread-1", runId: "ra", usage: expect.any(Array), metadata: { finishReason: "stop" } });
    expect(b.at(-1)).toEqual({ type: "RUN_FINISHED", threadId: "thread-1", runId: "rb", usage: expect.any(Array), metadata: { finishReason: "stop" } });
  });

  it("does nothing until the run is subscribed", async () => {
    agentWith().run(makeInput());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(provider.requests).toHaveLength(0);
  });

  it("applies only the overrides it allows from forwardedProps", async () => {
    provider.enqueue(responsesStream([responses.text("ok")]));
    const agent = agentWith({ temperature: 0.9, topP: 0.5, overridableProperties: ["temperature", "model", "maxOutputTokens"] });
    await collect(
      agent.run(makeInput({ forwardedProps: { temperature: 0.1, topP: 0.99, model: "openai/gpt-4.1-mini", maxOutputTokens: 77 } })),
    );
    const body = provider.requests[0].body;
    expect(body.temperature).toBe(0.1); // allowed
    expect(body.top_p).toBe(0.5); // not allowed: the agent's value stays
    expect(body.model).toBe("gpt-4.1-mini");
    expect(body.max_output_tokens).toBe(77);
  });

  it("reports an invalid allowed override as RUN_ERROR invalid_override", async () => {
    const events = await collect(agentWith({ overridableProperties: ["temperature"] }).run(makeInput({ forwardedProps: { temperature: "hot" } })));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(events[1]).toMatchObject({ code: "invalid_override" });
    expect(provider.requests).toHaveLength(0);
  });

  it("an overridden model of another provider does not get this agent's key", async () => {
    const events = await collect(
      agentWith({ overridableProperties: ["model"] }).run(makeInput({ forwardedProps: { model: "anthropic/claude-x" } })),
    );
    // No ANTHROPIC_API_KEY in this environment unless set by the developer.
    if (!process.env.ANTHROPIC_API_KEY) expect(events.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "missing_api_key" });
    expect(provider.requests).toHaveLength(0);
  });

  it("uses the configured model settings", async () => {
    provider.enqueue(anthropicStream([anthropic.text("ok")]));
    await collect(
      new BuiltInAgent({
        model: "anthropic/claude-sonnet-4-5",
        apiKey: "sk-ant-0123456789",
        baseURL: provider.url,
        maxOutputTokens: 123,
        temperature: 0.3,
        stopSequences: ["STOP"],
        toolChoice: "required",
      }).run(makeInput()),
    );
    const body = provider.requests[0].body;
    expect(body).toMatchObject({ model: "claude-sonnet-4-5", max_tokens: 123, temperature: 0.3, stop_sequences: ["STOP"], tool_choice: { type: "any" } });
  });

  it("stops after maxSteps model calls", async () => {
    const echo = defineTool({ name: "echo", description: "Echo", parameters: z.object({ s: z.string() }), execute: async ({ s }) => s });
    provider.enqueue(
      responsesStream([responses.call("c1", "echo", '{"s":"a"}')]),
      responsesStream([responses.call("c2", "echo", '{"s":"b"}')]),
      responsesStream([responses.text("never requested")]),
    );
    const events = await collect(agentWith({ tools: [echo], maxSteps: 2 }).run(makeInput()));
    expect(provider.requests).toHaveLength(2);
    expect(events.filter((event) => event.type === "TOOL_CALL_RESULT")).toHaveLength(2);
    expect(provider.pending()).toBe(1);
    await expectValidStream(events);
  });

  it("reports a conversation without messages as RUN_ERROR", async () => {
    const events = await collect(agentWith().run(makeInput({ messages: [] })));
    expect(events.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "invalid_request" });
  });

  it("talks to Google Gemini through @ai-sdk/google", async () => {
    const chunk = (parts: unknown[], finishReason?: string) => ({
      data: {
        candidates: [{ content: { role: "model", parts }, index: 0, ...(finishReason && { finishReason }) }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
      },
    });
    provider.enqueue({ sse: [chunk([{ text: "thinking", thought: true }]), chunk([{ text: "Hello " }]), chunk([{ text: "Gemini" }], "STOP")] });
    const events = await collect(
      new BuiltInAgent({ model: "google/gemini-2.5-flash", apiKey: "AIza-test-0123456789", baseURL: provider.url }).run(makeInput()),
    );
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0].path).toBe("/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    expect(provider.requests[0].headers["x-goog-api-key"]).toBe("AIza-test-0123456789");
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    await expectValidStream(events);
  });

  it("advertises its capabilities", async () => {
    expect(await agentWith().getCapabilities()).toMatchObject({ tools: { supported: true, clientProvided: true }, transport: { streaming: true } });
  });
});

describe("defineTool", () => {
  it("rejects names providers refuse and the reserved state tool names", () => {
    const base = { description: "d", parameters: z.object({}), execute: async () => 1 };
    expect(() => defineTool({ ...base, name: "has space" })).toThrow(/Invalid tool name/);
    expect(() => defineTool({ ...base, name: "x".repeat(65) })).toThrow(/Invalid tool name/);
    expect(() => defineTool({ ...base, name: "AGUISendStateDelta" })).toThrow(/reserved/);
    expect(defineTool({ ...base, name: "ok_name-1" }).name).toBe("ok_name-1");
  });

  it("validates arguments against the schema before execute runs", async () => {
    const seen: unknown[] = [];
    const strict = defineTool({
      name: "strict",
      description: "Needs a number",
      parameters: z.object({ n: z.number().int() }),
      execute: async ({ n }) => {
        seen.push(n);
        return n * 2;
      },
    });
    provider.enqueue(responsesStream([responses.call("c", "strict", '{"n":"seven"}')]), responsesStream([responses.text("oops")]));
    const events = await collect(agentWith({ tools: [strict] }).run(makeInput()));
    expect(seen).toEqual([]);
    const result = events.find((event) => event.type === "TOOL_CALL_RESULT");
    expect(JSON.parse(result!.content).error).toMatch(/Invalid input/i);
    await expectValidStream(events);
  });
});
