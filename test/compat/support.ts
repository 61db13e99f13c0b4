/**
 * Small utilities shared by the real-client compatibility suites: browser globals the
 * CopilotKit cores need, waiting on client callbacks, and reading raw SSE off the wire.
 */
import { type WireEvent, parseSse } from "../helpers/sse.js";

/**
 * `CopilotKitCore` only contacts a runtime when `window` exists (it skips SSR). Node has
 * `fetch`, `Headers`, `AbortController` and `crypto` already; `window` is the one gap.
 */
export function installBrowserGlobals(): void {
  const g = globalThis as { window?: unknown };
  if (g.window === undefined) g.window = globalThis;
}

/** Resolves when `predicate` holds, checking after each event-loop turn; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise plus its resolver, for "tell me when the client saw X" hooks. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** POSTs `body` and parses the SSE reply into events (frames split on a blank line). */
export async function postForEvents(url: string, body: unknown, headers: Record<string, string> = {}): Promise<WireEvent[]> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...headers },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return parseSse(await response.text());
}

/** The ids of `messages`, to compare order and spot duplicates. */
export function ids(messages: ReadonlyArray<{ id: string }>): string[] {
  return messages.map((m) => m.id);
}

/** Role and text of each message, for order-and-content comparisons independent of ids. */
export function transcript(messages: ReadonlyArray<{ role: string; content?: unknown }>): string[] {
  return messages.map((m) => `${m.role}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "")}`);
}
