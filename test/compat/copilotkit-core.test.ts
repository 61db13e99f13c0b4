/**
 * CopilotKit's own frontend cores against our server over real HTTP, doing what a chat UI
 * does: discover agents from /info, send a message and run, stop, reload the page (a fresh
 * core connecting to the same thread), switch threads, and keep talking after a reload.
 *
 * - `@copilotkitnext/core` 1.54.1 with the REST transport, and with the single-route transport
 *   against a server that serves only the envelope (so a stray REST call would 404);
 * - `@copilotkit/core` 1.75 with its default `auto` transport (GET /info, then REST).
 */
import { z } from "zod";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { ScriptedAgent, echoReply, frontendToolCall, longReply } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type ClientAgent, type ClientEvent, type CoreClient, type CoreError, coreClients } from "./clients.js";
import { closeRunner, compatRunners } from "./runners.js";
import { deferred, ids, installBrowserGlobals, transcript, waitUntil } from "./support.js";

installBrowserGlobals();

const LONG_WORDS = 5_000;

describe.each(compatRunners)("$name", (runnerKind) => {
describe.each(coreClients)("$name", (factory) => {
  let server: TestServer;
  const runner = runnerKind.create();
  const errors: CoreError[] = [];
  const slug = factory.name.replace(/[^a-z0-9]+/gi, "-");
  const threadA = `thread-a-${slug}`;
  const threadB = `thread-b-${slug}`;
  const threadStop = `thread-stop-${slug}`;
  let firstClientMessages: ClientAgent["messages"] = [];

  beforeAll(async () => {
    const runtime = new CopilotRuntime({
      runner,
      agents: {
        default: new ScriptedAgent({ script: echoReply(), delayMs: 1 }),
        long: new ScriptedAgent({ script: longReply(LONG_WORDS), delayMs: 2 }),
        weather: new ScriptedAgent({ script: frontendToolCall("getWeather", { city: "Paris" }), delayMs: 1 }),
      },
    });
    server = await startServer({ runtime, mode: factory.expectedTransport === "single" ? "single-route" : "multi-route" });
  });
  afterAll(async () => {
    await server.close();
    await closeRunner(runner);
  });
  afterEach(() => {
    // Every error the core reports (failed /info, failed run or connect, RUN_ERROR events).
    expect(errors.map((e) => `${e.code}: ${e.error?.message}`)).toEqual([]);
  });

  /** A fresh core, as on page load, once it has fetched /info. */
  async function connectedCore(): Promise<CoreClient> {
    const core = factory.create({ runtimeUrl: server.runtimeUrl });
    core.subscribe({ onError: (event) => void errors.push(event) });
    await waitUntil(() => core.runtimeConnectionStatus !== "connecting" && core.runtimeConnectionStatus !== "disconnected", "the runtime connection");
    expect(core.runtimeConnectionStatus).toBe("connected");
    return core;
  }

  /** What the chat does when it shows a thread: point the agent at it and connect. */
  async function openThread(core: CoreClient, agentId: string, threadId: string): Promise<ClientAgent> {
    const agent = core.getAgent(agentId)!;
    agent.threadId = threadId;
    await core.connectAgent({ agent });
    return agent;
  }

  /** What the chat does on send: append the user's message and run. */
  async function send(core: CoreClient, agent: ClientAgent, id: string, text: string): Promise<void> {
    agent.addMessage({ id, role: "user", content: text });
    await core.runAgent({ agent });
  }

  it("lists the agents from /info and settles on the expected transport", async () => {
    const core = await connectedCore();
    expect(Object.keys(core.agents).sort()).toEqual(["default", "long", "weather"]);
    expect(core.runtimeTransport).toBe(factory.expectedTransport);
  });

  it("runAgent streams a reply; the agent holds the user message and the assistant reply", async () => {
    const core = await connectedCore();
    const agent = await openThread(core, "default", threadA);
    expect(agent.messages).toEqual([]);
    let contentEvents = 0;
    const subscription = agent.subscribe({ onTextMessageContentEvent: () => void contentEvents++ });

    await send(core, agent, `${slug}-u1`, "first question");
    subscription.unsubscribe();

    expect(transcript(agent.messages)).toEqual(["user: first question", "assistant: You said: first question"]);
    expect(agent.messages[0].id).toBe(`${slug}-u1`);
    expect(contentEvents).toBeGreaterThan(1); // streamed word by word
    expect(agent.isRunning).toBe(false);
    firstClientMessages = structuredClone(agent.messages);

    // Another thread on the same page, for the thread-switch test.
    agent.threadId = threadB;
    await core.connectAgent({ agent });
    expect(agent.messages).toEqual([]);
    await send(core, agent, `${slug}-b1`, "other thread");
    expect(transcript(agent.messages)).toEqual(["user: other thread", "assistant: You said: other thread"]);
  });

  it("stop mid-run ends the run: runAgent returns, the reply is cut short, the server's thread is idle", async () => {
    const core = await connectedCore();
    const agent = await openThread(core, "long", threadStop);
    const streaming = deferred();
    const events: ClientEvent[] = [];
    const subscription = agent.subscribe({
      onEvent: ({ event }) => void events.push(event),
      onTextMessageContentEvent: () => streaming.resolve(),
    });

    agent.addMessage({ id: `${slug}-s1`, role: "user", content: "tell me something long" });
    const run = core.runAgent({ agent });
    await streaming.promise;
    core.stopAgent({ agent }); // what the chat's stop button calls
    await run;
    subscription.unsubscribe();

    expect(agent.isRunning).toBe(false);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ type: "RUN_FINISHED", threadId: threadStop });
    expect(typeof last.runId).toBe("string");
    const reply = agent.messages.find((m) => m.role === "assistant");
    expect(String(reply?.content).split(" ").length).toBeLessThan(LONG_WORDS);
    expect(await runner.isRunning({ threadId: threadStop })).toBe(false);
  });

  it("a page reload (a fresh core on the same thread) restores the messages exactly once, in order", async () => {
    const core = await connectedCore();
    const agent = await openThread(core, "default", threadA);

    expect(ids(agent.messages)).toEqual(ids(firstClientMessages));
    expect(transcript(agent.messages)).toEqual(transcript(firstClientMessages));
    expect(new Set(ids(agent.messages)).size).toBe(agent.messages.length);

    // The stopped thread restores too: the user message and the partial reply, once each.
    const long = await openThread(core, "long", threadStop);
    expect(long.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(long.messages[0].id).toBe(`${slug}-s1`);
  });

  it("a thread switch shows only that thread's messages", async () => {
    const core = await connectedCore();
    const agent = await openThread(core, "default", threadA);
    expect(agent.messages).toHaveLength(2);

    agent.threadId = threadB;
    await core.connectAgent({ agent });
    expect(transcript(agent.messages)).toEqual(["user: other thread", "assistant: You said: other thread"]);

    agent.threadId = threadA;
    await core.connectAgent({ agent });
    expect(transcript(agent.messages)).toEqual(transcript(firstClientMessages));
  });

  it("a second run after a reload works, and the history holds every message once", async () => {
    const core = await connectedCore();
    const agent = await openThread(core, "default", threadA);
    await send(core, agent, `${slug}-u2`, "second question");

    const expected = [
      "user: first question",
      "assistant: You said: first question",
      "user: second question",
      "assistant: You said: second question",
    ];
    expect(transcript(agent.messages)).toEqual(expected);
    expect(new Set(ids(agent.messages)).size).toBe(4);

    // And another reload sees the same four, once each, in the same order.
    const reloaded = await openThread(await connectedCore(), "default", threadA);
    expect(ids(reloaded.messages)).toEqual(ids(agent.messages));
    expect(transcript(reloaded.messages)).toEqual(expected);
  });

  it("a frontend tool call runs in the client, the follow-up run answers, and a reload restores all of it once", async () => {
    const threadId = `thread-tool-${slug}`;
    const core = await connectedCore();
    const calls: unknown[] = [];
    (core as unknown as { addTool(tool: unknown): void }).addTool({
      name: "getWeather",
      description: "The weather in a city",
      parameters: z.object({ city: z.string() }),
      handler: async (args: { city: string }) => {
        calls.push(args);
        return `sunny in ${args.city}`;
      },
    });
    const agent = await openThread(core, "weather", threadId);
    await send(core, agent, `${slug}-w1`, "weather in Paris?");

    expect(calls).toEqual([{ city: "Paris" }]);
    const shape = (messages: ClientAgent["messages"]) =>
      messages.map((m) => {
        const calls = (m as { toolCalls?: Array<{ id: string; function: { name: string; arguments: string } }> }).toolCalls;
        return calls?.length ? `${m.role}: ${calls.map((c) => `${c.function.name}(${c.function.arguments})`).join()}` : transcript([m])[0];
      });
    const expected = [
      "user: weather in Paris?",
      'assistant: getWeather({"city":"Paris"})',
      "tool: sunny in Paris",
      "assistant: The tool said: sunny in Paris",
    ];
    await waitUntil(() => agent.messages.length === 4 && !agent.isRunning, "the follow-up run");
    expect(shape(agent.messages)).toEqual(expected);

    const reloaded = await openThread(await connectedCore(), "weather", threadId);
    expect(shape(reloaded.messages)).toEqual(expected);
    expect(ids(reloaded.messages)).toEqual(ids(agent.messages));
  });
});
});
