/**
 * A thread whose history holds a failed run: the client is told (with a safe message, never
 * the agent's internal error text), the conversation continues, and a reload still restores
 * every message once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { setLogger } from "../../src/logger.js";
import { ScriptedAgent, agentThrows, echoReply, lastUserText, replyMessageId, type Script } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type ClientAgent, type CoreClient, type CoreError, coreClients } from "./clients.js";
import { closeRunner, compatRunners } from "./runners.js";
import { ids, installBrowserGlobals, postForEvents, transcript, waitUntil } from "./support.js";
import { runInput } from "../helpers/inputs.js";

installBrowserGlobals();

const SECRET = "upstream said: invalid api key sk-test-123";

/** Echoes, except "please fail": it starts a reply and then crashes. */
const script: Script = (input) => {
  if (!/please fail/.test(lastUserText(input))) return echoReply()(input);
  const messageId = replyMessageId(input);
  return [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
    { type: "TEXT_MESSAGE_CONTENT", messageId, delta: "Working on it" },
    agentThrows(SECRET),
  ];
};

describe.each(compatRunners)("$name", (runnerKind) => {
describe.each(coreClients)("$name: a thread with a failed run", (factory) => {
  let server: TestServer;
  const runner = runnerKind.create();
  const errors: CoreError[] = [];
  const slug = factory.name.replace(/[^a-z0-9]+/gi, "-");
  const threadId = `failed-${slug}`;
  let firstTab: ClientAgent;

  beforeAll(async () => {
    setLogger({ info() {}, warn() {}, error() {} }); // the crash is logged server-side on purpose
    const runtime = new CopilotRuntime({ runner, agents: { default: new ScriptedAgent({ script, delayMs: 1 }) } });
    server = await startServer({ runtime, mode: factory.expectedTransport === "single" ? "single-route" : "multi-route" });
  });
  afterAll(async () => {
    setLogger();
    await server.close();
    await closeRunner(runner);
  });
  afterEach(() => void (errors.length = 0));

  async function connectedCore(): Promise<CoreClient> {
    const core = factory.create({ runtimeUrl: server.runtimeUrl });
    core.subscribe({ onError: (event) => void errors.push(event) });
    await waitUntil(() => core.runtimeConnectionStatus === "connected" || core.runtimeConnectionStatus === "error", "/info");
    return core;
  }

  it("reports the failure with a safe message, then the conversation continues", async () => {
    const core = await connectedCore();
    const agent = core.getAgent("default")!;
    agent.threadId = threadId;
    await core.connectAgent({ agent });

    agent.addMessage({ id: `${slug}-1`, role: "user", content: "hello" });
    await core.runAgent({ agent });
    expect(errors).toEqual([]);

    agent.addMessage({ id: `${slug}-2`, role: "user", content: "please fail" });
    await core.runAgent({ agent });
    expect(errors.map((e) => e.code)).toEqual(["agent_run_error_event"]);
    expect(errors[0].error.message).not.toContain("sk-test-123");
    expect(errors[0].error.message).toMatch(/failed/i);
    errors.length = 0;

    agent.addMessage({ id: `${slug}-3`, role: "user", content: "are you back?" });
    await core.runAgent({ agent });
    expect(errors).toEqual([]);
    expect(transcript(agent.messages)).toEqual([
      "user: hello",
      "assistant: You said: hello",
      "user: please fail",
      "assistant: Working on it",
      "user: are you back?",
      "assistant: You said: are you back?",
    ]);
    firstTab = agent;
  });

  it("a reload restores every message of every run once, the failed one included", async () => {
    const core = await connectedCore();
    const agent = core.getAgent("default")!;
    agent.threadId = threadId;
    await core.connectAgent({ agent });

    expect(errors.map((e) => `${e.code}: ${e.error.message}`)).toEqual([]);
    expect(ids(agent.messages)).toEqual(ids(firstTab.messages));
    expect(transcript(agent.messages)).toEqual(transcript(firstTab.messages));
  });

  it("when the latest run failed, a reload restores the messages and reports that failure (safely) at most once", async () => {
    const core = await connectedCore();
    const agent = core.getAgent("default")!;
    agent.threadId = `${threadId}-last`;
    await core.connectAgent({ agent });
    agent.addMessage({ id: `${slug}-l1`, role: "user", content: "please fail" });
    await core.runAgent({ agent });
    const live = structuredClone(agent.messages);
    errors.length = 0;

    const reloaded = await connectedCore();
    const again = reloaded.getAgent("default")!;
    again.threadId = `${threadId}-last`;
    await reloaded.connectAgent({ agent: again });
    expect(transcript(again.messages)).toEqual(transcript(live));
    expect(errors.length).toBeLessThanOrEqual(1);
    for (const error of errors) {
      expect(error.code).toBe("agent_run_error_event");
      expect(error.error.message).not.toContain("sk-test-123");
    }
  });
});

describe("a replay with a failed run, on the wire", () => {
  let server: TestServer;
  const runner = runnerKind.create();
  beforeAll(async () => {
    setLogger({ info() {}, warn() {}, error() {} });
    server = await startServer({ runtime: new CopilotRuntime({ runner, agents: { default: new ScriptedAgent({ script, delayMs: 1 }) } }) });
  });
  afterAll(async () => {
    setLogger();
    await server.close();
    await closeRunner(runner);
  });

  it("a failed run followed by another replays as RUN_FINISHED with its ids; a failed last run keeps its RUN_ERROR", async () => {
    const threadId = "wire-failed";
    const history: Array<{ id: string; role: string; content: string }> = [];
    for (const [runId, text] of [["r1", "hello"], ["r2", "please fail"], ["r3", "again"], ["r4", "please fail again"]]) {
      history.push({ id: `u-${runId}`, role: "user", content: text });
      await postForEvents(`${server.runtimeUrl}/agent/default/run`, runInput({ threadId, runId, messages: history }));
    }
    const replay = await postForEvents(`${server.runtimeUrl}/agent/default/connect`, runInput({ threadId, runId: "c1", messages: [] }));
    const terminals = replay.filter((e) => e.type === "RUN_FINISHED" || e.type === "RUN_ERROR");
    expect(terminals.map((e) => [e.type, e.runId])).toEqual([
      ["RUN_FINISHED", "r1"],
      ["RUN_FINISHED", "r2"],
      ["RUN_FINISHED", "r3"],
      ["RUN_ERROR", undefined],
    ]);
    expect(terminals[1]).toEqual({ type: "RUN_FINISHED", threadId, runId: "r2" });
    // Only the connect stream is adjusted: the stored history keeps both errors.
    const stored = (await (await fetch(`${server.runtimeUrl}/threads/${threadId}/events`)).json()) as { events: Array<{ type: string }> };
    expect(stored.events.filter((e) => e.type === "RUN_ERROR")).toHaveLength(2);
  });
});
});
