import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DurableAgentRunner } from "../../src/runners/durable/durable-runner.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import { setLogger } from "../../src/logger.js";
import { defineDurableSuite } from "./durable-suite.js";
import { defineRunnerSuite } from "./runner-suite.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, "threads.db");

async function create(options: ConstructorParameters<typeof SqliteAgentRunner>[0] = {}) {
  const runner = new SqliteAgentRunner({ path: file, ...options });
  await runner.ready().catch(() => {}); // a test that expects a failure awaits ready() itself
  return runner;
}

defineRunnerSuite("SqliteAgentRunner", { numbered: true, create });

defineDurableSuite("SqliteAgentRunner", {
  create,
  createOn: async (wrap, options = {}) => {
    const runner = new DurableAgentRunner(wrap(new SqliteStore({ path: file })), options);
    await runner.ready();
    return runner;
  },
  transientError: () => Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" }),
  permanentError: () => Object.assign(new Error("string or blob too big"), { code: "SQLITE_TOOBIG" }),
  exec: async (sql) => {
    const db = new Database(file);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  },
  table: (prefix, name) => `"${prefix}${name}"`,
});

describe("SqliteStore: error classification", () => {
  it("calls a busy or locked database transient, and anything else permanent", async () => {
    const store = new SqliteStore({ path: file });
    await store.migrate();
    const holder = new Database(file);
    const contender = new Database(file);
    contender.pragma("busy_timeout = 0");
    holder.exec("BEGIN IMMEDIATE");
    let busy: unknown;
    try {
      contender.exec("BEGIN IMMEDIATE");
    } catch (error) {
      busy = error;
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    let constraint: unknown;
    try {
      contender.exec("CREATE TABLE IF NOT EXISTS t_unique (id TEXT PRIMARY KEY); INSERT INTO t_unique VALUES ('a'); INSERT INTO t_unique VALUES ('a')");
    } catch (error) {
      constraint = error;
    } finally {
      contender.close();
    }
    expect((busy as { code?: string }).code).toBe("SQLITE_BUSY");
    expect(store.isTransient(busy)).toBe(true);
    for (const code of ["SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED", "SQLITE_LOCKED_SHAREDCACHE"]) expect(store.isTransient({ code }), code).toBe(true);
    expect(store.isTransient(constraint)).toBe(false);
    for (const code of ["SQLITE_FULL", "SQLITE_TOOBIG", "SQLITE_CORRUPT", "SQLITE_READONLY", "SQLITE_BUSYX"]) expect(store.isTransient({ code }), code).toBe(false);
    expect(store.isTransient(new Error("no code"))).toBe(false);
    await store.close();
  });
});
