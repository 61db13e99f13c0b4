import type { PoolClient } from "pg";
import { type TableNames, indexName } from "../sql-names.js";

interface Migration {
  version: number;
  name: string;
  sql: (t: TableNames, prefix: string) => string;
}

/**
 * The PostgreSQL schema, one entry per version. Released entries are never edited: a change is
 * a new entry, so a database written by any release upgrades in place.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "threads, runs, events",
    sql: (t, p) => `
      CREATE SEQUENCE ${t.activity};
      CREATE TABLE ${t.threads} (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        name TEXT,
        archived BOOLEAN NOT NULL DEFAULT FALSE,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        last_run_at BIGINT,
        activity BIGINT NOT NULL,
        last_seq BIGINT NOT NULL DEFAULT 0,
        active_run_seq BIGINT,
        state TEXT
      );
      CREATE UNIQUE INDEX ${indexName(p, "threads_activity")} ON ${t.threads} (activity);
      CREATE INDEX ${indexName(p, "threads_owner")} ON ${t.threads} (owner_id, activity);
      CREATE INDEX ${indexName(p, "threads_updated")} ON ${t.threads} (updated_at);
      CREATE TABLE ${t.runs} (
        thread_id TEXT NOT NULL,
        first_seq BIGINT NOT NULL,
        run_id TEXT NOT NULL,
        status TEXT NOT NULL,
        lease_owner TEXT,
        lease_expires_at BIGINT NOT NULL DEFAULT 0,
        stop_requested BOOLEAN NOT NULL DEFAULT FALSE,
        last_seq BIGINT,
        input TEXT,
        compacted TEXT,
        created_at BIGINT NOT NULL,
        finished_at BIGINT,
        PRIMARY KEY (thread_id, first_seq)
      );
      CREATE INDEX ${indexName(p, "runs_running")} ON ${t.runs} (lease_expires_at) WHERE status = 'running';
      CREATE TABLE ${t.events} (
        thread_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        run_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
      );
      CREATE TABLE ${t.messages} (
        thread_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        PRIMARY KEY (thread_id, message_id)
      );
    `,
  },
];

/**
 * Brings the schema to the newest version in one transaction under an advisory lock, so
 * several instances starting together migrate once. Refuses a database from a newer release.
 */
export async function migratePostgres(client: PoolClient, tables: TableNames, prefix: string, schema: string | undefined): Promise<void> {
  const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`copilot-runtime:${schema ?? ""}`]);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${tables.migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
    const { rows } = await client.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0)::int AS v FROM ${tables.migrations}`);
    const current = rows[0].v;
    if (current > latest) {
      throw new Error(`The database schema is at version ${current}, newer than this copilot-runtime supports (${latest}). Upgrade copilot-runtime.`);
    }
    for (const migration of POSTGRES_MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql(tables, prefix));
      await client.query(`INSERT INTO ${tables.migrations} (version, name, applied_at) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        Date.now(),
      ]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
