/**
 * THE interop test: CopilotKit's unmodified `@copilotkit/runtime@1.75.0` (`/v2`, configured with
 * `new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey })`) against our platform on a loopback
 * port, driven like a browser; the browser's realtime side is the real `phoenix` JS client.
 * On Node 20 the runtime's runner uses Phoenix long-poll (no global WebSocket).
 */
import { type BaseEvent, verifyEvents } from "@ag-ui/client";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptedAgent, longReply, textReply } from "../helpers/agents.js";
import { type IntelligenceStack, PROJECT, eventually, followThread, runInput, startIntelligenceStack, storesUnderTest } from "../helpers/intelligence.js";

const verified = (events: unknown[]) => lastValueFrom(from(events as BaseEvent[]).pipe(verifyEvents(), toArray()));

const backends = await storesUnderTest("CopilotKit runtime 1.75 against our Intelligence platform");
afterAll(async () => {
  for (const backend of backends) await backend.cleanUp();
});

for (const backend of backends) {
  describe(`CopilotKit runtime 1.75 against our Intelligence platform (${backend.name} store)`, () => {
    let release: () => void = () => {};
    let stack: IntelligenceStack;

    beforeAll(async () => {
      const held = new ScriptedAgent({
        // "Holding", then a pause until the test calls release(), then " done".
        script: textReply("Holding done", { pauseAfterFirstWord: () => new Promise<void>((resolve) => (release = resolve)) }),
      });
      stack = await startIntelligenceStack({
        store: await backend.open(),
        agents: {
          default: new ScriptedAgent({ script: textReply("Hello from the scripted agent") }),
          held,
          long: new ScriptedAgent({ script: longReply(400), delayMs: 5 }),
        },
      });
    });
    afterAll(async () => {
      release();
      await stack?.close();
      await stack?.platform.platform.core.deps.store.close();
    });


    it("/info reports Intelligence mode with our /client URL and the active self-hosted entitlement", async () => {
      const info = await stack.browser("GET", "/info");
      expect(info.status).toBe(200);
      expect(info.json.mode).toBe("intelligence");
      expect(info.json.intelligence.wsUrl).toBe(`${stack.platform.wsUrl}/client`);
      expect(info.json.runtimeEntitlements).toMatchObject({ status: "ready", entitlement: { active: true, source: "selfHostedDeploymentLicense" } });
      expect(info.json.licenseStatus).toBe("valid");
    });

    it("a run streams to the browser exactly once from RUN_STARTED to RUN_FINISHED (run mode, long-poll), then /connect replays it", async () => {
      const run = await stack.browser("POST", "/agent/default/run", runInput("thread-1", "run-1", "Hi there"));
      expect(run.status, run.text).toBe(200);
      expect(run.json).toMatchObject({ threadId: "thread-1", runId: "run-1", joinToken: expect.any(String), realtime: { clientUrl: `${stack.platform.wsUrl}/client`, topic: "thread:thread-1" } });

      const live = followThread(run.json.realtime.clientUrl, run.json.joinToken, "thread:thread-1", { stream_mode: "run", run_id: "run-1" });
      await live.join;
      await live.done;
      live.leave();
      expect(live.sequence[0]).toBe("RUN_STARTED");
      expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
      const ids = live.events.map((e) => e.metadata.cpki_event_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(live.events.map((e) => e.metadata.cpki_event_seq)).toEqual(live.events.map((_, i) => i + 1));
      const text = live.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("");
      expect(text).toBe("Hello from the scripted agent");
      // The user's message entered the durable log through RUN_STARTED.input.messages.
      expect(live.events[0].input.messages.map((m: { id: string }) => m.id)).toEqual(["msg-run-1"]);
      await verified(live.events);

      // The platform released the lock on the terminal event.
      await eventually(async () => expect(await stack.platform.platform.core.deps.store.activeRun(PROJECT, "thread-1")).toBeUndefined());

      const connect = await stack.browser("POST", "/agent/default/connect", runInput("thread-1", "connect-1", "ignored"));
      expect(connect.status, connect.text).toBe(200);
      expect(connect.json).toMatchObject({ threadId: "thread-1", joinToken: expect.any(String), realtime: { topic: "thread:thread-1" } });
      const replay = followThread(connect.json.realtime.clientUrl, connect.json.joinToken, "thread:thread-1", { stream_mode: "connect", last_seen_event_id: null });
      await replay.done;
      replay.leave();
      expect(replay.events.map((e) => e.metadata.cpki_event_id)).toEqual(ids);
      expect(replay.sequence.slice(-2)).toEqual(["replay_complete", "stream_idle"]);
      expect(replay.control.at(-1)?.payload).toEqual({ latestEventId: ids.at(-1) });

      // A second run: H1 told the runtime which messages are new, so RUN_STARTED carries only them.
      const history = [{ id: "msg-run-1", role: "user", content: "Hi there" }];
      const second = await stack.browser("POST", "/agent/default/run", runInput("thread-1", "run-2", "Again", history));
      expect(second.status, second.text).toBe(200);
      const follow2 = followThread(second.json.realtime.clientUrl, second.json.joinToken, "thread:thread-1", { stream_mode: "run", run_id: "run-2" }, "websocket");
      await follow2.done;
      follow2.leave();
      expect(follow2.events[0].input.messages.map((m: { id: string }) => m.id)).toEqual(["msg-run-2"]);
      expect(follow2.events.every((e) => e.runId === "run-2")).toBe(true);
      await verified(follow2.events);

      const messages = await stack.browser("GET", "/threads/thread-1/messages");
      expect(messages.status).toBe(200);
      expect(messages.json.messages.map((m: { id: string }) => m.id)).toEqual(["msg-run-1", "reply-run-1", "msg-run-2", "reply-run-2"]);
    });

    it("a second run on a locked thread is 409 Thread lock denied; the lock frees on the first run's RUN_FINISHED", async () => {
      const first = await stack.browser("POST", "/agent/held/run", runInput("thread-held", "held-1", "wait"));
      expect(first.status, first.text).toBe(200);
      const live = followThread(first.json.realtime.clientUrl, first.json.joinToken, "thread:thread-held", { stream_mode: "run", run_id: "held-1" }, "websocket");
      await eventually(() => expect(live.sequence).toContain("TEXT_MESSAGE_CONTENT"));

      const denied = await stack.browser("POST", "/agent/held/run", runInput("thread-held", "held-2", "me too"));
      expect(denied.status).toBe(409);
      expect(denied.json).toEqual({ error: "Thread lock denied" });

      // A connect while running: replay, replay_complete, live, then stream_idle after the terminal event.
      const connect = await stack.browser("POST", "/agent/held/connect", runInput("thread-held", "c", "x"));
      expect(connect.status).toBe(200);
      const watcher = followThread(connect.json.realtime.clientUrl, connect.json.joinToken, "thread:thread-held", { stream_mode: "connect", last_seen_event_id: null });
      await eventually(() => expect(watcher.sequence).toContain("replay_complete"));
      expect(watcher.sequence).not.toContain("stream_idle");

      release();
      await live.done;
      await watcher.done;
      live.leave();
      watcher.leave();
      expect(watcher.sequence.slice(-2)).toEqual(["RUN_FINISHED", "stream_idle"]);
      expect(watcher.sequence.indexOf("replay_complete")).toBeLessThan(watcher.sequence.indexOf("RUN_FINISHED"));
      await verified(live.events);

      const again = await stack.browser("POST", "/agent/held/run", runInput("thread-held", "held-3", "now"));
      expect(again.status, again.text).toBe(200);
      // The agent may not have reached its pause yet: release until the run ends.
      await eventually(async () => {
        release();
        expect(await stack.platform.platform.core.deps.store.activeRun(PROJECT, "thread-held")).toBeUndefined();
      });
    });

    it("run mode survives a socket drop mid-run: the rejoin (same token, same params) resumes without repeating RUN_STARTED", async () => {
      const run = await stack.browser("POST", "/agent/held/run", runInput("thread-blip", "blip-1", "hold on"));
      expect(run.status, run.text).toBe(200);
      const live = followThread(run.json.realtime.clientUrl, run.json.joinToken, "thread:thread-blip", { stream_mode: "run", run_id: "blip-1" }, "websocket");
      await eventually(() => expect(live.sequence).toContain("TEXT_MESSAGE_CONTENT"));
      const before = live.events.length;
      // Drop the connection under the client: phoenix.js reconnects and rejoins with the same params.
      (live.socket as any).conn.close(4000, "blip");
      await eventually(() => expect(live.joinCount).toBe(2));
      await eventually(() => {
        release();
        expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
      });
      await live.done;
      live.leave();
      expect(live.events.length).toBeGreaterThan(before);
      expect(live.sequence.filter((type) => type === "RUN_STARTED")).toHaveLength(1);
      const ids = live.events.map((e) => e.metadata.cpki_event_id);
      expect(new Set(ids).size).toBe(ids.length);
      await verified(live.events);
    });

    it("stop_run on the thread socket stops the runtime's agent: it closes with RUN_FINISHED and the lock is released", async () => {
      const run = await stack.browser("POST", "/agent/long/run", runInput("thread-stop", "stop-1", "talk a lot"));
      expect(run.status, run.text).toBe(200);
      const connect = await stack.browser("POST", "/agent/long/connect", runInput("thread-stop", "c", "x"));
      const watcher = followThread(connect.json.realtime.clientUrl, connect.json.joinToken, "thread:thread-stop", { stream_mode: "connect", last_seen_event_id: null });
      await eventually(() => expect(watcher.events.length).toBeGreaterThan(3));
      // The browser pushes stop_run on its run-mode channel.
      const stopper = followThread(run.json.realtime.clientUrl, run.json.joinToken, "thread:thread-stop", { stream_mode: "run", run_id: "stop-1" });
      await stopper.join;
      const reply = await new Promise((resolve) => {
        stopper.channel.push("stop_run", { run_id: "stop-1" }).receive("ok", () => resolve("ok")).receive("error", () => resolve("error"));
      });
      expect(reply).toBe("ok");
      await watcher.done;
      watcher.leave();
      stopper.leave();
      expect(watcher.sequence.at(-2)).toBe("RUN_FINISHED");
      // Far fewer than the 400 words were streamed.
      expect(watcher.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length).toBeLessThan(400);
      await verified(watcher.events);
      await eventually(async () => expect((await stack.platform.platform.core.deps.store.getRun(PROJECT, "stop-1"))?.status).toBe("finished"));
    });

    it("/threads lists the user's threads; rename and delete go through the runtime's routes; another user sees nothing", async () => {
      const list = await stack.browser("GET", "/threads?agentId=default");
      expect(list.status, list.text).toBe(200);
      expect(list.json.threads.map((t: { id: string }) => t.id)).toContain("thread-1");
      expect(list.json.joinCode).toEqual(expect.any(String));

      const subscribe = await stack.browser("POST", "/threads/subscribe", {});
      expect(subscribe.status, subscribe.text).toBe(200);
      const meta = followThread(`${stack.platform.wsUrl}/client`, subscribe.json.joinToken, `user_meta:${list.json.joinCode}`, {}, "websocket");
      const renamedEvent = new Promise<any>((resolve) => meta.channel.on("thread_metadata", (payload: any) => {
        if (payload.operation === "renamed") resolve(payload);
      }));
      await meta.join;

      const renamed = await stack.browser("PATCH", "/threads/thread-1", { agentId: "default", name: "Greeting" });
      expect(renamed.status, renamed.text).toBe(200);
      expect((await renamedEvent).thread).toMatchObject({ id: "thread-1", name: "Greeting", agentId: "default" });
      const relisted = await stack.browser("GET", "/threads?agentId=default");
      expect(relisted.json.threads.find((t: { id: string }) => t.id === "thread-1")?.name).toBe("Greeting");

      const bob = await stack.browser("GET", "/threads?agentId=default", undefined, "bob");
      expect(bob.json.threads).toEqual([]);
      const bobRun = await stack.browser("POST", "/agent/default/run", runInput("thread-1", "bob-run", "mine now"), "bob");
      expect(bobRun.status).toBeGreaterThanOrEqual(400);
      expect(bobRun.text).not.toContain("Hello from the scripted agent");
      expect((await stack.browser("GET", "/threads/thread-1/messages", undefined, "bob")).status).toBeGreaterThanOrEqual(400);

      const deleted = await stack.browser("DELETE", "/threads/thread-1", { agentId: "default" });
      expect(deleted.status, deleted.text).toBe(200);
      const after = await stack.browser("GET", "/threads?agentId=default");
      expect(after.json.threads.map((t: { id: string }) => t.id)).not.toContain("thread-1");
      meta.leave();
    });
  });
}
