/**
 * The DemoAgent (what `copilot-runtime serve` offers without an API key) with the real
 * clients: a newcomer's first message gets a streamed reply, "long" can be stopped, and a
 * reload shows the conversation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DemoAgent } from "../../src/agents/demo.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type ClientAgent, type ClientEvent, type CoreClient, type CoreError, coreClients } from "./clients.js";
import { deferred, ids, installBrowserGlobals, waitUntil } from "./support.js";

installBrowserGlobals();

describe.each(coreClients)("$name with the DemoAgent", (factory) => {
  let server: TestServer;
  const errors: CoreError[] = [];
  const threadId = `demo-${factory.name}`;

  beforeAll(async () => {
    const runtime = new CopilotRuntime({ agents: { default: new DemoAgent({ wordDelayMs: 2 }) } });
    server = await startServer({ runtime, mode: factory.expectedTransport === "single" ? "single-route" : "multi-route" });
  });
  afterAll(() => server.close());
  afterEach(() => expect(errors.map((e) => `${e.code}: ${e.error?.message}`)).toEqual([]));

  async function openThread(): Promise<{ core: CoreClient; agent: ClientAgent }> {
    const core = factory.create({ runtimeUrl: server.runtimeUrl });
    core.subscribe({ onError: (event) => void errors.push(event) });
    await waitUntil(() => core.runtimeConnectionStatus === "connected", "/info");
    const agent = core.getAgent("default")!;
    agent.threadId = threadId;
    await core.connectAgent({ agent });
    return { core, agent };
  }

  it("replies, can be stopped while streaming a long answer, and the conversation survives a reload", async () => {
    const { core, agent } = await openThread();
    agent.addMessage({ id: "d1", role: "user", content: "hello" });
    await core.runAgent({ agent });
    expect(String(agent.messages[1]?.content)).toMatch(/^You said: "hello"/);

    const streaming = deferred();
    const events: ClientEvent[] = [];
    const subscription = agent.subscribe({
      onEvent: ({ event }) => void events.push(event),
      onTextMessageContentEvent: () => streaming.resolve(),
    });
    agent.addMessage({ id: "d2", role: "user", content: "tell me something long" });
    const run = core.runAgent({ agent });
    await streaming.promise;
    core.stopAgent({ agent });
    await run;
    subscription.unsubscribe();
    expect(events[events.length - 1]).toMatchObject({ type: "RUN_FINISHED", threadId });
    expect(String(agent.messages[3]?.content).split(" ").length).toBeLessThan(400);

    const reloaded = await openThread();
    expect(ids(reloaded.agent.messages)).toEqual(ids(agent.messages));
    expect(reloaded.agent.messages.map((m) => m.content)).toEqual(agent.messages.map((m) => m.content));
  });
});
