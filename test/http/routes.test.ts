import { describe, expect, it, vi } from "vitest";
import { Observable } from "rxjs";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { TranscriptionService } from "../../src/transcription/index.js";
import { setLogger } from "../../src/logger.js";
import { VERSION } from "../../src/version.js";
import pkg from "../../package.json" with { type: "json" };
import { makeHandler } from "../helpers/handler.js";
import { readSse, types } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, helloScript, longScript } from "../helpers/agents.js";

const quietLogger = { info: () => {}, warn: () => {}, error: () => {} };
setLogger(quietLogger);

describe("GET /info", () => {
  it("reports the agents and the 1.54.1 and current fields", async () => {
    const { get } = makeHandler();
    const response = await get("/info");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const info = await response.json();
    expect(info).toMatchObject({
      version: VERSION,
      agents: { default: { name: "default", description: "A scripted test agent.", className: "ScriptedAgent" } },
      audioFileTranscriptionEnabled: false,
      mode: "sse",
      a2uiEnabled: false,
      suggestions: true,
      threadEndpoints: { list: true, inspect: true, realtimeMetadata: false },
    });
  });

  it("keeps VERSION equal to package.json", () => {
    expect(VERSION).toBe(pkg.version);
  });

  it("includes capabilities, and omits them when getCapabilities throws", async () => {
    const good = new ScriptedAgent({ script: helloScript, delayMs: 0 });
    (good as any).getCapabilities = async () => ({ tools: { supported: true } });
    const bad = new ScriptedAgent({ script: helloScript, delayMs: 0 });
    (bad as any).getCapabilities = async () => {
      throw new Error("boom");
    };
    const { get } = makeHandler({ agents: { good, bad } });
    const info = await (await get("/info")).json();
    expect(info.agents.good.capabilities).toEqual({ tools: { supported: true } });
    expect(info.agents.bad).not.toHaveProperty("capabilities");
  });

  it("resolves a per-request agents factory with the request", async () => {
    const { get } = makeHandler({
      agents: ({ request }): Record<string, ScriptedAgent> =>
        request.headers.get("x-tenant") === "a" ? { alpha: new ScriptedAgent({ script: helloScript, delayMs: 0 }) } : { beta: new ScriptedAgent({ script: helloScript, delayMs: 0 }) },
    });
    expect(Object.keys((await (await get("/info", { "x-tenant": "a" })).json()).agents)).toEqual(["alpha"]);
    expect(Object.keys((await (await get("/info")).json()).agents)).toEqual(["beta"]);
  });

  it("answers 500 with a stable code and no details when the agents factory throws", async () => {
    const { get } = makeHandler({
      agents: () => {
        throw new Error("database password is hunter2");
      },
    });
    const response = await get("/info");
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body.error).toBe("agent_factory_failed");
    expect(JSON.stringify(body)).not.toContain("hunter2");
  });

  it("turns threadEndpoints off in single-route mode", async () => {
    const { handler } = makeHandler({}, { mode: "single-route" });
    const response = await handler(
      new Request("http://localhost/api/copilotkit", { method: "POST", headers: { "content-type": "application/json" }, body: '{"method":"info"}' }),
    );
    const info = await response.json();
    expect(info.threadEndpoints).toEqual({ list: false, inspect: false, mutations: false, realtimeMetadata: false });
  });
});

describe("POST /agent/:id/run", () => {
  it("streams the agent's events as SSE with the contract's headers", async () => {
    const { post } = makeHandler();
    const response = await post("/agent/default/run", runInput({ threadId: "t-run" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    const events = await readSse(response);
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
  });

  it("sends no id lines by default, and numbers frames with a resumable in-memory runner", async () => {
    const plain = makeHandler();
    expect(await (await plain.post("/agent/default/run", runInput({ threadId: "t-ids" }))).text()).not.toContain("id: ");
    const numbered = makeHandler({ runner: new InMemoryAgentRunner({ resumable: true }) });
    const text = await (await numbered.post("/agent/default/run", runInput({ threadId: "t-ids" }))).text();
    expect(text.split("\n\n").filter(Boolean).map((frame) => frame.split("\n")[0])).toEqual(["id: 1", "id: 2", "id: 3", "id: 4", "id: 5", "id: 6"]);
    const resumed = await numbered.post("/agent/default/connect", runInput({ threadId: "t-ids", messages: [] }), { "last-event-id": "4" });
    expect(types(await readSse(resumed))).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
  });

  it("enriches RUN_STARTED with only the input messages the thread has not seen", async () => {
    const { post } = makeHandler();
    const first = runInput({ threadId: "t-enrich", messages: [{ id: "u1", role: "user", content: "one" }] });
    const events1 = await readSse(await post("/agent/default/run", first));
    expect(events1[0].input.messages.map((m: any) => m.id)).toEqual(["u1"]);
    const second = runInput({
      threadId: "t-enrich",
      messages: [
        { id: "u1", role: "user", content: "one" },
        { id: `m-${first.runId}`, role: "assistant", content: "Hello from test" },
        { id: "u2", role: "user", content: "two" },
      ],
    });
    const events2 = await readSse(await post("/agent/default/run", second));
    expect(events2[0].input.messages.map((m: any) => m.id)).toEqual(["u2"]);
  });

  it("answers 404 for an unknown agent on every agent route", async () => {
    const { post } = makeHandler();
    for (const path of ["/agent/nope/run", "/agent/nope/connect", "/agent/nope/stop/t1", "/agent/nope/suggest"]) {
      const response = await post(path, runInput());
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({ error: "Agent not found", message: "Agent 'nope' does not exist" });
    }
  });

  it("does not treat inherited object keys as agents", async () => {
    const { post } = makeHandler();
    const response = await post("/agent/constructor/run", runInput());
    expect(response.status).toBe(404);
  });

  it("rejects malformed JSON with CopilotKit's 400 Invalid request body on every agent route", async () => {
    const { post } = makeHandler();
    for (const path of ["/agent/default/run", "/agent/default/connect", "/agent/default/suggest"]) {
      const response = await post(path, "{not json");
      expect(response.status, path).toBe(400);
      expect(await response.json(), path).toMatchObject({ error: "Invalid request body", details: "malformed JSON" });
    }
  });

  it.each([
    ["a JSON array", []],
    ["no threadId", { runId: "r", messages: [], tools: [], context: [] }],
    ["a numeric runId", { threadId: "t", runId: 5, messages: [], tools: [], context: [] }],
    ["messages not an array", { threadId: "t", runId: "r", messages: {}, tools: [], context: [] }],
    ["a message with an unknown role", { threadId: "t", runId: "r", messages: [{ id: "1", role: "robot" }], tools: [], context: [] }],
    ["a message without id", { threadId: "t", runId: "r", messages: [{ role: "user", content: "x" }], tools: [], context: [] }],
    ["a tool message without toolCallId", { threadId: "t", runId: "r", messages: [{ id: "1", role: "tool", content: "x" }] }],
    ["tools not an array", { threadId: "t", runId: "r", messages: [], tools: "x", context: [] }],
  ])("rejects a body with %s as 400 Invalid request body", async (_name, body) => {
    const { post } = makeHandler();
    const response = await post("/agent/default/run", body);
    expect(response.status).toBe(400);
    const json = await response.json();
    expect(json.error).toBe("Invalid request body");
    expect(typeof json.message).toBe("string");
  });

  it("accepts a body without tools and context, and snake_case ids", async () => {
    const { post } = makeHandler();
    const response = await post("/agent/default/run", { thread_id: "t-snake", run_id: "r-snake", messages: [] });
    expect(response.status).toBe(200);
    const events = await readSse(response);
    expect(events[0]).toMatchObject({ threadId: "t-snake", runId: "r-snake" });
  });

  it("refuses a body over the limit with 413, by Content-Length and when chunked", async () => {
    const { handler } = makeHandler({}, { maxBodyBytes: 1000 });
    const big = JSON.stringify(runInput({ messages: [{ id: "u", role: "user", content: "x".repeat(5000) }] }));
    const declared = await handler(
      new Request("http://localhost/api/copilotkit/agent/default/run", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(big.length) },
        body: big,
      }),
    );
    expect(declared.status).toBe(413);
    expect((await declared.json()).error).toBe("payload_too_large");

    const bytes = new TextEncoder().encode(big);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100));
        controller.close();
      },
    });
    const streamed = await handler(
      new Request("http://localhost/api/copilotkit/agent/default/run", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chunked,
        duplex: "half",
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
  });

  it("answers 409 thread_busy for a second run on a busy thread, and keeps the first run going", async () => {
    const agent = new ScriptedAgent({ script: longScript(20), delayMs: 5 });
    const { post } = makeHandler({ agents: { default: agent } });
    const first = await post("/agent/default/run", runInput({ threadId: "t-busy" }));
    const second = await post("/agent/default/run", runInput({ threadId: "t-busy" }));
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: "thread_busy", retryable: true });
    const events = await readSse(first);
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
  });

  it("with busyThread 'interrupt', stops the old run cleanly and starts the new one", async () => {
    const agent = new ScriptedAgent({ script: longScript(50), delayMs: 5 });
    const { post } = makeHandler({ agents: { default: agent }, runner: new InMemoryAgentRunner({ busyThread: "interrupt" }) });
    const first = await post("/agent/default/run", runInput({ threadId: "t-int", runId: "old" }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await post("/agent/default/run", runInput({ threadId: "t-int", runId: "new" }));
    expect(second.status).toBe(200);
    const oldEvents = await readSse(first);
    expect(oldEvents.at(-1)).toEqual({ type: "RUN_FINISHED", threadId: "t-int", runId: "old" });
    expect(oldEvents.filter((e) => e.type === "TEXT_MESSAGE_END")).toHaveLength(1);
    const newEvents = await readSse(second);
    expect(newEvents.at(-1)).toMatchObject({ type: "RUN_FINISHED", runId: "new" });
  });

  it("turns an agent that throws mid-run into RUN_ERROR, closing what was open, with no error text leaked", async () => {
    const agent = new ScriptedAgent({ script: helloScript, delayMs: 0 });
    agent.run = (input) =>
      new Observable((subscriber) => {
        subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId } as any);
        subscriber.next({ type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" } as any);
        subscriber.error(new Error("secret upstream detail sk-123"));
      });
    (agent as any).clone = () => agent;
    const { post, get } = makeHandler({ agents: { default: agent } });
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-throw" })));
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_END", "RUN_ERROR"]);
    expect(events.at(-1)!.code).toBe("AGENT_ERROR");
    expect(JSON.stringify(events)).not.toContain("sk-123");
    // the server keeps serving
    expect((await get("/info")).status).toBe(200);
  });

  it("finalizes a stream that ends without a terminal event with INCOMPLETE_STREAM", async () => {
    const agent = new ScriptedAgent({ script: (input) => [
      { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
      { type: "TEXT_MESSAGE_START", messageId: "m1" },
      { type: "TOOL_CALL_START", toolCallId: "tc1", toolCallName: "search", parentMessageId: "m1" },
    ], delayMs: 0 });
    const { post } = makeHandler({ agents: { default: agent } });
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-incomplete" })));
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TOOL_CALL_START",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "RUN_ERROR",
    ]);
    expect(events.at(-1)).toMatchObject({ code: "INCOMPLETE_STREAM" });
    expect(JSON.parse(events[5].content)).toMatchObject({ status: "error", reason: "missing_terminal_event" });
  });

  it("expands TEXT_MESSAGE_CHUNK shorthand into explicit events", async () => {
    const agent = new ScriptedAgent({ script: (input) => [
      { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
      { type: "TEXT_MESSAGE_CHUNK", messageId: "m1", delta: "Hel" },
      { type: "TEXT_MESSAGE_CHUNK", delta: "lo" },
      { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
    ], delayMs: 0 });
    const { post } = makeHandler({ agents: { default: agent } });
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-chunk" })));
    expect(events.map((e) => [e.type, e.delta ?? e.role ?? ""])).toEqual([
      ["RUN_STARTED", ""],
      ["TEXT_MESSAGE_START", "assistant"],
      ["TEXT_MESSAGE_CONTENT", "Hel"],
      ["TEXT_MESSAGE_CONTENT", "lo"],
      ["TEXT_MESSAGE_END", ""],
      ["RUN_FINISHED", ""],
    ]);
  });
});

describe("POST /agent/:id/stop/:threadId", () => {
  it("answers stopped:false when nothing runs", async () => {
    const { post } = makeHandler();
    const response = await post("/agent/default/stop/t-none", {});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ stopped: false, message: "No active run for thread 't-none'." });
  });

  it("stops a run mid-stream: the run stream ends cleanly with RUN_FINISHED carrying its ids", async () => {
    const agent = new ScriptedAgent({ script: longScript(500), delayMs: 2 });
    const { post } = makeHandler({ agents: { default: agent } });
    const run = await post("/agent/default/run", runInput({ threadId: "t-stop", runId: "r-stop" }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const stop = await post("/agent/default/stop/t-stop", undefined as unknown as string);
    expect(await stop.json()).toEqual({
      stopped: true,
      interrupt: { type: "RUN_ERROR", message: "Run stopped by user", code: "STOPPED" },
    });
    const events = await readSse(run);
    expect(events.at(-2)).toEqual({ type: "TEXT_MESSAGE_END", messageId: "m-r-stop" });
    expect(events.at(-1)).toEqual({ type: "RUN_FINISHED", threadId: "t-stop", runId: "r-stop" });
    expect(events.length).toBeLessThan(500);
    // a second stop is a no-op
    expect((await (await post("/agent/default/stop/t-stop", {})).json()).stopped).toBe(false);
  });

  it("ignores a stop that names another run", async () => {
    const agent = new ScriptedAgent({ script: longScript(100), delayMs: 2 });
    const { post } = makeHandler({ agents: { default: agent } });
    const run = await post("/agent/default/run", runInput({ threadId: "t-scoped", runId: "current" }));
    const stop = await post("/agent/default/stop/t-scoped", { runId: "older" });
    expect((await stop.json()).stopped).toBe(false);
    const events = await readSse(run);
    expect(events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT")).toHaveLength(100);
  });
});

describe("POST /agent/:id/connect", () => {
  it("closes at once with no events for an unknown thread", async () => {
    const { post } = makeHandler();
    const response = await post("/agent/default/connect", runInput({ threadId: "t-unknown", messages: [] }));
    expect(response.status).toBe(200);
    expect(await readSse(response)).toEqual([]);
  });

  it("replays the compacted history of every run", async () => {
    const { post } = makeHandler();
    await readSse(await post("/agent/default/run", runInput({ threadId: "t-hist", runId: "a" })));
    await readSse(await post("/agent/default/run", runInput({ threadId: "t-hist", runId: "b" })));
    const events = await readSse(await post("/agent/default/connect", runInput({ threadId: "t-hist", messages: [] })));
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    expect(events[2].delta).toBe("Hello from test");
  });

  it("does not let another agent read a thread", async () => {
    const { post } = makeHandler({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }), other: new ScriptedAgent({ script: helloScript, delayMs: 0 }) } });
    await readSse(await post("/agent/default/run", runInput({ threadId: "t-owned" })));
    const events = await readSse(await post("/agent/other/connect", runInput({ threadId: "t-owned", messages: [] })));
    expect(events).toEqual([]);
    const run = await post("/agent/other/run", runInput({ threadId: "t-owned" }));
    expect(run.status).toBe(409);
    expect((await run.json()).error).toBe("thread_agent_mismatch");
  });
});

describe("POST /agent/:id/suggest", () => {
  it("streams a finalized run without storing a thread", async () => {
    const agent = new ScriptedAgent({ script: (input) => [{ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId }], delayMs: 0 });
    const { post, get } = makeHandler({ agents: { default: agent } });
    const events = await readSse(await post("/agent/default/suggest", runInput({ threadId: "t-suggest" })));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect((await get("/threads/t-suggest/messages")).status).toBe(404);
  });
});

describe("routing", () => {
  it("answers unknown paths with 404 JSON and wrong methods with 405 and Allow", async () => {
    const { get, post, handler } = makeHandler();
    const missing = await get("/nothing/here");
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe("Not found");
    const wrong = await post("/info", {});
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    const getRun = await get("/agent/default/run");
    expect(getRun.status).toBe(405);
    expect(getRun.headers.get("allow")).toBe("POST");
    const outside = await handler(new Request("http://localhost/elsewhere/info"));
    expect(outside.status).toBe(404);
  });

  it("answers HEAD wherever GET is allowed: the GET status and headers, no body", async () => {
    const { handler, url } = makeHandler();
    const get = await handler(new Request(url("/info")));
    const getBody = await get.text();
    const head = await handler(new Request(url("/info"), { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    expect(head.headers.get("content-length")).toBe(String(Buffer.byteLength(getBody)));
    expect(head.body).toBeNull();
    const threads = await handler(new Request(url("/threads"), { method: "HEAD" }));
    expect(threads.status).toBe(200);
    expect(threads.body).toBeNull();
    const headRun = await handler(new Request(url("/agent/default/run"), { method: "HEAD" }));
    expect(headRun.status).toBe(405);
    expect(headRun.headers.get("allow")).toBe("POST");
    expect(headRun.body).toBeNull();
  });

  it("accepts the base path with or without a trailing slash, and a trailing slash on routes", async () => {
    for (const basePath of ["/api/copilotkit", "/api/copilotkit/", "api/copilotkit"]) {
      const { handler } = makeHandler({}, { basePath });
      expect((await handler(new Request("http://localhost/api/copilotkit/info"))).status, basePath).toBe(200);
      expect((await handler(new Request("http://localhost/api/copilotkit/info/"))).status, basePath).toBe(200);
    }
    const { handler } = makeHandler();
    expect((await handler(new Request("http://localhost/api/copilotkitx/info"))).status).toBe(404);
  });

  it("without a base path, matches routes at the end of any path", async () => {
    const { handler } = makeHandler({}, { basePath: undefined });
    expect((await handler(new Request("http://localhost/anything/deep/info"))).status).toBe(200);
  });

  it("decodes path parameters and treats a malformed escape as not found", async () => {
    const { post } = makeHandler({ agents: { "my agent": new ScriptedAgent({ script: helloScript, delayMs: 0 }) } });
    expect((await post("/agent/my%20agent/run", runInput({ threadId: "t-enc" }))).status).toBe(200);
    expect((await post("/agent/%E0%A4%A/run", runInput())).status).toBe(404);
  });

  it("answers /transcribe with 503 when no service is configured", async () => {
    const { post } = makeHandler();
    const response = await post("/transcribe", {});
    expect(response.status).toBe(503);
    expect((await response.json()).error).toBe("service_not_configured");
  });
});

describe("single-route envelope", () => {
  const envelope = async (body: unknown, contentType = "application/json", mode: "multi-route" | "single-route" = "single-route") => {
    const { handler } = makeHandler({}, { mode });
    return handler(
      new Request("http://localhost/api/copilotkit", {
        method: "POST",
        headers: { "content-type": contentType },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  };

  it.each([
    ["a non-JSON content type", "x", "text/plain", 415, "Single-route endpoint expects JSON payloads"],
    ["malformed JSON", "{", "application/json", 400, "Invalid JSON payload"],
    ["no method", {}, "application/json", 400, "Missing method field"],
    ["an unknown method", { method: "agent/fly" }, "application/json", 400, "Unsupported method 'agent/fly'"],
    ["a missing agentId", { method: "agent/run", body: {} }, "application/json", 400, "Missing or invalid parameter 'agentId'"],
    ["a blank threadId", { method: "agent/stop", params: { agentId: "default", threadId: " " } }, "application/json", 400, "Missing or invalid parameter 'threadId'"],
    ["a run without body", { method: "agent/run", params: { agentId: "default" } }, "application/json", 400, "Missing request body for JSON handler"],
  ])("rejects %s", async (_name, body, contentType, status, message) => {
    const response = await envelope(body, contentType);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: "invalid_request", message });
  });

  it("runs, connects and stops through the envelope with the same bytes as multi-route", async () => {
    const input = runInput({ threadId: "t-env", runId: "r-env" });
    const viaEnvelope = await envelope({ method: "agent/run", params: { agentId: "default" }, body: input });
    expect(viaEnvelope.headers.get("content-type")).toBe("text/event-stream");
    const { post } = makeHandler();
    const viaRoute = await post("/agent/default/run", input);
    expect(await viaEnvelope.text()).toBe(await viaRoute.text());
    const stop = await envelope({ method: "agent/stop", params: { agentId: "default", threadId: "t-env" } });
    expect(await stop.json()).toMatchObject({ stopped: false });
  });

  it("transcribes through the envelope's JSON/base64 form", async () => {
    class EchoSize extends TranscriptionService {
      async transcribeFile({ audioFile }: { audioFile: File }) {
        return `heard ${audioFile.size} bytes of ${audioFile.type}`;
      }
    }
    const { handler } = makeHandler({ transcriptionService: new EchoSize() }, { mode: "single-route" });
    const audio = Buffer.from("RIFF....WAVEfmt ").toString("base64");
    const response = await handler(
      new Request("http://localhost/api/copilotkit", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ method: "transcribe", body: { audio, mimeType: "audio/wav" } }),
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ text: "heard 16 bytes of audio/wav", size: 16, type: "audio/wav" });
  });

  it("is also served at the base path of a multi-route runtime", async () => {
    const response = await envelope({ method: "info" }, "application/json", "multi-route");
    expect(response.status).toBe(200);
    expect((await response.json()).agents.default).toBeDefined();
  });

  it("serves only the envelope in single-route mode", async () => {
    const { get } = makeHandler({}, { mode: "single-route" });
    // CopilotKit 1.75 answers a non-POST under basePath with 405 (Allow: POST); a REST route is never served.
    const response = await get("/info");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });
});

describe("middleware", () => {
  it("lets beforeRequestMiddleware replace the request", async () => {
    const { get } = makeHandler({
      beforeRequestMiddleware: ({ request }) => new Request(request.url.replace("/nowhere", "/info"), request),
    });
    expect((await get("/nowhere")).status).toBe(200);
  });

  it("sends a Response thrown by beforeRequestMiddleware as is", async () => {
    const { get } = makeHandler({
      beforeRequestMiddleware: () => {
        throw new Response(JSON.stringify({ error: "unauthorized" }), { status: 401 });
      },
    });
    const response = await get("/info");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "unauthorized" });
  });

  it("turns an error thrown by beforeRequestMiddleware into 500 without a stack trace", async () => {
    const { get } = makeHandler({
      beforeRequestMiddleware: () => {
        throw new Error("at secret.ts:12");
      },
    });
    const response = await get("/info");
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text).error).toBe("internal_error");
    expect(text).not.toContain("secret.ts");
  });

  it("gives afterRequestMiddleware the messages, threadId and runId of a streamed run", async () => {
    const after = vi.fn();
    const { post } = makeHandler({ afterRequestMiddleware: after });
    const input = runInput({ threadId: "t-after", runId: "r-after", messages: [{ id: "u1", role: "user", content: "hi" }] });
    await readSse(await post("/agent/default/run", input));
    await vi.waitFor(() => expect(after).toHaveBeenCalledTimes(1));
    const context = after.mock.calls[0][0];
    expect(context.threadId).toBe("t-after");
    expect(context.runId).toBe("r-after");
    expect(context.path).toBe("/api/copilotkit/agent/default/run");
    expect(context.response.status).toBe(200);
    expect(context.messages).toEqual([
      { id: "u1", role: "user", content: "hi" },
      { id: "m-r-after", role: "assistant", content: "Hello from test" },
    ]);
  });

  it("gives afterRequestMiddleware a readable copy of JSON responses, and survives it throwing", async () => {
    const bodies: unknown[] = [];
    const { get } = makeHandler({
      afterRequestMiddleware: async ({ response }) => {
        bodies.push(await response.json());
        throw new Error("after failed");
      },
    });
    const response = await get("/info");
    expect((await response.json()).mode).toBe("sse");
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    expect((bodies[0] as any).mode).toBe("sse");
  });
});

describe("header forwarding", () => {
  it("forwards authorization and x-* headers on run, minus the infrastructure denylist, server headers winning", async () => {
    const agent = new ScriptedAgent({ script: helloScript, delayMs: 0 });
    agent.headers = { "X-Api-Key": "server-key" };
    const { post } = makeHandler({ agents: { default: agent } });
    await readSse(
      await post("/agent/default/run", runInput({ threadId: "t-headers" }), {
        authorization: "Bearer user-token",
        "x-tenant": "acme",
        "x-api-key": "client-key",
        "x-forwarded-for": "1.2.3.4",
        "x-vercel-id": "abc",
        cookie: "session=1",
      }),
    );
    expect(agent.recorder.runs[0].headers).toEqual({ authorization: "Bearer user-token", "x-tenant": "acme", "X-Api-Key": "server-key" });
  });

  it("applies the forwardHeaders policy", async () => {
    const agent = new ScriptedAgent({ script: helloScript, delayMs: 0 });
    const { post } = makeHandler({
      agents: { default: agent },
      forwardHeaders: { deny: ["x-tenant"], allow: ["x-forwarded-for", "accept-language"] },
    });
    await readSse(
      await post("/agent/default/run", runInput({ threadId: "t-policy" }), {
        "x-tenant": "acme",
        "x-forwarded-for": "1.2.3.4",
        "accept-language": "fr",
      }),
    );
    expect(agent.recorder.runs[0].headers).toEqual({ "x-forwarded-for": "1.2.3.4", "accept-language": "fr" });
  });
});

describe("resilience", () => {
  it("keeps serving after a burst of bad requests", async () => {
    const { post, get } = makeHandler();
    const bad = await Promise.all([
      post("/agent/default/run", "{"),
      post("/agent/default/run", "null"),
      post("/agent/default/run", "[1,2]"),
      post("/agent/default/run", '{"threadId":{}}'),
      post("/agent/default/connect", ""),
    ]);
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    expect((await get("/info")).status).toBe(200);
  });

  it("keeps a run going to completion when the client disconnects, so connect sees it", async () => {
    const agent = new ScriptedAgent({ script: longScript(30), delayMs: 2 });
    const { handler, post } = makeHandler({ agents: { default: agent } });
    const abort = new AbortController();
    const response = await handler(
      new Request("http://localhost/api/copilotkit/agent/default/run", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(runInput({ threadId: "t-gone", runId: "r-gone" })),
        signal: abort.signal,
      }),
    );
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => {});
    await vi.waitFor(async () => {
      const events = await readSse(await post("/agent/default/connect", runInput({ threadId: "t-gone", messages: [] })));
      expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", runId: "r-gone" });
    });
  });
});

void helloScript;
