/**
 * Several processes on one SQLite file: while another process holds the write lock, this
 * process's event loop keeps turning (waiting for the lock is asynchronous), its runs resume
 * once the lock is released with every event stored once and in order, and a lock held past
 * `busyTimeoutMs` ends the run with `PERSISTENCE_FAILED` instead of a hang.
 */
import Database from "better-sqlite3";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { setLogger } from "../../src/logger.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { AgentControl, ControlledAgent, eventsOf, httpClient, replyTexts } from "./support.js";
import { FrameReader, readSseFrames, types } from "../helpers/sse.js";
import { uid } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const HOLDER = fileURLToPath(new URL("./fixtures/hold-sqlite-lock.mjs", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-sqlite-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LockHolder {
  child: ChildProcess;
  /** True once the child said it is about to commit: until then the lock is certainly held. */
  releasing: boolean;
  exited: Promise<void>;
}

/** Starts a process that holds the write lock on `file` for `holdMs`; resolves once it holds it. */
function holdLock(file: string, holdMs: number): Promise<LockHolder> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOLDER], {
      cwd: REPO,
      env: { ...process.env, DB_PATH: file, HOLD_MS: String(holdMs) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const holder: LockHolder = { child, releasing: false, exited: new Promise((done) => child.once("exit", () => done())) };
    let output = "";
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      if (output.includes("LOCKED")) resolve(holder);
      if (output.includes("RELEASING")) holder.releasing = true;
    });
    child.once("exit", (code) => {
      if (!output.includes("LOCKED")) reject(new Error(`lock holder exited (${code}) before locking:\n${output}`));
    });
  });
}

/** The longest gap between turns of this process's event loop while it runs. */
function loopWatch() {
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return maxGapMs;
    },
  };
}

function storedEvents(file: string, threadId: string) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT seq, type, data FROM copilot_events WHERE thread_id = ? ORDER BY seq`).all(threadId) as Array<{
      seq: number;
      type: string;
      data: string;
    }>;
  } finally {
    db.close();
  }
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step().catch(() => {});
});

describe("SqliteAgentRunner with another process holding the write lock", () => {
  it("keeps the event loop turning, serves reads, and stores every event once, in order, after the lock is released", async () => {
    const file = path.join(dir, `wait-${uid("db")}.db`);
    const runner = new SqliteAgentRunner({ path: file });
    await runner.ready();
    cleanup.push(() => runner.close());
    const control = new AgentControl();
    const client = httpClient(runner, { default: new ControlledAgent(control) });

    // A run streams before the lock is taken...
    const threadA = uid("thread");
    const responseA = await client.run(threadA, { text: "first" });
    const runA = await control.nextRun();
    const readerA = new FrameReader(responseA);
    runA.started().textStart().text("before ");
    await readerA.take(3);

    const watch = loopWatch();
    const holder = await holdLock(file, 1_500);
    cleanup.push(async () => {
      holder.child.kill("SIGKILL");
      await holder.exited;
    });

    // ...and goes on while another process holds the lock; a second run starts meanwhile.
    runA.text("during ").textEnd().finish();
    const threadB = uid("thread");
    const responseB = client.run(threadB, { text: "second" });
    void control.nextRun().then((run) => run.reply(["reply ", "two"]));

    // Reads do not wait for the writer (WAL), and this process answers them while the lock is held.
    const list = await client.get("/threads");
    expect(list.status).toBe(200);
    await list.text();
    expect(holder.releasing).toBe(false);

    const framesA = await readerA.rest();
    const framesB = await readSseFrames(await responseB);
    await holder.exited;
    const maxGapMs = watch.stop();

    expect(maxGapMs).toBeLessThan(300);
    expect(types(eventsOf(framesA))).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    expect(replyTexts(eventsOf(framesB))).toEqual(["reply two"]);
    expect(framesB.at(-1)!.event.type).toBe("RUN_FINISHED");
    for (const [threadId, frames] of [
      [threadA, framesA],
      [threadB, framesB],
    ] as const) {
      expect(frames.map((f) => f.id)).toEqual(frames.map((_, i) => i + 1));
      const stored = storedEvents(file, threadId);
      expect(stored.map((row) => row.seq)).toEqual(frames.map((_, i) => i + 1));
      expect(stored.map((row) => JSON.parse(row.data))).toEqual(eventsOf(frames));
    }
    expect(replyTexts(eventsOf(framesA))).toEqual(["before during "]);
  });

  it("ends a run with PERSISTENCE_FAILED when the lock outlasts busyTimeoutMs, and keeps serving", async () => {
    const file = path.join(dir, `budget-${uid("db")}.db`);
    const runner = new SqliteAgentRunner({ path: file, busyTimeoutMs: 200, leaseMs: 1_000, pollMs: 20 });
    await runner.ready();
    cleanup.push(() => runner.close());
    const control = new AgentControl();
    const client = httpClient(runner, { default: new ControlledAgent(control) });

    const threadA = uid("thread");
    const responseA = await client.run(threadA, { text: "first" });
    const runA = await control.nextRun();
    const readerA = new FrameReader(responseA);
    runA.started().textStart().text("kept ");
    await readerA.take(3);

    const watch = loopWatch();
    const holder = await holdLock(file, 3_000);
    cleanup.push(async () => {
      holder.child.kill("SIGKILL");
      await holder.exited;
    });

    runA.text("lost").textEnd().finish();
    const framesA = await readerA.rest();
    // The run gave up within its budget, while the other process still held the lock.
    expect(holder.releasing).toBe(false);
    expect(framesA.at(-1)!.event).toMatchObject({ type: "RUN_ERROR", code: "PERSISTENCE_FAILED" });
    expect(replyTexts(eventsOf(framesA))).toEqual(["kept "]);

    // A new run cannot start while the lock is held: it is refused within the budget, not left hanging.
    const refused = await client.run(uid("thread"), { text: "refused" });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ error: "store_unavailable", retryable: true });
    // Reads are still served.
    const list = await client.get("/threads");
    expect(list.status).toBe(200);
    await list.text();
    expect(holder.releasing).toBe(false);

    await holder.exited;
    expect(watch.stop()).toBeLessThan(300);

    // Once the lock is free the process takes new runs, and the failed run is closed after its last
    // stored event: PERSISTENCE_FAILED when this process closes its own abandoned run first,
    // INTERRUPTED when the lease lapsed and the sweep got there first. Either way it is closed.
    const threadB = uid("thread");
    const responseB = client.run(threadB, { text: "after" });
    void control.nextRun().then((run) => run.reply(["fine"]));
    const framesB = await readSseFrames(await responseB);
    expect(framesB.at(-1)!.event.type).toBe("RUN_FINISHED");
    const replay = await readSseFrames(await client.connect(threadA));
    expect(replay.at(-1)!.event.type).toBe("RUN_ERROR");
    expect(["PERSISTENCE_FAILED", "INTERRUPTED"]).toContain(replay.at(-1)!.event.code);
    expect(replyTexts(eventsOf(replay))).toEqual(["kept "]);
  });
});
