/**
 * Table names of the durable stores. A prefix (and for PostgreSQL a schema) lets the runtime
 * share a database with an application, and lets tests isolate themselves.
 */
export interface TableNames {
  migrations: string;
  threads: string;
  runs: string;
  events: string;
  messages: string;
  /** The last state snapshot of each thread (SQLite; PostgreSQL keeps it on the thread row). */
  state: string;
  /** PostgreSQL only: the sequence behind `threads.activity`. */
  activity: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/** Validates a prefix or schema name: they are spliced into SQL, so only plain identifiers. */
export function assertIdentifier(value: string, what: string, allowEmpty = false): string {
  if (allowEmpty && value === "") return value;
  if (!IDENTIFIER.test(value)) {
    throw new TypeError(`${what} must be a plain SQL identifier (letters, digits, underscores; not starting with a digit), got '${value}'`);
  }
  return value;
}

/** `copilot_threads`, or `"schema".copilot_threads` when a schema is given. */
export function tableNames(prefix: string, schema?: string): TableNames {
  assertIdentifier(prefix, "tablePrefix", true);
  const qualify = (name: string) => (schema === undefined ? `"${prefix}${name}"` : `"${assertIdentifier(schema, "schema")}"."${prefix}${name}"`);
  return {
    migrations: qualify("schema_migrations"),
    threads: qualify("threads"),
    runs: qualify("runs"),
    events: qualify("events"),
    messages: qualify("thread_messages"),
    state: qualify("thread_state"),
    activity: qualify("thread_activity_seq"),
  };
}

/** The index name for a table of this prefix (indexes share the schema's namespace). */
export function indexName(prefix: string, name: string): string {
  return `"${prefix}${name}"`;
}

/** The columns both stores read for a thread and for a run, in the order their row mappers expect. */
export const THREAD_COLUMNS = "id, agent_id, owner_id, name, archived, created_at, updated_at, last_run_at, activity";
export const RUN_COLUMNS = "thread_id, first_seq, run_id, status, lease_owner, lease_expires_at, stop_requested, input";
