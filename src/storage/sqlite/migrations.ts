import type Database from "better-sqlite3";
import { type TableNames, indexName } from "../sql-names.js";

interface Migration {
  version: number;
  name: string;
  sql: (t: TableNames, prefix: string) => string;
}

/**
 * The SQLite schema, one entry per version. Released entries are never edited: a change is a
 * new entry, so a database written by any release upgrades in place.
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "threads, runs, events",
    // Every page a commit dirties costs a WAL frame write, so the hot tables are WITHOUT ROWID
    // (no separate primary-key index) and only the indexes the hot path needs exist.
    sql: (t, p) => `
      CREATE TABLE ${t.threads} (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        name TEXT,
        archived INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_run_at INTEGER,
        activity INTEGER NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        active_run_seq INTEGER
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX ${indexName(p, "threads_activity")} ON ${t.threads} (activity);
      CREATE INDEX ${indexName(p, "threads_owner")} ON ${t.threads} (owner_id, activity);
      CREATE TABLE ${t.state} (
        thread_id TEXT PRIMARY KEY,
        state TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE ${t.runs} (
        thread_id TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        run_id TEXT NOT NULL,
        status TEXT NOT NULL,
        lease_owner TEXT,
        lease_expires_at INTEGER NOT NULL DEFAULT 0,
        stop_requested INTEGER NOT NULL DEFAULT 0,
        last_seq INTEGER,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        input TEXT,
        compacted TEXT,
        PRIMARY KEY (thread_id, first_seq)
      ) WITHOUT ROWID;
      CREATE INDEX ${indexName(p, "runs_running")} ON ${t.runs} (lease_expires_at) WHERE status = 'running';
      CREATE TABLE ${t.events} (
        thread_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        run_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE ${t.messages} (
        thread_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        PRIMARY KEY (thread_id, message_id)
      ) WITHOUT ROWID;
    `,
  },
];

/**
 * Brings the schema to the newest version in one `BEGIN IMMEDIATE` transaction, so two
 * processes starting on one file do not both migrate. Refuses a database from a newer release.
 */
export function migrateSqlite(db: Database.Database, tables: TableNames, prefix: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${tables.migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const latest = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;
  const apply = db.transaction(() => {
    const current = (db.prepare(`SELECT COALESCE(MAX(version), 0) AS v FROM ${tables.migrations}`).get() as { v: number }).v;
    if (current > latest) {
      throw new Error(`The database schema is at version ${current}, newer than this copilot-runtime supports (${latest}). Upgrade copilot-runtime.`);
    }
    const record = db.prepare(`INSERT INTO ${tables.migrations} (version, name, applied_at) VALUES (?, ?, ?)`);
    for (const migration of SQLITE_MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql(tables, prefix));
      record.run(migration.version, migration.name, Date.now());
    }
  });
  apply.immediate();
}
