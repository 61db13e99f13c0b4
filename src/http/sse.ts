import type { EventSubscribable } from "../agents/agent-like.js";
import { getEventId } from "../events/event-ids.js";
import { type AgentEvent, isTerminal } from "../events/types.js";
import { logger } from "../logger.js";

export interface SseStreamOptions {
  /** Idle time before a `: ping` comment keeps proxies from cutting the stream. Default 15 s. */
  heartbeatMs?: number;
  /** Frames queued for a reader that does not keep up before the stream is dropped. Default 16 MiB. */
  maxBufferedBytes?: number;
  /**
   * Minimum time between two writes of a busy stream, in ms: frames arriving sooner are sent
   * together. A stream quiet for this long writes at once. Default 4 ms; 0 writes per tick.
   */
  coalesceMs?: number;
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

// The last event serialised and its frame: a live event is fanned out to every reader of its
// run back to back, so one slot is enough to serialise it once. (A WeakMap keyed by event kept
// every frame of a run alive with the run's history, and its per-event cost grew with the run.)
let lastEvent: object | undefined;
let lastFrame = "";
const encoder = new TextEncoder();
const PING = ": ping\n\n";
const DEFAULT_COALESCE_MS = 4;

/**
 * One event as an SSE frame: `data: <json>\n\n`, with an `id:` line when the runner numbered
 * it. Serialised once per event however many streams carry it.
 */
export function encodeSseFrame(event: AgentEvent): string {
  if (event === lastEvent) return lastFrame;
  const id = getEventId(event);
  const frame = `${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(event)}\n\n`;
  lastEvent = event;
  lastFrame = frame;
  return frame;
}

/**
 * The one SSE writer. Events are queued as frames and handed to the stream only when its reader
 * wants more, so a slow reader applies backpressure instead of growing memory; a reader that
 * falls more than `maxBufferedBytes` behind is dropped (it can `connect` again).
 *
 * Writes are coalesced: a frame goes out at once when the stream has been quiet for
 * `coalesceMs`, otherwise it waits until `coalesceMs` after the previous write, so a busy
 * stream costs at most one socket write per window however many events it carries (each write
 * is a syscall, and those dominate under load), while a sparse stream gets no added latency.
 * One timer per stream sends the `: ping` heartbeat; nothing is armed per event or per read.
 * Unsubscribes when the client leaves.
 */
export function createSseStream(source: EventSubscribable, options: SseStreamOptions = {}): ReadableStream<Uint8Array> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const coalesceMs = options.coalesceMs ?? DEFAULT_COALESCE_MS;
  const maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pending: string[] = [];
  let pendingBytes = 0;
  let wanted = false; // the reader asked for more and has not been given it yet
  let scheduled = false; // a flush is queued (microtask or timer)
  let lastWriteAt = -Infinity; // the first frame goes out at once
  let quietSince = Date.now(); // for the heartbeat
  let ended = false;
  let sawTerminal = false;
  let closed = false;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setTimeout> | undefined;
  let subscription: { unsubscribe(): void } | undefined;

  const close = () => {
    if (closed) return;
    closed = true;
    ended = true;
    pending = [];
    subscription?.unsubscribe();
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    if (heartbeat !== undefined) clearTimeout(heartbeat);
    options.signal?.removeEventListener("abort", onAbort);
    try {
      controller.close();
    } catch {
      // already closed or errored
    }
    options.onClose?.();
  };
  const onAbort = () => close();

  const flush = () => {
    scheduled = false;
    flushTimer = undefined;
    if (closed || pending.length === 0) return;
    const chunk = pending.length === 1 ? pending[0] : pending.join("");
    pending = [];
    pendingBytes = 0;
    wanted = false; // enqueue may call pull() again synchronously, which sets it back
    lastWriteAt = quietSince = Date.now();
    controller.enqueue(encoder.encode(chunk));
  };

  const schedule = () => {
    if (scheduled || !wanted || closed) return;
    scheduled = true;
    const wait = lastWriteAt + coalesceMs - Date.now();
    if (wait <= 0) queueMicrotask(flush);
    else flushTimer = setTimeout(flush, wait);
  };

  /** The source is done: what is left goes out now, then the stream closes. */
  const finish = () => {
    if (closed) return;
    ended = true;
    if (scheduled && flushTimer !== undefined) clearTimeout(flushTimer);
    scheduled = true; // no more timed flushes
    if (pending.length > 0) {
      controller.enqueue(encoder.encode(pending.join("")));
      pending = [];
    }
    close();
  };

  const push = (frame: string) => {
    pending.push(frame);
    pendingBytes += frame.length;
    schedule();
  };

  const beat = () => {
    heartbeat = undefined;
    if (closed || ended) return;
    const idle = Date.now() - quietSince;
    if (idle >= heartbeatMs) {
      push(PING);
      quietSince = Date.now(); // a reader that is not reading still gets one ping per period
      heartbeat = setTimeout(beat, heartbeatMs);
    } else {
      heartbeat = setTimeout(beat, heartbeatMs - idle);
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
        if (options.signal?.aborted) {
          close();
          return;
        }
        options.signal?.addEventListener("abort", onAbort, { once: true });
        heartbeat = setTimeout(beat, heartbeatMs);
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
              queueMicrotask(finish);
            }
          },
          error(error) {
            if (ended) return;
            logger.error("event source failed", error);
            if (!sawTerminal) {
              pending.push(encodeSseFrame({ type: "RUN_ERROR", message: "The run failed. See the server logs for details.", code: "RUNNER_ERROR" }));
            }
            finish();
          },
          complete() {
            if (ended) return;
            finish();
          },
        });
        if (ended) sub.unsubscribe();
        else subscription = sub;
      },
      pull() {
        wanted = true;
        if (pending.length > 0) schedule();
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
