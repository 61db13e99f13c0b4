/**
 * The unmodified `@copilotkit/core@1.75.0` browser client (`IntelligenceAgent`) against CopilotKit's
 * 1.75 runtime and our platform: a run completes over the realtime socket (Phoenix long-poll in
 * Node 20), and a fresh agent (a page reload) hydrates the thread by replay on connect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { type IntelligenceStack, startIntelligenceStack } from "../helpers/intelligence.js";

let stack: IntelligenceStack;
let IntelligenceAgent: any;

beforeAll(async () => {
  ({ IntelligenceAgent } = await import("@copilotkit/core"));
  stack = await startIntelligenceStack({ agents: { default: new ScriptedAgent({ script: textReply("Hi from the platform") }) } });
});
afterAll(async () => {
  await stack?.close();
});

/** An IntelligenceAgent whose REST calls reach the runtime's fetch handler directly. */
function browserAgent(threadId: string) {
  const agent = new IntelligenceAgent({
    url: `${stack.platform.wsUrl}/client`,
    runtimeUrl: "http://runtime.test/api/copilotkit",
    agentId: "default",
    headers: { "x-user": "carol" },
    fetch: (input: RequestInfo | URL, init?: RequestInit) => stack.runtimeFetch(new Request(input, init)),
  });
  agent.threadId = threadId;
  return agent;
}

describe("@copilotkit/core 1.75 IntelligenceAgent against our platform", () => {
  it("runs a turn over the realtime socket, then a fresh agent hydrates the thread by replay", async () => {
    const agent = browserAgent("core-thread-1");
    agent.addMessage({ id: "core-user-1", role: "user", content: "Hello?" });
    await agent.runAgent();
    const texts = agent.messages.map((m: { role: string; content?: unknown }) => `${m.role}:${String(m.content ?? "")}`);
    expect(texts).toEqual(["user:Hello?", "assistant:Hi from the platform"]);

    const reloaded = browserAgent("core-thread-1");
    await reloaded.connectAgent();
    const hydrated = reloaded.messages.map((m: { role: string; content?: unknown }) => `${m.role}:${String(m.content ?? "")}`);
    expect(hydrated).toEqual(["user:Hello?", "assistant:Hi from the platform"]);
    agent.detachActiveRun?.();
    reloaded.detachActiveRun?.();
  });

  it("connect on a thread that does not exist finishes empty (C1 204)", async () => {
    const agent = browserAgent("core-thread-new");
    await agent.connectAgent();
    expect(agent.messages).toEqual([]);
  });
});
