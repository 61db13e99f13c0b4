import { assertIdentifier } from "../../storage/sql-names.js";

/**
 * Table names of the SQLite and PostgreSQL Intelligence stores. The default prefix `cpki_`
 * keeps them apart from the agent runner's `copilot_` tables, so both may share one database
 * file or schema.
 */
export interface IntelligenceTables {
  migrations: string;
  threads: string;
  runs: string;
  events: string;
  joinCodes: string;
  /** Index names share the schema's namespace, so they carry the prefix too (unqualified). */
  index: (name: string) => string;
}

export const DEFAULT_TABLE_PREFIX = "cpki_";

/** `"cpki_threads"`, or `"schema"."cpki_threads"` with a schema; both checked to be plain identifiers. */
export function intelligenceTables(prefix: string, schema?: string): IntelligenceTables {
  assertIdentifier(prefix, "tablePrefix", true);
  if (schema !== undefined) assertIdentifier(schema, "schema");
  const qualify = (name: string) => (schema === undefined ? `"${prefix}${name}"` : `"${schema}"."${prefix}${name}"`);
  return {
    migrations: qualify("schema_migrations"),
    threads: qualify("threads"),
    runs: qualify("runs"),
    events: qualify("events"),
    joinCodes: qualify("join_codes"),
    index: (name) => `"${prefix}${name}"`,
  };
}
