import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { BuiltInAgent, defineTool } from "../../../src/agents/built-in/index.js";
import { startFakeProvider, useFakeProvider } from "./helpers/fake-provider.js";
import { anthropic, anthropicError, anthropicStream, openaiError, responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types } from "./helpers/verify.js";
import type { AnyEvent } from "./helpers/verify.js";
import { agentLines, useLogCapture } from "./helpers/logs.js";

const provider = useFakeProvider();
const logs = useLogCapture();
const OPENAI_KEY = "sk-secret-openai-key-0123456789";
afterEach(() => {
  vi.unstubAllEnvs();
});

const openaiAgent = (extra: Partial<ConstructorParameters<typeof BuiltInAgent>[0]> = {}) =>
  new BuiltInAgent({ model: "openai/gpt-4o", apiKey: OPENAI_KEY, baseURL: provider.url, maxRetries: 0, ...extra });

function lastEvent(events: AnyEvent[]) {
  return events.at(-1) as { type: string; message?: string; code?: string };
}

describe("BuiltInAgent errors", () => {
  it.each([
    [429, "rate_limited"],
    [500, "provider_error"],
    [503, "provider_error"],
    [400, "invalid_request"],
    [401, "authentication_failed"],
  ])("reports HTTP %i from OpenAI as RUN_ERROR %s without leaking the key", async (status, code) => {
    provider.enqueue(openaiError(status, `Boom. Incorrect API key provided: ${OPENAI_KEY}`));
    const onRunError = vi.fn();
    const events = await collect(openaiAgent({ onRunError }).run(makeInput({ runId: "r-err" })));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    const error = lastEvent(events);
    expect(error.code).toBe(code);
    expect(error.message).toContain(String(status));
    expect(JSON.stringify(events)).not.toContain(OPENAI_KEY);
    expect(JSON.stringify(events)).not.toContain("0123456789");
    expect(onRunError).toHaveBeenCalledWith(expect.anything(), { threadId: "thread-1", runId: "r-err", code });
    await expectValidStream(events);
  });

  it("reports Anthropic 429 and 500 with codes", async () => {
    provider.enqueue(anthropicError(429, "rate_limit_error", "Number of requests has exceeded your rate limit"));
    provider.enqueue(anthropicError(500, "api_error", "Internal server error"));
    const agent = new BuiltInAgent({ model: "anthropic/claude-sonnet-4-5", apiKey: "sk-ant-x-0123456789", baseURL: provider.url, maxRetries: 0 });
    const rateLimited = await collect(agent.run(makeInput()));
    const failed = await collect(agent.run(makeInput()));
    expect(lastEvent(rateLimited)).toMatchObject({ type: "RUN_ERROR", code: "rate_limited" });
    expect(lastEvent(failed)).toMatchObject({ type: "RUN_ERROR", code: "provider_error" });
    await expectValidStream(rateLimited);
    await expectValidStream(failed);
  });

  it("retries a 429 that says when to retry, then answers", async () => {
    provider.enqueue(openaiError(429, "slow down", { "retry-after-ms": "10" }), responsesStream([responses.text("ok")]));
    const events = await collect(openaiAgent({ maxRetries: 2 }).run(makeInput()));
    expect(provider.requests).toHaveLength(2);
    expect(lastEvent(events).type).toBe("RUN_FINISHED");
    await expectValidStream(events);
  });

  it("closes open text and ends with RUN_ERROR when the stream fails midway", async () => {
    const script = anthropicStream([anthropic.text("Partial ")]);
    script.sse!.splice(-2, 2, { event: "error", data: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } });
    provider.enqueue(script);
    const agent = new BuiltInAgent({ model: "anthropic/claude-sonnet-4-5", apiKey: "sk-ant-x-0123456789", baseURL: provider.url, maxRetries: 0 });
    const events = await collect(agent.run(makeInput()));
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
    expect(lastEvent(events).code).toBe("provider_error");
    await expectValidStream(events);
  });

  it("reports a missing API key at run time, not at construction", async () => {
    vi.stubEnv("OPENAI_API_KEY", "");
    const agent = new BuiltInAgent({ model: "openai/gpt-4o", baseURL: provider.url });
    const events = await collect(agent.run(makeInput()));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(lastEvent(events)).toMatchObject({ code: "missing_api_key", message: expect.stringContaining("OPENAI_API_KEY") });
    expect(provider.requests).toHaveLength(0);
    await expectValidStream(events);
  });

  it("reads the key and base URL from the environment", async () => {
    vi.stubEnv("ANTHROPIC_API_KEY", "sk-ant-env-0123456789");
    vi.stubEnv("ANTHROPIC_BASE_URL", provider.url);
    provider.enqueue(anthropicStream([anthropic.text("env")]));
    const events = await collect(new BuiltInAgent({ model: "anthropic:claude-sonnet-4-5" }).run(makeInput()));
    expect(lastEvent(events).type).toBe("RUN_FINISHED");
    expect(provider.requests[0].headers["x-api-key"]).toBe("sk-ant-env-0123456789");
  });

  it("reports an unknown provider and a malformed model at run time", async () => {
    const unknown = await collect(new BuiltInAgent({ model: "mistery/model-1" }).run(makeInput()));
    const malformed = await collect(new BuiltInAgent({ model: "gpt-4o" }).run(makeInput()));
    expect(lastEvent(unknown)).toMatchObject({ type: "RUN_ERROR", code: "unknown_provider" });
    expect(lastEvent(malformed)).toMatchObject({ type: "RUN_ERROR", code: "invalid_model" });
    await expectValidStream(unknown);
    await expectValidStream(malformed);
  });

  it("reports an unreachable provider", async () => {
    const closed = await startFakeProvider();
    await closed.close();
    const events = await collect(openaiAgent({ baseURL: closed.url }).run(makeInput()));
    expect(lastEvent(events)).toMatchObject({ type: "RUN_ERROR", code: "provider_unreachable" });
  });

  it.each([{ chunkMs: 100 }, 150])("ends a run whose provider goes silent with RUN_ERROR timeout (%j)", async (timeout) => {
    provider.enqueue(responsesStream([responses.text("start ")], { hang: true }));
    const events = await collect(openaiAgent({ timeout }).run(makeInput()));
    expect(lastEvent(events)).toMatchObject({ type: "RUN_ERROR", code: "timeout" });
    expect(types(events)).toContain("TEXT_MESSAGE_END");
    await provider.requests[0].closed;
    expect(provider.requests[0].aborted).toBe(true);
    await expectValidStream(events);
  });

  it("gives a thrown server tool error to the model, a safe message to the client, and logs it", async () => {
    const failing = defineTool({
      name: "explode",
      description: "Always fails",
      parameters: z.object({}),
      execute: async () => {
        throw new Error("disk on fire: postgres://app:hunter2-password@10.0.0.7:5432/db");
      },
    });
    provider.enqueue(responsesStream([responses.call("call_x", "explode", "{}")]), responsesStream([responses.text("It failed.")]));
    const events = await collect(openaiAgent({ tools: [failing] }).run(makeInput({ runId: "r-tool" })));
    const result = events.find((event) => event.type === "TOOL_CALL_RESULT");
    // The client (and the thread it stores) only learns that the tool failed.
    expect(JSON.parse(result!.content)).toEqual({ error: 'The tool "explode" failed.' });
    expect(JSON.stringify(events)).not.toContain("disk on fire");
    // The model reads what happened, without the credentials, so it can react.
    const toModel = JSON.stringify(provider.requests[1].body.input);
    expect(toModel).toContain("disk on fire");
    expect(toModel).not.toContain("hunter2-password");
    expect(lastEvent(events).type).toBe("RUN_FINISHED");
    // The log has the exception, redacted, with who and where.
    const toolLines = agentLines(logs);
    expect(toolLines).toHaveLength(1);
    expect(toolLines[0]).toMatchObject({
      level: "error",
      message: 'BuiltInAgent tool "explode" failed',
      details: { threadId: "thread-1", runId: "r-tool", provider: "openai.responses", toolCallId: "call_x" },
    });
    expect(toolLines[0].details.error).toContain("disk on fire");
    expect(toolLines[0].text).not.toContain("hunter2-password");
    await expectValidStream(events);
  });
});

describe("BuiltInAgent stop", () => {
  async function collectUntil(agent: BuiltInAgent, predicate: (event: AnyEvent) => boolean, onMatch: () => void) {
    const events: AnyEvent[] = [];
    let fired = false;
    await new Promise<void>((resolve, reject) => {
      agent.run(makeInput()).subscribe({
        next: (event) => {
          events.push(event);
          if (!fired && predicate(event)) {
            fired = true;
            onMatch();
          }
        },
        error: reject,
        complete: resolve,
      });
    });
    return events;
  }

  it("abortRun() aborts the upstream request mid-stream and ends the run cleanly", async () => {
    provider.enqueue(responsesStream([responses.text("one ", "two ", "three ")], { hang: true, frameDelayMs: 5 }));
    const agent = openaiAgent();
    const events = await collectUntil(agent, (event) => event.type === "TEXT_MESSAGE_CONTENT", () => agent.abortRun());

    await provider.requests[0].closed;
    expect(provider.requests[0].aborted).toBe(true);
    expect(types(events).slice(0, 3)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT"]);
    expect(types(events).slice(-2)).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
    await expectValidStream(events);
  });

  it("a stop while tool arguments stream closes the call and marks it stopped", async () => {
    const script = anthropicStream(
      [anthropic.thinking(["planning"], { omitStop: true }), anthropic.toolUse("toolu_s", "confirm", '{"q":')],
      { hang: true },
    );
    // Leave the tool_use block open: the model is still streaming its arguments when the user stops.
    script.sse = script.sse!.filter((frame) => !(frame.event === "content_block_stop" && (frame.data as { index: number }).index === 1));
    provider.enqueue(script);
    const agent = new BuiltInAgent({ model: "anthropic/claude-sonnet-4-5", apiKey: "sk-ant-x-0123456789", baseURL: provider.url });
    const events = await collectUntil(agent, (event) => event.type === "TOOL_CALL_ARGS", () => agent.abortRun());
    await provider.requests[0].closed;
    expect(provider.requests[0].aborted).toBe(true);
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "RUN_FINISHED",
    ]);
    expect(JSON.parse(events.at(-2)!.content)).toMatchObject({ status: "stopped" });
    await expectValidStream(events);
  });

  it("abortRun() during runAgent() resolves the run without a failure", async () => {
    provider.enqueue(responsesStream([responses.text("partial ")], { hang: true }));
    const agent = openaiAgent();
    agent.messages = [{ id: "u1", role: "user", content: "Hello" }];
    const failures: unknown[] = [];
    const seen: string[] = [];
    await agent.runAgent({}, {
      onEvent: ({ event }) => {
        seen.push(event.type);
        if (event.type === "TEXT_MESSAGE_CONTENT") queueMicrotask(() => agent.abortRun());
      },
      onRunFailed: ({ error }) => void failures.push(error),
    });
    expect(failures).toEqual([]);
    expect(seen.at(-1)).toBe("RUN_FINISHED");
    await provider.requests[0].closed;
    expect(provider.requests[0].aborted).toBe(true);
    expect(agent.messages.at(-1)).toMatchObject({ role: "assistant", content: "partial " });
  });

  it("unsubscribing aborts the upstream request", async () => {
    provider.enqueue(responsesStream([responses.text("a")], { hang: true }));
    const subscription = openaiAgent()
      .run(makeInput())
      .subscribe({
        next: (event) => {
          if (event.type === "TEXT_MESSAGE_CONTENT") queueMicrotask(() => subscription.unsubscribe());
        },
      });
    await vi.waitFor(() => expect(provider.requests).toHaveLength(1));
    await provider.requests[0].closed;
    expect(provider.requests[0].aborted).toBe(true);
  });

  it("abortRun() on one agent leaves its clone's run alone", async () => {
    provider.enqueue(responsesStream([responses.text("x ")], { hang: true }), responsesStream([responses.text("done")]));
    const agent = openaiAgent();
    const clone = agent.clone();
    const first = collectUntil(agent, (event) => event.type === "TEXT_MESSAGE_CONTENT", () => {
      agent.abortRun();
    });
    const firstEvents = await first;
    const second = await collect(clone.run(makeInput()));
    expect(lastEvent(firstEvents).type).toBe("RUN_FINISHED");
    expect(types(second)).toContain("TEXT_MESSAGE_CONTENT");
    expect(lastEvent(second).type).toBe("RUN_FINISHED");
  });
});
