import type { PoolClient } from "pg";
import type { IntelligenceTables } from "./table-names.js";

interface Migration {
  version: number;
  name: string;
  sql: (t: IntelligenceTables) => string;
}

/**
 * The PostgreSQL schema of the Intelligence store, one entry per version. Released entries are
 * never edited: a change is a new entry, so a database written by any release upgrades in place.
 *
 * Ids are `COLLATE "C"`: thread list order and its keyset cursor compare ids byte by byte,
 * whatever the database's default collation. Event JSON is `text`, not `jsonb`: it is pushed
 * to subscribers exactly as it was ingested.
 */
export const POSTGRES_INTELLIGENCE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "threads, runs, event log, join codes",
    sql: (t) => `
      CREATE TABLE ${t.threads} (
        project_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        agent_id TEXT COLLATE "C" NOT NULL,
        name TEXT,
        archived BOOLEAN NOT NULL DEFAULT FALSE,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        last_run_at BIGINT,
        -- The list order (the browser's lastRunAt ?? updatedAt), kept by the database itself.
        activity BIGINT GENERATED ALWAYS AS (COALESCE(last_run_at, updated_at)) STORED,
        PRIMARY KEY (project_id, id)
      );
      CREATE INDEX ${t.index("threads_list")} ON ${t.threads} (project_id, user_id, agent_id, activity, id);
      CREATE TABLE ${t.runs} (
        project_id TEXT COLLATE "C" NOT NULL,
        run_id TEXT COLLATE "C" NOT NULL,
        thread_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        status TEXT NOT NULL,
        lock_expires_at BIGINT NOT NULL,
        started_at BIGINT NOT NULL,
        ended_at BIGINT,
        last_seq BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, run_id)
      );
      -- At most one running run per thread, whatever the code above it does.
      CREATE UNIQUE INDEX ${t.index("runs_running")} ON ${t.runs} (project_id, thread_id) WHERE status = 'running';
      CREATE INDEX ${t.index("runs_thread")} ON ${t.runs} (project_id, thread_id);
      CREATE INDEX ${t.index("runs_expiry")} ON ${t.runs} (lock_expires_at) WHERE status = 'running';
      CREATE TABLE ${t.events} (
        position BIGSERIAL PRIMARY KEY,
        project_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        thread_id TEXT COLLATE "C" NOT NULL,
        run_id TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL,
        type TEXT NOT NULL,
        json TEXT NOT NULL
      );
      CREATE UNIQUE INDEX ${t.index("events_id")} ON ${t.events} (project_id, id);
      CREATE INDEX ${t.index("events_thread")} ON ${t.events} (project_id, thread_id, position);
      CREATE INDEX ${t.index("events_run")} ON ${t.events} (project_id, run_id, seq);
      CREATE TABLE ${t.joinCodes} (
        project_id TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        code TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (project_id, user_id)
      );
      CREATE UNIQUE INDEX ${t.index("join_codes_code")} ON ${t.joinCodes} (project_id, code);
    `,
  },
];

/**
 * Brings the schema to the newest version in one transaction under an advisory lock, so
 * several instances starting together migrate once. The lock key is the agent runner's for
 * the same schema (`copilot-runtime:<schema>`): both create the schema if missing, and
 * `CREATE SCHEMA IF NOT EXISTS` run twice at once can fail. Refuses a database from a newer release.
 */
export async function migratePostgresIntelligence(client: PoolClient, tables: IntelligenceTables, schema: string | undefined): Promise<void> {
  const latest = POSTGRES_INTELLIGENCE_MIGRATIONS[POSTGRES_INTELLIGENCE_MIGRATIONS.length - 1].version;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`copilot-runtime:${schema ?? ""}`]);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${tables.migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const { rows } = await client.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0)::int AS v FROM ${tables.migrations}`);
    const current = rows[0].v;
    if (current > latest) {
      throw new Error(`The Intelligence schema is at version ${current}, newer than this copilot-runtime supports (${latest}). Upgrade copilot-runtime.`);
    }
    for (const migration of POSTGRES_INTELLIGENCE_MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql(tables));
      await client.query(`INSERT INTO ${tables.migrations} (version, name, applied_at) VALUES ($1, $2, $3)`, [migration.version, migration.name, Date.now()]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
