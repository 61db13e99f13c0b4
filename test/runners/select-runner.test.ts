import { existsSync, mkdtempSync, rmSync } from "node:fs";
import pg from "pg";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { PostgresAgentRunner } from "../../src/runners/postgres.js";
import { selectRunner } from "../../src/runners/select-runner.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { setLogger } from "../../src/logger.js";
import { dropSchema, findPostgres, uniqueSchema } from "./postgres-env.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-select-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("where `serve` keeps threads", () => {
  it("parses --db, --memory and the retention flags, and rejects bad values", () => {
    expect(parseArgs(["serve", "--db", "t.db", "--retention-days=7", "--max-threads-per-user", "50"], {}).storage).toEqual({
      db: "t.db",
      retentionDays: 7,
      maxThreadsPerUser: 50,
    });
    expect(parseArgs(["--memory"], {}).storage).toEqual({ memory: true });
    expect(() => parseArgs(["--retention-days", "soon"], {})).toThrow(/--retention-days must be a positive number/);
    expect(() => parseArgs(["--max-threads-per-user", "2.5"], {})).toThrow(/whole number/);
    expect(() => parseArgs(["--db"], {})).toThrow(/--db needs a value/);
  });

  it("defaults to a SQLite file in the working directory", async () => {
    const selected = await selectRunner({}, {}, dir);
    try {
      expect(selected.runner).toBeInstanceOf(SqliteAgentRunner);
      expect(selected.description).toBe(`SQLite ${path.join(dir, "copilot-runtime.db")}`);
      expect(existsSync(path.join(dir, "copilot-runtime.db"))).toBe(true);
    } finally {
      await selected.close();
    }
  });

  it("takes --memory over --db, --db over the environment, DATABASE_URL over COPILOT_RUNTIME_DB", async () => {
    const env = { COPILOT_RUNTIME_DB: "from-env.db", DATABASE_URL: "mysql://not-postgres" };
    const memory = await selectRunner({ memory: true, db: "x.db", retentionDays: 3 }, env, dir);
    expect(memory.runner).toBeInstanceOf(InMemoryAgentRunner);
    expect(memory.description).toMatch(/^in memory .*retention flags ignored/);
    const flag = await selectRunner({ db: "flag.db" }, env, dir);
    expect(flag.description).toBe(`SQLite ${path.join(dir, "flag.db")}`);
    await flag.close();
    const fromEnv = await selectRunner({}, { ...env, COPILOT_RUNTIME_RETENTION_DAYS: "30", COPILOT_RUNTIME_MAX_THREADS_PER_USER: "100" }, dir);
    expect(fromEnv.description).toBe(`SQLite ${path.join(dir, "from-env.db")} (retention: threads kept 30 days, at most 100 per user)`);
    await fromEnv.close();
  });

  it("selects PostgreSQL from DATABASE_URL, without printing its password", async () => {
    const url = await findPostgres();
    if (url === undefined) return; // the PostgreSQL suites skip loudly, or fail with CI=true
    const schema = uniqueSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.end();
    const withSecret = new URL(url);
    withSecret.password = "s3cret"; // trust auth ignores it; the start-up line must not show it
    withSecret.searchParams.set("options", `-c search_path=${schema}`); // keep the test's tables out of public
    const selected = await selectRunner({}, { DATABASE_URL: withSecret.toString(), COPILOT_RUNTIME_DB: "ignored.db" }, dir);
    try {
      expect(selected.runner).toBeInstanceOf(PostgresAgentRunner);
      expect(selected.description).toMatch(/^PostgreSQL postgres:\/\//);
      expect(selected.description).not.toContain("s3cret");
    } finally {
      await selected.close();
      await dropSchema(url, schema);
    }
  });

  it("explains an unusable database instead of starting", async () => {
    await expect(selectRunner({ db: path.join(dir, "missing-dir", "t.db") }, {}, dir)).rejects.toThrow(/Cannot keep threads in SQLite file/);
    await expect(selectRunner({ db: "postgres://nobody@127.0.0.1:1/none" }, {}, dir)).rejects.toThrow(/Cannot keep threads in PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/none/);
  });
});

