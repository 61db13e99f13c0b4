import type BetterSqlite3 from "better-sqlite3";
import type { IntelligenceTables } from "./table-names.js";

interface Migration {
  version: number;
  name: string;
  sql: (t: IntelligenceTables) => string;
}

/**
 * The SQLite schema of the Intelligence store, one entry per version. Released entries are
 * never edited: a change is a new entry, so a database written by any release upgrades in place.
 */
export const SQLITE_INTELLIGENCE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "threads, runs, event log, join codes",
    sql: (t) => `
      CREATE TABLE ${t.threads} (
        project_id TEXT NOT NULL,
        id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        name TEXT,
        archived INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_run_at INTEGER,
        -- The list order (the browser's lastRunAt ?? updatedAt), kept by the database itself.
        activity INTEGER GENERATED ALWAYS AS (COALESCE(last_run_at, updated_at)) STORED,
        PRIMARY KEY (project_id, id)
      ) WITHOUT ROWID;
      CREATE INDEX ${t.index("threads_list")} ON ${t.threads} (project_id, user_id, agent_id, activity, id);
      CREATE TABLE ${t.runs} (
        project_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        status TEXT NOT NULL,
        lock_expires_at INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        last_seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, run_id)
      ) WITHOUT ROWID;
      -- At most one running run per thread, whatever the code above it does.
      CREATE UNIQUE INDEX ${t.index("runs_running")} ON ${t.runs} (project_id, thread_id) WHERE status = 'running';
      CREATE INDEX ${t.index("runs_thread")} ON ${t.runs} (project_id, thread_id);
      CREATE INDEX ${t.index("runs_expiry")} ON ${t.runs} (lock_expires_at) WHERE status = 'running';
      -- AUTOINCREMENT: a position is never handed out twice, even after the newest rows are deleted.
      CREATE TABLE ${t.events} (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id TEXT NOT NULL,
        id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        json TEXT NOT NULL
      );
      CREATE UNIQUE INDEX ${t.index("events_id")} ON ${t.events} (project_id, id);
      CREATE INDEX ${t.index("events_thread")} ON ${t.events} (project_id, thread_id, position);
      CREATE INDEX ${t.index("events_run")} ON ${t.events} (project_id, run_id, seq);
      CREATE TABLE ${t.joinCodes} (
        project_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        code TEXT NOT NULL,
        PRIMARY KEY (project_id, user_id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX ${t.index("join_codes_code")} ON ${t.joinCodes} (project_id, code);
    `,
  },
];

/**
 * Brings the schema to the newest version in one `BEGIN IMMEDIATE` transaction, so two
 * processes starting on one file do not both migrate. Refuses a database from a newer release.
 * Atomic as a whole, so a caller may retry it after a busy error.
 */
export function migrateSqliteIntelligence(db: BetterSqlite3.Database, tables: IntelligenceTables): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${tables.migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const latest = SQLITE_INTELLIGENCE_MIGRATIONS[SQLITE_INTELLIGENCE_MIGRATIONS.length - 1].version;
  const apply = db.transaction(() => {
    const current = (db.prepare(`SELECT COALESCE(MAX(version), 0) AS v FROM ${tables.migrations}`).get() as { v: number }).v;
    if (current > latest) {
      throw new Error(
        `The Intelligence schema is at version ${current}, newer than this copilot-runtime supports (${latest}). Upgrade copilot-runtime.`,
      );
    }
    const record = db.prepare(`INSERT INTO ${tables.migrations} (version, name, applied_at) VALUES (?, ?, ?)`);
    for (const migration of SQLITE_INTELLIGENCE_MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql(tables));
      record.run(migration.version, migration.name, Date.now());
    }
  });
  apply.immediate();
}
