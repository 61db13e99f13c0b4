/**
 * The unmodified `@copilotkit/core@1.75.0` browser client (`IntelligenceAgent`) against CopilotKit's
 * 1.75 runtime and our platform: a run completes over the realtime socket (Phoenix long-poll in
 * Node 20), and a fresh agent (a page reload) hydrates the thread by replay on connect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { type IntelligenceStack, PROJECT, eventually, startIntelligenceStack } from "../helpers/intelligence.js";

let stack: IntelligenceStack;
let IntelligenceAgent: any;
let createThreadStore: any;

beforeAll(async () => {
  ({ IntelligenceAgent, ɵcreateThreadStore: createThreadStore } = await import("@copilotkit/core"));
  stack = await startIntelligenceStack({ agents: { default: new ScriptedAgent({ script: textReply("Hi from the platform") }) } });
});
afterAll(async () => {
  await stack?.close();
});

/** The browser's fetch, reaching the runtime's handler directly. */
const runtimeFetch = (input: RequestInfo | URL, init?: RequestInit) => stack.runtimeFetch(new Request(input, init));

/** An IntelligenceAgent whose REST calls reach the runtime's fetch handler directly. */
function browserAgent(threadId: string) {
  const agent = new IntelligenceAgent({
    url: `${stack.platform.wsUrl}/client`,
    runtimeUrl: "http://runtime.test/api/copilotkit",
    agentId: "default",
    headers: { "x-user": "carol" },
    fetch: runtimeFetch,
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

  it("the thread store lists threads and applies realtime thread_metadata (created elsewhere, renamed, deleted) and run activity", async () => {
    const store = createThreadStore({ fetch: runtimeFetch });
    const activity: Array<{ threadId: string; eventType?: string }> = [];
    store.start();
    expect(typeof store.subscribeToRunActivity).toBe("function");
    const runActivity = store.subscribeToRunActivity((notification: { threadId: string; eventType?: string }) => activity.push(notification));
    try {
      store.setContext({ runtimeUrl: "http://runtime.test/api/copilotkit", headers: { "x-user": "carol" }, wsUrl: `${stack.platform.wsUrl}/client`, agentId: "default" });
      await eventually(() => expect(store.getState().threads.map((t: { id: string }) => t.id)).toContain("core-thread-1"));
      await eventually(() => expect(store.getState().metadataJoinCode).toEqual(expect.any(String)));
      // The store joined user_meta on our /client socket.
      await eventually(() => expect(stack.platform.platform.core.fanOut.userMetaSubscriberCount(PROJECT, "carol")).toBe(1));

      // Another device (same user) runs on a new thread: the list learns about it without a refetch.
      const other = browserAgent("core-thread-2");
      other.addMessage({ id: "core-user-2", role: "user", content: "From my phone" });
      await other.runAgent();
      await eventually(() => expect(store.getState().threads.map((t: { id: string }) => t.id)).toContain("core-thread-2"));

      const renamed = await stack.browser("PATCH", "/threads/core-thread-2", { agentId: "default", name: "Phone chat" }, "carol");
      expect(renamed.status, renamed.text).toBe(200);
      await eventually(() => expect(store.getState().threads.find((t: { id: string }) => t.id === "core-thread-2")?.name).toBe("Phone chat"));

      const deleted = await stack.browser("DELETE", "/threads/core-thread-2", { agentId: "default" }, "carol");
      expect(deleted.status, deleted.text).toBe(200);
      await eventually(() => expect(store.getState().threads.map((t: { id: string }) => t.id)).not.toContain("core-thread-2"));
      // thread_run_activity reached the store for the other device's run.
      expect(activity.some((a) => a.threadId === "core-thread-2")).toBe(true);
    } finally {
      runActivity.unsubscribe();
      store.stop();
    }
  });
});
