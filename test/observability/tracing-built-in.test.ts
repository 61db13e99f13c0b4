/**
 * BuiltInAgent's `telemetry` option: the AI SDK's spans nest under the runtime's agent span, with
 * the AG-UI ids in their metadata; without the option the AI SDK makes none.
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BuiltInAgent } from "../../src/agents/built-in/index.js";
import { makeHandler } from "../helpers/handler.js";
import { useFakeProvider } from "../agents/built-in/helpers/fake-provider.js";
import { responses, responsesStream } from "../agents/built-in/helpers/scripts.js";
import { readSse, types } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const provider = useFakeProvider();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await tracerProvider.shutdown();
});
beforeEach(() => exporter.reset());

async function runWith(telemetry: ConstructorParameters<typeof BuiltInAgent>[0]["telemetry"]) {
  provider.enqueue(responsesStream([responses.text("Hi")]));
  const agent = new BuiltInAgent({ model: "openai/gpt-4o", apiKey: "sk-test-0123456789", baseURL: provider.url, maxRetries: 0, telemetry });
  const { post } = makeHandler({ agents: { default: agent } });
  const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-ai", runId: "r-ai" })));
  expect(types(events)).toContain("RUN_FINISHED");
  await vi.waitFor(() => expect(exporter.getFinishedSpans().some((span) => span.name === "copilot_runtime.request")).toBe(true));
  return exporter.getFinishedSpans();
}

describe("BuiltInAgent telemetry", () => {
  it("passes the AI SDK's spans through when asked, under the agent span", async () => {
    const spans = await runWith({ functionId: "support-chat", metadata: { tenant: "acme" }, recordInputs: false });
    const agentSpan = spans.find((span) => span.name === "copilot_runtime.agent")!;
    const stream = spans.find((span) => span.name === "ai.streamText")!;
    expect(stream).toBeDefined();
    expect(stream.parentSpanContext?.spanId).toBe(agentSpan.spanContext().spanId);
    expect(stream.attributes).toMatchObject({
      "ai.telemetry.functionId": "support-chat",
      "ai.telemetry.metadata.tenant": "acme",
      "ai.telemetry.metadata.ag_ui.thread_id": "t-ai",
      "ai.telemetry.metadata.ag_ui.run_id": "r-ai",
      "ai.telemetry.metadata.copilot_runtime.agent_id": "default",
    });
    expect(stream.attributes["ai.prompt"]).toBeUndefined();
  });

  it("makes no AI SDK spans by default", async () => {
    const spans = await runWith(undefined);
    expect(spans.some((span) => span.name === "copilot_runtime.agent")).toBe(true);
    expect(spans.filter((span) => span.name.startsWith("ai."))).toEqual([]);
  });
});
