/**
 * Two tabs on one thread, with the real clients: a tab that sends while the other is still
 * streaming gets a clear `thread_busy` error (our deliberate 409; CopilotKit answers an empty
 * 200 stream) and the running reply is unharmed; a tab closed mid-reply leaves the run going,
 * and the reopened tab follows it to the end.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { closeRunner, compatRunners } from "./runners.js";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type ClientAgent, type CoreClient, type CoreError, coreClients, httpAgentClients } from "./clients.js";
import { deferred, ids, installBrowserGlobals, transcript, waitUntil } from "./support.js";

installBrowserGlobals();

const WORDS = 50;
const REPLY = Array.from({ length: WORDS }, (_, i) => `w${i + 1}`).join(" ");

/**
 * Each run streams its first word, then holds until the test opens the gate: "while the
 * first tab is streaming" is a state, not a race against a timer.
 */
function gatedAgent() {
  let gate = deferred();
  const agent = new ScriptedAgent({ script: textReply(REPLY, { pauseAfterFirstWord: () => gate.promise }), delayMs: 1 });
  return {
    agent,
    open: () => gate.resolve(),
    reset: () => void (gate = deferred()),
  };
}

describe.each(compatRunners)("$name", (runnerKind) => {
describe.each(coreClients)("$name: two tabs on one thread", (factory) => {
  let server: TestServer;
  const runner = runnerKind.create();
  const slug = factory.name.replace(/[^a-z0-9]+/gi, "-");
  const gated = gatedAgent();
  beforeEach(() => gated.reset());

  beforeAll(async () => {
    const runtime = new CopilotRuntime({ runner, agents: { default: gated.agent } });
    server = await startServer({ runtime, mode: factory.expectedTransport === "single" ? "single-route" : "multi-route" });
  });
  afterAll(async () => {
    await server.close();
    await closeRunner(runner);
  });

  async function openTab(threadId: string): Promise<{ core: CoreClient; agent: ClientAgent; errors: CoreError[] }> {
    const core = factory.create({ runtimeUrl: server.runtimeUrl });
    const errors: CoreError[] = [];
    core.subscribe({ onError: (event) => void errors.push(event) });
    await waitUntil(() => core.runtimeConnectionStatus === "connected", "/info");
    const agent = core.getAgent("default")!;
    agent.threadId = threadId;
    return { core, agent, errors };
  }

  /** Starts a run and resolves once its reply is streaming (wrapped: a returned promise would be awaited). */
  async function startStreaming(tab: { core: CoreClient; agent: ClientAgent }, id: string): Promise<{ run: Promise<unknown> }> {
    const streaming = deferred();
    const subscription = tab.agent.subscribe({ onTextMessageContentEvent: () => streaming.resolve() });
    tab.agent.addMessage({ id, role: "user", content: "go" });
    const run = tab.core.runAgent({ agent: tab.agent });
    await streaming.promise;
    subscription.unsubscribe();
    return { run };
  }

  it("a send from a second tab while the first streams is refused with thread_busy; the first reply completes", async () => {
    const threadId = `busy-${slug}`;
    const first = await openTab(threadId);
    const { run } = await startStreaming(first, `${slug}-first`);

    const second = await openTab(threadId);
    second.agent.addMessage({ id: `${slug}-second`, role: "user", content: "me too" });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {}); // the client logs the failure
    await second.core.runAgent({ agent: second.agent });
    logged.mockRestore();
    expect(second.errors.length).toBeGreaterThan(0);
    expect(second.errors.map((e) => e.error.message).join("\n")).toContain("thread_busy");

    gated.open();
    await run;
    expect(first.errors).toEqual([]);
    const reply = first.agent.messages.find((m) => m.role === "assistant");
    expect(String(reply?.content).split(" ")).toHaveLength(WORDS);
  });

  it("closing a tab mid-reply leaves the run going; the reopened tab follows it to the end, every message once", async () => {
    const threadId = `closed-${slug}`;
    const first = await openTab(threadId);
    const { run } = await startStreaming(first, `${slug}-u1`);
    // The tab goes away: its socket closes (what a browser does on reload or close).
    (first.agent as unknown as { abortController: AbortController }).abortController.abort();
    await run;
    expect(await runner.isRunning({ threadId })).toBe(true);

    const reopened = await openTab(threadId);
    const connect = reopened.core.connectAgent({ agent: reopened.agent }); // follows the live run
    gated.open();
    await connect;

    expect(reopened.errors).toEqual([]);
    expect(transcript(reopened.agent.messages).map((line) => line.split(":")[0])).toEqual(["user", "assistant"]);
    expect(reopened.agent.messages[0].id).toBe(`${slug}-u1`);
    expect(String(reopened.agent.messages[1].content).split(" ")).toHaveLength(WORDS);
    expect(new Set(ids(reopened.agent.messages)).size).toBe(2);
  });
});
});

describe.each(httpAgentClients)("$name HttpAgent on a busy thread", (client) => {
  let server: TestServer;
  const gated = gatedAgent();
  beforeAll(async () => {
    const runtime = new CopilotRuntime({ agents: { default: gated.agent } });
    server = await startServer({ runtime });
  });
  afterAll(() => server.close());

  it("the second run rejects with HTTP 409 and the stable thread_busy code", async () => {
    const threadId = `busy-http-${client.name}`;
    const first = client.create({ url: `${server.runtimeUrl}/agent/default/run`, threadId });
    first.addMessage({ id: "u1", role: "user", content: "go" });
    const streaming = deferred();
    const run = first.runAgent({}, { onTextMessageContentEvent: () => streaming.resolve() });
    await streaming.promise;

    const second = client.create({ url: `${server.runtimeUrl}/agent/default/run`, threadId });
    second.addMessage({ id: "u2", role: "user", content: "me too" });
    const failures: Error[] = [];
    const logged = vi.spyOn(console, "error").mockImplementation(() => {}); // the client logs the rejection
    await expect(second.runAgent({}, { onRunFailed: ({ error }) => void failures.push(error) })).rejects.toMatchObject({
      status: 409,
      payload: { error: "thread_busy" },
    });
    logged.mockRestore();
    expect(failures).toHaveLength(1);

    gated.open();
    const result = await run;
    expect(String(result.newMessages[0]?.content).split(" ")).toHaveLength(WORDS);
  });
});
