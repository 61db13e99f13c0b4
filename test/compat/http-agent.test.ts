/**
 * `@ag-ui/client` HttpAgent (0.0.58 and 1.0) pointed at `/agent/:id/run`: the plainest AG-UI
 * client there is. Its `runAgent()` verifies every event, so a malformed frame, a missing id
 * or a bad terminal event from the server makes it reject.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { AgentRecorder, ScriptedAgent, longReply, pauseUntil, replyMessageId, textReply, type Script } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type ClientEvent, httpAgentClients } from "./clients.js";
import { deferred } from "./support.js";

const REPLY = "Hello from the scripted agent";

/**
 * A run that opens everything a stop must close (a step, a reasoning span and message, a
 * text message, a tool call with half its arguments) and then holds forever.
 */
const busyEverywhere: Script = (input) => [
  { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
  { type: "STEP_STARTED", stepName: "plan" },
  { type: "REASONING_START", messageId: "think" },
  { type: "REASONING_MESSAGE_START", messageId: "think-1", role: "reasoning" },
  { type: "REASONING_MESSAGE_CONTENT", messageId: "think-1", delta: "Considering" },
  { type: "TEXT_MESSAGE_START", messageId: "answer", role: "assistant" },
  { type: "TEXT_MESSAGE_CONTENT", messageId: "answer", delta: "Let me check" },
  { type: "TOOL_CALL_START", toolCallId: "lookup", toolCallName: "lookup", parentMessageId: "answer" },
  { type: "TOOL_CALL_ARGS", toolCallId: "lookup", delta: '{"query":' },
  pauseUntil(new Promise(() => {})),
];

describe.each(httpAgentClients)("$name HttpAgent against /agent/:id/run", (client) => {
  let server: TestServer;
  const longRecorder = new AgentRecorder();
  const runner = new InMemoryAgentRunner();

  beforeAll(async () => {
    const runtime = new CopilotRuntime({
      runner,
      agents: {
        default: new ScriptedAgent({ script: textReply(REPLY) }),
        long: new ScriptedAgent({ script: longReply(5_000), delayMs: 2, recorder: longRecorder }),
        busy: new ScriptedAgent({ script: busyEverywhere, delayMs: 1 }),
      },
    });
    server = await startServer({ runtime });
  });
  afterAll(() => server.close());

  // 1.0 drops unknown event types and strips unknown fields with a console warning: a clean
  // run prints nothing at all.
  let warn: MockInstance;
  let error: MockInstance;
  beforeEach(() => {
    warn = vi.spyOn(console, "warn");
    error = vi.spyOn(console, "error");
  });
  afterEach(() => {
    const printed = [...warn.mock.calls, ...error.mock.calls];
    vi.restoreAllMocks();
    expect(printed).toEqual([]);
  });

  it("streams a reply; runAgent resolves with the new messages and never reports a failure", async () => {
    const agent = client.create({ url: `${server.runtimeUrl}/agent/default/run`, threadId: `t-run-${client.name}` });
    agent.addMessage({ id: "u1", role: "user", content: "hi" });
    const events: ClientEvent[] = [];
    const failures: Error[] = [];

    const result = await agent.runAgent(
      {},
      { onEvent: ({ event }) => void events.push(event), onRunFailed: ({ error }) => void failures.push(error) },
    );

    expect(failures).toEqual([]);
    expect(result.newMessages).toHaveLength(1);
    expect(result.newMessages[0]).toMatchObject({ role: "assistant", content: REPLY });
    expect(agent.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    // Streamed, not sent in one piece: one content event per word.
    expect(events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT")).toHaveLength(REPLY.split(" ").length);
    expect(events[0]).toMatchObject({ type: "RUN_STARTED", threadId: agent.threadId });
    expect(events[events.length - 1]).toMatchObject({ type: "RUN_FINISHED", threadId: agent.threadId });
  });

  it("a stop mid-run ends the stream; runAgent resolves and the last event is RUN_FINISHED with threadId and runId", async () => {
    const threadId = `t-stop-${client.name}`;
    const agent = client.create({ url: `${server.runtimeUrl}/agent/long/run`, threadId });
    agent.addMessage({ id: "u1", role: "user", content: "something long" });
    const streaming = deferred();
    const events: ClientEvent[] = [];
    const failures: Error[] = [];

    const run = agent.runAgent(
      {},
      {
        onEvent: ({ event }) => void events.push(event),
        onTextMessageContentEvent: () => streaming.resolve(),
        onRunFailed: ({ error }) => void failures.push(error),
      },
    );
    await streaming.promise;
    const stop = await fetch(`${server.runtimeUrl}/agent/long/stop/${encodeURIComponent(threadId)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
    });
    expect(await stop.json()).toMatchObject({ stopped: true });

    const result = await run;

    expect(failures).toEqual([]);
    const runId = (events[0] as { runId?: string }).runId;
    expect(events[events.length - 1]).toEqual({ type: "RUN_FINISHED", threadId, runId });
    // The reply was cut short, and the open message was closed before the run ended.
    const reply = result.newMessages.find((m) => m.role === "assistant");
    expect(reply?.id).toBe(replyMessageId({ runId } as never));
    expect(String(reply?.content).split(" ").length).toBeLessThan(5_000);
    expect(events.filter((e) => e.type === "TEXT_MESSAGE_END")).toHaveLength(1);
    expect(longRecorder.lastRun?.aborted).toBe(true);
    expect(await runner.isRunning({ threadId })).toBe(false);
  });

  it("a stop with a step, reasoning, text and a half-streamed tool call open closes them all in an order the client accepts", async () => {
    const threadId = `t-stop-open-${client.name}`;
    const agent = client.create({ url: `${server.runtimeUrl}/agent/busy/run`, threadId });
    agent.addMessage({ id: "u1", role: "user", content: "look it up" });
    const holding = deferred();
    const events: ClientEvent[] = [];
    const failures: Error[] = [];
    const run = agent.runAgent(
      {},
      {
        onEvent: ({ event }) => {
          events.push(event);
          if (event.type === "TOOL_CALL_ARGS") holding.resolve();
        },
        onRunFailed: ({ error }) => void failures.push(error),
      },
    );
    await holding.promise;
    await fetch(`${server.runtimeUrl}/agent/busy/stop/${encodeURIComponent(threadId)}`, { method: "POST" });
    await run;

    expect(failures).toEqual([]);
    const closing = events.slice(events.findIndex((e) => e.type === "TOOL_CALL_ARGS") + 1).map((e) => e.type);
    expect(closing).toEqual([
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "STEP_FINISHED",
      "RUN_FINISHED",
    ]);
    const result = events.find((e) => e.type === "TOOL_CALL_RESULT");
    expect(JSON.parse(String(result?.content))).toMatchObject({ status: "stopped" });
  });
});

/**
 * The control for the stop test above: it proves the assertion can fail. CopilotKit's runtime
 * ends a stopped run with a bare `{"type":"RUN_FINISHED"}`; the same client rejects that.
 */
describe.each(httpAgentClients)("$name HttpAgent against a bare RUN_FINISHED (control)", (client) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      fetch: async (request) => {
        const input = (await request.json()) as { threadId: string; runId: string };
        const frames = [
          { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
          { type: "RUN_FINISHED" },
        ];
        return new Response(frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join(""), {
          headers: { "Content-Type": "text/event-stream" },
        });
      },
    });
  });
  afterAll(() => server.close());

  it("rejects the run", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {}); // the client logs the failure
    const agent = client.create({ url: `${server.runtimeUrl}/agent/default/run` });
    const failures: Error[] = [];
    await expect(agent.runAgent({}, { onRunFailed: ({ error }) => void failures.push(error) })).rejects.toThrow();
    expect(failures).toHaveLength(1);
    vi.restoreAllMocks();
  });
});
