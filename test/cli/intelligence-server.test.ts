/**
 * The platform `serve --intelligence` starts, in this process: which store each storage choice
 * opens (memory, the runtime's SQLite file, PostgreSQL), that it is migrated and answers
 * `/readyz`'s check, and that `close()` drains it and closes the store.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startPlatform } from "../../src/cli/intelligence-server.js";
import { resolveIntelligence } from "../../src/cli/intelligence.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/memory.js";
import { quietLogger } from "../helpers/intelligence.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "../runners/postgres-env.js";

const KEY = "cpk-5_server-test-secret";
const settings = resolveIntelligence("beside", undefined, { COPILOT_INTELLIGENCE_API_KEYS: KEY, COPILOT_INTELLIGENCE_TOKEN_SECRET: "s" }, "/api/copilotkit")!;
const dir = mkdtempSync(join(tmpdir(), "cli-intelligence-server-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Creates a thread through the REST API, as CopilotKit's runtime would. */
async function createThread(fetch: (request: Request) => Promise<Response>, threadId: string): Promise<number> {
  const response = await fetch(
    new Request("http://platform.test/api/threads", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ threadId, userId: "u1", agentId: "default" }),
    }),
  );
  return response.status;
}

describe("serve --intelligence: the platform's store", () => {
  it("--memory: a memory store, with a warning that it is lost on restart", async () => {
    const served = await startPlatform(settings, { memory: true }, {}, dir, quietLogger());
    try {
      expect(served.platform.core.deps.store.kind).toBe("memory");
      expect(served.platform.core.deps.bus.shared).toBe(false);
      expect(served.storeWarning).toMatch(/in memory: lost on restart/);
      await expect(served.readiness.check()).resolves.toBeUndefined();
    } finally {
      await served.close();
    }
  });

  it("a SQLite file: the runtime's file (cpki_ tables), created when missing and reopened with its threads", async () => {
    const file = join(dir, "shared.db");
    const first = await startPlatform(settings, { db: "shared.db" }, {}, dir, quietLogger());
    expect(first.platform.core.deps.store.kind).toBe("sqlite");
    expect(first.storeDescription).toBe(`SQLite ${file} (tables cpki_*)`);
    expect(first.createdFiles).toContain(file);
    expect(await createThread(first.platform.fetch, "kept")).toBe(201);
    await first.close();

    const second = await startPlatform(settings, {}, { COPILOT_RUNTIME_DB: file }, dir, quietLogger());
    try {
      expect(second.createdFiles).toEqual([]);
      expect(await second.platform.core.deps.store.getThread("5", "kept")).toMatchObject({ id: "kept", userId: "u1" });
      await expect(second.readiness.check()).resolves.toBeUndefined();
    } finally {
      await second.close();
    }
    expect(existsSync(file)).toBe(true);
  });

  it("the config file's own store wins over the storage flags", async () => {
    const store = new MemoryIntelligenceStore();
    const served = await startPlatform({ ...settings, store }, { db: "ignored.db" }, {}, dir, quietLogger());
    try {
      expect(served.platform.core.deps.store).toBe(store);
      expect(existsSync(join(dir, "ignored.db"))).toBe(false);
    } finally {
      await served.close();
    }
  });

  it("readiness fails with intelligence_unavailable once the store is gone", async () => {
    const served = await startPlatform(settings, { db: "closed.db" }, {}, dir, quietLogger());
    await served.platform.core.deps.store.close();
    expect(served.readiness.reason).toBe("intelligence_unavailable");
    await expect(served.readiness.check()).rejects.toThrow();
    await served.platform.close();
  });
});

const url = await findPostgres();
if (requirePostgres(url, "serve --intelligence on PostgreSQL")) {
  describe("serve --intelligence: the platform's store on PostgreSQL", () => {
    const schema = uniqueSchema();
    afterAll(() => dropSchema(url, schema));

    it("a postgres:// --db (or DATABASE_URL): a PostgreSQL store and LISTEN/NOTIFY bus, migrated, password redacted in its description", async () => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA "${schema}"`);
      await admin.end();
      // The tables land in this test's schema through the connection's search_path.
      const target = new URL(url);
      target.password = "pw";
      target.searchParams.set("options", `-c search_path=${schema}`);
      // (Trust auth ignores the password: it is there to be redacted.)
      const served = await startPlatform(settings, {}, { DATABASE_URL: target.toString() }, dir, quietLogger());
      try {
        expect(served.platform.core.deps.store.kind).toBe("postgres");
        expect(served.platform.core.deps.bus.shared).toBe(true);
        expect(served.storeDescription).toContain(":***@");
        expect(served.storeDescription).toContain("share LISTEN/NOTIFY");
        expect(served.storeDescription).not.toContain("pw@");
        expect(await createThread(served.platform.fetch, "pg-thread")).toBe(201);
        await expect(served.readiness.check()).resolves.toBeUndefined();
      } finally {
        await served.close();
      }
      const check = new pg.Client({ connectionString: url });
      await check.connect();
      const { rows } = await check.query(`SELECT id FROM "${schema}".cpki_threads`);
      await check.end();
      expect(rows.map((row) => row.id)).toEqual(["pg-thread"]);
    });
  });
}
