/**
 * The Intelligence platform's storage: the port and the in-memory store. The SQLite and
 * PostgreSQL stores load native or optional packages, so they are imported by path
 * (`./sqlite.js`, `./postgres.js`) by whoever chooses them.
 */
export type * from "./types.js";
export { MemoryIntelligenceStore } from "./memory.js";
export { ThreadNotFoundError } from "./errors.js";
export { threadActivity } from "./thread-order.js";
