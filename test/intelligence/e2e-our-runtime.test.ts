/**
 * End to end with nothing faked: our runtime in Intelligence mode on our platform
 * (`serveIntelligencePlatform`), driven by the unmodified `@copilotkit/core@1.75.0` browser client
 * (`IntelligenceAgent`, realtime over Phoenix long-poll in Node 20) and by plain HTTP. Every
 * scenario also runs with CopilotKit's 1.75 runtime in our runtime's place, and both must behave
 * the same: a run streams to the browser, a reload replays the thread, a locked thread answers
 * 409 (the browser client's AgentThreadLockedError), the thread list, rename, archive and delete work, and a new thread gets a generated name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { type IntelligenceStack, copilotKitIntelligenceRuntime, runInput, startIntelligenceStack } from "../helpers/intelligence.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = any;

/** Our runtime over the same platform, with our own CopilotKitIntelligence (the helper hands us 1.75's). */
async function ourIntelligenceRuntime(options: Record<string, unknown>): Promise<(request: Request) => Promise<Response>> {
  const ours: Untyped = await import("../../src/index.js");
  const theirs = options.intelligence as Untyped;
  const intelligence = new ours.CopilotKitIntelligence({ apiUrl: theirs.ɵgetApiUrl(), wsUrl: theirs.ɵgetRunnerWsUrl(), apiKey: theirs.ɵgetApiKey() });
  const runtime = new ours.CopilotRuntime({ ...options, intelligence });
  return ours.createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" });
}

const RUNTIMES = [
  ["CopilotKit 1.75's runtime", copilotKitIntelligenceRuntime],
  ["our runtime", ourIntelligenceRuntime],
] as const;

describe.each(RUNTIMES)("%s in Intelligence mode on our platform", (_, createRuntime) => {
  let stack: IntelligenceStack;
  let IntelligenceAgent: Untyped;
  let releaseHeld!: () => void;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));

  beforeAll(async () => {
    ({ IntelligenceAgent } = await import("@copilotkit/core"));
    stack = await startIntelligenceStack({
      agents: {
        default: new ScriptedAgent({ script: textReply("Hi from the platform") }),
        slow: new ScriptedAgent({ script: textReply("slow answer here", { pauseAfterFirstWord: () => held }) }),
      },
      createRuntime,
      runtimeOptions: { generateThreadNames: true },
    });
  });
  afterAll(async () => {
    releaseHeld();
    await stack?.close();
  });

  function browserAgent(threadId: string, user = "carol", agentId = "default") {
    const agent = new IntelligenceAgent({
      url: `${stack.platform.wsUrl}/client`,
      runtimeUrl: "http://runtime.test/api/copilotkit",
      agentId,
      headers: { "x-user": user },
      fetch: (input: RequestInfo | URL, init?: RequestInit) => stack.runtimeFetch(new Request(input, init)),
    });
    agent.threadId = threadId;
    return agent;
  }

  const texts = (agent: Untyped) => agent.messages.map((m: { role: string; content?: unknown }) => `${m.role}:${String(m.content ?? "")}`);

  it("a run streams to the real 1.75 browser client; a reload replays the thread; a second turn adds only the new message", async () => {
    const agent = browserAgent("e2e-thread-1");
    agent.addMessage({ id: "e2e-user-1", role: "user", content: "Hello?" });
    await agent.runAgent();
    expect(texts(agent)).toEqual(["user:Hello?", "assistant:Hi from the platform"]);

    agent.addMessage({ id: "e2e-user-2", role: "user", content: "Again?" });
    await agent.runAgent();
    expect(texts(agent)).toEqual(["user:Hello?", "assistant:Hi from the platform", "user:Again?", "assistant:Hi from the platform"]);

    const reloaded = browserAgent("e2e-thread-1");
    await reloaded.connectAgent();
    expect(texts(reloaded)).toEqual(texts(agent));
    // The history holds each message once: the second run's RUN_STARTED carried only the new one.
    const history = await stack.browser("GET", "/threads/e2e-thread-1/messages", undefined, "carol");
    expect(history.status).toBe(200);
    expect(history.json.messages.map((m: { id: string }) => m.id).filter((id: string) => id.startsWith("e2e-user"))).toEqual(["e2e-user-1", "e2e-user-2"]);
    agent.detachActiveRun?.();
    reloaded.detachActiveRun?.();
  });

  it("connect on a thread that does not exist finishes empty (204)", async () => {
    const agent = browserAgent("e2e-thread-new");
    await agent.connectAgent();
    expect(agent.messages).toEqual([]);
    const response = await stack.browser("POST", "/agent/default/connect", runInput("e2e-thread-new", "r-none", "x"), "carol");
    expect(response.status).toBe(204);
  });

  it("a second run on a thread whose run holds the lock: 409 Thread lock denied; another user's thread is refused", async () => {
    const first = await stack.browser("POST", "/agent/slow/run", runInput("e2e-locked", "run-held", "first"), "dave");
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ threadId: "e2e-locked", runId: "run-held", realtime: { topic: "thread:e2e-locked" } });
    expect(typeof first.json.joinToken).toBe("string");
    const second = await stack.browser("POST", "/agent/slow/run", runInput("e2e-locked", "run-second", "second"), "dave");
    expect({ status: second.status, body: second.json }).toEqual({ status: 409, body: { error: "Thread lock denied" } });
    // The real browser client turns the 409 into its AgentThreadLockedError.
    const { AgentThreadLockedError } = await import("@copilotkit/core");
    const blocked = browserAgent("e2e-locked", "dave", "slow");
    blocked.addMessage({ id: "e2e-blocked", role: "user", content: "me too" });
    const failure = await blocked.runAgent().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AgentThreadLockedError);
    const intruder = await stack.browser("POST", "/agent/slow/run", runInput("e2e-locked", "run-intruder", "mine?"), "mallory");
    expect(intruder.status).toBeGreaterThanOrEqual(400);
    expect(intruder.status).toBeLessThan(500);
    const stopped = await stack.browser("POST", "/agent/slow/stop/e2e-locked", {}, "dave");
    expect(stopped.json).toMatchObject({ stopped: true });
    // Once the stopped run's terminal event is stored the platform frees the lock.
    let freed: { status: number } | undefined;
    await eventually(async () => {
      freed = await stack.browser("POST", "/agent/slow/run", runInput("e2e-locked", "run-free", "third"), "dave");
      expect(freed.status).toBe(200);
    });
    expect((await stack.browser("POST", "/agent/slow/stop/e2e-locked", { runId: "run-free" }, "dave")).json).toMatchObject({ stopped: true });
  });

  it("the thread list: the new thread is there with a generated name; rename, archive and delete go through the platform", async () => {
    const agent = browserAgent("e2e-list-1", "erin");
    agent.addMessage({ id: "e2e-list-user", role: "user", content: "Plan a trip to Lisbon" });
    await agent.runAgent();
    agent.detachActiveRun?.();

    await eventually(async () => {
      const list = await stack.browser("GET", "/threads?agentId=default", undefined, "erin");
      expect(list.status).toBe(200);
      expect(list.json.threads.map((t: { id: string; name: string | null }) => [t.id, t.name])).toEqual([["e2e-list-1", "Hi from the platform"]]);
      expect(typeof list.json.joinCode).toBe("string");
    });
    const subscribed = await stack.browser("POST", "/threads/subscribe", {}, "erin");
    expect(subscribed.status).toBe(200);
    expect(Object.keys(subscribed.json)).toEqual(["joinToken"]);

    const renamed = await stack.browser("PATCH", "/threads/e2e-list-1", { agentId: "default", name: "Lisbon" }, "erin");
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id: "e2e-list-1", name: "Lisbon" });
    expect((await stack.browser("GET", "/threads?agentId=default", undefined, "someone-else")).json.threads).toEqual([]);

    expect((await stack.browser("POST", "/threads/e2e-list-1/archive", { agentId: "default" }, "erin")).json).toEqual({ threadId: "e2e-list-1", archived: true });
    expect((await stack.browser("GET", "/threads?agentId=default", undefined, "erin")).json.threads).toEqual([]);
    const archived = await stack.browser("GET", "/threads?agentId=default&includeArchived=true", undefined, "erin");
    expect(archived.json.threads.map((t: { id: string; archived: boolean }) => [t.id, t.archived])).toEqual([["e2e-list-1", true]]);

    expect((await stack.browser("DELETE", "/threads/e2e-list-1", { agentId: "default" }, "erin")).json).toEqual({ threadId: "e2e-list-1", deleted: true });
    expect((await stack.browser("GET", "/threads?agentId=default&includeArchived=true", undefined, "erin")).json.threads).toEqual([]);
  });

  it("/info advertises the platform's client socket and an active entitlement", async () => {
    const info = await stack.browser("GET", "/info");
    expect(info.json).toMatchObject({
      mode: "intelligence",
      intelligence: { wsUrl: `${stack.platform.wsUrl}/client` },
      threadEndpoints: { list: true, inspect: true, mutations: true, realtimeMetadata: true },
      licenseStatus: "valid",
      runtimeEntitlements: { status: "ready" },
    });
  });
});

async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
