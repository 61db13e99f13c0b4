import Database from "better-sqlite3";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "tsup";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteIntelligenceStore } from "../../src/intelligence/store/sqlite.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import { describeIntelligenceStore } from "./store-conformance.js";

const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-intelligence-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, "intelligence.db");
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const RACER_SCRIPT = fileURLToPath(new URL("./fixtures/sqlite-lock-racer.mjs", import.meta.url));

async function open(options: ConstructorParameters<typeof SqliteIntelligenceStore>[0] = {}): Promise<SqliteIntelligenceStore> {
  const store = new SqliteIntelligenceStore({ path: file, ...options });
  await store.migrate();
  return store;
}

// Every test opens its own store on the one shared file (the suite keeps tests apart by project).
describeIntelligenceStore("SqliteIntelligenceStore (file)", () => open());
describeIntelligenceStore("SqliteIntelligenceStore (:memory:)", async () => {
  const store = new SqliteIntelligenceStore();
  await store.migrate();
  return store;
});

const T0 = 1_700_000_000_000;

describe("SqliteIntelligenceStore: several connections on one file", () => {
  it("lets exactly one of two runs racing from two stores take a thread's lock", async () => {
    const a = await open();
    const b = await open();
    try {
      for (let i = 0; i < 20; i++) {
        const project = `race-${i}-${Date.now()}`;
        await a.createThread({ projectId: project, threadId: "t", userId: "u", agentId: "agent", name: null, now: T0 });
        const results = await Promise.all([
          a.acquireLock({ projectId: project, threadId: "t", runId: "run-a", userId: "u", agentId: "agent", ttlMs: 20_000, now: T0 }),
          b.acquireLock({ projectId: project, threadId: "t", runId: "run-b", userId: "u", agentId: "agent", ttlMs: 20_000, now: T0 }),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual(["acquired", "held"]);
        const winner = results.find((r) => r.status === "acquired")!.run.runId;
        expect(results.find((r) => r.status === "held")!.run.runId).toBe(winner);
        expect((await b.activeRun(project, "t"))?.runId).toBe(winner);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("waits on timers while another connection holds the write lock, then decides on what that connection committed", async () => {
    const a = await open();
    const b = await open();
    const holder = new Database(file);
    try {
      const project = `held-${Date.now()}`;
      await a.createThread({ projectId: project, threadId: "t", userId: "u", agentId: "agent", name: null, now: T0 });
      holder.exec("BEGIN IMMEDIATE");
      // The holder's transaction takes the lock first, inside its open transaction.
      holder
        .prepare(`INSERT INTO "cpki_runs" (project_id, run_id, thread_id, user_id, agent_id, status, lock_expires_at, started_at, last_seq) VALUES (?, 'run-h', 't', 'u', 'agent', 'running', ?, ?, 0)`)
        .run(project, T0 + 20_000, T0);
      const pending = Promise.all([
        a.acquireLock({ projectId: project, threadId: "t", runId: "run-a", userId: "u", agentId: "agent", ttlMs: 20_000, now: T0 + 1 }),
        b.acquireLock({ projectId: project, threadId: "t", runId: "run-b", userId: "u", agentId: "agent", ttlMs: 20_000, now: T0 + 1 }),
      ]);
      let settled = false;
      void pending.then(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(settled).toBe(false);
      holder.exec("COMMIT");
      const results = await pending;
      expect(results.map((r) => [r.status, r.run.runId])).toEqual([
        ["held", "run-h"],
        ["held", "run-h"],
      ]);
    } finally {
      if (holder.inTransaction) holder.exec("ROLLBACK");
      holder.close();
      await a.close();
      await b.close();
    }
  });

  it("shares an open database with the agent runner's store, and leaves it open on close", async () => {
    const db = new Database(path.join(dir, "shared.db"));
    try {
      const runnerStore = new SqliteStore({ database: db });
      await runnerStore.migrate();
      const store = new SqliteIntelligenceStore({ database: db });
      await store.migrate();
      await store.migrate(); // idempotent
      const { created } = await store.createThread({ projectId: "1", threadId: "t", userId: "u", agentId: "agent", name: null, now: T0 });
      expect(created).toBe(true);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
      expect(tables).toEqual(expect.arrayContaining(["cpki_threads", "cpki_runs", "cpki_events", "cpki_join_codes", "copilot_threads"]));
      await store.close();
      expect(db.open).toBe(true);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      db.close();
    }
  });

  it("keeps two table prefixes in one file apart, and refuses a prefix that is not an identifier", async () => {
    const a = await open({ tablePrefix: "one_" });
    const b = await open({ tablePrefix: "two_" });
    try {
      await a.createThread({ projectId: "1", threadId: "t", userId: "u", agentId: "agent", name: null, now: T0 });
      expect(await b.getThread("1", "t")).toBeUndefined();
      expect(await a.getThread("1", "t")).toBeDefined();
    } finally {
      await a.close();
      await b.close();
    }
    expect(() => new SqliteIntelligenceStore({ tablePrefix: "x; DROP TABLE y" })).toThrow(/tablePrefix/);
  });

  it("refuses a database whose Intelligence schema is newer than this release", async () => {
    const db = new Database(":memory:");
    try {
      const store = new SqliteIntelligenceStore({ database: db });
      await store.migrate();
      db.prepare(`INSERT INTO "cpki_schema_migrations" (version, name, applied_at) VALUES (999, 'future', 0)`).run();
      await expect(new SqliteIntelligenceStore({ database: db }).migrate()).rejects.toThrow(/newer than this copilot-runtime/);
    } finally {
      db.close();
    }
  });
});

describe("SqliteIntelligenceStore: several processes on one file", () => {
  it("gives each thread's lock to exactly one of three racing processes, and the user one join code", async () => {
    const outDir = path.join(REPO, "node_modules", ".cache", "copilot-runtime-intelligence-store", `${process.pid}-${Date.now()}`);
    mkdirSync(outDir, { recursive: true });
    const racers: ChildProcess[] = [];
    try {
      await build({
        config: false,
        entry: { sqlite: path.join(REPO, "src/intelligence/store/sqlite.ts") },
        outDir,
        format: ["esm"],
        target: "node20",
        dts: false,
        sourcemap: false,
        clean: false,
        silent: true,
      });
      const project = `processes-${Date.now()}`;
      const THREADS = 40;
      const setup = await open();
      for (let i = 0; i < THREADS; i++) await setup.createThread({ projectId: project, threadId: `t${i}`, userId: "u", agentId: "agent", name: null, now: T0 });
      await setup.close();

      const outputs = ["a", "b", "c"].map((racer) => {
        const child = spawn(process.execPath, [RACER_SCRIPT], {
          cwd: REPO,
          env: { ...process.env, STORE_MODULE: pathToFileURL(path.join(outDir, "sqlite.js")).href, FILE: file, PROJECT: project, RACER: racer, THREADS: String(THREADS) },
          stdio: ["pipe", "pipe", "pipe"],
        });
        racers.push(child);
        let stdout = "";
        let stderr = "";
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        const ready = new Promise<void>((resolve, reject) => {
          child.stdout!.on("data", (chunk) => {
            stdout += chunk;
            if (stdout.includes("READY\n")) resolve();
          });
          child.once("exit", () => reject(new Error(`racer ${racer} exited early: ${stderr}`)));
        });
        const done = new Promise<string>((resolve, reject) =>
          child.once("exit", (code) => (code === 0 ? resolve(stdout.split("\n")[1]) : reject(new Error(`racer ${racer} failed: ${stderr}`)))),
        );
        return { child, ready, done };
      });
      await Promise.all(outputs.map((o) => o.ready));
      for (const { child } of outputs) child.stdin!.end("go\n");
      const results = (await Promise.all(outputs.map((o) => o.done))).map(
        (line) => JSON.parse(line) as { locks: Array<{ thread: string; status: string; runId: string }>; joinCode: string },
      );

      const check = await open();
      try {
        for (let i = 0; i < THREADS; i++) {
          const answers = results.map((r) => r.locks[i]);
          expect(answers.filter((a) => a.status === "acquired")).toHaveLength(1);
          const winner = answers.find((a) => a.status === "acquired")!.runId;
          for (const answer of answers) expect(answer.runId).toBe(winner);
          expect((await check.activeRun(project, `t${i}`))?.runId).toBe(winner);
        }
        expect(new Set(results.map((r) => r.joinCode)).size).toBe(1);
        expect(await check.userForJoinCode(project, results[0].joinCode)).toBe("shared-user");
      } finally {
        await check.close();
      }
    } finally {
      for (const child of racers) if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 120_000);
});
