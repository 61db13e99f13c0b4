import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { setLogger } from "../../src/logger.js";
import { defineRunnerSuite } from "./runner-suite.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, "threads.db");

defineRunnerSuite("SqliteAgentRunner", {
  numbered: true,
  create: async (options) => {
    const runner = new SqliteAgentRunner({ path: file, ...options });
    await runner.ready();
    return runner;
  },
});
