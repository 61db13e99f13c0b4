import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SqliteBusyError, SqliteLockWait, isTransientStoreError } from "../../../src/storage/sqlite/lock-wait.js";
import { SqliteStore } from "../../../src/storage/sqlite/sqlite-store.js";

const busy = (code = "SQLITE_BUSY") => Object.assign(new Error("database is locked"), { code });

/** An operation that is refused for a lock `refusals` times, then returns `value`. */
function lockedFor<T>(refusals: number, value: T, log: string[], name: string) {
  let calls = 0;
  const op = () => {
    calls++;
    log.push(name);
    if (calls <= refusals) throw busy();
    return value;
  };
  return { op, calls: () => calls };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  return done;
};

describe("isTransientStoreError", () => {
  it("recognises lock conflicts and nothing else", () => {
    expect(isTransientStoreError(busy())).toBe(true);
    expect(isTransientStoreError(busy("SQLITE_BUSY_SNAPSHOT"))).toBe(true);
    expect(isTransientStoreError(busy("SQLITE_LOCKED"))).toBe(true);
    expect(isTransientStoreError(new SqliteBusyError(100, busy()))).toBe(true);
    expect(isTransientStoreError(busy("SQLITE_CONSTRAINT_PRIMARYKEY"))).toBe(false);
    expect(isTransientStoreError(new Error("boom"))).toBe(false);
    expect(isTransientStoreError(undefined)).toBe(false);
  });
});

describe("SqliteLockWait", () => {
  it("runs a write inside the call when nothing is waiting", async () => {
    const wait = new SqliteLockWait(1_000);
    let ran = false;
    const result = wait.write(() => (ran = true));
    expect(ran).toBe(true);
    expect(await result).toBe(true);
  });

  it("retries a write refused for a lock, and later writes wait behind it in issue order", async () => {
    const wait = new SqliteLockWait(5_000);
    const log: string[] = [];
    const first = lockedFor(3, "a", log, "a");
    const second = lockedFor(0, "b", log, "b");
    const third = lockedFor(1, "c", log, "c");
    const results = await Promise.all([wait.write(first.op), wait.write(second.op), wait.write(third.op)]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(first.calls()).toBe(4);
    // b is not tried while a still waits: nothing overtakes a waiting write.
    expect(log).toEqual(["a", "a", "a", "a", "b", "c", "c"]);
  });

  it("does not retry other errors", async () => {
    const wait = new SqliteLockWait(5_000);
    let calls = 0;
    const error = busy("SQLITE_CONSTRAINT_PRIMARYKEY");
    await expect(
      wait.write(() => {
        calls++;
        throw error;
      }),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
    await expect(wait.read(() => {
      calls++;
      throw error;
    })).rejects.toBe(error);
    expect(calls).toBe(2);
  });

  it("gives up after the budget with SqliteBusyError, and the next write still runs", async () => {
    const wait = new SqliteLockWait(100);
    const log: string[] = [];
    const stuck = lockedFor(Number.POSITIVE_INFINITY, "never", log, "stuck");
    const next = lockedFor(0, "next", log, "next");
    const failed = wait.write(stuck.op);
    const after = wait.write(next.op);
    const error = await failed.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqliteBusyError);
    expect((error as SqliteBusyError).code).toBe("SQLITE_BUSY");
    expect((error as Error).message).toContain("busyTimeoutMs");
    expect(stuck.calls()).toBeGreaterThan(1);
    expect(await after).toBe("next");
  });

  it("retries reads too, without queueing them behind a waiting write", async () => {
    const wait = new SqliteLockWait(5_000);
    let release = false;
    const write = wait.write(() => {
      if (!release) throw busy();
      return "written";
    });
    const log: string[] = [];
    const read = lockedFor(2, "read", log, "read");
    expect(await wait.read(read.op)).toBe("read");
    expect(read.calls()).toBe(3);
    expect(await settled(write)).toBe(false);
    release = true;
    expect(await write).toBe("written");
  });
});

describe("SqliteStore while another connection holds the write lock", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-lock-wait-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const open: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  let n = 0;
  const newFile = () => path.join(dir, `store-${n++}.db`);

  async function startRun(store: SqliteStore, threadId: string, instanceId: string) {
    const started = await store.tryStartRun({
      threadId,
      runId: `run-${threadId}`,
      agentId: "default",
      ownerId: "alice",
      instanceId,
      now: Date.now(),
      leaseExpiresAt: Date.now() + 60_000,
      inputMessageIds: [],
      describeInput: () => "{}",
    });
    if (started.kind !== "started") throw new Error(started.kind);
    return { threadId, firstSeq: started.firstSeq };
  }

  const rows = (runId: string, from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({ seq: from + i, runId, type: "CUSTOM", data: JSON.stringify({ n: from + i }) }));

  it("migrates once the lock is free, without blocking", async () => {
    const file = newFile();
    const other = new Database(file);
    open.push(other);
    other.pragma("journal_mode = WAL");
    other.exec("BEGIN IMMEDIATE");
    const store = new SqliteStore({ path: file });
    open.push(store);
    const migrated = store.migrate();
    expect(await settled(migrated)).toBe(false);
    other.exec("COMMIT");
    await migrated;
    expect(await store.getThread("none")).toBeUndefined();
  });

  it("commits writes issued meanwhile once it is released, each once and in issue order", async () => {
    const file = newFile();
    const store = new SqliteStore({ path: file });
    open.push(store);
    await store.migrate();
    const a = await startRun(store, "thread-a", "me");
    const b = await startRun(store, "thread-b", "me");
    const other = new Database(file);
    open.push(other);
    other.exec("BEGIN IMMEDIATE");

    const writes = [
      store.appendEvents("me", [
        { run: a, rows: rows("run-thread-a", 1, 100) },
        { run: b, rows: rows("run-thread-b", 1, 3) },
      ]),
      store.appendEvents("me", [{ run: a, rows: rows("run-thread-a", 101, 5) }]),
      store.renewLeases("me", [a, b], Date.now() + 60_000),
    ];
    // Reads do not wait for the writer.
    expect(await store.getThread("thread-a")).toMatchObject({ id: "thread-a" });
    expect(await settled(Promise.all(writes))).toBe(false);
    other.exec("COMMIT");
    expect(await Promise.all(writes)).toEqual([[true, true], [true], [a, b].map((run) => ({ ...run, stopRequested: false }))]);

    const stored = other.prepare(`SELECT thread_id, seq, data FROM copilot_events ORDER BY thread_id, seq`).all() as Array<{ thread_id: string; seq: number; data: string }>;
    const seqs = (threadId: string) => stored.filter((row) => row.thread_id === threadId).map((row) => row.seq);
    expect(seqs("thread-a")).toEqual(Array.from({ length: 105 }, (_, i) => i + 1));
    expect(seqs("thread-b")).toEqual([1, 2, 3]);
    expect(stored.every((row) => JSON.parse(row.data).n === row.seq)).toBe(true);
  });

  it("fails a write with SqliteBusyError once busyTimeoutMs has passed", async () => {
    const file = newFile();
    const store = new SqliteStore({ path: file, busyTimeoutMs: 50 });
    open.push(store);
    await store.migrate();
    const a = await startRun(store, "thread-a", "me");
    const other = new Database(file);
    open.push(other);
    other.exec("BEGIN IMMEDIATE");
    const error = await store.appendEvents("me", [{ run: a, rows: rows("run-thread-a", 1, 1) }]).catch((e: unknown) => e);
    other.exec("COMMIT");
    expect(error).toBeInstanceOf(SqliteBusyError);
    expect(isTransientStoreError(error)).toBe(true);
    // Nothing of the refused write is there, and the store works again.
    expect(await store.eventsBetween("thread-a", 0, 10)).toEqual([]);
    expect(await store.appendEvents("me", [{ run: a, rows: rows("run-thread-a", 1, 1) }])).toEqual([true]);
  });

  it("refuses a negative busyTimeoutMs", () => {
    expect(() => new SqliteStore({ busyTimeoutMs: -1 })).toThrow(RangeError);
  });
});
