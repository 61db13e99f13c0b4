/**
 * Finds the local PostgreSQL the tests run against (127.0.0.1:5432, trust auth, database
 * `test`, user `postgres` or `root`; or `COPILOT_RUNTIME_TEST_DATABASE_URL`), and gives each
 * test file its own schema, dropped afterwards.
 */
import pg from "pg";
import { describe, it } from "vitest";

// An explicit URL replaces the defaults (and lets anyone check the unreachable path).
const CANDIDATES = process.env.COPILOT_RUNTIME_TEST_DATABASE_URL
  ? [process.env.COPILOT_RUNTIME_TEST_DATABASE_URL]
  : ["postgres://postgres@127.0.0.1:5432/test", "postgres://root@127.0.0.1:5432/test"];

export async function findPostgres(): Promise<string | undefined> {
  for (const connectionString of CANDIDATES) {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return connectionString;
    } catch {
      // try the next one
    } finally {
      await client.end().catch(() => {});
    }
  }
  return undefined;
}

/**
 * Where PostgreSQL is missing: skip loudly, or fail when `CI=true` (CI must test it).
 * Returns true when the caller should define its suites.
 */
export function requirePostgres(url: string | undefined, suite: string): url is string {
  if (url !== undefined) return true;
  const where = CANDIDATES.join(" or ");
  if (process.env.CI === "true") {
    describe(suite, () => {
      it("needs PostgreSQL (CI=true)", () => {
        throw new Error(`PostgreSQL is unreachable (${where}); CI=true requires these tests to run.`);
      });
    });
  } else {
    console.warn(`\n*** PostgreSQL is unreachable (${where}): SKIPPING ${suite}. Set CI=true to make this a failure. ***\n`);
    describe.skip(suite, () => it("needs PostgreSQL", () => {}));
  }
  return false;
}

export function uniqueSchema(): string {
  return `cr_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

export async function dropSchema(connectionString: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
