/**
 * Opaque keyset cursors for `GET /threads`: the recency counter of the last thread on a page.
 * Unlike an offset, a keyset stays correct while new threads arrive at the top of the list.
 */
export function encodeListCursor(activity: number): string {
  return Buffer.from(JSON.stringify({ a: activity })).toString("base64url");
}

/** The counter inside a cursor, or undefined for none. Throws `RangeError` for one we did not make. */
export function decodeListCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { a?: unknown };
    if (typeof parsed.a === "number" && Number.isSafeInteger(parsed.a) && parsed.a > 0) return parsed.a;
  } catch {
    // fall through
  }
  throw new RangeError("invalid cursor");
}
