/**
 * Reads how long a rate-limited provider asked us to wait.
 */

/**
 * Seconds to wait according to `Retry-After` (delta-seconds or an HTTP date) or OpenAI's `retry-after-ms`,
 * rounded up; `undefined` when neither header is present or parseable.
 *
 * @example
 * ```ts
 * parseRetryAfter(new Headers({ "retry-after": "7" })); // 7
 * ```
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const milliseconds = headers.get("retry-after-ms");
  if (milliseconds !== null && /^\s*\d+(\.\d+)?\s*$/.test(milliseconds)) {
    return Math.ceil(Number(milliseconds) / 1000);
  }
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
