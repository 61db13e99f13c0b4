import { describe, expect, it } from "vitest";
import { CopilotRuntime, createCopilotRuntimeHandler } from "../../../src/index.js";
import { BuiltInAgent } from "../../../src/agents/built-in/index.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { openaiError, responses, responsesStream } from "./helpers/scripts.js";
import { useLogCapture } from "./helpers/logs.js";
import { expectValidStream, makeInput, type AnyEvent } from "./helpers/verify.js";

// BuiltInAgent served by this project's runtime over HTTP/SSE, as a client would see it.

const provider = useFakeProvider();
const logs = useLogCapture();

function serve() {
  const agent = new BuiltInAgent({ model: "openai/gpt-4o", apiKey: "sk-test-0123456789", baseURL: provider.url, maxRetries: 0 });
  const runtime = new CopilotRuntime({ agents: { default: agent } });
  const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api" });
  const post = (path: string, body: unknown) =>
    handler(
      new Request(`http://localhost/api${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  return { post };
}

async function* sseEvents(response: Response): AsyncGenerator<AnyEvent> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) yield JSON.parse(data) as AnyEvent;
    }
  }
}

describe("BuiltInAgent behind the runtime", () => {
  it("streams a run over SSE", async () => {
    provider.enqueue(responsesStream([responses.text("Hello ", "world")]));
    const response = await serve().post("/agent/default/run", makeInput({ threadId: "rt-1", runId: "rr-1" }));
    expect(response.status).toBe(200);
    const events: AnyEvent[] = [];
    for await (const event of sseEvents(response)) events.push(event);
    expect(events.map((event) => event.type)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    await expectValidStream(events);
  });

  it("a stop request aborts the model request and ends the open /run stream", async () => {
    provider.enqueue(responsesStream([responses.text("one ", "two ")], { hang: true }));
    const { post } = serve();
    const response = await post("/agent/default/run", makeInput({ threadId: "rt-stop" }));
    const events: AnyEvent[] = [];
    for await (const event of sseEvents(response)) {
      events.push(event);
      if (event.type === "TEXT_MESSAGE_CONTENT" && events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length === 1) {
        const stop = await post("/agent/default/stop/rt-stop", {});
        expect(await stop.json()).toMatchObject({ stopped: true });
      }
    }
    await provider.requests[0].closed;
    expect(provider.requests[0].aborted).toBe(true);
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
    expect(events.map((event) => event.type)).toContain("TEXT_MESSAGE_END");
  });

  it("logs a provider failure once, naming the agent, and streams only the code and a safe message", async () => {
    provider.enqueue(openaiError(500, "upstream 10.1.2.3 exploded, key sk-test-0123456789"));
    const response = await serve().post("/agent/default/run", makeInput({ threadId: "rt-err", runId: "rr-err" }));
    const events: AnyEvent[] = [];
    for await (const event of sseEvents(response)) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "provider_error", message: "The model provider failed (HTTP 500)." });
    expect(JSON.stringify(events)).not.toContain("10.1.2.3");
    // one warning or error line in the whole runtime (runner and HTTP layer included); the rest
    // are the info lines every run and request gets, which carry no provider text
    const problems = logs.filter((line) => line.level !== "info");
    expect(problems.map((line) => line.message)).toEqual(["BuiltInAgent run failed: provider_error"]);
    expect(problems[0]).toMatchObject({ level: "error", details: { agent: "default", threadId: "rt-err", runId: "rr-err", status: 500 } });
    expect(problems[0].details.providerMessage).toBe("upstream 10.1.2.3 exploded, key [redacted]");
    const info = logs.filter((line) => line.level === "info");
    expect(info.map((line) => line.message).sort()).toEqual(["request", "run ended", "run started"]);
    expect(info.find((line) => line.message === "run ended")?.details).toMatchObject({ outcome: "error", code: "provider_error" });
    expect(info.some((line) => line.text.includes("10.1.2.3"))).toBe(false);
    // the failure line carries the request's id, like every other line about the request
    expect(new Set(logs.map((line) => line.details.requestId)).size).toBe(1);
    expect(problems[0].details.requestId).toEqual(expect.any(String));
  });
});
