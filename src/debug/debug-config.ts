/**
 * The runtime's `debug` option, as CopilotKit's: `true` turns on event and lifecycle lines (not
 * payloads), an object picks them one by one, `verbose: true` logs whole events.
 */
export type DebugConfig =
  | boolean
  | {
      /** A debug line per event sent. Default true. */
      events?: boolean;
      /** A debug line when an event stream opens and ends. Default true. */
      lifecycle?: boolean;
      /** Whole events in those lines instead of a summary. Default false (payloads hold user data). */
      verbose?: boolean;
    };

/** {@link DebugConfig} with every field decided. */
export interface ResolvedDebugConfig {
  enabled: boolean;
  events: boolean;
  lifecycle: boolean;
  verbose: boolean;
}

const OFF: ResolvedDebugConfig = Object.freeze({ enabled: false, events: false, lifecycle: false, verbose: false });

/**
 * Decides every field of a `debug` option; throws a `TypeError` naming what is wrong with one
 * that is not a boolean or such an object.
 *
 * @example
 * resolveDebugConfig(true); // { enabled: true, events: true, lifecycle: true, verbose: false }
 */
export function resolveDebugConfig(debug: DebugConfig | undefined): ResolvedDebugConfig {
  if (debug === undefined || debug === false) return OFF;
  if (debug === true) return { enabled: true, events: true, lifecycle: true, verbose: false };
  if (debug === null || typeof debug !== "object" || Array.isArray(debug)) {
    throw new TypeError(`CopilotRuntime: \`debug\` must be a boolean or { events?, lifecycle?, verbose? }, got ${JSON.stringify(debug)}`);
  }
  for (const key of Object.keys(debug)) {
    const value = (debug as Record<string, unknown>)[key];
    if (!["events", "lifecycle", "verbose"].includes(key)) throw new TypeError(`CopilotRuntime: unknown \`debug.${key}\` (known: events, lifecycle, verbose)`);
    if (value !== undefined && typeof value !== "boolean") throw new TypeError(`CopilotRuntime: \`debug.${key}\` must be a boolean`);
  }
  return { enabled: true, events: debug.events ?? true, lifecycle: debug.lifecycle ?? true, verbose: debug.verbose ?? false };
}

/**
 * Whether `GET <basePath>/cpk-debug-events` is served, as in CopilotKit: when `debug` is on, or
 * when `NODE_ENV` is exactly `development` (what `next dev` and friends set). It carries every
 * event of every thread to anyone who asks, so an unset `NODE_ENV` does not open it.
 */
export function isDebugFeedEnabled(debug: ResolvedDebugConfig): boolean {
  if (debug.enabled) return true;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.NODE_ENV === "development";
}
