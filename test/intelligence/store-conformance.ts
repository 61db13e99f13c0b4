/**
 * The behaviour every `IntelligenceStore` must have, written once and run against the memory,
 * SQLite and PostgreSQL stores. Each test works in its own random project, so the suite also
 * holds when the stores it is given share their tables with other tests.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ThreadNotFoundError } from "../../src/intelligence/store/errors.js";
import type { IntelligenceStore, NewEvent, PlatformThread } from "../../src/intelligence/store/types.js";

/** A fresh, migrated store. The suite closes it after each test. */
export type MakeStore = () => Promise<IntelligenceStore>;

const T0 = 1_700_000_000_000;
const TTL = 20_000;

/** Events `from..to` of a run, with fresh ids and JSON that names them. */
function events(runId: string, from: number, to: number, type = "TEXT_MESSAGE_CONTENT"): NewEvent[] {
  const out: NewEvent[] = [];
  for (let seq = from; seq <= to; seq++) {
    const id = randomUUID();
    out.push({ id, seq, type, json: JSON.stringify({ type, runId, metadata: { cpki_event_id: id, cpki_event_seq: seq } }) });
  }
  return out;
}

export function describeIntelligenceStore(name: string, makeStore: MakeStore): void {
  describe(`${name}: IntelligenceStore conformance`, () => {
    let open: IntelligenceStore[] = [];
    afterEach(async () => {
      await Promise.all(open.map((store) => store.close()));
      open = [];
    });
    async function fresh(): Promise<{ store: IntelligenceStore; project: string }> {
      const store = await makeStore();
      open.push(store);
      return { store, project: `p-${randomUUID()}` };
    }
    const thread = (store: IntelligenceStore, projectId: string, threadId: string, now = T0, userId = "u1", agentId = "agent") =>
      store.createThread({ projectId, threadId, userId, agentId, name: null, now }).then((r) => r.thread);
    const lock = (store: IntelligenceStore, projectId: string, threadId: string, runId: string, now = T0, ttlMs = TTL) =>
      store.acquireLock({ projectId, threadId, runId, userId: "u1", agentId: "agent", ttlMs, now });

    describe("threads", () => {
      it("creates a thread, gets it, and a second create returns the existing one untouched", async () => {
        const { store, project } = await fresh();
        const first = await store.createThread({ projectId: project, threadId: "t1", userId: "u1", agentId: "agent", name: "hello", now: T0 });
        expect(first.created).toBe(true);
        const expected: PlatformThread = {
          projectId: project,
          id: "t1",
          userId: "u1",
          agentId: "agent",
          name: "hello",
          archived: false,
          createdAt: T0,
          updatedAt: T0,
          lastRunAt: null,
        };
        expect(first.thread).toEqual(expected);
        expect(await store.getThread(project, "t1")).toEqual(expected);

        const second = await store.createThread({ projectId: project, threadId: "t1", userId: "u2", agentId: "other", name: "x", now: T0 + 5 });
        expect(second).toEqual({ thread: expected, created: false });
        expect(await store.getThread(project, "t1")).toEqual(expected);
        expect(await store.getThread(project, "missing")).toBeUndefined();
      });

      it("keeps the same thread id of two projects apart", async () => {
        const { store, project } = await fresh();
        const other = `${project}-b`;
        await store.createThread({ projectId: project, threadId: "t1", userId: "u1", agentId: "agent", name: "a", now: T0 });
        const b = await store.createThread({ projectId: other, threadId: "t1", userId: "u2", agentId: "agent", name: "b", now: T0 + 1 });
        expect(b.created).toBe(true);
        expect((await store.getThread(project, "t1"))?.name).toBe("a");
        expect((await store.getThread(other, "t1"))?.userId).toBe("u2");

        await lock(store, project, "t1", "r1");
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: events("r1", 1, 2), now: T0 });
        expect(await store.eventsAfter(other, "t1", null, 100)).toEqual([]);
        expect(await store.latestEventId(other, "t1")).toBeNull();
        expect(await store.activeRun(other, "t1")).toBeUndefined();
        expect(await store.getRun(other, "r1")).toBeUndefined();
        expect((await lock(store, other, "t1", "r2")).status).toBe("acquired");

        expect(await store.deleteThread(other, "t1")).toBe(true);
        expect(await store.getThread(project, "t1")).toBeDefined();
        expect(await store.eventsAfter(project, "t1", null, 100)).toHaveLength(2);
      });

      it("updates name and archived, moving updatedAt; undefined for a missing thread", async () => {
        const { store, project } = await fresh();
        await store.createThread({ projectId: project, threadId: "t1", userId: "u1", agentId: "agent", name: "old", now: T0 });
        const renamed = await store.updateThread(project, "t1", { name: "new" }, T0 + 10);
        expect(renamed).toMatchObject({ name: "new", archived: false, updatedAt: T0 + 10, createdAt: T0 });
        const archived = await store.updateThread(project, "t1", { archived: true }, T0 + 20);
        expect(archived).toMatchObject({ name: "new", archived: true, updatedAt: T0 + 20 });
        const cleared = await store.updateThread(project, "t1", { name: null, archived: false }, T0 + 30);
        expect(cleared).toMatchObject({ name: null, archived: false, updatedAt: T0 + 30 });
        expect(await store.getThread(project, "t1")).toEqual(cleared);
        expect(await store.updateThread(project, "missing", { name: "x" }, T0)).toBeUndefined();
      });
    });

    describe("listing threads", () => {
      it("lists only the user's threads of that agent, without archived ones unless asked", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "mine", T0 + 1);
        await thread(store, project, "archived", T0 + 2);
        await store.updateThread(project, "archived", { archived: true }, T0 + 3);
        await thread(store, project, "other-user", T0 + 4, "u2");
        await thread(store, project, "other-agent", T0 + 5, "u1", "agent-b");
        await thread(store, `${project}-b`, "other-project", T0 + 6);

        const base = { projectId: project, userId: "u1", agentId: "agent", limit: 100, cursor: null };
        const visible = await store.listThreads({ ...base, includeArchived: false });
        expect(visible.threads.map((t) => t.id)).toEqual(["mine"]);
        expect(visible.nextCursor).toBeNull();
        const all = await store.listThreads({ ...base, includeArchived: true });
        expect(all.threads.map((t) => t.id)).toEqual(["archived", "mine"]);
        expect(all.threads[0]).toMatchObject({ archived: true, userId: "u1", agentId: "agent", projectId: project });
      });

      it("orders by lastRunAt ?? updatedAt, most recent first, id breaking ties", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "a", T0 + 10);
        await thread(store, project, "b", T0 + 20);
        await thread(store, project, "c", T0 + 20);
        await thread(store, project, "d", T0 + 5);
        // d ran last: its lastRunAt puts it first.
        await lock(store, project, "d", "run-d", T0 + 30);
        await store.appendRunEvents({ projectId: project, threadId: "d", runId: "run-d", events: events("run-d", 1, 1), terminal: "finished", now: T0 + 40 });
        // a is renamed after it was created: updatedAt counts while it never ran.
        await store.updateThread(project, "a", { name: "renamed" }, T0 + 25);
        // d is renamed later still, but its lastRunAt decides (the browser's order).
        await store.updateThread(project, "d", { name: "renamed" }, T0 + 50);

        const { threads } = await store.listThreads({ projectId: project, userId: "u1", agentId: "agent", includeArchived: false, limit: 10, cursor: null });
        expect(threads.map((t) => t.id)).toEqual(["d", "a", "c", "b"]);
        expect(threads[0].lastRunAt).toBe(T0 + 40);
      });

      it("pages with a keyset cursor: no duplicates and none skipped while threads are inserted between pages", async () => {
        const { store, project } = await fresh();
        const before: string[] = [];
        for (let i = 0; i < 7; i++) {
          const id = `t${i}`;
          await thread(store, project, id, T0 + (i % 3)); // ties on purpose
          before.push(id);
        }
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await store.listThreads({ projectId: project, userId: "u1", agentId: "agent", includeArchived: false, limit: 3, cursor });
          expect(page.threads.length).toBeLessThanOrEqual(3);
          seen.push(...page.threads.map((t) => t.id));
          cursor = page.nextCursor;
          pages++;
          // New threads arrive between pages; they are newer, so they belong before the cursor.
          await thread(store, project, `new${pages}`, T0 + 1_000 + pages);
        } while (cursor !== null && pages < 10);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.filter((id) => before.includes(id)).sort()).toEqual([...before].sort());
        expect(pages).toBe(3);
      });

      it("honours the limit, ends with nextCursor null, and reads an unknown cursor as the top", async () => {
        const { store, project } = await fresh();
        for (let i = 0; i < 4; i++) await thread(store, project, `t${i}`, T0 + i);
        const base = { projectId: project, userId: "u1", agentId: "agent", includeArchived: false };
        const first = await store.listThreads({ ...base, limit: 2, cursor: null });
        expect(first.threads.map((t) => t.id)).toEqual(["t3", "t2"]);
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await store.listThreads({ ...base, limit: 2, cursor: first.nextCursor });
        expect(second.threads.map((t) => t.id)).toEqual(["t1", "t0"]);
        expect(second.nextCursor).toBeNull();
        const exact = await store.listThreads({ ...base, limit: 4, cursor: null });
        expect(exact.threads).toHaveLength(4);
        expect(exact.nextCursor).toBeNull();
        for (const junk of ["garbage", "", "eyJhIjoxfQ", Buffer.from('[1,"x",3]').toString("base64url")]) {
          const top = await store.listThreads({ ...base, limit: 1, cursor: junk });
          expect(top.threads.map((t) => t.id)).toEqual(["t3"]);
        }
        const one = await store.listThreads({ ...base, limit: 1, cursor: null });
        expect(one.threads).toHaveLength(1);
      });
    });

    describe("deleting threads", () => {
      it("removes the thread with its runs and events; a reused id starts empty", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1");
        const first = events("r1", 1, 3);
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: first, terminal: "finished", now: T0 + 1 });
        await lock(store, project, "t1", "r2", T0 + 2);
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r2", events: events("r2", 1, 1), now: T0 + 2 });

        expect(await store.deleteThread(project, "t1")).toBe(true);
        expect(await store.deleteThread(project, "t1")).toBe(false);
        expect(await store.getThread(project, "t1")).toBeUndefined();
        expect(await store.getRun(project, "r1")).toBeUndefined();
        expect(await store.getRun(project, "r2")).toBeUndefined();
        expect(await store.runEvents(project, "r1", 0, 100)).toEqual([]);
        expect(await store.latestEventId(project, "t1")).toBeNull();
        expect(await store.eventsAfter(project, "t1", first[0].id, 10)).toBeUndefined();
        expect((await store.expiredRuns(T0 + 1_000_000, 1000)).filter((r) => r.projectId === project)).toEqual([]);

        const again = await store.createThread({ projectId: project, threadId: "t1", userId: "u2", agentId: "agent", name: null, now: T0 + 10 });
        expect(again.created).toBe(true);
        expect(again.thread).toMatchObject({ userId: "u2", lastRunAt: null });
        expect(await store.eventsAfter(project, "t1", null, 100)).toEqual([]);
        expect(await store.activeRun(project, "t1")).toBeUndefined();
        // The old run id is free again, and the old events' ids can be stored again.
        expect((await lock(store, project, "t1", "r1", T0 + 11)).status).toBe("acquired");
        const reused = await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: first, now: T0 + 12 });
        expect(reused.status === "ok" && reused.stored.length).toBe(3);
      });

      it("makes a deleted thread's running run unknown to later appends and renewals", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1");
        await store.deleteThread(project, "t1");
        expect(await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: events("r1", 1, 1), now: T0 })).toEqual({
          status: "not_running",
        });
        expect(await store.renewLock(project, "t1", "r1", TTL, T0)).toBe("missing");
      });
    });

    describe("run lock", () => {
      it("acquires, is idempotent for the same run (extending the lock), and is held against another run", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        const acquired = await store.acquireLock({ projectId: project, threadId: "t1", runId: "r1", userId: "u1", agentId: "agent", ttlMs: TTL, now: T0 });
        expect(acquired).toEqual({
          status: "acquired",
          run: {
            projectId: project,
            threadId: "t1",
            runId: "r1",
            userId: "u1",
            agentId: "agent",
            status: "running",
            lockExpiresAt: T0 + TTL,
            startedAt: T0,
            endedAt: null,
            lastSeq: 0,
          },
        });
        const again = await lock(store, project, "t1", "r1", T0 + 5);
        expect(again.status).toBe("acquired");
        expect(again.run.lockExpiresAt).toBe(T0 + 5 + TTL);
        expect(again.run.startedAt).toBe(T0);

        const other = await lock(store, project, "t1", "r2", T0 + 6);
        expect(other.status).toBe("held");
        expect(other.run.runId).toBe("r1");
        expect(await store.getRun(project, "r2")).toBeUndefined();
        expect((await store.activeRun(project, "t1"))?.runId).toBe("r1");
        // Exactly at the expiry the lock still lives.
        expect((await lock(store, project, "t1", "r2", T0 + 5 + TTL)).status).toBe("held");
      });

      it("reports a running run whose lock expired as stale, and lets the next run in once it is finalized", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1", T0);
        const stale = await lock(store, project, "t1", "r2", T0 + TTL + 1);
        expect(stale.status).toBe("stale");
        expect(stale.run).toMatchObject({ runId: "r1", status: "running", lockExpiresAt: T0 + TTL });
        // The caller finalizes r1 through appendRunEvents, then tries again.
        const closed = await store.appendRunEvents({
          projectId: project,
          threadId: "t1",
          runId: "r1",
          events: events("r1", 1, 1, "RUN_ERROR"),
          terminal: "error",
          now: T0 + TTL + 2,
        });
        expect(closed.status).toBe("ok");
        const next = await lock(store, project, "t1", "r2", T0 + TTL + 3);
        expect(next.status).toBe("acquired");
        expect(next.run.runId).toBe("r2");
      });

      it("answers ended for a run id that already finished on this thread", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1");
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: events("r1", 1, 1, "RUN_FINISHED"), terminal: "finished", now: T0 + 1 });
        const ended = await lock(store, project, "t1", "r1", T0 + 2);
        expect(ended.status).toBe("ended");
        expect(ended.run).toMatchObject({ runId: "r1", status: "finished", lockExpiresAt: 0, endedAt: T0 + 1, lastSeq: 1 });
        expect(await store.activeRun(project, "t1")).toBeUndefined();
      });

      it("refuses a run id used on another thread of the project, and a thread that does not exist", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await thread(store, project, "t2");
        await lock(store, project, "t1", "r1");
        const clash = await lock(store, project, "t2", "r1", T0 + 1);
        expect(clash.status).toBe("held");
        expect(clash.run.threadId).toBe("t1");
        expect(await store.activeRun(project, "t2")).toBeUndefined();
        await expect(lock(store, project, "missing", "r9")).rejects.toBeInstanceOf(ThreadNotFoundError);
      });

      it("renews a running run's lock, answers ended after its terminal event and missing for an unknown run", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1", T0);
        expect(await store.renewLock(project, "t1", "r1", 30_000, T0 + 10)).toBe("renewed");
        expect((await store.getRun(project, "r1"))?.lockExpiresAt).toBe(T0 + 10 + 30_000);
        expect((await lock(store, project, "t1", "r2", T0 + TTL + 5)).status).toBe("held");
        expect(await store.renewLock(project, "t1", "nope", TTL, T0)).toBe("missing");
        expect(await store.renewLock(project, "t2", "r1", TTL, T0)).toBe("missing");
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: [], terminal: "finished", now: T0 + 20 });
        expect(await store.renewLock(project, "t1", "r1", TTL, T0 + 21)).toBe("ended");
        expect((await store.getRun(project, "r1"))?.lockExpiresAt).toBe(0);
      });

      it("releases a lock (idempotently): the run stays running with an expired lock, for the finalizer", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1", T0);
        await store.releaseLock(project, "t1", "r1", T0 + 1);
        await store.releaseLock(project, "t1", "r1", T0 + 2);
        await store.releaseLock(project, "t1", "unknown", T0 + 2);
        expect(await store.getRun(project, "r1")).toMatchObject({ status: "running", lockExpiresAt: 0 });
        expect((await lock(store, project, "t1", "r2", T0 + 3)).status).toBe("stale");
        const expired = (await store.expiredRuns(T0 + 3, 1000)).filter((run) => run.projectId === project);
        expect(expired.map((run) => run.runId)).toEqual(["r1"]);
        // Releasing an ended run changes nothing.
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: [], terminal: "error", now: T0 + 4 });
        await store.releaseLock(project, "t1", "r1", T0 + 5);
        expect(await store.getRun(project, "r1")).toMatchObject({ status: "error", endedAt: T0 + 4 });
      });

      it("lists running runs whose lock expired before now, oldest first, up to the limit", async () => {
        const { store, project } = await fresh();
        for (const [i, ttl] of [30, 10, 20, 1_000].entries()) {
          await thread(store, project, `t${i}`);
          await lock(store, project, `t${i}`, `r${i}`, T0, ttl);
        }
        await thread(store, project, "done");
        await lock(store, project, "done", "r-done", T0, 1);
        await store.appendRunEvents({ projectId: project, threadId: "done", runId: "r-done", events: [], terminal: "finished", now: T0 + 1 });
        const mine = async (now: number, limit: number) =>
          (await store.expiredRuns(now, limit)).filter((run) => run.projectId === project).map((run) => run.runId);
        expect(await mine(T0 + 25, 1000)).toEqual(["r1", "r2"]);
        expect(await mine(T0 + 20, 1000)).toEqual(["r1"]);
        expect(await mine(T0 + 31, 1000)).toEqual(["r1", "r2", "r0"]);
        const all = await store.expiredRuns(T0 + 31, 2);
        expect(all).toHaveLength(2);
        expect(all[0].lockExpiresAt).toBeLessThanOrEqual(all[1].lockExpiresAt);
      });
    });

    describe("appending run events", () => {
      it("stores events in order with increasing positions and moves lastSeq", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1");
        const batch = events("r1", 1, 5);
        const result = await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: batch, now: T0 + 1 });
        expect(result.status).toBe("ok");
        if (result.status !== "ok") return;
        expect(result.stored.map((e) => e.id)).toEqual(batch.map((e) => e.id));
        expect(result.stored[0]).toEqual({ ...batch[0], threadId: "t1", runId: "r1", position: result.stored[0].position });
        for (let i = 1; i < result.stored.length; i++) expect(result.stored[i].position).toBeGreaterThan(result.stored[i - 1].position);
        const more = await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: events("r1", 6, 7), now: T0 + 2 });
        expect(more.status === "ok" && more.stored[0].position).toBeGreaterThan(result.stored[4].position);
        expect(await store.getRun(project, "r1")).toMatchObject({ lastSeq: 7, status: "running" });
        expect((await store.getThread(project, "t1"))?.lastRunAt).toBeNull();
      });

      it("keeps the JSON verbatim", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1");
        const json = '{"type":"TEXT_MESSAGE_CONTENT",  "delta":"héllo \\u0000 😀","metadata":{"cpki_event_id":"e1","b":1,"a":2}}';
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: [{ id: "e1", seq: 1, type: "TEXT_MESSAGE_CONTENT", json }], now: T0 });
        const [stored] = (await store.eventsAfter(project, "t1", null, 10)) ?? [];
        expect(stored.json).toBe(json);
        expect(stored.type).toBe("TEXT_MESSAGE_CONTENT");
      });

      it("skips ids already stored: a re-sent batch stores nothing and is ok, even after the run ended", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1");
        const first = events("r1", 1, 3);
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: first, now: T0 });
        const overlap = [...first.slice(1), ...events("r1", 4, 5)];
        const partly = await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: overlap, now: T0 + 1 });
        expect(partly.status === "ok" && partly.stored.map((e) => e.seq)).toEqual([4, 5]);
        const again = await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: first, now: T0 + 2 });
        expect(again).toEqual({ status: "ok", stored: [] });
        // A batch repeating an id stores it once.
        const [dup] = events("r1", 6, 6);
        const twice = await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: [dup, dup], now: T0 + 3 });
        expect(twice.status === "ok" && twice.stored.map((e) => e.id)).toEqual([dup.id]);

        const terminal = events("r1", 7, 7, "RUN_FINISHED");
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: terminal, terminal: "finished", now: T0 + 4 });
        const resent = await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: terminal, terminal: "finished", now: T0 + 5 });
        expect(resent).toEqual({ status: "ok", stored: [] });
        expect(await store.getRun(project, "r1")).toMatchObject({ status: "finished", endedAt: T0 + 4 });
        expect((await store.eventsAfter(project, "t1", null, 100))?.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      });

      it("ends the run on a terminal batch: status, lock released, thread lastRunAt and updatedAt moved", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1", T0);
        await lock(store, project, "t1", "r1", T0 + 1);
        const result = await store.appendRunEvents({
          projectId: project,
          threadId: "t1",
          runId: "r1",
          events: events("r1", 1, 2, "RUN_ERROR"),
          terminal: "error",
          now: T0 + 50,
        });
        expect(result.status === "ok" && result.stored).toHaveLength(2);
        expect(await store.getRun(project, "r1")).toMatchObject({ status: "error", lockExpiresAt: 0, endedAt: T0 + 50, lastSeq: 2 });
        expect(await store.getThread(project, "t1")).toMatchObject({ lastRunAt: T0 + 50, updatedAt: T0 + 50, createdAt: T0 });
        expect(await store.activeRun(project, "t1")).toBeUndefined();
        // Lock freed: the next run is acquired at once, not stale.
        expect((await lock(store, project, "t1", "r2", T0 + 51)).status).toBe("acquired");
      });

      it("answers not_running for new events of an ended or unknown run, and writes nothing", async () => {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await lock(store, project, "t1", "r1");
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: events("r1", 1, 1), terminal: "finished", now: T0 + 1 });
        const late = events("r1", 2, 3);
        expect(await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: late, now: T0 + 2 })).toEqual({ status: "not_running" });
        expect(await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "ghost", events: events("ghost", 1, 1), now: T0 + 2 })).toEqual({
          status: "not_running",
        });
        expect(await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "ghost", events: [], now: T0 + 2 })).toEqual({ status: "ok", stored: [] });
        // The wrong thread for a live run counts as unknown.
        await thread(store, project, "t2");
        await lock(store, project, "t2", "r2");
        expect(await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r2", events: events("r2", 1, 1), now: T0 + 3 })).toEqual({
          status: "not_running",
        });
        expect(await store.eventsAfter(project, "t1", null, 100)).toHaveLength(1);
        expect(await store.eventsAfter(project, "t2", null, 100)).toEqual([]);
        expect(await store.getRun(project, "r1")).toMatchObject({ lastSeq: 1, status: "finished" });
      });
    });

    describe("reading the log", () => {
      async function twoRuns() {
        const { store, project } = await fresh();
        await thread(store, project, "t1");
        await thread(store, project, "t2");
        await lock(store, project, "t1", "r1");
        await lock(store, project, "t2", "rx");
        const a = events("r1", 1, 3);
        const x = events("rx", 1, 2);
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: a.slice(0, 2), now: T0 });
        await store.appendRunEvents({ projectId: project, threadId: "t2", runId: "rx", events: x, now: T0 });
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r1", events: a.slice(2), terminal: "finished", now: T0 + 1 });
        await lock(store, project, "t1", "r2", T0 + 2);
        const b = events("r2", 1, 2);
        await store.appendRunEvents({ projectId: project, threadId: "t1", runId: "r2", events: b, now: T0 + 3 });
        return { store, project, ids: [...a, ...b].map((e) => e.id), x };
      }

      it("eventsAfter: from the first with null, after a cursor, across runs, up to the limit", async () => {
        const { store, project, ids } = await twoRuns();
        const all = await store.eventsAfter(project, "t1", null, 100);
        expect(all?.map((e) => e.id)).toEqual(ids);
        expect(all?.map((e) => e.runId)).toEqual(["r1", "r1", "r1", "r2", "r2"]);
        expect(all?.every((e) => e.threadId === "t1")).toBe(true);
        expect((await store.eventsAfter(project, "t1", ids[1], 100))?.map((e) => e.id)).toEqual(ids.slice(2));
        expect((await store.eventsAfter(project, "t1", ids[1], 2))?.map((e) => e.id)).toEqual(ids.slice(2, 4));
        expect((await store.eventsAfter(project, "t1", null, 2))?.map((e) => e.id)).toEqual(ids.slice(0, 2));
        expect(await store.eventsAfter(project, "t1", ids[4], 100)).toEqual([]);
        expect(await store.eventsAfter(project, "empty-or-missing", null, 100)).toEqual([]);
      });

      it("eventsAfter: undefined for a cursor that is not an event of this thread", async () => {
        const { store, project, x } = await twoRuns();
        expect(await store.eventsAfter(project, "t1", "no-such-event", 100)).toBeUndefined();
        expect(await store.eventsAfter(project, "t1", x[0].id, 100)).toBeUndefined();
        expect(await store.eventsAfter(`${project}-b`, "t1", x[0].id, 100)).toBeUndefined();
      });

      it("runEvents: one run's events after a seq, in order, up to the limit", async () => {
        const { store, project, ids } = await twoRuns();
        expect((await store.runEvents(project, "r1", 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3]);
        expect((await store.runEvents(project, "r1", 1, 100)).map((e) => e.id)).toEqual(ids.slice(1, 3));
        expect((await store.runEvents(project, "r1", 0, 2)).map((e) => e.seq)).toEqual([1, 2]);
        expect((await store.runEvents(project, "r2", 0, 100)).map((e) => e.id)).toEqual(ids.slice(3));
        expect(await store.runEvents(project, "r2", 2, 100)).toEqual([]);
        expect(await store.runEvents(project, "nope", 0, 100)).toEqual([]);
        expect(await store.runEvents(`${project}-b`, "r1", 0, 100)).toEqual([]);
      });

      it("latestEventId: the thread's last event, null without events", async () => {
        const { store, project, ids, x } = await twoRuns();
        expect(await store.latestEventId(project, "t1")).toBe(ids[4]);
        expect(await store.latestEventId(project, "t2")).toBe(x[1].id);
        await thread(store, project, "t3");
        expect(await store.latestEventId(project, "t3")).toBeNull();
        expect(await store.latestEventId(project, "missing")).toBeNull();
      });
    });

    describe("join codes", () => {
      it("gives each user of a project one stable code, different between users and projects", async () => {
        const { store, project } = await fresh();
        const code = await store.joinCodeFor(project, "u1");
        expect(code).toMatch(/^[A-Za-z0-9_-]{8,}$/);
        expect(await store.joinCodeFor(project, "u1")).toBe(code);
        const other = await store.joinCodeFor(project, "u2");
        expect(other).not.toBe(code);
        const elsewhere = await store.joinCodeFor(`${project}-b`, "u1");
        expect(elsewhere).not.toBe(code);
        expect(await store.userForJoinCode(project, code)).toBe("u1");
        expect(await store.userForJoinCode(project, other)).toBe("u2");
        expect(await store.userForJoinCode(`${project}-b`, code)).toBeUndefined();
        expect(await store.userForJoinCode(project, "nope")).toBeUndefined();
      });

      it("hands out one code when asked for the same user many times at once", async () => {
        const { store, project } = await fresh();
        const codes = await Promise.all(Array.from({ length: 8 }, () => store.joinCodeFor(project, "u1")));
        expect(new Set(codes).size).toBe(1);
      });
    });
  });
}
