/**
 * Which SQLite failures are worth retrying: another connection holds the lock
 * (`SQLITE_BUSY`, `SQLITE_LOCKED` and their extended codes, e.g. `SQLITE_BUSY_SNAPSHOT`).
 * Everything else (a constraint, a full disk, a corrupt or read-only file) fails the same
 * way on every try, so it is permanent.
 */
export function isTransientSqliteError(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
}
