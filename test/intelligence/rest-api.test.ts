import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { SELF_HOSTED_ENTITLEMENT } from "../../src/intelligence/rest-api.js";
import { OTHER_PROJECT_KEY, PROJECT, type TestCore, createTestCore, storesUnderTest, joinFake, runnerEvents } from "../helpers/intelligence.js";

const backends = await storesUnderTest("Intelligence REST API");
afterAll(async () => {
  for (const backend of backends) await backend.cleanUp();
});

for (const backend of backends) {
  describe(`${backend.name} store`, () => {
    let core: TestCore;
    beforeEach(async () => {
      core = await createTestCore({ store: await backend.open() });
    });
    afterEach(() => core.dispose());

    const createThread = (threadId: string, userId = "alice", agentId = "agent-a", name?: string) =>
      core.api("POST", "/api/threads", { threadId, userId, agentId, ...(name !== undefined ? { name } : {}) });

    /** Locks a run and pushes the events through the runner channel, as CopilotKit's runner does. */
    async function runThrough(threadId: string, runId: string, events: unknown[], userId = "alice") {
      const lock = await core.api("POST", `/api/threads/${threadId}/lock`, { runId, userId, agentId: "agent-a", ttlSeconds: 20 });
      expect(lock.status).toBe(200);
      const { channel, result } = await joinFake(core.runnerSocket, `ingestion:${runId}`, { projectId: PROJECT }, { thread_id: threadId, run_id: runId });
      expect(result.ok).toBe(true);
      const reply = await channel.send("events", { events });
      expect(reply.status).toBe("ok");
      channel.end("leave");
    }

    describe("Intelligence REST API: auth and fixed endpoints", () => {
      it("answers 401 {error, message} without a key, with a wrong key, and with a malformed Authorization header", async () => {
        for (const key of [null, "cpk-7_wrong", "not-a-key"]) {
          const response = await core.api("GET", "/api/threads?userId=alice&agentId=a", undefined, key);
          expect(response.status).toBe(401);
          expect(response.json).toMatchObject({ error: "unauthorized", message: expect.any(String) });
        }
      });

      it("E1 answers the exact self-hosted active entitlement", async () => {
        const response = await core.api("GET", "/api/entitlements/runtime");
        expect(response.status).toBe(200);
        expect(response.json).toEqual({
          status: "ready",
          entitlement: { active: true, source: "selfHostedDeploymentLicense", features: { threads: true, chat: true, popup: true, sidebar: true }, limits: {} },
        });
        expect(response.json).toEqual(SELF_HOSTED_ENTITLEMENT);
      });

      it("I1/I2 are data-free stubs and I3 is 204", async () => {
        expect((await core.api("GET", "/api/_inspect/threads/t1/events")).json).toEqual({ events: [], decodeErrorRowIds: [], truncated: false });
        expect((await core.api("GET", "/api/_inspect/threads/t1/state")).json).toEqual({ kind: "no-snapshot" });
        expect((await core.api("GET", "/api/inspector/metadata")).status).toBe(204);
      });

      it("unknown paths are 404 and wrong methods 405, as JSON", async () => {
        const missing = await core.api("GET", "/api/nope");
        expect(missing.status).toBe(404);
        expect(missing.json.error).toBe("not_found");
        const wrong = await core.api("PUT", "/api/threads/t1");
        expect(wrong.status).toBe(405);
        expect(wrong.json.error).toBe("method_not_allowed");
      });

      it("bad bodies are 400 with a clear message, never a crash", async () => {
        const invalid = await core.api("POST", "/api/threads", "{not json");
        expect(invalid.status).toBe(400);
        expect(invalid.json).toMatchObject({ error: "invalid_json" });
        const array = await core.api("POST", "/api/threads", "[1,2]");
        expect(array.status).toBe(400);
        const missing = await core.api("POST", "/api/threads", { threadId: "t1", agentId: "a" });
        expect(missing.status).toBe(400);
        expect(missing.json.message).toMatch(/userId/);
        const badId = await core.api("POST", "/api/threads", { threadId: "t1", userId: "has space", agentId: "a" });
        expect(badId.status).toBe(400);
        const badName = await core.api("POST", "/api/threads", { threadId: "t1", userId: "alice", agentId: "a", name: 42 });
        expect(badName.status).toBe(400);
      });
    });

    describe("Intelligence REST API: threads (T1–T6) and isolation", () => {
      it("T2 creates (201 {thread}) with every field the browser sorts and filters on; a second create is 409; T1 reads it", async () => {
        const created = await createThread("t1", "alice", "agent-a", "First");
        expect(created.status).toBe(201);
        expect(created.json.thread).toMatchObject({
          id: "t1",
          name: "First",
          agentId: "agent-a",
          createdById: "alice",
          organizationId: PROJECT,
          archived: false,
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        });
        expect((await createThread("t1")).status).toBe(409);
        const read = await core.api("GET", "/api/threads/t1?userId=alice");
        expect(read.status).toBe(200);
        expect(read.json.thread.id).toBe("t1");
        expect((await core.api("GET", "/api/threads/unknown?userId=alice")).status).toBe(404);
      });

      it("another user gets 404 on T1, 409 on T2, 404 on T4/T5/H1/L1, 204 on C1, and an empty list: never alice's data", async () => {
        await createThread("t1", "alice");
        const get = await core.api("GET", "/api/threads/t1?userId=bob");
        expect(get.status).toBe(404);
        expect(get.text).not.toContain("alice");
        expect((await createThread("t1", "bob")).status).toBe(409);
        expect((await core.api("PATCH", "/api/threads/t1", { userId: "bob", agentId: "agent-a", name: "mine" })).status).toBe(404);
        expect((await core.api("DELETE", "/api/threads/t1", { userId: "bob", agentId: "agent-a", reason: "x" })).status).toBe(404);
        expect((await core.api("GET", "/api/threads/t1/messages?userId=bob")).status).toBe(404);
        expect((await core.api("POST", "/api/threads/t1/lock", { runId: "r1", userId: "bob", agentId: "agent-a" })).status).toBe(404);
        expect((await core.api("POST", "/api/threads/t1/connect", { userId: "bob", agentId: "agent-a" })).status).toBe(204);
        const list = await core.api("GET", "/api/threads?userId=bob&agentId=agent-a");
        expect(list.json.threads).toEqual([]);
        // Still alice's, unchanged.
        expect((await core.api("GET", "/api/threads/t1?userId=alice")).json.thread.name).toBeNull();
      });

      it("another project (API key) never sees the thread", async () => {
        await createThread("t1", "alice");
        expect((await core.api("GET", "/api/threads/t1?userId=alice", undefined, OTHER_PROJECT_KEY)).status).toBe(404);
        const list = await core.api("GET", "/api/threads?userId=alice&agentId=agent-a", undefined, OTHER_PROJECT_KEY);
        expect(list.json.threads).toEqual([]);
      });

      it("T3 lists one user's threads of one agent with joinCode, a user_meta joinToken and nextCursor; archived only on request", async () => {
        await createThread("t1", "alice", "agent-a");
        await createThread("t2", "alice", "agent-a");
        await createThread("t3", "alice", "agent-b");
        await core.api("PATCH", "/api/threads/t2", { userId: "alice", agentId: "agent-a", archived: true });
        const list = await core.api("GET", "/api/threads?userId=alice&agentId=agent-a");
        expect(list.status).toBe(200);
        expect(list.json.threads.map((t: { id: string }) => t.id)).toEqual(["t1"]);
        expect(list.json.joinCode).toEqual(expect.any(String));
        expect(list.json.joinCode.length).toBeGreaterThan(0);
        expect(list.json.nextCursor).toBeNull();
        const claims = core.deps.tokens.verify(list.json.joinToken);
        expect(claims).toMatchObject({ project: PROJECT, userId: "alice", topic: `user_meta:${list.json.joinCode}` });
        const all = await core.api("GET", "/api/threads?userId=alice&agentId=agent-a&includeArchived=true");
        expect(all.json.threads.map((t: { id: string }) => t.id).sort()).toEqual(["t1", "t2"]);
        // The join code is stable per user.
        expect(all.json.joinCode).toBe(list.json.joinCode);
      });

      it("T3 pages with limit and cursor, and validates its query", async () => {
        for (const id of ["a", "b", "c"]) {
          await createThread(id);
          core.clock.advance(1000);
        }
        const first = await core.api("GET", "/api/threads?userId=alice&agentId=agent-a&limit=2");
        expect(first.json.threads).toHaveLength(2);
        expect(first.json.nextCursor).toEqual(expect.any(String));
        const second = await core.api("GET", `/api/threads?userId=alice&agentId=agent-a&limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`);
        expect(second.json.threads).toHaveLength(1);
        const ids = [...first.json.threads, ...second.json.threads].map((t: { id: string }) => t.id);
        expect(new Set(ids)).toEqual(new Set(["a", "b", "c"]));
        expect((await core.api("GET", "/api/threads?userId=alice&agentId=agent-a&limit=0")).status).toBe(400);
        expect((await core.api("GET", "/api/threads?userId=alice")).status).toBe(400);
        expect((await core.api("GET", "/api/threads?userId=alice&agentId=a&includeArchived=maybe")).status).toBe(400);
      });

      it("T4 applies only name and archived (allow-list) and answers {thread}", async () => {
        await createThread("t1");
        const renamed = await core.api("PATCH", "/api/threads/t1", { userId: "alice", agentId: "agent-a", name: "Renamed", createdById: "mallory", organizationId: "x", id: "t9" });
        expect(renamed.status).toBe(200);
        expect(renamed.json.thread).toMatchObject({ id: "t1", name: "Renamed", createdById: "alice", organizationId: PROJECT, archived: false });
        const archived = await core.api("PATCH", "/api/threads/t1", { userId: "alice", agentId: "agent-a", archived: true });
        expect(archived.json.thread.archived).toBe(true);
        expect((await core.api("PATCH", "/api/threads/t1", { userId: "alice", agentId: "agent-a", archived: "yes" })).status).toBe(400);
        expect((await core.api("PATCH", "/api/threads/t1", { userId: "alice", name: "x" })).status).toBe(400);
      });

      it("T5 deletes the thread with its history; T6 answers a user_meta joinToken", async () => {
        await createThread("t1");
        const deleted = await core.api("DELETE", "/api/threads/t1", { userId: "alice", agentId: "agent-a", reason: "test" });
        expect(deleted.status).toBe(200);
        expect((await core.api("GET", "/api/threads/t1?userId=alice")).status).toBe(404);
        expect((await core.api("DELETE", "/api/threads/t1", { userId: "alice", agentId: "agent-a", reason: "again" })).status).toBe(404);
        const subscribed = await core.api("POST", "/api/threads/subscribe", { userId: "alice" });
        expect(subscribed.status).toBe(200);
        const code = await core.store.joinCodeFor(PROJECT, "alice");
        expect(core.deps.tokens.verify(subscribed.json.joinToken)).toMatchObject({ userId: "alice", topic: `user_meta:${code}` });
        expect((await core.api("POST", "/api/threads/subscribe", {})).status).toBe(400);
      });
    });

    describe("Intelligence REST API: locks (L1–L3), history (H1), connect (C1)", () => {
      it("L1 answers threadId, runId, a run-bound joinToken and the lock; a second run is 409; the same run again is 200", async () => {
        await createThread("t1");
        const lock = await core.api("POST", "/api/threads/t1/lock", { runId: "r1", userId: "alice", agentId: "agent-a", ttlSeconds: 20 });
        expect(lock.status).toBe(200);
        expect(lock.json).toMatchObject({ threadId: "t1", runId: "r1", joinToken: expect.any(String), lock: { key: "thread:t1", ttlSeconds: 20 } });
        expect(core.deps.tokens.verify(lock.json.joinToken)).toMatchObject({ userId: "alice", topic: "thread:t1", runId: "r1" });
        const second = await core.api("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice", agentId: "agent-a" });
        expect(second.status).toBe(409);
        expect(second.json.error).toBe("thread_locked");
        expect((await core.api("POST", "/api/threads/t1/lock", { runId: "r1", userId: "alice", agentId: "agent-a" })).status).toBe(200);
        expect((await core.api("POST", "/api/threads/t1/lock", { userId: "alice", agentId: "agent-a" })).status).toBe(400);
        expect((await core.api("POST", "/api/threads/t1/lock", { runId: "r3", userId: "alice", agentId: "agent-a", ttlSeconds: -1 })).status).toBe(400);
      });

      it("L1 on a thread whose lock lapsed finalizes the orphan (closers + RUN_ERROR) and locks for the new run", async () => {
        await createThread("t1");
        const events = runnerEvents("t1", "r1");
        const started = [events.make({ type: "RUN_STARTED" }), events.make({ type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" })];
        await runThrough("t1", "r1", started);
        core.clock.advance(21_000);
        const lock = await core.api("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice", agentId: "agent-a" });
        expect(lock.status).toBe(200);
        const log = (await core.store.runEvents(PROJECT, "r1", 0, 100)).map((e) => JSON.parse(e.json));
        expect(log.map((e) => e.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_END", "RUN_ERROR"]);
        expect(log[3].metadata.cpki_event_seq).toBe(4);
        expect((await core.store.getRun(PROJECT, "r1"))?.status).toBe("error");
      });

      it("L2 renews (200 {ttlSeconds}), answers 200 for a run that just ended, 404 for an unknown run", async () => {
        await createThread("t1");
        await core.api("POST", "/api/threads/t1/lock", { runId: "r1", userId: "alice", agentId: "agent-a", ttlSeconds: 20 });
        core.clock.advance(15_000);
        const renewed = await core.api("PATCH", "/api/threads/t1/lock", { runId: "r1", ttlSeconds: 20 });
        expect(renewed.status).toBe(200);
        expect(renewed.json).toEqual({ ttlSeconds: 20 });
        core.clock.advance(15_000); // past the first expiry, within the renewed one
        expect((await core.store.expiredRuns(core.clock.ms, 10)).length).toBe(0);
        const { channel } = await joinFake(core.runnerSocket, "ingestion:r1", { projectId: PROJECT }, { thread_id: "t1", run_id: "r1" });
        await channel.send("events", { events: runnerEvents("t1", "r1").textRun("hi", "hello") });
        expect((await core.api("PATCH", "/api/threads/t1/lock", { runId: "r1", ttlSeconds: 20 })).status).toBe(200);
        expect((await core.api("PATCH", "/api/threads/t1/lock", { runId: "nope", ttlSeconds: 20 })).status).toBe(404);
      });

      it("L3 is idempotent, ends the run, and frees the thread", async () => {
        await createThread("t1");
        await core.api("POST", "/api/threads/t1/lock", { runId: "r1", userId: "alice", agentId: "agent-a" });
        expect((await core.api("DELETE", "/api/threads/t1/lock", { runId: "r1" })).status).toBe(200);
        expect((await core.api("DELETE", "/api/threads/t1/lock", { runId: "r1" })).status).toBe(200);
        expect((await core.api("DELETE", "/api/threads/t1/lock", { runId: "never" })).status).toBe(200);
        expect((await core.store.getRun(PROJECT, "r1"))?.status).not.toBe("running");
        expect(await core.store.latestEventId(PROJECT, "t1")).toBeNull(); // a run with no events ends without any
        expect((await core.api("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice", agentId: "agent-a" })).status).toBe(200);
      });

      it("H1 derives messages oldest first from the log: user input, assistant text, tool calls and results", async () => {
        await createThread("t1");
        const run1 = runnerEvents("t1", "r1");
        await runThrough("t1", "r1", run1.textRun("What is up?", "Not much."));
        const run2 = runnerEvents("t1", "r2");
        await runThrough("t1", "r2", [
          run2.make({ type: "RUN_STARTED", input: { messages: [{ id: "u2", role: "user", content: "Weather?" }] } }),
          run2.make({ type: "TOOL_CALL_START", toolCallId: "tc1", toolCallName: "weather", parentMessageId: "a2" }),
          run2.make({ type: "TOOL_CALL_ARGS", toolCallId: "tc1", delta: '{"city":"Oslo"}' }),
          run2.make({ type: "TOOL_CALL_END", toolCallId: "tc1" }),
          run2.make({ type: "TOOL_CALL_RESULT", toolCallId: "tc1", messageId: "tr1", content: "sunny" }),
          run2.make({ type: "RUN_FINISHED" }),
        ]);
        const history = await core.api("GET", "/api/threads/t1/messages?userId=alice");
        expect(history.status).toBe(200);
        const messages = history.json.messages;
        expect(messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "user", "assistant", "tool"]);
        expect(messages[0]).toMatchObject({ role: "user", content: "What is up?" });
        expect(messages[1]).toMatchObject({ role: "assistant", content: "Not much." });
        expect(messages[3]).toEqual({ id: "a2", role: "assistant", toolCalls: [{ id: "tc1", name: "weather", args: '{"city":"Oslo"}' }] });
        expect(messages[4]).toEqual({ id: "tr1", role: "tool", toolCallId: "tc1", content: "sunny" });
      });

      it("C1 is 204 for unknown and empty threads, 200 with a token for a thread with events, and 200 with runId while running", async () => {
        expect((await core.api("POST", "/api/threads/none/connect", { userId: "alice", agentId: "agent-a" })).status).toBe(204);
        await createThread("t1");
        expect((await core.api("POST", "/api/threads/t1/connect", { userId: "alice", agentId: "agent-a" })).status).toBe(204);
        await core.api("POST", "/api/threads/t1/lock", { runId: "r1", userId: "alice", agentId: "agent-a" });
        const running = await core.api("POST", "/api/threads/t1/connect", { userId: "alice", agentId: "agent-a" });
        expect(running.status).toBe(200);
        expect(running.json).toMatchObject({ threadId: "t1", runId: "r1", joinToken: expect.any(String) });
        const { channel } = await joinFake(core.runnerSocket, "ingestion:r1", { projectId: PROJECT }, { thread_id: "t1", run_id: "r1" });
        await channel.send("events", { events: runnerEvents("t1", "r1").textRun("hi", "hello") });
        const idle = await core.api("POST", "/api/threads/t1/connect", { userId: "alice", agentId: "agent-a" });
        expect(idle.status).toBe(200);
        expect(idle.json.runId).toBeUndefined();
        expect(core.deps.tokens.verify(idle.json.joinToken)).toMatchObject({ topic: "thread:t1", userId: "alice" });
      });
    });
  });
}
