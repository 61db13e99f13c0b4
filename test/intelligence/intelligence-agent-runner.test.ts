/**
 * The runner side of Intelligence mode: what reaches the platform's `ingestion:<runId>` channel
 * when a run is stopped by the platform, ends without a terminal event, fails, loses its lock,
 * or meets delivery trouble (retryable and permanent refusals, a draining gateway, a dropped
 * socket). Where CopilotKit 1.75 can be driven the same way, both runtimes run the scenario and
 * the stored events must agree.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptedAgent, agentThrows, longReply, replyMessageId, textReply } from "../helpers/agents.js";
import type { FakePlatform } from "../helpers/fake-intelligence-platform.js";
import { runBody } from "../helpers/inputs.js";
import { type Untyped, both, closePlatforms, implNamed, loadImpls, setup } from "./support.js";

beforeAll(loadImpls);
afterAll(closePlatforms);

const message = [{ id: "m1", role: "user", content: "hi" }];

/** The stored events of a run without their per-run ids: type, and the fields a client reads. */
function stored(platform: FakePlatform, runId: string) {
  return (platform.events.get(runId) ?? []).map((event) => {
    const { metadata, thread_id, run_id, threadId, runId: eventRunId, ...rest } = event as Untyped;
    expect(thread_id).toBe(threadId);
    expect(run_id).toBe(eventRunId);
    return { ...rest, seq: metadata.cpki_event_seq };
  });
}

function ended(platform: FakePlatform, runId: string): () => boolean {
  return () => (platform.events.get(runId) ?? []).some((event) => event.type === "RUN_FINISHED" || event.type === "RUN_ERROR");
}

describe("IntelligenceAgentRunner, ours vs CopilotKit 1.75", () => {
  it("a stop from the platform (ag-ui CUSTOM stop) closes the open message and finishes the run; the lock is not DELETEd", async () => {
    const result = await both(async (impl) => {
      let reached!: () => void;
      const firstWord = new Promise<void>((resolve) => (reached = resolve));
      const agent = new ScriptedAgent({ script: textReply("one two three", { pauseAfterFirstWord: () => (reached(), new Promise(() => {})) }) });
      const s = await setup(impl, { agents: { default: agent } });
      const response = await s.call("POST", "/agent/default/run", runBody("t-stop", { runId: "r-stop", messages: message }));
      expect(response.status).toBe(200);
      await firstWord;
      await s.platform.waitFor(() => (s.platform.events.get("r-stop") ?? []).some((e) => e.type === "TEXT_MESSAGE_CONTENT"), "the first word stored");
      expect(s.platform.sendStop("r-stop")).toBe(true);
      await s.platform.waitFor(ended(s.platform, "r-stop"), "the stopped run's end");
      return { events: stored(s.platform, "r-stop").map((e) => e.type), lockDeletes: s.platform.routes().filter((r) => r === "DELETE /api/threads/:id/lock").length };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours.events).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    expect(result.ours.lockDeletes).toBe(0);
  });

  it("an agent that ends without a terminal event: closers and RUN_ERROR INCOMPLETE_STREAM", async () => {
    const result = await both(async (impl) => {
      const script = (input: Untyped) => [
        { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
        { type: "TEXT_MESSAGE_START", messageId: replyMessageId(input), role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: replyMessageId(input), delta: "partial" },
      ];
      const s = await setup(impl, { agents: { default: new ScriptedAgent({ script }) } });
      await s.call("POST", "/agent/default/run", runBody("t-inc", { runId: "r-inc", messages: message }));
      await s.platform.waitFor(ended(s.platform, "r-inc"), "the run's end");
      const events = stored(s.platform, "r-inc");
      return { types: events.map((e) => e.type), code: events.at(-1)?.code, seqs: events.map((e) => e.seq) };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours.types).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
    expect(result.ours.code).toBe("INCOMPLETE_STREAM");
  });

  it("an agent that throws: the run ends with RUN_ERROR and the lock is DELETEd (ours says AGENT_ERROR, not the error's text)", async () => {
    const result = await both(async (impl) => {
      const script = (input: Untyped) => [{ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId }, agentThrows("secret upstream detail")];
      const s = await setup(impl, { agents: { default: new ScriptedAgent({ script }) } });
      await s.call("POST", "/agent/default/run", runBody("t-throw", { runId: "r-throw", messages: message }));
      await s.platform.waitFor(ended(s.platform, "r-throw"), "the run's end");
      await s.platform.waitFor(() => s.platform.routes().includes("DELETE /api/threads/:id/lock"), "the lock release");
      const events = stored(s.platform, "r-throw");
      return { types: events.map((e) => e.type), last: events.at(-1), release: s.platform.calls.find((c) => c.method === "DELETE")?.body };
    });
    expect(result.ours.types).toEqual(result.copilotkit.types);
    expect(result.ours.release).toEqual(result.copilotkit.release);
    expect(result.copilotkit.last?.message).toBe("secret upstream detail");
    expect(result.ours.last).toMatchObject({ type: "RUN_ERROR", code: "AGENT_ERROR" });
    expect(JSON.stringify(result.ours.last)).not.toContain("secret");
  });

  it("the lock heartbeat sends the same renewal as 1.75, every lockHeartbeatIntervalSeconds", async () => {
    const result = await both(async (impl) => {
      const agent = new ScriptedAgent({ script: textReply("one two", { pauseAfterFirstWord: () => new Promise(() => {}) }) });
      const s = await setup(impl, { agents: { default: agent }, runtime: { lockHeartbeatIntervalSeconds: 0.02, lockTtlSeconds: 7, lockKeyPrefix: "tenant-a" } });
      await s.call("POST", "/agent/default/run", runBody("t-hb", { runId: "r-hb", messages: message }));
      await s.platform.waitFor(() => s.platform.routes().filter((r) => r === "PATCH /api/threads/:id/lock").length >= 2, "two renewals");
      s.platform.sendStop("r-hb");
      await s.platform.waitFor(ended(s.platform, "r-hb"), "the stopped run's end");
      const renew = s.platform.calls.find((c) => c.method === "PATCH" && c.route === "/api/threads/:id/lock");
      const lock = s.platform.calls.find((c) => c.method === "POST" && c.route === "/api/threads/:id/lock");
      return { renewBody: renew?.body, lockBody: lock?.body };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours.renewBody).toEqual({ runId: "r-hb", ttlSeconds: 7, lockKeyPrefix: "tenant-a" });
  });

  it("a failed renewal ends the run (ours: the agent is aborted and the run closed; 1.75 only aborts the agent, which a stuck agent ignores)", async () => {
    const agent = new ScriptedAgent({ script: textReply("one two", { pauseAfterFirstWord: () => new Promise(() => {}) }) });
    let failures = 0;
    const s = await setup(implNamed("ours"), {
      agents: { default: agent },
      runtime: { lockHeartbeatIntervalSeconds: 0.02 },
      // Renewals succeed until the agent is stuck after its first word, then the lock is lost.
      prepare: (p) =>
        p.answer("PATCH /api/threads/:id/lock", () => {
          if (!(p.events.get("r-lost") ?? []).some((e) => e.type === "TEXT_MESSAGE_CONTENT")) return undefined;
          failures++;
          return { status: 404, body: { error: "lock lost" } };
        }),
    });
    await s.call("POST", "/agent/default/run", runBody("t-lost", { runId: "r-lost", messages: message }));
    await s.platform.waitFor(ended(s.platform, "r-lost"), "the run's end after the lost lock");
    expect(stored(s.platform, "r-lost").map((e) => e.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    expect(failures).toBeGreaterThan(0);
  });

  it("a long run goes in batches of at most 32, seq 1..n in order", async () => {
    const result = await both(async (impl) => {
      const agent = new ScriptedAgent({ script: longReply(150), delayMs: 0 });
      const s = await setup(impl, { agents: { default: agent } });
      await s.call("POST", "/agent/default/run", runBody("t-long", { runId: "r-long", messages: message }));
      await s.platform.waitFor(ended(s.platform, "r-long"), "the long run's end");
      const events = stored(s.platform, "r-long");
      return { count: events.length, seqs: events.map((e) => e.seq), maxBatch: Math.max(...s.platform.pushes.map((p) => p.events.length)), allBatched: s.platform.pushes.every((p) => p.event === "events") };
    });
    expect(result.ours).toEqual({ ...result.copilotkit, maxBatch: result.ours.maxBatch });
    expect(result.ours.seqs).toEqual(Array.from({ length: result.ours.count }, (_, i) => i + 1));
    expect(result.ours.maxBatch).toBeLessThanOrEqual(32);
    expect(result.ours.maxBatch).toBeGreaterThan(1);
  });

  it("a refused push is retried and the events are stored once, in order", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      let refusals = 0;
      s.platform.pushReply = () => (refusals++ < 2 ? { status: "error", response: { reason: "busy" } } : { status: "ok", response: {} });
      await s.call("POST", "/agent/default/run", runBody("t-retry", { runId: "r-retry", messages: message }));
      await s.platform.waitFor(ended(s.platform, "r-retry"), "the run's end");
      return { types: stored(s.platform, "r-retry").map((e) => e.type), seqs: stored(s.platform, "r-retry").map((e) => e.seq), pushes: s.platform.pushes.length > 2 };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours.types[0]).toBe("RUN_STARTED");
    expect(result.ours.types.at(-1)).toBe("RUN_FINISHED");
  });

  it("a push refused with retryable:false fails the run: agent aborted, lock DELETEd", async () => {
    const result = await both(async (impl) => {
      const agent = new ScriptedAgent({ script: longReply(40) });
      const s = await setup(impl, { agents: { default: agent } });
      s.platform.pushReply = () => ({ status: "error", response: { reason: "quota", retryable: false } });
      const response = await s.call("POST", "/agent/default/run", runBody("t-perm", { runId: "r-perm", messages: message }));
      await s.platform.waitFor(() => s.platform.routes().includes("DELETE /api/threads/:id/lock"), "the lock release");
      return { status: response.status, release: s.platform.calls.find((c) => c.method === "DELETE")?.body, stored: (s.platform.events.get("r-perm") ?? []).length };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours).toEqual({ status: 200, release: { runId: "r-perm" }, stored: 0 });
  });

  it("a draining gateway (join error gateway_draining) is waited out: the runner rejoins and the run goes through", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      let first = true;
      s.platform.joinReply = () => {
        if (first) {
          first = false;
          return { status: "error", response: { reason: "gateway_draining" } };
        }
        return { status: "ok", response: { capabilities: ["runner_event_batch_v1"] } };
      };
      const response = await s.call("POST", "/agent/default/run", runBody("t-drain", { runId: "r-drain", messages: message }));
      await s.platform.waitFor(ended(s.platform, "r-drain"), "the run's end");
      return { status: response.status, joins: s.platform.joins.length, last: stored(s.platform, "r-drain").at(-1)?.type };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours).toEqual({ status: 200, joins: 2, last: "RUN_FINISHED" });
  });

  it("a second run of a thread this process is running: 502 Failed to start runner (the platform's lock let it through)", async () => {
    const result = await both(async (impl) => {
      const agent = new ScriptedAgent({ script: textReply("one two", { pauseAfterFirstWord: () => new Promise(() => {}) }) });
      const s = await setup(impl, { agents: { default: agent } });
      const first = await s.call("POST", "/agent/default/run", runBody("t-twice", { runId: "r-a", messages: message }));
      s.platform.answer("POST /api/threads/:id/lock", (call) => ({ status: 200, body: { threadId: "t-twice", runId: (call.body as Untyped).runId, joinToken: "jt" } }));
      const second = await s.call("POST", "/agent/default/run", runBody("t-twice", { runId: "r-b", messages: message }));
      s.platform.sendStop("r-a");
      await s.platform.waitFor(ended(s.platform, "r-a"), "the first run's end");
      return { first: first.status, second: { status: second.status, body: second.body }, released: s.platform.calls.filter((c) => c.method === "DELETE").map((c) => c.body) };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours.second).toEqual({ status: 502, body: { error: "Failed to start runner", message: "Thread already running" } });
  });
});

describe("IntelligenceAgentRunner (ours) over WebSocket", () => {
  it("a dropped socket mid-run: the runner reconnects, rejoins, re-sends what was unacknowledged; every event stored once", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const agent = new ScriptedAgent({ script: textReply("one two three four", { pauseAfterFirstWord: () => gate }) });
    const s = await setup(implNamed("ours"), { agents: { default: agent } });
    let holdAcks = false;
    s.platform.pushReply = () => (holdAcks ? undefined : { status: "ok", response: {} });
    await s.call("POST", "/agent/default/run", runBody("t-drop", { runId: "r-drop", messages: message }));
    await s.platform.waitFor(() => (s.platform.events.get("r-drop") ?? []).some((e) => e.type === "TEXT_MESSAGE_CONTENT"), "the first word stored");
    // The next batch arrives but is never acknowledged; then the connection drops.
    holdAcks = true;
    const pushed = s.platform.pushes.length;
    release();
    await s.platform.waitFor(() => s.platform.pushes.length > pushed, "an unacknowledged push");
    holdAcks = false;
    s.platform.dropRunnerSockets();
    await s.platform.waitFor(ended(s.platform, "r-drop"), "the run stored to its end after the rejoin", 15_000);
    const events = stored(s.platform, "r-drop");
    expect(s.platform.joins.length).toBe(2);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
  });
});
