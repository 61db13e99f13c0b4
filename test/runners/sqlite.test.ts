import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
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
