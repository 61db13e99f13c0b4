import type { EventSubscribable } from "../agents/agent-like.js";
import { getEventId } from "../events/event-ids.js";
import { type AgentEvent, isTerminal } from "../events/types.js";
import { logger } from "../logger.js";

export interface SseStreamOptions {
  /** Idle time before a `: ping` comment keeps proxies from cutting the stream. Default 15 s. */
  heartbeatMs?: number;
  /** Frames queued for a reader that does not keep up before the stream is dropped. Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** Sees every event written, for `afterRequestMiddleware`. */
  onEvent?: (event: AgentEvent) => void;
  /** Runs once when the stream ends for any reason. */
  onClose?: () => void;
}

/** The headers of every event stream; `X-Accel-Buffering: no` stops nginx from holding frames. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  Connection: "keep-alive",
  "X-Accel-Buffering": "no",
};

const frames = new WeakMap<object, string>();
const encoder = new TextEncoder();
const PING = ": ping\n\n";

/**
 * One event as an SSE frame: `data: <json>\n\n`, with an `id:` line when the runner numbered
 * it. Serialised once per event however many streams carry it.
 */
export function encodeSseFrame(event: AgentEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    const id = getEventId(event);
    frame = `${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(event)}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

/**
 * The one SSE writer. Events are queued as frames and handed to the socket only when it asks
 * for more (`pull`), so consecutive events coalesce into one write and a slow reader applies
 * backpressure instead of growing memory. A reader that falls more than `maxBufferedBytes`
 * behind is dropped (it can `connect` again). Unsubscribes when the client leaves.
 */
export function createSseStream(source: EventSubscribable, options: SseStreamOptions = {}): ReadableStream<Uint8Array> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  let pending: string[] = [];
  let pendingBytes = 0;
  let ended = false;
  let sawTerminal = false;
  let closed = false;
  let wake: (() => void) | undefined;
  let subscription: { unsubscribe(): void } | undefined;

  const close = () => {
    if (closed) return;
    closed = true;
    ended = true;
    subscription?.unsubscribe();
    options.signal?.removeEventListener("abort", onAbort);
    wake?.();
    options.onClose?.();
  };
  const onAbort = () => close();

  const push = (frame: string) => {
    pending.push(frame);
    pendingBytes += frame.length;
    if (wake !== undefined) wake();
  };

  return new ReadableStream<Uint8Array>(
    {
      start() {
        if (options.signal?.aborted) {
          close();
          return;
        }
        options.signal?.addEventListener("abort", onAbort, { once: true });
        const sub = source.subscribe({
          next(event) {
            if (ended) return;
            if (isTerminal(event)) sawTerminal = true;
            push(encodeSseFrame(event));
            options.onEvent?.(event);
            if (pendingBytes > maxBufferedBytes) {
              logger.warn(`SSE reader fell ${pendingBytes} bytes behind; dropping the stream (the client may reconnect)`);
              ended = true;
              subscription?.unsubscribe();
            }
          },
          error(error) {
            if (ended) return;
            logger.error("event source failed", error);
            if (!sawTerminal) {
              push(encodeSseFrame({ type: "RUN_ERROR", message: "The run failed. See the server logs for details.", code: "RUNNER_ERROR" }));
            }
            ended = true;
            wake?.();
          },
          complete() {
            ended = true;
            wake?.();
          },
        });
        if (ended) sub.unsubscribe();
        else subscription = sub;
      },
      async pull(controller) {
        while (pending.length === 0 && !ended) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              pending.push(PING);
              resolve();
            }, heartbeatMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
        if (closed) {
          controller.close();
          return;
        }
        if (pending.length > 0) {
          const chunk = pending.length === 1 ? pending[0] : pending.join("");
          pending = [];
          pendingBytes = 0;
          controller.enqueue(encoder.encode(chunk));
        }
        if (ended) {
          controller.close();
          close();
        }
      },
      cancel() {
        close();
      },
    },
    { highWaterMark: 1 },
  );
}

/** A streaming `Response` for an event source. */
export function createSseResponse(source: EventSubscribable, options: SseStreamOptions & { headers?: HeadersInit } = {}): Response {
  const headers = new Headers(options.headers);
  for (const [name, value] of Object.entries(SSE_HEADERS)) headers.set(name, value);
  return new Response(createSseStream(source, options), { status: 200, headers });
}
