import { AbstractAgent as Agent1, type BaseEvent } from "@ag-ui/client";
import { AbstractAgent as Agent0048 } from "ag-ui-client-0-0-48";
import { AbstractAgent as Agent0058 } from "ag-ui-client-0-0-58";
import { createOpenAI } from "@ai-sdk/openai";
import { createRequire } from "node:module";
import { from } from "rxjs";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { BuiltInAgent, defineTool } from "../../../src/agents/built-in/index.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { anthropic, anthropicStream, chatStream, responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput } from "./helpers/verify.js";

// Token usage and the finish reason, as CopilotKit 1.75's BuiltInAgent reports them on RUN_FINISHED,
// carried where @ag-ui/client 0.0.48, 0.0.58 and 1.0 all accept them.

const provider = useFakeProvider();
const KEY = "sk-test-0123456789";

// Each client's own @ag-ui/core schemas (1.0 moved them to a subpath).
function coreSchemasOf(clientPackage: string, entry = "@ag-ui/core") {
  const require = createRequire(createRequire(import.meta.url).resolve(`${clientPackage}/package.json`));
  return (require(entry) as { EventSchemas: { safeParse(value: unknown): { success: boolean; data?: any } } }).EventSchemas;
}

/** Runs recorded events through a client's runAgent() and returns the RUN_FINISHED it handed to subscribers. */
async function finishedAsSeenBy(AgentClass: any, events: BaseEvent[]) {
  class Replay extends AgentClass {
    run() {
      return from(structuredClone(events));
    }
  }
  const complaints: string[] = [];
  const record = (...args: unknown[]) => complaints.push(args.map(String).join(" "));
  const warn = vi.spyOn(console, "warn").mockImplementation(record);
  const error = vi.spyOn(console, "error").mockImplementation(record);
  let seen: any;
  try {
    const agent = new Replay();
    agent.messages = [{ id: "u1", role: "user", content: "Hello" }];
    await agent.runAgent({}, { onRunFinishedEvent: ({ event }: { event: unknown }) => void (seen = event) });
  } finally {
    warn.mockRestore();
    error.mockRestore();
  }
  return { seen, complaints };
}

describe("BuiltInAgent usage and finish reason", () => {
  it.each([
    ["Responses API", () => ({ model: "openai/gpt-4o", apiKey: KEY, baseURL: provider.url }), () => responsesStream([responses.text("Hi")]), { provider: "openai.responses", model: "gpt-4o", inputTokens: 20, outputTokens: 10, totalTokens: 30, reasoningTokens: 0, cachedInputTokens: 0 }],
    ["Chat Completions", () => ({ model: createOpenAI({ apiKey: KEY, baseURL: provider.url }).chat("gpt-4o") }), () => chatStream({ text: ["Hi"] }), { provider: "openai.chat", model: "gpt-4o", inputTokens: 20, outputTokens: 10, totalTokens: 30, reasoningTokens: 0, cachedInputTokens: 0 }],
    ["Anthropic", () => ({ model: "anthropic/claude-sonnet-4-5", apiKey: KEY, baseURL: provider.url }), () => anthropicStream([anthropic.text("Hi")]), { provider: "anthropic.messages", model: "claude-sonnet-4-5", inputTokens: 25, outputTokens: 15, totalTokens: 40, cachedInputTokens: 0, cacheWriteInputTokens: 0 }],
  ] as const)("reports the %s usage on RUN_FINISHED, accepted by every client version", async (_, config, script, usage) => {
    provider.enqueue(script());
    const events = await collect(new BuiltInAgent({ ...config(), maxRetries: 0 } as any).run(makeInput({ threadId: "t-u", runId: "r-u" })));
    const finished = events.at(-1)!;
    expect(finished).toEqual({ type: "RUN_FINISHED", threadId: "t-u", runId: "r-u", usage: [usage], metadata: { finishReason: "stop" } });
    await expectValidStream(events);

    for (const [version, AgentClass, schemas] of [
      ["1.0", Agent1, coreSchemasOf("@ag-ui/client", "@ag-ui/core/schemas")],
      ["0.0.58", Agent0058, coreSchemasOf("ag-ui-client-0-0-58")],
      ["0.0.48", Agent0048, coreSchemasOf("ag-ui-client-0-0-48")],
    ] as const) {
      const parsed = schemas.safeParse(structuredClone(finished));
      expect({ version, valid: parsed.success }).toEqual({ version, valid: true });
      const { seen, complaints } = await finishedAsSeenBy(AgentClass, events);
      expect({ version, complaints }).toEqual({ version, complaints: [] });
      // what the client's subscribers get still carries both
      expect({ version, usage: seen.usage, finishReason: seen.metadata?.finishReason }).toEqual({ version, usage: [usage], finishReason: "stop" });
    }
  });

  it("adds up the tokens of every step of a run", async () => {
    const now = defineTool({ name: "now", description: "Time", parameters: z.object({}), execute: async () => "noon" });
    provider.enqueue(responsesStream([responses.call("c1", "now", "{}")]), responsesStream([responses.text("It is noon.")]));
    const agent = new BuiltInAgent({ model: "openai/gpt-4o", apiKey: KEY, baseURL: provider.url, tools: [now] });
    const events = await collect(agent.run(makeInput()));
    expect(events.at(-1)).toMatchObject({
      type: "RUN_FINISHED",
      usage: [{ provider: "openai.responses", model: "gpt-4o", inputTokens: 40, outputTokens: 20, totalTokens: 60 }],
      metadata: { finishReason: "stop" },
    });
  });

  it("reports why the model stopped when it ran out of tokens", async () => {
    const script = responsesStream([responses.text("Cut sh")]);
    const completed = script.sse!.at(-1)!.data as { response: Record<string, unknown> };
    completed.response.status = "incomplete";
    completed.response.incomplete_details = { reason: "max_output_tokens" };
    provider.enqueue(script);
    const agent = new BuiltInAgent({ model: "openai/gpt-4o", apiKey: KEY, baseURL: provider.url });
    const events = await collect(agent.run(makeInput()));
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", metadata: { finishReason: "length" } });
  });
});
