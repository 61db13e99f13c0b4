/**
 * How the stores order a user's threads, and the keyset cursor that pages through them.
 *
 * The browser sorts its thread list by `lastRunAt ?? updatedAt ?? createdAt`, most recent
 * first; the stores page in that same order (the id breaks ties) so that a page boundary never
 * moves a thread the browser already showed. `updatedAt` is always set, so the activity is
 * `lastRunAt ?? updatedAt`.
 */
import type { PlatformThread } from "./types.js";

/** The position of a thread in its list: activity descending, then id descending. */
export interface ThreadListKey {
  activity: number;
  id: string;
}

/** The time a thread sorts by (the browser's `lastRunAt ?? updatedAt ?? createdAt`). */
export function threadActivity(thread: Pick<PlatformThread, "lastRunAt" | "updatedAt" | "createdAt">): number {
  return thread.lastRunAt ?? thread.updatedAt ?? thread.createdAt;
}

/** The opaque `nextCursor` after this thread: base64url of `[activity, id]`. */
export function encodeThreadCursor(key: ThreadListKey): string {
  return Buffer.from(JSON.stringify([key.activity, key.id]), "utf8").toString("base64url");
}

/**
 * The key a cursor stands for, or null when it is not one of ours (the caller then starts
 * from the top, as the port says for unknown cursors).
 */
export function decodeThreadCursor(cursor: string | null): ThreadListKey | null {
  if (cursor === null || cursor === "" || cursor.length > 2048) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [activity, id] = value as unknown[];
    if (typeof activity !== "number" || !Number.isSafeInteger(activity) || typeof id !== "string") return null;
    return { activity, id };
  } catch {
    return null;
  }
}

/** True when a thread with key `a` comes after the cursor `b` in list order. */
export function isAfterCursor(a: ThreadListKey, b: ThreadListKey): boolean {
  return a.activity < b.activity || (a.activity === b.activity && a.id < b.id);
}

/** Comparator for list order (most recent first, then id descending). */
export function compareListOrder(a: ThreadListKey, b: ThreadListKey): number {
  if (a.activity !== b.activity) return b.activity - a.activity;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
