import { type BaseEvent, verifyEvents } from "@ag-ui/client";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ClientAssigns } from "../../src/intelligence/channels/thread-channel.js";
import { PROJECT, type TestCore, createTestCore, storesUnderTest, eventually, joinFake, runnerEvents } from "../helpers/intelligence.js";

const backends = await storesUnderTest("Intelligence channels");
afterAll(async () => {
  for (const backend of backends) await backend.cleanUp();
});

for (const backend of backends) {
  describe(`${backend.name} store`, () => {
    let core: TestCore;
    beforeEach(async () => {
      core = await createTestCore({ store: await backend.open() });
      await core.api("POST", "/api/threads", { threadId: "t1", userId: "alice", agentId: "agent-a" });
    });
    afterEach(() => core.dispose());

    const verified = (events: unknown[]) => lastValueFrom(from(events as BaseEvent[]).pipe(verifyEvents(), toArray()));

    async function lock(runId: string, threadId = "t1") {
      const response = await core.api("POST", `/api/threads/${threadId}/lock`, { runId, userId: "alice", agentId: "agent-a", ttlSeconds: 20 });
      expect(response.status).toBe(200);
      return response.json as { joinToken: string };
    }

    const joinRunner = (runId: string, threadId = "t1") => joinFake(core.runnerSocket, `ingestion:${runId}`, { projectId: PROJECT }, { thread_id: threadId, run_id: runId });

    /** Connects a client socket with the token (as the Phoenix server would) and joins the topic. */
    async function joinClient(token: string, topic: string, payload: Record<string, unknown>) {
      const assigns = (await core.clientSocket.connect({ params: { join_token: token }, headers: new Headers(), authToken: null, transport: "websocket" })) as ClientAssigns | null;
      expect(assigns).not.toBeNull();
      return joinFake(core.clientSocket, topic, assigns!, payload);
    }

    describe("runner channel (ingestion:<runId>)", () => {
      it("authenticates the socket by API key and joins a live lock with the batch capability; rejoins are accepted", async () => {
        expect(await core.runnerSocket.connect({ params: {}, headers: new Headers(), authToken: "cpk-7_wrong", transport: "longpoll" })).toBeNull();
        expect(await core.runnerSocket.connect({ params: {}, headers: new Headers(), authToken: null, transport: "longpoll" })).toBeNull();
        await lock("r1");
        const first = await joinRunner("r1");
        expect(first.result).toEqual({ ok: true, response: { capabilities: ["runner_event_batch_v1"] }, handler: expect.anything() });
        first.channel.end("closed");
        const again = await joinRunner("r1");
        expect(again.result.ok).toBe(true);
      });

      it("refuses joins without a live lock for exactly that (thread, run), not retryable", async () => {
        await lock("r1");
        expect((await joinRunner("unknown")).result).toMatchObject({ ok: false, response: { reason: "run_not_found", retryable: false } });
        await core.api("POST", "/api/threads", { threadId: "t2", userId: "alice", agentId: "agent-a" });
        expect((await joinRunner("r1", "t2")).result).toMatchObject({ ok: false, response: { reason: "run_not_found" } });
        const otherProject = await joinFake(core.runnerSocket, "ingestion:r1", { projectId: "8" }, { thread_id: "t1", run_id: "r1" });
        expect(otherProject.result.ok).toBe(false);
        core.clock.advance(21_000);
        expect((await joinRunner("r1")).result).toMatchObject({ ok: false, response: { reason: "lock_expired", retryable: false } });
      });

      it("acks a batch only once it is stored, and deduplicates a re-sent batch", async () => {
        await lock("r1");
        const { channel } = await joinRunner("r1");
        const events = runnerEvents("t1", "r1").textRun("hi", "hello");
        const firstHalf = events.slice(0, 3);
        expect(await channel.send("events", { events: firstHalf })).toEqual({ status: "ok", response: {} });
        expect((await core.store.runEvents(PROJECT, "r1", 0, 100)).map((e) => e.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT"]);
        // After a rejoin the runner re-sends what it had in flight, then the rest one event at a time.
        const { channel: rejoined } = await joinRunner("r1");
        expect((await rejoined.send("events", { events: firstHalf })).status).toBe("ok");
        for (const event of events.slice(3)) expect((await rejoined.send("event", event)).status).toBe("ok");
        const stored = await core.store.runEvents(PROJECT, "r1", 0, 100);
        expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(JSON.parse(stored[0].json)).toEqual(events[0]); // stored as ingested
      });

      it("the terminal event ends the run and releases the lock; later new events are refused with not_running", async () => {
        await lock("r1");
        const { channel } = await joinRunner("r1");
        const run = runnerEvents("t1", "r1");
        const events = run.textRun("hi", "hello");
        await channel.send("events", { events });
        expect((await core.store.getRun(PROJECT, "r1"))?.status).toBe("finished");
        expect((await core.store.activeRun(PROJECT, "t1"))).toBeUndefined();
        expect((await core.api("POST", "/api/threads/t1/lock", { runId: "r2", userId: "alice", agentId: "agent-a" })).status).toBe(200);
        // A re-sent terminal batch is fine; a new event is not.
        expect((await channel.send("events", { events })).status).toBe("ok");
        expect(await channel.send("event", run.make({ type: "CUSTOM", name: "late" }))).toEqual({ status: "error", response: { reason: "not_running", retryable: false } });
      });

      it("refuses malformed events permanently, with a message", async () => {
        await lock("r1");
        const { channel } = await joinRunner("r1");
        expect(await channel.send("events", { events: [{ type: "RUN_STARTED" }] })).toMatchObject({ status: "error", response: { reason: "invalid_event", retryable: false, message: expect.stringMatching(/cpki_event_id/) } });
        expect(await channel.send("events", { events: "nope" })).toMatchObject({ status: "error", response: { reason: "invalid_event" } });
        expect((await channel.send("bogus", {})).status).toBe("error");
      });

      it("announces run start and end on user_meta: thread_metadata updated and thread_run_activity for lifecycle types only", async () => {
        const subscribe = await core.api("POST", "/api/threads/subscribe", { userId: "alice" });
        const code = await core.store.joinCodeFor(PROJECT, "alice");
        const { channel: meta, result } = await joinClient(subscribe.json.joinToken, `user_meta:${code}`, {});
        expect(result.ok).toBe(true);
        await lock("r1");
        const { channel } = await joinRunner("r1");
        await channel.send("events", { events: runnerEvents("t1", "r1").textRun("hi", "hello") });
        await eventually(() => expect(meta.pushes.filter((p) => p.event === "thread_run_activity")).toHaveLength(2));
        const activity = meta.pushes.filter((p) => p.event === "thread_run_activity").map((p) => p.payload);
        expect(activity.map((a) => a.eventType)).toEqual(["RUN_STARTED", "RUN_FINISHED"]);
        expect(activity[1]).toMatchObject({ threadId: "t1", agentId: "agent-a", runId: "r1", latestEventId: expect.any(String) });
        const metadata = meta.pushes.filter((p) => p.event === "thread_metadata").map((p) => p.payload);
        expect(metadata.at(-1)).toMatchObject({ operation: "updated", threadId: "t1", userId: "alice", thread: { id: "t1", lastRunAt: expect.any(String) } });
        // REST changes reach the same socket.
        await core.api("PATCH", "/api/threads/t1", { userId: "alice", agentId: "agent-a", name: "Named" });
        await core.api("PATCH", "/api/threads/t1", { userId: "alice", agentId: "agent-a", archived: true });
        await core.api("PATCH", "/api/threads/t1", { userId: "alice", agentId: "agent-a", archived: false });
        await core.api("POST", "/api/threads", { threadId: "t2", userId: "alice", agentId: "agent-a" });
        await core.api("DELETE", "/api/threads/t2", { userId: "alice", agentId: "agent-a", reason: "x" });
        await eventually(() =>
          expect(meta.pushes.filter((p) => p.event === "thread_metadata").map((p) => p.payload.operation).slice(-5)).toEqual(["renamed", "archived", "unarchived", "created", "deleted"]),
        );
        expect(meta.pushes.filter((p) => p.event === "thread_metadata").at(-1)?.payload).toMatchObject({ operation: "deleted", threadId: "t2", deleted: { id: "t2" } });
      });

      it("user_meta refuses a token for another user's join code", async () => {
        const bobToken = (await core.api("POST", "/api/threads/subscribe", { userId: "bob" })).json.joinToken;
        const aliceCode = await core.store.joinCodeFor(PROJECT, "alice");
        const assigns = (await core.clientSocket.connect({ params: { join_token: bobToken }, headers: new Headers(), authToken: null, transport: "websocket" })) as ClientAssigns;
        const forged = { claims: { ...assigns.claims, topic: `user_meta:${aliceCode}` } };
        expect((await joinFake(core.clientSocket, `user_meta:${aliceCode}`, forged, {})).result.ok).toBe(false);
        expect((await joinFake(core.clientSocket, `user_meta:${aliceCode}`, assigns, {})).result.ok).toBe(false);
      });
    });

    describe("client thread channel (thread:<threadId>)", () => {
      it("refuses sockets with forged or expired tokens, foreign topics, other users' threads, and other runs", async () => {
        const { joinToken } = await lock("r1");
        const connect = (token: string) => core.clientSocket.connect({ params: { join_token: token }, headers: new Headers(), authToken: null, transport: "websocket" });
        expect(await connect(`${joinToken}x`)).toBeNull();
        expect(await connect("")).toBeNull();
        const assigns = (await connect(joinToken)) as ClientAssigns;
        expect((await joinFake(core.clientSocket, "thread:t2", assigns, { stream_mode: "connect" })).result).toMatchObject({ ok: false, response: { reason: "unauthorized" } });
        expect((await joinFake(core.clientSocket, "thread:t1", assigns, { stream_mode: "run", run_id: "r9" })).result).toMatchObject({ ok: false, response: { reason: "unauthorized" } });
        const bobToken = core.deps.tokens.issue({ project: PROJECT, userId: "bob", topic: "thread:t1" });
        const bob = (await connect(bobToken)) as ClientAssigns;
        expect((await joinFake(core.clientSocket, "thread:t1", bob, { stream_mode: "connect" })).result).toMatchObject({ ok: false, response: { reason: "thread_not_found" } });
        core.clock.advance(31 * 60_000);
        expect(await connect(joinToken)).toBeNull();
        expect((await joinFake(core.clientSocket, "thread:t1", assigns, { stream_mode: "connect" })).result.ok).toBe(false);
      });

      it("refuses /client sockets from origins outside the allow-list", async () => {
        const strict = await createTestCore({ clientOrigins: ["https://app.example.com"] });
        const token = strict.deps.tokens.issue({ project: PROJECT, userId: "alice", topic: "thread:t1" });
        const connect = (origin: string) => strict.clientSocket.connect({ params: { join_token: token }, headers: new Headers({ origin }), authToken: null, transport: "websocket" });
        expect(await connect("https://evil.example.com")).toBeNull();
        expect(await connect("https://app.example.com")).not.toBeNull();
        strict.close();
      });

      it("run mode delivers the run from RUN_STARTED exactly once, pre-serialized, whether the browser joins before or after the runner pushed", async () => {
        const { joinToken } = await lock("r1");
        const { channel: runner } = await joinRunner("r1");
        const events = runnerEvents("t1", "r1").textRun("hi", "hello");
        await runner.send("events", { events: events.slice(0, 2) }); // pushed before the browser joins
        const { channel: browser, result } = await joinClient(joinToken, "thread:t1", { stream_mode: "run", run_id: "r1" });
        expect(result.ok).toBe(true);
        await eventually(() => expect(browser.events()).toHaveLength(2));
        await runner.send("events", { events: events.slice(2) });
        await eventually(() => expect(browser.events()).toHaveLength(5));
        await core.fanOut.settle();
        expect(browser.events()).toEqual(events);
        expect(browser.pushes.every((p) => p.preSerialized)).toBe(true);
        await verified(browser.events());
      });

      it("run mode: a rejoin with the same token resumes after the last event sent (no second RUN_STARTED); other runs are not delivered", async () => {
        // An earlier run on the thread, which run mode for r2 must not show.
        await lock("r1");
        const { channel: runner1 } = await joinRunner("r1");
        await runner1.send("events", { events: runnerEvents("t1", "r1").textRun("one", "first") });
        const { joinToken } = await lock("r2");
        const { channel: runner } = await joinRunner("r2");
        const events = runnerEvents("t1", "r2").textRun("two", "second");
        const { channel: first } = await joinClient(joinToken, "thread:t1", { stream_mode: "run", run_id: "r2" });
        await runner.send("events", { events: events.slice(0, 3) });
        await eventually(() => expect(first.events()).toHaveLength(3));
        first.end("closed"); // socket blip
        await runner.send("events", { events: events.slice(3) });
        const { channel: rejoined } = await joinClient(joinToken, "thread:t1", { stream_mode: "run", run_id: "r2" });
        await eventually(() => expect(rejoined.events()).toHaveLength(2));
        await core.fanOut.settle();
        expect(rejoined.types()).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
        await verified([...first.events(), ...rejoined.events()]);
        // A different token (another tab) gets the whole run.
        const other = core.deps.tokens.issue({ project: PROJECT, userId: "alice", topic: "thread:t1", runId: "r2" });
        const { channel: tab } = await joinClient(other, "thread:t1", { stream_mode: "run", run_id: "r2" });
        await eventually(() => expect(tab.events()).toHaveLength(5));
        expect(tab.events().every((e) => e.runId === "r2")).toBe(true);
      });

      it("connect mode on an idle thread: replay, replay_complete, stream_idle with the last event id", async () => {
        await lock("r1");
        const { channel: runner } = await joinRunner("r1");
        const events = runnerEvents("t1", "r1").textRun("hi", "hello");
        await runner.send("events", { events });
        const token = (await core.api("POST", "/api/threads/t1/connect", { userId: "alice", agentId: "agent-a" })).json.joinToken;
        const { channel } = await joinClient(token, "thread:t1", { stream_mode: "connect", last_seen_event_id: null });
        await eventually(() => expect(channel.types().at(-1)).toBe("stream_idle"));
        const lastId = events[4].metadata.cpki_event_id;
        expect(channel.types()).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED", "replay_complete", "stream_idle"]);
        expect(channel.pushes.at(-2)?.payload).toEqual({ latestEventId: lastId });
        expect(channel.pushes.at(-1)?.payload).toEqual({ latestEventId: lastId });

        // From a cursor: only what came after it.
        const { channel: resumed } = await joinClient(token, "thread:t1", { stream_mode: "connect", last_seen_event_id: events[2].metadata.cpki_event_id });
        await eventually(() => expect(resumed.types()).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED", "replay_complete", "stream_idle"]));
        // Up to date: nothing to replay, the cursor comes back.
        const { channel: current } = await joinClient(token, "thread:t1", { stream_mode: "connect", last_seen_event_id: lastId });
        await eventually(() => expect(current.types()).toEqual(["replay_complete", "stream_idle"]));
        expect(current.pushes[1].payload).toEqual({ latestEventId: lastId });
        // Unknown cursor: the whole thread again.
        const { channel: unknown } = await joinClient(token, "thread:t1", { stream_mode: "connect", last_seen_event_id: "not-an-event" });
        await eventually(() => expect(unknown.types()).toHaveLength(7));
      });

      it("connect mode during a run: replay, replay_complete, live events, then stream_idle only after the terminal event", async () => {
        const { joinToken } = await lock("r1");
        const { channel: runner } = await joinRunner("r1");
        const events = runnerEvents("t1", "r1").textRun("hi", "hello");
        await runner.send("events", { events: events.slice(0, 2) });
        const { channel } = await joinClient(joinToken, "thread:t1", { stream_mode: "connect", last_seen_event_id: null });
        await eventually(() => expect(channel.types()).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "replay_complete"]));
        await runner.send("events", { events: events.slice(2, 4) });
        await eventually(() => expect(channel.events()).toHaveLength(4));
        await core.fanOut.settle();
        expect(channel.types()).not.toContain("stream_idle");
        await runner.send("events", { events: events.slice(4) });
        await eventually(() => expect(channel.types().at(-1)).toBe("stream_idle"));
        expect(channel.types()).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "replay_complete", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED", "stream_idle"]);
        expect(channel.pushes.at(-1)?.payload).toEqual({ latestEventId: events[4].metadata.cpki_event_id });
      });

      it("connect mode waits for a locked run with no events yet, and goes idle when its lock is released", async () => {
        const { joinToken } = await lock("r1");
        const { channel } = await joinClient(joinToken, "thread:t1", { stream_mode: "connect", last_seen_event_id: null });
        await eventually(() => expect(channel.types()).toEqual(["replay_complete"]));
        await core.api("DELETE", "/api/threads/t1/lock", { runId: "r1" });
        await eventually(() => expect(channel.types()).toEqual(["replay_complete", "stream_idle"]));
        expect(channel.pushes[1].payload).toEqual({ latestEventId: null });
      });

      it("fans one stored event out to every subscriber of the thread", async () => {
        const { joinToken } = await lock("r1");
        const { channel: runner } = await joinRunner("r1");
        const subscribers = await Promise.all([1, 2, 3].map(() => joinClient(joinToken, "thread:t1", { stream_mode: "connect", last_seen_event_id: null })));
        await eventually(() => expect(core.fanOut.threadSubscriberCount(PROJECT, "t1")).toBe(3));
        await runner.send("events", { events: runnerEvents("t1", "r1").textRun("hi", "hello") });
        for (const { channel } of subscribers) await eventually(() => expect(channel.types().at(-1)).toBe("stream_idle"));
        for (const { channel } of subscribers) expect(channel.events()).toHaveLength(5);
        for (const { channel } of subscribers) channel.end("leave");
        expect(core.fanOut.threadSubscriberCount(PROJECT, "t1")).toBe(0);
      });

      it("stop_run is acknowledged at once and relayed to the run's runner as an ag-ui CUSTOM stop", async () => {
        const { joinToken } = await lock("r1");
        const { channel: runner } = await joinRunner("r1");
        const { channel: browser } = await joinClient(joinToken, "thread:t1", { stream_mode: "run", run_id: "r1" });
        expect(await browser.send("stop_run", { run_id: "r1" })).toEqual({ status: "ok", response: {} });
        await eventually(() => expect(runner.pushes.map((p) => p.event)).toEqual(["ag-ui"]));
        expect(runner.pushes[0].payload).toMatchObject({ type: "CUSTOM", name: "stop" });
        expect((await browser.send("stop_run", {})).status).toBe("error");
      });

      it("stop_run with no runner joined finalizes the run itself: closers + RUN_FINISHED, lock released, connect goes idle", async () => {
        const { joinToken } = await lock("r1");
        const { channel: runner } = await joinRunner("r1");
        const run = runnerEvents("t1", "r1");
        await runner.send("events", {
          events: [
            run.make({ type: "RUN_STARTED" }),
            run.make({ type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" }),
            run.make({ type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "par" }),
            run.make({ type: "TOOL_CALL_START", toolCallId: "tc1", toolCallName: "search", parentMessageId: "m1" }),
          ],
        });
        runner.end("closed"); // the runtime crashed
        const { channel: watcher } = await joinClient(joinToken, "thread:t1", { stream_mode: "connect", last_seen_event_id: null });
        await eventually(() => expect(watcher.types().at(-1)).toBe("replay_complete"));
        const { channel: browser } = await joinClient(joinToken, "thread:t1", { stream_mode: "run", run_id: "r1" });
        await browser.send("stop_run", { run_id: "r1" });
        await eventually(() => expect(watcher.types().at(-1)).toBe("stream_idle"));
        const closers = watcher.events().slice(4);
        expect(closers.map((e) => e.type)).toEqual(["TEXT_MESSAGE_END", "TOOL_CALL_END", "TOOL_CALL_RESULT", "RUN_FINISHED"]);
        expect(JSON.parse(closers[2].content)).toMatchObject({ status: "stopped", reason: "stop_requested" });
        expect(closers.map((e) => e.metadata.cpki_event_seq)).toEqual([5, 6, 7, 8]);
        expect(closers.every((e) => e.threadId === "t1" && e.runId === "r1")).toBe(true);
        await verified(watcher.events());
        expect((await core.store.getRun(PROJECT, "r1"))?.status).toBe("finished");
        expect(await core.store.activeRun(PROJECT, "t1")).toBeUndefined();
      });

      it("the sweep finalizes a run whose lock lapsed with closers + RUN_ERROR, a valid AG-UI sequence, fanned out", async () => {
        const { joinToken } = await lock("r1");
        const { channel: runner } = await joinRunner("r1");
        const run = runnerEvents("t1", "r1");
        await runner.send("events", {
          events: [
            run.make({ type: "RUN_STARTED" }),
            run.make({ type: "TOOL_CALL_START", toolCallId: "tc1", toolCallName: "search" }),
            run.make({ type: "TOOL_CALL_ARGS", toolCallId: "tc1", delta: "{}" }),
            run.make({ type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" }),
          ],
        });
        const { channel: browser } = await joinClient(joinToken, "thread:t1", { stream_mode: "run", run_id: "r1" });
        await eventually(() => expect(browser.events()).toHaveLength(4));
        // A runner still joined here is alive: the sweep leaves its run alone even past the TTL.
        core.clock.advance(25_000);
        expect(await core.finalizer.sweep()).toBe(0);
        runner.end("closed");
        expect(await core.finalizer.sweep()).toBe(1);
        await eventually(() => expect(browser.types().at(-1)).toBe("RUN_ERROR"));
        expect(browser.types().slice(4)).toEqual(["TEXT_MESSAGE_END", "TOOL_CALL_END", "TOOL_CALL_RESULT", "RUN_ERROR"]);
        expect(browser.events().at(-1)).toMatchObject({ code: "INCOMPLETE_STREAM" });
        await verified(browser.events());
        expect((await core.store.getRun(PROJECT, "r1"))?.status).toBe("error");
        expect(await core.finalizer.sweep()).toBe(0);
      });

      it("deleting the thread closes its subscribers", async () => {
        const { joinToken } = await lock("r1");
        const { channel } = await joinClient(joinToken, "thread:t1", { stream_mode: "connect", last_seen_event_id: null });
        await eventually(() => expect(core.fanOut.threadSubscriberCount(PROJECT, "t1")).toBe(1));
        await core.api("DELETE", "/api/threads/t1", { userId: "alice", agentId: "agent-a", reason: "x" });
        await eventually(() => expect(channel.closedWith).toBe("close"));
      });
    });
  });
}
