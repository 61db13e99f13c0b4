/**
 * The behaviour every runner shares, written once and run against the in-memory, SQLite and
 * PostgreSQL runners. Tests go through the HTTP handler, as a client would, with a user per
 * test (`x-user`) and fresh thread ids, so runners on one shared database do not interfere.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AgentRunner } from "../../src/runners/agent-runner.js";
import { AgentControl, OverridingAgent, type RunHandle, duckTypedAgent, verified, ControlledAgent, type Ev, eventsOf, httpClient, replyTexts } from "./support.js";
import { FrameReader, readSseFrames, types } from "../helpers/sse.js";
import { uid } from "../helpers/inputs.js";

export interface RunnerHarness {
  /** A runner on the harness's storage (durable runners: the same database every time). */
  create(options?: { busyThread?: "reject" | "interrupt" }): Promise<AgentRunner>;
  /** The runner numbers events (SSE `id:`) and resumes after `Last-Event-ID`. */
  numbered: boolean;
}

export async function closeRunner(runner: AgentRunner): Promise<void> {
  await (runner as { close?: () => Promise<void> }).close?.();
}

const words = (text: string) => text.split(" ").map((w, i) => (i === 0 ? w : ` ${w}`));

/** Content deltas collapsed: the shape of a stream regardless of how it was compacted. */
function shape(events: Ev[]): string[] {
  const out: string[] = [];
  for (const type of types(events)) if (!(type.endsWith("_CONTENT") && out[out.length - 1] === type)) out.push(type);
  return out;
}

export function defineRunnerSuite(name: string, harness: RunnerHarness): void {
  describe(`${name}: shared runner behaviour`, () => {
    const made: AgentRunner[] = [];
    afterEach(async () => {
      for (const runner of made.splice(0)) await closeRunner(runner);
    });

    async function setup(options?: { busyThread?: "reject" | "interrupt" }) {
      const runner = await harness.create(options);
      made.push(runner);
      const control = new AgentControl();
      const echo = new AgentControl((input) => {
        const last = [...input.messages].reverse().find((m) => m.role === "user");
        return words(`You said: ${typeof last?.content === "string" ? last.content : "nothing"}`);
      });
      const client = httpClient(runner, {
        default: new ControlledAgent(control),
        echo: new ControlledAgent(echo),
        other: new ControlledAgent(echo),
      });
      return { runner, control, client, alice: uid("alice"), bob: uid("bob"), thread: uid("thread") };
    }

    it("streams a run, then replays the thread as compacted history with only new input messages per run", async () => {
      const { client, alice, thread } = await setup();
      const first = await readSseFrames(await client.run(thread, { user: alice, agent: "echo", text: "hello there world" }));
      expect(shape(eventsOf(first))).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(replyTexts(eventsOf(first))).toEqual(["You said: hello there world"]);
      const firstInput = first[0].event.input;
      expect(firstInput.messages.map((m: any) => m.content)).toEqual(["hello there world"]);
      if (harness.numbered) expect(first.map((f) => f.id)).toEqual(first.map((_, i) => i + 1));

      // The client sends its whole history again; RUN_STARTED carries only what is new.
      const reply = first.find((f) => f.event.type === "TEXT_MESSAGE_START")!.event.messageId;
      const second = await readSseFrames(
        await client.run(thread, {
          user: alice,
          agent: "echo",
          messages: [
            firstInput.messages[0],
            { id: reply, role: "assistant", content: "You said: hello there world" },
            { id: uid("msg"), role: "user", content: "again" },
          ],
        }),
      );
      expect(second[0].event.input.messages.map((m: any) => m.content)).toEqual(["again"]);

      const replay = eventsOf(await readSseFrames(await client.connect(thread, { user: alice, agent: "echo" })));
      expect(types(replay)).toEqual([
        ...["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"],
        ...["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"],
      ]);
      expect(replyTexts(replay)).toEqual(["You said: hello there world", "You said: again"]);
    });

    it("connect follows a live run: history, then each live event exactly once, then completes", async () => {
      const { client, control, alice, thread } = await setup();
      const running = new FrameReader(await client.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("a").text("b");
      await running.take(4);

      const watcher = new FrameReader(await client.connect(thread, { user: alice }));
      expect(types(eventsOf(await watcher.take(4)))).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT"]);
      run.text("c").textEnd().finish();
      const seen = eventsOf(await watcher.rest());
      expect(types(seen)).toEqual([
        "RUN_STARTED",
        "TEXT_MESSAGE_START",
        ...["TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT"],
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
      ]);
      expect(replyTexts(seen)).toEqual(["abc"]);
      expect(types(eventsOf(await running.rest())).at(-1)).toBe("RUN_FINISHED");
    });

    it("connect to an unknown thread, or naming another agent, is an empty stream", async () => {
      const { client, alice, thread } = await setup();
      expect(await readSseFrames(await client.connect(uid("nothing"), { user: alice }))).toEqual([]);
      await readSseFrames(await client.run(thread, { user: alice, agent: "echo" }));
      expect(await readSseFrames(await client.connect(thread, { user: alice, agent: "other" }))).toEqual([]);
    });

    it("refuses a second run on a busy thread with 409 thread_busy, and accepts one once it ends", async () => {
      const { client, control, alice, thread } = await setup();
      const running = new FrameReader(await client.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started();
      await running.take(1);
      const busy = await client.run(thread, { user: alice });
      expect(busy.status).toBe(409);
      expect(await busy.json()).toMatchObject({ error: "thread_busy" });
      run.textStart().text("done").textEnd().finish();
      await running.rest();
      const next = client.run(thread, { user: alice });
      (await control.nextRun()).reply(["again"]);
      expect((await next).status).toBe(200);
    });

    it('with busyThread "interrupt", a new run stops the old one (RUN_FINISHED) and takes over', async () => {
      const { client, control, alice, thread } = await setup({ busyThread: "interrupt" });
      const old = new FrameReader(await client.run(thread, { user: alice }));
      const first = await control.nextRun();
      first.started().textStart().text("x");
      await old.take(3);
      const replacing = client.run(thread, { user: alice });
      const second = await control.nextRun();
      const fresh = new FrameReader(await replacing);
      expect(types(eventsOf(await old.rest())).slice(-2)).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(first.aborted).toBe(true);
      second.reply(["y"]);
      expect(replyTexts(eventsOf(await fresh.rest()))).toEqual(["y"]);
    });

    it("stop ends the live run cleanly, frees the thread at once, is idempotent and scoped by runId", async () => {
      const { client, control, alice, thread } = await setup();
      const runId = uid("run");
      const running = new FrameReader(await client.run(thread, { user: alice, runId }));
      const run = await control.nextRun();
      run.started().textStart().text("partial");
      await running.take(3);

      expect(await (await client.stop(thread, { user: alice, runId: "some-older-run" })).json()).toMatchObject({ stopped: false });
      expect(await (await client.stop(thread, { user: alice, runId })).json()).toMatchObject({ stopped: true });
      expect(run.aborted).toBe(true);
      const streamed = eventsOf(await running.rest());
      expect(types(streamed).slice(-2)).toEqual(["TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(await (await client.stop(thread, { user: alice })).json()).toMatchObject({ stopped: false });

      const next = client.run(thread, { user: alice });
      (await control.nextRun()).reply(["after"]);
      expect((await next).status).toBe(200);
      await readSseFrames(await next);
      const replay = eventsOf(await readSseFrames(await client.connect(thread, { user: alice })));
      expect(replyTexts(replay)).toEqual(["partial", "after"]);
    });

    it("a thread belongs to the agent that first ran on it", async () => {
      const { client, alice, thread } = await setup();
      await readSseFrames(await client.run(thread, { user: alice, agent: "echo" }));
      const other = await client.run(thread, { user: alice, agent: "other" });
      expect(other.status).toBe(409);
      expect((await other.json()).error).toBe("thread_agent_mismatch");
    });

    it("pages threads without duplicates or gaps while new threads arrive between pages", async () => {
      const { client, alice } = await setup();
      const existing = Array.from({ length: 9 }, (_, i) => uid(`p${i}`));
      for (const id of existing) await readSseFrames(await client.run(id, { user: alice, agent: "echo" }));
      const seen: string[] = [];
      let cursor: string | null = null;
      let inserted = 0;
      do {
        const query: string = cursor === null ? "/threads?limit=2" : `/threads?limit=2&cursor=${encodeURIComponent(cursor)}`;
        const page: { threads: Array<{ id: string }>; nextCursor: string | null } = await (await client.get(query, alice)).json();
        seen.push(...page.threads.map((t) => t.id));
        cursor = page.nextCursor;
        // A new thread between pages goes to the top; it must not push a seen one onto the next page.
        if (inserted < 4) await readSseFrames(await client.run(uid(`new${inserted++}`), { user: alice, agent: "echo" }));
      } while (cursor !== null);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => existing.includes(id))).toEqual([...existing].reverse());
    });

    it("lists the caller's threads newest first with cursor pages, by agent, and handles rename, archive, unarchive, delete", async () => {
      const { client, alice } = await setup();
      const ids = [uid("t1"), uid("t2"), uid("t3"), uid("t4")];
      for (const id of ids.slice(0, 3)) await readSseFrames(await client.run(id, { user: alice, agent: "echo" }));
      await readSseFrames(await client.run(ids[3], { user: alice, agent: "other" }));

      const page1 = await (await client.get("/threads?limit=3", alice)).json();
      expect(page1.threads.map((t: any) => t.id)).toEqual([ids[3], ids[2], ids[1]]);
      expect(typeof page1.nextCursor).toBe("string");
      const page2 = await (await client.get(`/threads?limit=3&cursor=${encodeURIComponent(page1.nextCursor)}`, alice)).json();
      expect(page2).toMatchObject({ nextCursor: null });
      expect(page2.threads.map((t: any) => t.id)).toEqual([ids[0]]);
      const summary = page1.threads[1];
      expect(summary).toMatchObject({ id: ids[2], name: null, agentId: "echo", archived: false, createdById: alice });
      for (const field of ["createdAt", "updatedAt", "lastRunAt"]) expect(new Date(summary[field]).toISOString()).toBe(summary[field]);
      const byAgent = await (await client.get("/threads?agentId=echo", alice)).json();
      expect(byAgent.threads.map((t: any) => t.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect((await client.get("/threads?cursor=not-ours", alice)).status).toBe(400);

      const renamed = await client.send("PATCH", `/threads/${ids[0]}`, { user: alice, body: { agentId: "echo", name: "Trip" } });
      expect(await renamed.json()).toMatchObject({ id: ids[0], name: "Trip" });
      // A change moves the thread to the top, as in every chat sidebar.
      expect((await (await client.get("/threads?limit=1", alice)).json()).threads[0]).toMatchObject({ id: ids[0], name: "Trip" });

      expect(await (await client.send("POST", `/threads/${ids[1]}/archive`, { user: alice, body: { agentId: "echo" } })).json()).toEqual({
        threadId: ids[1],
        archived: true,
      });
      const visible = (await (await client.get("/threads", alice)).json()).threads.map((t: any) => t.id);
      expect(visible).not.toContain(ids[1]);
      const all = (await (await client.get("/threads?includeArchived=true", alice)).json()).threads;
      expect(all.find((t: any) => t.id === ids[1])).toMatchObject({ archived: true });
      await client.send("PATCH", `/threads/${ids[1]}`, { user: alice, body: { agentId: "echo", archived: false } });
      expect((await (await client.get("/threads", alice)).json()).threads.map((t: any) => t.id)).toContain(ids[1]);

      expect(await (await client.send("DELETE", `/threads/${ids[2]}`, { user: alice, body: { agentId: "echo" } })).json()).toEqual({
        threadId: ids[2],
        deleted: true,
      });
      expect((await client.get(`/threads/${ids[2]}/messages`, alice)).status).toBe(404);
      expect((await client.send("DELETE", `/threads/${ids[2]}`, { user: alice })).status).toBe(404);
      expect(await readSseFrames(await client.connect(ids[2], { user: alice, agent: "echo" }))).toEqual([]);
      expect((await (await client.get("/threads", alice)).json()).threads.map((t: any) => t.id)).not.toContain(ids[2]);
      // The id is free again: a new thread starts from scratch.
      const reborn = await readSseFrames(await client.run(ids[2], { user: alice, agent: "echo", text: "new life" }));
      expect(replyTexts(eventsOf(reborn))).toEqual(["You said: new life"]);
      if (harness.numbered) expect(reborn[0].id).toBe(1);
    });

    it("serves a thread's messages, events and last state snapshot", async () => {
      const { client, control, alice, thread } = await setup();
      const running = client.run(thread, { user: alice, text: "count" });
      const run = await control.nextRun();
      run.started();
      run.emit({ type: "STATE_SNAPSHOT", snapshot: { count: 1 } });
      run.textStart().text("one").textEnd().finish();
      await readSseFrames(await running);
      const { messages } = await (await client.get(`/threads/${thread}/messages`, alice)).json();
      expect(messages.map((m: any) => [m.role, m.content])).toEqual([
        ["user", "count"],
        ["assistant", "one"],
      ]);
      const { events } = await (await client.get(`/threads/${thread}/events`, alice)).json();
      expect(shape(events)).toEqual(["RUN_STARTED", "STATE_SNAPSHOT", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
      expect(await (await client.get(`/threads/${thread}/state`, alice)).json()).toEqual({ state: { count: 1 } });
    });

    it("isolates users: another user gets 404 on every thread route, an empty connect, no stop, and never sees the thread", async () => {
      const { client, control, alice, bob, thread } = await setup();
      const running = new FrameReader(await client.run(thread, { user: alice }));
      const run = await control.nextRun();
      run.started().textStart().text("secret");
      await running.take(3);

      // While alice's run is live
      expect(await (await client.stop(thread, { user: bob })).json()).toMatchObject({ stopped: false });
      expect(await readSseFrames(await client.connect(thread, { user: bob }))).toEqual([]);
      expect((await client.run(thread, { user: bob })).status).toBe(404);
      run.text(" stuff").textEnd().finish();
      expect(replyTexts(eventsOf(await running.rest()))).toEqual(["secret stuff"]);

      // And once it is stored
      for (const path of ["messages", "events", "state"]) {
        const response = await client.get(`/threads/${thread}/${path}`, bob);
        expect(response.status, path).toBe(404);
        expect(await response.json(), path).toMatchObject({ error: "thread_not_found" });
      }
      expect((await client.send("PATCH", `/threads/${thread}`, { user: bob, body: { name: "mine" } })).status).toBe(404);
      expect((await client.send("POST", `/threads/${thread}/archive`, { user: bob, body: {} })).status).toBe(404);
      expect((await client.send("DELETE", `/threads/${thread}`, { user: bob, body: {} })).status).toBe(404);
      expect((await client.run(thread, { user: bob })).status).toBe(404);
      expect(await readSseFrames(await client.connect(thread, { user: bob }))).toEqual([]);
      expect(await (await client.stop(thread, { user: bob })).json()).toMatchObject({ stopped: false });
      expect((await (await client.get("/threads?includeArchived=true", bob)).json()).threads).toEqual([]);
      expect((await client.send("POST", "/threads/clear", { user: bob })).status).toBe(204);

      const mine = await (await client.get(`/threads/${thread}/messages`, alice)).json();
      expect(mine.messages.map((m: any) => m.content)).toEqual(["hi", "secret stuff"]);
      expect((await (await client.get("/threads", alice)).json()).threads.map((t: any) => t.id)).toEqual([thread]);
      expect((await client.send("POST", "/threads/clear", { user: alice })).status).toBe(204);
      expect((await (await client.get("/threads", alice)).json()).threads).toEqual([]);
    });

    it("drives agents that only implement runAgent() (duck-typed, or a class overriding it) the way CopilotKit does", async () => {
      const runner = await harness.create();
      made.push(runner);
      const client = httpClient(runner, { duck: duckTypedAgent("quack"), custom: new OverridingAgent() });
      const alice = uid("alice");
      for (const [agent, text] of [
        ["duck", "quack: hi"],
        ["custom", "via runAgent"],
      ]) {
        const thread = uid("thread");
        const frames = eventsOf(await readSseFrames(await client.run(thread, { user: alice, agent })));
        expect(shape(frames), agent).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
        expect(replyTexts(frames), agent).toEqual([text]);
        expect(frames[0].input.messages.map((m: any) => m.content), agent).toEqual(["hi"]);
        // Stored like any run: a reconnect replays it.
        const replay = eventsOf(await readSseFrames(await client.connect(thread, { user: alice, agent })));
        expect(replyTexts(replay), agent).toEqual([text]);
      }
    });

    describe("an agent that breaks AG-UI's event order", () => {
      const cases: Array<[string, (run: RunHandle) => void, string[]]> = [
        ["content for a message never started", (run) => run.started().emit({ type: "TEXT_MESSAGE_CONTENT", messageId: "ghost", delta: "boo" }), ["RUN_STARTED"]],
        ["a second RUN_STARTED, with a message open", (run) => run.started().textStart().text("a").started(), ["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END"]],
        ["the end of a tool call never started", (run) => run.started().emit({ type: "TOOL_CALL_END", toolCallId: "nope" }), ["RUN_STARTED"]],
        ["RUN_FINISHED with a message still open", (run) => run.started().textStart().text("a").finish(), ["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END"]],
        ["events after RUN_FINISHED", (run) => {
          run.started().textStart().text("a").textEnd();
          run.emit({ type: "RUN_FINISHED", threadId: run.input.threadId, runId: run.input.runId });
          run.textStart();
        }, ["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]],
      ];
      it.each(cases)("%s: the run ends with RUN_ERROR INVALID_EVENT_SEQUENCE, a stream AG-UI's verifier accepts", async (_name, misbehave, before) => {
        const { client, control, alice, thread } = await setup();
        const response = client.run(thread, { user: alice });
        const run = await control.nextRun();
        misbehave(run);
        const events = eventsOf(await readSseFrames(await response));
        expect(types(events)).toEqual([...before, "RUN_ERROR"]);
        expect(events.at(-1)).toMatchObject({ code: "INVALID_EVENT_SEQUENCE" });
        expect(run.aborted || run.closed).toBe(true);
        await expect(verified(events)).resolves.toHaveLength(events.length);
        // Stored and replayed the same way, and the thread is free for the next run.
        const replay = eventsOf(await readSseFrames(await client.connect(thread, { user: alice })));
        expect(types(replay).at(-1)).toBe("RUN_ERROR");
        await expect(verified(replay)).resolves.toHaveLength(replay.length);
        const next = client.run(thread, { user: alice });
        (await control.nextRun()).reply(["fine"]);
        const second = eventsOf(await readSseFrames(await next));
        expect(replyTexts(second)).toEqual(["fine"]);
        const both = eventsOf(await readSseFrames(await client.connect(thread, { user: alice })));
        await expect(verified(both)).resolves.toHaveLength(both.length);
      });

      it("driven through runAgent(), whose own verifier refuses the event, ends the same way", async () => {
        const runner = await harness.create();
        made.push(runner);
        const client = httpClient(runner, { custom: new OverridingAgent({ ghostContent: true }) });
        const events = eventsOf(await readSseFrames(await client.run(uid("thread"), { user: uid("alice"), agent: "custom" })));
        expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
        expect(events.at(-1)).toMatchObject({ code: "INVALID_EVENT_SEQUENCE" });
      });
    });

    describe.runIf(harness.numbered)("resumable streams (Last-Event-ID)", () => {
      it("numbers every frame of a thread with consecutive ids across runs", async () => {
        const { client, alice, thread } = await setup();
        const first = await readSseFrames(await client.run(thread, { user: alice, agent: "echo", text: "one two" }));
        const second = await readSseFrames(await client.run(thread, { user: alice, agent: "echo", text: "three" }));
        const ids = [...first, ...second].map((f) => f.id);
        expect(ids).toEqual(ids.map((_, i) => i + 1));
      });

      it("resumes a finished thread after any id a live client saw: no gap, no duplicate", async () => {
        const { client, alice, thread } = await setup();
        const raw = [
          ...(await readSseFrames(await client.run(thread, { user: alice, agent: "echo", text: "alpha beta gamma delta" }))),
          ...(await readSseFrames(await client.run(thread, { user: alice, agent: "echo", text: "epsilon zeta" }))),
        ];
        const full = eventsOf(raw);
        const last = raw.length;
        const firstRunEnd = raw.findIndex((f) => f.event.type === "RUN_FINISHED") + 1;
        for (const cut of [1, 2, 3, 5, firstRunEnd - 1, firstRunEnd, firstRunEnd + 1, firstRunEnd + 4, last - 1]) {
          const resumed = await readSseFrames(await client.connect(thread, { user: alice, agent: "echo", lastEventId: cut }));
          const ids = resumed.map((f) => f.id!);
          expect(ids[0], `cut ${cut}`).toBeGreaterThan(cut);
          expect(ids.every((id, i) => i === 0 || id > ids[i - 1]), `cut ${cut}`).toBe(true);
          expect(ids.at(-1), `cut ${cut}`).toBe(last);
          const stitched = [...full.slice(0, cut), ...eventsOf(resumed)];
          expect(replyTexts(stitched), `cut ${cut}`).toEqual(replyTexts(full));
          expect(shape(stitched), `cut ${cut}`).toEqual(shape(full));
        }
        expect(await readSseFrames(await client.connect(thread, { user: alice, agent: "echo", lastEventId: last }))).toEqual([]);
        // The body's lastSeenEventId works too.
        const viaBody = await readSseFrames(await client.connect(thread, { user: alice, agent: "echo", lastSeenEventId: String(last - 1) }));
        expect(viaBody).toEqual([raw[last - 1]]);
        // As a JSON number too (a client that keeps ids as numbers), not a full replay.
        const viaNumber = await readSseFrames(await client.connect(thread, { user: alice, agent: "echo", lastSeenEventId: last - 1 }));
        expect(viaNumber).toEqual([raw[last - 1]]);
      });

      it("resumes after any id of a compacted replay with exactly the rest of that replay", async () => {
        const { client, alice, thread } = await setup();
        await readSseFrames(await client.run(thread, { user: alice, agent: "echo", text: "one two three" }));
        await readSseFrames(await client.run(thread, { user: alice, agent: "echo", text: "four five" }));
        const replay = await readSseFrames(await client.connect(thread, { user: alice, agent: "echo" }));
        expect(replay.length).toBe(10);
        for (let i = 0; i < replay.length; i++) {
          const resumed = await readSseFrames(await client.connect(thread, { user: alice, agent: "echo", lastEventId: replay[i].id }));
          expect(resumed, `after frame ${i}`).toEqual(replay.slice(i + 1));
        }
      });

      it("resumes a live run exactly after the last id seen, then follows it to the end", async () => {
        const { client, control, alice, thread } = await setup();
        const running = new FrameReader(await client.run(thread, { user: alice }));
        const run = await control.nextRun();
        run.started().textStart().text("a").text("b").text("c");
        const seen = await running.take(5);

        for (const cutIndex of [0, 2, 4]) {
          const cut = seen[cutIndex].id!;
          const resumed = new FrameReader(await client.connect(thread, { user: alice, lastEventId: cut }));
          const upToNow = await resumed.take(4 - cutIndex);
          expect(upToNow.map((f) => f.id)).toEqual(seen.slice(cutIndex + 1).map((f) => f.id));
          expect(eventsOf(upToNow)).toEqual(eventsOf(seen.slice(cutIndex + 1)));
          await resumed.cancel();
        }
        const follower = new FrameReader(await client.connect(thread, { user: alice, lastEventId: seen[3].id }));
        await follower.take(1);
        run.text("d").textEnd().finish();
        const rest = await follower.rest();
        expect(rest.map((f) => f.id)).toEqual([5, 6, 7, 8]);
        expect(types(eventsOf(rest))).toEqual(["TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
        expect(replyTexts(eventsOf(await running.rest()))).toEqual(["abcd"]);
      });

      it("a client cut off mid-run resumes after the run has finished without missing the end", async () => {
        const { client, control, alice, thread } = await setup();
        const running = new FrameReader(await client.run(thread, { user: alice }));
        const run = await control.nextRun();
        run.started().textStart().text("first ").text("second ");
        const seen = await running.take(3);
        await running.cancel(); // the tab closes; the run goes on
        run.text("third").textEnd().finish();
        await waitForIdle(client, thread, alice);
        const resumed = eventsOf(await readSseFrames(await client.connect(thread, { user: alice, lastEventId: seen[2].id })));
        expect(replyTexts([...eventsOf(seen), ...resumed])).toEqual(["first second third"]);
        expect(types(resumed).at(-1)).toBe("RUN_FINISHED");
      });
    });
  });
}

/** Waits until the thread's run is stored (connect completes with a terminal event). */
async function waitForIdle(client: ReturnType<typeof httpClient>, thread: string, user: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const replay = eventsOf(await readSseFrames(await client.connect(thread, { user })));
    if (replay.at(-1)?.type === "RUN_FINISHED") return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the run never finished");
}
