/**
 * Limits on what a client may send, checked before anything walks the data: how deep JSON may
 * nest, and what an identifier (thread, run, message, tool call id) or a name may contain.
 * Every store can keep an identifier that passes: at most `maxIdLength` UTF-16 units (so at most
 * 4 x that in UTF-8 bytes, far under PostgreSQL's ~2.7 KB btree row limit), no NUL (PostgreSQL
 * text cannot hold it) and no lone surrogate (it would be stored as U+FFFD and no longer equal
 * the string the runtime compares it with).
 */
export interface InputLimits {
  /** Deepest nesting of arrays and objects in a JSON body. Default 64. */
  maxJsonDepth: number;
  /** Longest identifier: thread, run, message, tool call and agent ids. Default 256. */
  maxIdLength: number;
  /** Longest name: tool names, thread names. Default 1024. */
  maxNameLength: number;
}

export const DEFAULT_INPUT_LIMITS: Readonly<InputLimits> = Object.freeze({
  maxJsonDepth: 64,
  maxIdLength: 256,
  maxNameLength: 1024,
});

/** Resolves partial limits against the defaults (other keys are ignored), refusing values that are not positive integers. */
export function resolveInputLimits(limits: Partial<InputLimits> | undefined): InputLimits {
  const resolved: InputLimits = {
    maxJsonDepth: limits?.maxJsonDepth ?? DEFAULT_INPUT_LIMITS.maxJsonDepth,
    maxIdLength: limits?.maxIdLength ?? DEFAULT_INPUT_LIMITS.maxIdLength,
    maxNameLength: limits?.maxNameLength ?? DEFAULT_INPUT_LIMITS.maxNameLength,
  };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new TypeError(`limits.${key} must be a positive integer (got ${String(value)})`);
    }
  }
  return resolved;
}

/**
 * Why `value` is not a usable identifier or name, or `undefined` when it is. A string that
 * passes can be stored by every runner and compared back unchanged.
 */
export function identifierProblem(value: string, maxLength: number): string | undefined {
  if (value.length === 0) return "must be a non-empty string";
  if (value.length > maxLength) return `must be at most ${maxLength} characters (got ${value.length})`;
  if (value.includes("\u0000")) return "must not contain NUL characters";
  if (!isWellFormed(value)) return "must be well-formed Unicode (it contains a lone surrogate)";
  return undefined;
}

/** True when `value` has no lone UTF-16 surrogate (`String.prototype.isWellFormed`, Node 20+). */
export function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** The characters that matter for nesting: brackets, and quotes (whose strings are skipped). */
const STRUCTURAL = /["[\]{}]/g;

/**
 * The nesting depth of a JSON text, counted on the text itself (no parse, no recursion), so a
 * body nested 100,000 levels deep costs one linear scan and never reaches `JSON.parse` or
 * anything that walks the parsed value recursively. Strings are skipped whole (`indexOf` to
 * their closing quote), so the scan costs about what `JSON.parse` does on ordinary bodies.
 */
export function jsonTextDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  STRUCTURAL.lastIndex = 0;
  for (let match = STRUCTURAL.exec(text); match !== null; match = STRUCTURAL.exec(text)) {
    const c = text.charCodeAt(match.index);
    if (c === 0x22 /* " */) {
      const end = closingQuote(text, match.index);
      if (end < 0) return max; // unterminated: JSON.parse refuses it next
      STRUCTURAL.lastIndex = end + 1;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else depth--;
  }
  return max;
}

/** The index of the quote closing the string opened at `open`: the next one not escaped by an odd run of backslashes. */
function closingQuote(text: string, open: number): number {
  for (let i = text.indexOf('"', open + 1); i >= 0; i = text.indexOf('"', i + 1)) {
    let slashes = 0;
    while (text.charCodeAt(i - 1 - slashes) === 0x5c /* \ */) slashes++;
    if ((slashes & 1) === 0) return i;
  }
  return -1;
}

/**
 * The nesting depth of a value already in memory (a body a framework parsed for us), walked
 * with an explicit stack so it cannot overflow; stops as soon as `stopAbove` is passed.
 */
export function valueDepth(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  if (value === null || typeof value !== "object") return 0;
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    if (depth > max) {
      max = depth;
      if (max > stopAbove) return max;
    }
    const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return max;
}
