/**
 * Which PostgreSQL failures are worth retrying: the connection dropped or could not be had
 * (SQLSTATE class 08, too many connections, a server shutting down or starting, a pool that
 * timed out, a socket reset), or the transaction lost a race (serialization failure,
 * deadlock, lock not available). Everything else (data the database refuses, such as an
 * index row over the btree limit or a NUL byte; a constraint; a bug) fails the same way on
 * every try, so it is permanent.
 */
const TRANSIENT_SQLSTATES = new Set(["40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03"]);
const TRANSIENT_NODE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
// pg and pg-pool report these without a code.
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /not queryable/i,
  /server closed the connection unexpectedly/i,
];

export function isTransientPostgresError(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (code.startsWith("08") || TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return false;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === "string" && TRANSIENT_MESSAGES.some((pattern) => pattern.test(message));
}
