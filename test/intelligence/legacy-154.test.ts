/**
 * The platform's answers to CopilotKit 1.54.1's REST calls (recognised by `X-Organization-Id`)
 * and its runner's join shape, on a platform core with a movable clock.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API_KEY, PROJECT, type TestCore, createTestCore, joinFake, runnerEvents } from "../helpers/intelligence.js";
import { LEGACY_LEAVE_GRACE_MS } from "../../src/intelligence/channels/legacy-runner-channel.js";
import { userIdFromDeleteReason } from "../../src/intelligence/legacy-154.js";

let core: TestCore;
beforeEach(async () => {
  core = await createTestCore();
});
afterEach(async () => {
  await core.dispose();
});

/** A REST call as 1.54.1's platform client makes it. */
async function legacyApi(method: string, path: string, body?: unknown) {
  const response = await core.rest(
    new Request(`http://platform.test${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", "x-organization-id": "org-154" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text), text };
}

async function threadWithRun(threadId: string, runId: string, userId = "alice") {
  await core.api("POST", "/api/threads", { threadId, userId, agentId: "agent" });
  const lock = await legacyApi("POST", `/api/threads/${threadId}/lock`, { runId, userId });
  expect(lock.status, lock.text).toBe(200);
  return runnerEvents(threadId, runId);
}

async function storeRun(threadId: string, runId: string, events: Array<Record<string, unknown>>) {
  const result = await core.store.appendRunEvents({
    projectId: PROJECT,
    threadId,
    runId,
    events: events.map((e: any) => ({ id: e.metadata.cpki_event_id, seq: e.metadata.cpki_event_seq, type: e.type, json: JSON.stringify(e) })),
    ...(events.at(-1)?.type === "RUN_FINISHED" ? { terminal: "finished" as const } : {}),
    now: core.clock.now(),
  });
  expect(result.status).toBe("ok");
}

describe("1.54.1 REST calls", () => {
  it("T1 and H1 without userId are scoped by project (1.54.1 only); others still need userId", async () => {
    await core.api("POST", "/api/threads", { threadId: "t1", userId: "alice", agentId: "agent" });
    expect((await legacyApi("GET", "/api/threads/t1")).json.thread).toMatchObject({ id: "t1", createdById: "alice" });
    expect((await legacyApi("GET", "/api/threads/t1/messages")).json).toEqual({ messages: [] });
    expect((await legacyApi("GET", "/api/threads/none")).status).toBe(404);
    expect((await core.api("GET", "/api/threads/t1")).status).toBe(400);
    // With a userId, 1.54.1's calls are checked like anyone's.
    expect((await legacyApi("GET", "/api/threads/t1?userId=bob")).status).toBe(404);
  });

  it("L1 {runId, userId} answers exactly {joinToken}; the run takes the thread's agent; a second run is 409; another user's thread 404", async () => {
    await core.api("POST", "/api/threads", { threadId: "t1", userId: "alice", agentId: "agent" });
    const lock = await legacyApi("POST", "/api/threads/t1/lock", { runId: "r1", userId: "alice" });
    expect(lock.status, lock.text).toBe(200);
    expect(Object.keys(lock.json)).toEqual(["joinToken"]);
    expect(core.deps.tokens.verify(lock.json.joinToken)).toMatchObject({ topic: "thread:t1", runId: "r1", userId: "alice" });
    expect(await core.store.getRun(PROJECT, "r1")).toMatchObject({ agentId: "agent", status: "running" });
    expect((await legacyApi("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice" })).status).toBe(409);
    expect((await legacyApi("POST", "/api/threads/t1/lock", { runId: "r3", userId: "bob" })).status).toBe(404);
    // A 1.75 call without agentId is still refused.
    expect((await core.api("POST", "/api/threads/t1/lock", { runId: "r4", userId: "alice" })).status).toBe(400);
  });

  it("C1 answers 204 for unknown and empty threads, then bootstrap plans: all events, or those after a cursor", async () => {
    expect((await legacyApi("POST", "/api/threads/none/connect", { userId: "alice" })).status).toBe(204);
    const run = await threadWithRun("t1", "r1");
    // Locked, no events yet: a live plan with nothing to replay.
    expect((await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice" })).json).toMatchObject({ mode: "live", joinFromEventId: null, events: [] });
    const events = run.textRun("hi", "hello");
    await storeRun("t1", "r1", events);
    const ids = events.map((e) => e.metadata.cpki_event_id);

    const all = await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice", lastSeenEventId: null });
    expect(all.json).toEqual({ mode: "bootstrap", latestEventId: ids.at(-1), events });
    const after = await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice", lastSeenEventId: ids[1] });
    expect(after.json).toEqual({ mode: "bootstrap", latestEventId: ids.at(-1), events: events.slice(2) });
    const upToDate = await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice", lastSeenEventId: ids.at(-1) });
    expect(upToDate.json).toEqual({ mode: "bootstrap", latestEventId: ids.at(-1), events: [] });
    const unknown = await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice", lastSeenEventId: "no-such-event" });
    expect(unknown.json.events).toEqual(events);
    expect((await legacyApi("POST", "/api/threads/t1/connect", { userId: "bob" })).status).toBe(204);
    expect((await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice", lastSeenEventId: 5 })).status).toBe(400);
  });

  it("C1 during a run answers a live plan: the history before the active run, joinFromEventId its last id, a connect-mode token", async () => {
    const first = (await threadWithRun("t1", "r1")).textRun("one", "first");
    await storeRun("t1", "r1", first);
    const second = runnerEvents("t1", "r2");
    expect((await legacyApi("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice" })).status).toBe(200);
    const started = second.textRun("two", "second").slice(0, 3);
    await storeRun("t1", "r2", started);

    const plan = await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice", lastSeenEventId: null });
    expect(plan.json).toMatchObject({ mode: "live", joinFromEventId: first.at(-1)!.metadata.cpki_event_id, events: first });
    expect(core.deps.tokens.verify(plan.json.joinToken)).toMatchObject({ topic: "thread:t1", userId: "alice" });
    expect(core.deps.tokens.verify(plan.json.joinToken)?.runId).toBeUndefined();
    // A cursor inside the active run: nothing over HTTP; the socket resumes from the cursor.
    const inside = await legacyApi("POST", "/api/threads/t1/connect", { userId: "alice", lastSeenEventId: started[1].metadata.cpki_event_id });
    expect(inside.json).toMatchObject({ mode: "live", joinFromEventId: started[1].metadata.cpki_event_id, events: [] });
  });

  it("T5 {reason} deletes the thread of the user the reason names, and only theirs", async () => {
    await core.api("POST", "/api/threads", { threadId: "t1", userId: "alice", agentId: "agent" });
    const reason = (user: string) => `Deleted via CopilotKit runtime (userId=${user}, agentId=agent)`;
    expect((await legacyApi("DELETE", "/api/threads/t1", { reason: reason("bob") })).status).toBe(404);
    expect((await legacyApi("DELETE", "/api/threads/t1", { reason: "gone" })).status).toBe(400);
    expect((await legacyApi("DELETE", "/api/threads/t1", { reason: reason("alice") })).status).toBe(200);
    expect(await core.store.getThread(PROJECT, "t1")).toBeUndefined();
    expect(userIdFromDeleteReason(reason("a.b@c"))).toBe("a.b@c");
    expect(userIdFromDeleteReason(42)).toBeUndefined();
  });
});

describe("1.54.1 runner joins", () => {
  it("ingestion:<threadId> {runId} is accepted for a live lock, stores single events, refuses other threads and runs", async () => {
    const run = await threadWithRun("t1", "r1");
    const refusedThread = await joinFake(core.runnerSocket, "ingestion:t2", { projectId: PROJECT }, { runId: "r1" });
    expect(refusedThread.result).toMatchObject({ ok: false, response: { reason: "run_not_found" } });
    const refusedRun = await joinFake(core.runnerSocket, "ingestion:t1", { projectId: PROJECT }, { runId: "r9" });
    expect(refusedRun.result.ok).toBe(false);

    const { channel, result } = await joinFake(core.runnerSocket, "ingestion:t1", { projectId: PROJECT }, { runId: "r1" });
    expect(result).toMatchObject({ ok: true, response: {} });
    const events = run.textRun("hi", "hello");
    for (const event of events) expect(await channel.send("event", event)).toEqual({ status: "ok", response: {} });
    expect((await core.store.runEvents(PROJECT, "r1", 0, 100)).map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect((await core.store.getRun(PROJECT, "r1"))?.status).toBe("finished");
    channel.end("leave");
  });

  it("a runner that leaves before its terminal event: the lock lapses after the grace and the sweep closes the run with RUN_ERROR", async () => {
    const run = await threadWithRun("t1", "r1");
    const { channel } = await joinFake(core.runnerSocket, "ingestion:t1", { projectId: PROJECT }, { runId: "r1" });
    for (const event of run.textRun("hi", "hello").slice(0, 3)) await channel.send("event", event);
    channel.end("closed");
    await new Promise((resolve) => setImmediate(resolve));
    expect(await core.finalizer.sweep()).toBe(0);
    core.clock.advance(LEGACY_LEAVE_GRACE_MS + 1);
    expect(await core.finalizer.sweep()).toBe(1);
    const stored = await core.store.runEvents(PROJECT, "r1", 0, 100);
    expect(stored.at(-1)?.type).toBe("RUN_ERROR");
    expect((await legacyApi("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice" })).status).toBe(200);
  });

  it("a stopped run whose runner leaves is closed at once with RUN_FINISHED", async () => {
    const run = await threadWithRun("t1", "r1");
    const { channel } = await joinFake(core.runnerSocket, "ingestion:t1", { projectId: PROJECT }, { runId: "r1" });
    for (const event of run.textRun("hi", "hello").slice(0, 3)) await channel.send("event", event);
    await core.finalizer.requestStop(PROJECT, "t1", "r1");
    expect(channel.pushes.map((p) => p.event)).toEqual(["ag-ui"]);
    channel.end("leave");
    await expect.poll(async () => (await core.store.getRun(PROJECT, "r1"))?.status).toBe("finished");
    expect((await core.store.runEvents(PROJECT, "r1", 0, 100)).at(-1)?.type).toBe("RUN_FINISHED");
  });
});
