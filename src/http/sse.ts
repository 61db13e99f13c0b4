import type { EventSubscribable } from "../events/agent-contract.js";
import { RUN_ERRORS, runErrorEvent } from "../errors.js";
import { getEventId } from "../events/event-ids.js";
import { type AgentEvent, isTerminal } from "../events/types.js";
import { type Logger, logger } from "../logger.js";

export interface SseStreamOptions {
  /** Idle time before a `: ping` comment keeps proxies from cutting the stream. Default 15 s. */
  heartbeatMs?: number;
  /** Frames queued for a reader that does not keep up before the stream is dropped. Default 16 MiB. */
  maxBufferedBytes?: number;
  /**
   * Minimum time between two writes of a busy stream, in ms: frames arriving sooner are sent
   * together. A stream quiet for this long writes at once. Default 4 ms; 0 writes per tick.
   * When the host reports load (see {@link setSseLoadProbe}), the window stretches with it.
   */
  coalesceMs?: number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /**
   * A comment frame (e.g. `": connected\n\n"`) sent as soon as the stream opens, for streams
   * whose first event may be long in coming: it sends the response head at once, so a client
   * waiting for it is not left hanging until the first heartbeat.
   */
  opening?: string;
  /** Sees every event written, for `afterRequestMiddleware`. */
  onEvent?: (event: AgentEvent) => void;
  /** Runs once when the stream ends for any reason, with the number of events sent. */
  onClose?: (events: number) => void;
  /** Where the stream's own lines go (the request's logger). Default: the process-wide logger. */
  log?: Logger;
}

/**
 * The headers of every event stream; `X-Accel-Buffering: no` stops nginx from holding frames.
 * No `Connection` header: the server decides it from the request (Node sends `keep-alive` to a
 * client that wants one and `close`, then closes, to one that sent `Connection: close`; a forced
 * `keep-alive` overrode that and kept the socket open), and HTTP/2 forbids the header.
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
};

// The last event serialised and its frame: a live event is fanned out to every reader of its
// run back to back, so one slot is enough to serialise it once. (A WeakMap keyed by event kept
// every frame of a run alive with the run's history, and its per-event cost grew with the run.)
let lastEvent: object | undefined;
let lastFrame = "";
const encoder = new TextEncoder();
const PING = ": ping\n\n";
const RUNNER_ERROR: AgentEvent = Object.freeze(runErrorEvent(RUN_ERRORS.runnerError));
const UNSERIALIZABLE_EVENT: AgentEvent = Object.freeze(runErrorEvent(RUN_ERRORS.eventNotSerializable));
const DEFAULT_COALESCE_MS = 4;
const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/**
 * The longest a busy stream's frames wait for company, however loaded the process. A 200 ms cap
 * was measured too (bench/README.md, fourth session): 3-5x fewer writes and ~10-20% less CPU in
 * a 500-run burst, but no better p99 time to first event (that tail waits in the kernel's accept
 * queue), so the smoother 50 ms stays.
 */
export const MAX_COALESCE_MS = 50;
/**
 * Frames of one stream that reach this size (in characters) go out at once, whatever the window:
 * a larger batch only costs memory and keeps the reader waiting, and joining it costs more.
 */
export const FLUSH_AT_CHARS = 64 * 1024;
const LOAD_SAMPLE_MS = 25;

/**
 * How busy the process is, from 0 (idle) to 1 (never idle), as the host measures it (the Node
 * adapter installs the event loop's utilisation). Hosts without one leave the window as set.
 */
export type SseLoadProbe = () => number;

let loadProbe: SseLoadProbe | undefined;
let loadSampledAt = -Infinity;
/** The coalescing window's stretch factor from the last load sample: 1 when there is room. */
let stretch = 1;

/**
 * Installs the host's load probe. Under load every busy stream writes less often: the
 * coalescing window becomes `coalesceMs / (1 - load)`, up to {@link MAX_COALESCE_MS}, so a
 * saturated process spends its time starting runs and producing events rather than on one
 * socket write per event per stream (each write is a system call, and on loopback or a busy
 * machine those cost more than the event). A stream's first frame, a quiet stream's frame, a
 * batch of {@link FLUSH_AT_CHARS} and the end of a stream still go out at once. `undefined`
 * removes the probe.
 */
export function setSseLoadProbe(probe: SseLoadProbe | undefined): void {
  loadProbe = probe;
  loadSampledAt = -Infinity;
  stretch = 1;
}

/** The coalescing window for a stream whose own is `coalesceMs`, stretched under load. */
export function coalesceWindowMs(coalesceMs: number, now: number): number {
  if (coalesceMs === 0 || loadProbe === undefined) return coalesceMs;
  if (now - loadSampledAt >= LOAD_SAMPLE_MS) {
    loadSampledAt = now;
    const reported = loadProbe();
    const load = Number.isFinite(reported) ? Math.min(1, Math.max(0, reported)) : 0;
    stretch = 1 / Math.max(1 - load, coalesceMs / MAX_COALESCE_MS);
  }
  return Math.max(coalesceMs, Math.min(MAX_COALESCE_MS, coalesceMs * stretch));
}

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
 * Where an {@link SseWriter}'s frames go: a web `ReadableStream` (every host) or, in the Node
 * adapter, the `ServerResponse` itself. The writer owns framing, queueing, coalescing,
 * heartbeats and the overflow policy; a sink only moves bytes and reports when it can take more
 * (by calling `writer.resume()`) or when the client left (`writer.close()`).
 */
export interface SseSink {
  /** Sends a chunk. True when the sink can take another at once, false to wait for `resume()`. */
  write(chunk: string): boolean;
  /** Sends what is left (if anything) and ends the stream. */
  end(chunk: string | undefined): void;
}

/**
 * The one SSE writer. Events are queued as frames and handed to the sink only when it can take
 * more, so a slow reader applies backpressure instead of growing memory; a reader that falls
 * more than `maxBufferedBytes` behind is dropped (it can `connect` again).
 *
 * Writes are coalesced: a frame goes out at once when the stream has been quiet for
 * `coalesceMs`, otherwise it waits until `coalesceMs` after the previous write, so a busy
 * stream costs at most one socket write per window however many events it carries (each write
 * is a syscall, and those dominate under load) unless {@link FLUSH_AT_CHARS} pile up first,
 * while a sparse stream gets no added latency.
 * The window stretches while the host reports load ({@link setSseLoadProbe}).
 * Heartbeats come from one shared timer per period for all streams (see {@link HeartbeatWheel});
 * nothing is armed per event or per read. The writer is the source's observer itself, so a
 * stream costs one object and no closures. Unsubscribes when the client leaves.
 */
export class SseWriter {
  /** Frames waiting for the sink: a string while one, an array once several. */
  private pending: string | string[] | undefined = undefined;
  private pendingBytes = 0;
  /** The sink can take a chunk now. */
  private ready = false;
  /** A flush is queued (microtask or timer). */
  private scheduled = false;
  private lastWriteAt = -Infinity; // the first frame goes out at once
  /** Last write (or ping), for the heartbeat wheel. */
  quietSince = Date.now();
  private ended = false;
  private sawTerminal = false;
  /** Events written (pings and the writer's own closing error not counted). */
  private events = 0;
  private closed = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private subscription: { unsubscribe(): void } | undefined = undefined;
  private sink: SseSink | undefined = undefined;
  private readonly coalesceMs: number;
  private readonly maxBufferedBytes: number;
  private readonly wheel: HeartbeatWheel;

  constructor(
    private readonly source: EventSubscribable,
    private readonly options: SseStreamOptions,
  ) {
    this.coalesceMs = options.coalesceMs ?? DEFAULT_COALESCE_MS;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.wheel = heartbeatWheel(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  }

  /** True once the stream ended (the sink is, or is being, closed). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** True while frames wait for the sink. */
  get hasPending(): boolean {
    return this.pending !== undefined;
  }

  /**
   * Subscribes to the source and sends to `sink`; `ready` says whether the sink takes a chunk
   * now (a Node response does; a web stream waits for its reader's first `pull`).
   */
  start(sink: SseSink, ready: boolean): void {
    this.sink = sink;
    this.ready = ready;
    const signal = this.options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.close();
        return;
      }
      signal.addEventListener("abort", this, { once: true });
    }
    this.wheel.add(this);
    if (this.options.opening !== undefined) this.push(this.options.opening);
    const subscription = this.source.subscribe(this);
    if (this.ended) subscription.unsubscribe();
    else this.subscription = subscription;
  }

  /** The sink can take more. */
  resume(): void {
    this.ready = true;
    if (this.pending !== undefined) this.schedule();
  }

  /** The client went away (or the stream is done): unsubscribes and releases everything. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.pending = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.wheel.delete(this);
    this.options.signal?.removeEventListener("abort", this);
    try {
      this.sink?.end(undefined);
    } catch {
      // already closed
    }
    this.options.onClose?.(this.events);
  }

  /** `AbortSignal` listener (an `EventListenerObject`, so no closure is allocated). */
  handleEvent(): void {
    this.close();
  }

  // --- the source's observer -------------------------------------------------------------

  next(event: AgentEvent): void {
    if (this.ended) return;
    let frame: string;
    try {
      frame = encodeSseFrame(event);
    } catch (error) {
      // An event JSON cannot carry (nested too deep, a BigInt, a cycle): it must not throw into
      // the source, whose library would rethrow it outside any request and end the process.
      this.fail(`an event of type ${String(event?.type)} could not be serialised`, error, UNSERIALIZABLE_EVENT);
      return;
    }
    if (isTerminal(event)) this.sawTerminal = true;
    this.events++;
    this.push(frame);
    this.options.onEvent?.(event);
    if (this.pendingBytes > this.maxBufferedBytes) {
      (this.options.log ?? logger).warn(
        { pendingBytes: this.pendingBytes },
        `SSE reader fell ${this.pendingBytes} bytes behind; dropping the stream (the client may reconnect)`,
      );
      this.ended = true;
      this.subscription?.unsubscribe();
      queueMicrotask(() => this.finish());
    }
  }

  error(error: unknown): void {
    if (this.ended) return;
    this.fail("event source failed", error, RUNNER_ERROR);
  }

  /** Ends the stream with a `RUN_ERROR` (unless the run already ended) and logs why. */
  private fail(what: string, error: unknown, runError: AgentEvent): void {
    (this.options.log ?? logger).error({ err: error }, what);
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    if (!this.sawTerminal) this.enqueue(encodeSseFrame(runError));
    this.finish();
  }

  complete(): void {
    if (this.ended) return;
    this.finish();
  }

  // --- internals ---------------------------------------------------------------------------

  /** Sends a `: ping` when the stream has been quiet for a full period (called by the wheel). */
  ping(now: number): void {
    if (this.ended) return;
    this.push(PING);
    this.quietSince = now; // a reader that is not reading still gets one ping per period
  }

  private enqueue(frame: string): void {
    const pending = this.pending;
    if (pending === undefined) this.pending = frame;
    else if (typeof pending === "string") this.pending = [pending, frame];
    else pending.push(frame);
    this.pendingBytes += frame.length;
  }

  private push(frame: string): void {
    this.enqueue(frame);
    this.schedule();
  }

  private takePending(): string | undefined {
    const pending = this.pending;
    if (pending === undefined) return undefined;
    this.pending = undefined;
    this.pendingBytes = 0;
    return typeof pending === "string" ? pending : pending.join("");
  }

  private schedule(): void {
    if (!this.ready || this.closed) return;
    if (this.scheduled) {
      // A timed flush pending and the batch already large: write it now.
      if (this.flushTimer !== undefined && this.pendingBytes >= FLUSH_AT_CHARS) {
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        queueMicrotask(() => this.flush());
      }
      return;
    }
    this.scheduled = true;
    const now = Date.now();
    const wait = this.lastWriteAt + coalesceWindowMs(this.coalesceMs, now) - now;
    if (wait <= 0) queueMicrotask(() => this.flush());
    else this.flushTimer = setTimeout(flushWriter, wait, this);
  }

  /** @internal */
  flush(): void {
    this.scheduled = false;
    this.flushTimer = undefined;
    if (this.closed || this.ended) return;
    const chunk = this.takePending();
    if (chunk === undefined) return;
    this.ready = false; // the sink may call resume() synchronously, which sets it back
    this.lastWriteAt = this.quietSince = Date.now();
    if (this.sink!.write(chunk)) this.ready = true;
  }

  /** The source is done: what is left goes out with the end of the stream. */
  private finish(): void {
    if (this.closed) return;
    this.ended = true;
    this.closed = true;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.scheduled = true; // no more timed flushes
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.wheel.delete(this);
    this.options.signal?.removeEventListener("abort", this);
    const rest = this.takePending();
    try {
      this.sink!.end(rest);
    } catch {
      // the client left at the same moment
    }
    this.options.onClose?.(this.events);
  }
}

function flushWriter(writer: SseWriter): void {
  writer.flush();
}

/**
 * One timer per heartbeat period for all open streams, instead of one per stream: it ticks
 * eight times per period and pings every stream that has been quiet for a full period, so a
 * ping goes out between one period and one period plus an eighth after the last write. The
 * timer runs only while streams are open.
 */
export class HeartbeatWheel {
  private readonly writers = new Set<SseWriter>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly tickMs: number;

  constructor(readonly periodMs: number) {
    this.tickMs = Math.max(1, Math.floor(periodMs / 8));
  }

  get size(): number {
    return this.writers.size;
  }

  add(writer: SseWriter): void {
    this.writers.add(writer);
    if (this.timer === undefined) this.arm();
  }

  delete(writer: SseWriter): void {
    if (!this.writers.delete(writer) || this.writers.size > 0 || this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(tickWheel, this.tickMs, this);
    this.timer.unref?.();
  }

  /** @internal */
  tick(): void {
    this.timer = undefined;
    const now = Date.now();
    const due = now - this.periodMs;
    for (const writer of this.writers) if (writer.quietSince <= due) writer.ping(now);
    if (this.writers.size > 0) this.arm();
  }
}

function tickWheel(wheel: HeartbeatWheel): void {
  wheel.tick();
}

const wheels = new Map<number, HeartbeatWheel>();

/** The shared wheel for a heartbeat period. */
export function heartbeatWheel(periodMs: number): HeartbeatWheel {
  let wheel = wheels.get(periodMs);
  if (wheel === undefined) {
    wheel = new HeartbeatWheel(periodMs);
    wheels.set(periodMs, wheel);
  }
  return wheel;
}

/** The web sink: the writer behind a `ReadableStream`'s pull, as that stream's underlying source. */
class ReadableStreamSink implements SseSink, UnderlyingDefaultSource<Uint8Array> {
  private controller!: ReadableStreamDefaultController<Uint8Array>;

  constructor(private readonly writer: SseWriter) {}

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller;
    this.writer.start(this, false);
  }

  pull(): void {
    this.writer.resume();
  }

  cancel(): void {
    this.writer.close();
  }

  write(chunk: string): boolean {
    this.controller.enqueue(encoder.encode(chunk));
    return false; // pull() says when the reader wants more
  }

  end(chunk: string | undefined): void {
    if (chunk !== undefined) this.controller.enqueue(encoder.encode(chunk));
    this.controller.close();
  }
}

/**
 * An event stream as a web `ReadableStream` (see {@link SseWriter}). Unsubscribes from the
 * source when the reader cancels or `signal` aborts.
 */
export function createSseStream(source: EventSubscribable, options: SseStreamOptions = {}): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(new ReadableStreamSink(new SseWriter(source, options)), { highWaterMark: 1 });
}

/** A streaming `Response` for an event source. */
export function createSseResponse(source: EventSubscribable, options: SseStreamOptions & { headers?: HeadersInit } = {}): Response {
  return new Response(createSseStream(source, options), { status: 200, headers: sseHeaders(options.headers) });
}

function sseHeaders(init: HeadersInit | undefined): Headers {
  const headers = new Headers(init);
  for (const name in SSE_HEADERS) headers.set(name, SSE_HEADERS[name]);
  return headers;
}

// --- native streaming: a host that writes to its socket itself ------------------------------

/**
 * Set on a `Request` by an adapter that can stream events natively (the Node adapter): the
 * handler then answers an event stream with a body-less `Response` carrying
 * {@link NATIVE_SSE}, and the adapter drives an {@link SseWriter} straight into its socket, with
 * no web `ReadableStream` in between. Every other host gets the `ReadableStream` path.
 */
export const NATIVE_SSE_HOST = Symbol.for("copilot-runtime.nativeSseHost");
/** The stream a native-SSE `Response` stands for. */
export const NATIVE_SSE = Symbol.for("copilot-runtime.nativeSse");

/** What a native host offers the core besides streaming. */
export interface NativeSseHost {
  /** The request body as text, bounded like `readBodyText` (same errors), without a web stream. */
  readBodyText?(maxBytes: number): Promise<string>;
  /**
   * The request's headers as the host received them (names in any case, repeats allowed), so
   * reading a few of them builds no `Headers`.
   */
  requestHeaders?(): { forEach(callback: (value: string, name: string) => void): void };
  /** One request header (lower-case name), without building a `Headers`. */
  header?(name: string): string | undefined;
  /**
   * Sets a header on whatever response the host sends for this request (the Node adapter: the
   * `ServerResponse` itself), so adding one does not turn a lightweight `Response` into a full one.
   */
  setResponseHeader?(name: string, value: string): void;
}

/** The source and options of a stream the host will write itself. */
export interface NativeSseStream {
  source: EventSubscribable;
  options: SseStreamOptions;
  /**
   * The response's headers, lower-case names: what the host sends. The `Response` standing for
   * the stream carries none, so no `Headers` is built for it; the core adds to this record
   * instead (CORS), through {@link withHeaders}.
   */
  headers: Record<string, string>;
}

/** The native host of a request, when its adapter set one. */
export function nativeSseHost(request: Request): NativeSseHost | undefined {
  return (request as { [NATIVE_SSE_HOST]?: NativeSseHost })[NATIVE_SSE_HOST];
}

const NATIVE_SSE_HEADERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SSE_HEADERS).map(([name, value]) => [name.toLowerCase(), value]),
);

/**
 * A body-less `Response` for a host that streams natively (see {@link NATIVE_SSE_HOST}). Its
 * status is 200 and its headers are in the {@link NativeSseStream} record, not on the
 * `Response`: read them with {@link responseHeaders}, add to them with {@link withHeaders}.
 */
export function createNativeSseResponse(source: EventSubscribable, options: SseStreamOptions): Response {
  const response = new Response(null, { status: 200 });
  (response as { [NATIVE_SSE]?: NativeSseStream })[NATIVE_SSE] = { source, options, headers: { ...NATIVE_SSE_HEADERS } };
  return response;
}

/** A response's headers, including those of a native stream. */
export function responseHeaders(response: Response): HeadersInit {
  return nativeSseStream(response)?.headers ?? response.headers;
}

/**
 * Adds headers to a response (`vary` is appended to, the others set), copying the response
 * when its headers are immutable. A native stream's headers go to its record.
 */
export function withHeaders(response: Response, extra: ReadonlyArray<readonly [string, string]>): Response {
  const native = nativeSseStream(response);
  if (native !== undefined) {
    for (const [name, value] of extra) {
      const previous = name === "vary" ? native.headers[name] : undefined;
      native.headers[name] = previous === undefined ? value : `${previous}, ${value}`;
    }
    return response;
  }
  try {
    addTo(response.headers, extra);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    addTo(headers, extra);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

function addTo(headers: Headers, extra: ReadonlyArray<readonly [string, string]>): void {
  for (const [name, value] of extra) {
    if (name === "vary") headers.append(name, value);
    else headers.set(name, value);
  }
}

/** The native stream a `Response` stands for, if any. */
export function nativeSseStream(response: Response): NativeSseStream | undefined {
  return (response as { [NATIVE_SSE]?: NativeSseStream })[NATIVE_SSE];
}
