/**
 * The `phoenix` JS client (an optional peer dependency) and the socket transport it should use,
 * loaded on the first Intelligence run so that the package, and `/v2`, load without it.
 *
 * A dynamic `import()` rather than `requireOptional`: this module is reachable from the main
 * entry, which must not pull in `node:module` (it bundles for workers).
 */
import { MissingDependencyError } from "../missing-dependency-error.js";

/** The parts of `phoenix`'s `Socket` the runner uses. */
export interface PhoenixSocket {
  connect(): void;
  disconnect(callback?: () => void, code?: number, reason?: string): void;
  isConnected(): boolean;
  channel(topic: string, params?: object): PhoenixChannel;
  onOpen(callback: () => void): unknown;
  onClose(callback: (event?: { code?: number }) => void): unknown;
  onError(callback: (error?: unknown) => void): unknown;
}

export interface PhoenixPush {
  receive(status: string, callback: (response?: any) => void): PhoenixPush;
}

export interface PhoenixChannel {
  readonly state: string;
  join(timeout?: number): PhoenixPush;
  leave(timeout?: number): PhoenixPush;
  push(event: string, payload: object, timeout?: number): PhoenixPush;
  on(event: string, callback: (payload?: any) => void): number;
}

export interface PhoenixSocketOptions {
  authToken?: string;
  transport?: unknown;
  reconnectAfterMs?: (tries: number) => number;
  rejoinAfterMs?: (tries: number) => number;
  timeout?: number;
}

export interface PhoenixModule {
  Socket: new (endpoint: string, options?: PhoenixSocketOptions) => PhoenixSocket;
  LongPoll: unknown;
}

let phoenix: Promise<PhoenixModule> | undefined;

/** The `phoenix` module, or a {@link MissingDependencyError} naming the install command. */
export function loadPhoenix(): Promise<PhoenixModule> {
  phoenix ??= import("phoenix").then(
    (module) => module as unknown as PhoenixModule,
    (error: unknown) => {
      phoenix = undefined; // installed later (a dev server) is picked up on the next run
      if (isMissing(error, "phoenix")) {
        throw new MissingDependencyError({ specifier: "phoenix", packageName: "phoenix", version: "1.8", neededBy: "IntelligenceAgentRunner" }, error);
      }
      throw error;
    },
  );
  return phoenix;
}

/**
 * The WebSocket class for a socket: the platform's global one (Node 22+, browsers, Bun, Deno),
 * else the `ws` package's, else undefined (phoenix then uses long-poll, as CopilotKit's runner
 * does on Node 20).
 */
export async function defaultWebSocket(): Promise<unknown> {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global !== undefined) return global;
  try {
    const ws = (await import("ws")) as unknown as { WebSocket?: unknown; default?: unknown };
    return ws.WebSocket ?? ws.default;
  } catch {
    return undefined;
  }
}

function isMissing(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && error.message.includes(`'${name}'`);
}

/** Phoenix's backoff as CopilotKit sets it: `base · 2^(tries-1)`, capped at `max`. */
export function exponentialBackoff(base: number, max: number): (tries: number) => number {
  return (tries) => Math.min(base * 2 ** Math.max(0, tries - 1), max);
}
