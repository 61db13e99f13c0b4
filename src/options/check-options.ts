import { type Logger, logger, toLogger } from "../logger.js";

/** What an option's value may be. `object` is a non-null, non-array object (a promise is one). */
export type OptionKind = "string" | "number" | "boolean" | "function" | "object" | "array";

/**
 * One option of one options type: whether it is implemented, and what its value may be.
 * `"unsupported: <reason>"` is an option CopilotKit 1.75 accepts that this package does not
 * implement: it is reported, never silently ignored.
 */
export interface OptionSpec {
  status: "supported" | `unsupported: ${string}`;
  /** The kinds of value accepted; a value of another kind is a TypeError. */
  kinds?: readonly OptionKind[];
  /** For string options with a fixed set of values. */
  values?: readonly string[];
  /** For object options with options of their own (`cors`): checked the same way, as `cors.<name>`. */
  fields?: OptionTable;
}

/** Every option an options type knows, by name. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** Option objects already checked by the factory that built them (an adapter building the core handler). */
const checked = new WeakSet<object>();

/**
 * Marks options as checked, so the core handler an adapter builds from them does not report
 * them a second time under its own name.
 *
 * @example
 * ```ts
 * createCopilotRuntimeHandler(markOptionsChecked({ ...options, basePath }));
 * ```
 */
export function markOptionsChecked<T extends object>(options: T): T {
  checked.add(options);
  return options;
}

/**
 * Reports the options a factory or constructor does not know, at construction: an unknown name
 * is a warning naming it (and the closest known name), an option CopilotKit accepts that this
 * package does not implement is a warning with the reason, and a known option with a value of
 * the wrong kind is a TypeError. `undefined` values count as absent. Plain JavaScript callers
 * get the same checks as typed ones.
 *
 * @example
 * ```ts
 * checkOptions(HANDLER_OPTIONS, options, "createCopilotRuntimeHandler()", log);
 * ```
 */
export function checkOptions(table: OptionTable, options: unknown, source: string, log: Logger, prefix = ""): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${source}: expected an options object, got ${describeValue(options)}.`);
  }
  if (checked.has(options)) return;
  for (const [key, value] of Object.entries(options)) {
    const name = `${prefix}${key}`;
    if (value === undefined) continue;
    const spec = Object.hasOwn(table, key) ? table[key] : undefined;
    if (spec === undefined) {
      const close = closestName(key, Object.keys(table));
      log.warn({ option: name, source }, `${source}: unknown option "${name}" is ignored${close ? ` (did you mean "${prefix}${close}"?)` : ""}.`);
      continue;
    }
    if (spec.status !== "supported") {
      const reason = spec.status.slice("unsupported: ".length);
      log.warn({ option: name, source }, `${source}: option "${name}" is not supported and is ignored: ${reason}.`);
      continue;
    }
    const problem = kindProblem(spec, value);
    if (problem !== undefined) throw new TypeError(`${source}: option "${name}" must be ${problem}, got ${describeValue(value)}.`);
    if (spec.fields !== undefined && kindOf(value) === "object") checkOptions(spec.fields, value, source, log, `${name}.`);
  }
}

function kindOf(value: unknown): OptionKind | "null" | "other" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const type = typeof value;
  if (type === "string" || type === "number" || type === "boolean" || type === "function" || type === "object") return type;
  return "other";
}

/** What is wrong with `value` for `spec`, as "a string or a number", or undefined when nothing is. */
function kindProblem(spec: OptionSpec, value: unknown): string | undefined {
  if (spec.values !== undefined) {
    return typeof value === "string" && spec.values.includes(value) ? undefined : `one of ${spec.values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (spec.kinds === undefined) return undefined;
  const kind = kindOf(value);
  if ((spec.kinds as readonly string[]).includes(kind)) {
    if (kind === "number" && Number.isNaN(value)) return "a number (not NaN)";
    return undefined;
  }
  return spec.kinds.map((k) => (k === "array" ? "an array" : k === "object" ? "an object" : `a ${k}`)).join(" or ");
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

/** The known name within two edits of `name` (case-insensitive), for "did you mean". */
function closestName(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Where a factory's option warnings go: the runtime's `logger` when it has one, else the process-wide logger. */
export function loggerOf(runtime: unknown): Logger {
  const given = (runtime as { logger?: unknown } | null | undefined)?.logger;
  return given !== null && typeof given === "object" ? toLogger(given as Logger) : logger;
}
