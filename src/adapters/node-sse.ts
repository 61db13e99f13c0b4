import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { HTTP_BODY_ERRORS } from "../http/body.js";
import { type NativeSseHost, type NativeSseStream, type SseSink, SseWriter } from "../http/sse.js";

const SINK = Symbol("copilot-runtime.nodeSseSink");
type TaggedResponse = ServerResponse & { [SINK]?: NodeSseSink };

/**
 * Writes an {@link SseWriter}'s frames straight to a `ServerResponse`: no web `ReadableStream`,
 * no `TextEncoder`, no promise per chunk. The status and headers go out with the first frame
 * (one syscall instead of two) or at once when no frame is waiting; when the socket's buffer is
 * full the writer holds its frames until `drain`; the last frames and the end of the chunked
 * body go out together; a `close` before the end unsubscribes from the source. The listeners
 * are shared functions that find the sink on the response, so a stream allocates no closures.
 */
export class NodeSseSink implements SseSink {
  private readonly writer: SseWriter;

  constructor(
    private readonly res: ServerResponse,
    stream: Pick<NativeSseStream, "source" | "options">,
  ) {
    this.writer = new SseWriter(stream.source, stream.options);
  }

  /** Sends `status` and `headers` (with the first frame) and streams until the source ends or the client leaves. */
  start(status: number, headers: OutgoingHttpHeaders): void {
    const res = this.res as TaggedResponse;
    if (res.destroyed || res.writableEnded) {
      this.writer.start(this, false);
      this.writer.close();
      return;
    }
    res[SINK] = this;
    res.writeHead(status, headers);
    flattenHeaderBlock(res);
    res.on("close", onResponseClose);
    this.writer.start(this, true);
    // Nothing to send yet (a run that has not started, a quiet thread): the client still gets
    // its headers now, as from any other host.
    if (!this.writer.isClosed && !this.writer.hasPending && !res.headersSent) res.flushHeaders();
  }

  write(chunk: string): boolean {
    const res = this.res;
    if (res.destroyed) return false;
    if (res.write(chunk)) return true;
    res.once("drain", onResponseDrain);
    return false;
  }

  end(chunk: string | undefined): void {
    const res = this.res as TaggedResponse;
    res.off("drain", onResponseDrain);
    if (res.destroyed || res.writableEnded) return;
    if (chunk === undefined) res.end();
    else res.end(chunk);
  }

  /** @internal */
  drained(): void {
    this.writer.resume();
  }

  /** @internal */
  closed(): void {
    (this.res as TaggedResponse)[SINK] = undefined;
    this.res.off("close", onResponseClose);
    this.writer.close();
  }
}

/**
 * Node builds the status line and headers by concatenation and keeps the result on the
 * response for as long as the stream is open: a rope of ~30 string pieces (~1 KB) per idle
 * stream. Reading a character makes V8 flatten it in place into one string.
 */
function flattenHeaderBlock(res: ServerResponse): void {
  const header = (res as { _header?: unknown })._header;
  if (typeof header === "string") header.charCodeAt(0);
}

function onResponseClose(this: TaggedResponse): void {
  this[SINK]?.closed();
}

function onResponseDrain(this: TaggedResponse): void {
  this[SINK]?.drained();
}

const decoder = new TextDecoder();

/**
 * The Node adapter's {@link NativeSseHost}: reads a request body straight from the
 * `IncomingMessage` (no web `Request`, `ReadableStream` or `AbortSignal`), with the limits and
 * errors of `readBodyText`: a declared `Content-Length` over the limit is refused before
 * reading, a chunked body is counted as it arrives and refused the moment it passes.
 */
export class NodeSseHost implements NativeSseHost {
  constructor(
    readonly incoming: IncomingMessage,
    private readonly outgoing?: ServerResponse,
  ) {}

  setResponseHeader(name: string, value: string): void {
    // Merged by Node with the header block the response is written with (writeHead).
    if (this.outgoing !== undefined && !this.outgoing.headersSent) this.outgoing.setHeader(name, value);
  }

  requestHeaders(): RawHeaders {
    return new RawHeaders(this.incoming.rawHeaders);
  }

  header(name: string): string | undefined {
    const value = this.incoming.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  }

  readBodyText(maxBytes: number): Promise<string> {
    const incoming = this.incoming;
    const declared = Number(incoming.headers["content-length"] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
    const method = incoming.method;
    if (method === "GET" || method === "HEAD") return Promise.resolve("");
    return new Promise((resolve, reject) => new BodyRead(incoming, maxBytes, resolve, reject).start());
  }
}

/**
 * `IncomingMessage.rawHeaders` seen as `Headers.forEach` sees a request's headers: values
 * without surrounding spaces or tabs, HTTP/2 pseudo-headers (`:path`...) left out. Names keep
 * their case and may repeat; readers lower-case and join them.
 */
export class RawHeaders {
  constructor(private readonly raw: string[]) {}

  forEach(callback: (value: string, name: string) => void): void {
    const raw = this.raw;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      if (name.charCodeAt(0) === 58 /* ":" */) continue;
      callback(trimHttpWhitespace(raw[i + 1]), name);
    }
  }
}

function isHttpWhitespace(code: number): boolean {
  return code === 32 || code === 9;
}

function trimHttpWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** One body being read; its listeners are methods, removed when it settles. */
class BodyRead {
  private chunks: Buffer[] = [];
  private total = 0;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.settle(undefined);
  private readonly onError = () => this.settle(unreadable(undefined));

  constructor(
    private readonly incoming: IncomingMessage,
    private readonly maxBytes: number,
    private readonly resolve: (text: string) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  start(): void {
    const incoming = this.incoming;
    if (incoming.readableEnded || incoming.destroyed) {
      // Already consumed (or the client left): nothing more will arrive.
      this.settle(incoming.readableEnded ? undefined : unreadable(undefined));
      return;
    }
    incoming.on("data", this.onData);
    incoming.once("end", this.onEnd);
    incoming.once("error", this.onError);
    incoming.once("close", this.onError);
  }

  private data(chunk: Buffer): void {
    this.total += chunk.byteLength;
    if (this.total > this.maxBytes) {
      this.settle(tooLarge(this.maxBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  private settle(error: Error | undefined): void {
    const incoming = this.incoming;
    incoming.off("data", this.onData);
    incoming.off("end", this.onEnd);
    incoming.off("error", this.onError);
    incoming.off("close", this.onError);
    if (error !== undefined) {
      this.chunks = [];
      // The rest of an oversized body is drained, so the connection can serve its next request.
      if (!incoming.readableEnded) incoming.resume();
      this.reject(error);
      return;
    }
    const chunks = this.chunks;
    this.chunks = [];
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.total);
    this.resolve(decoder.decode(bytes));
  }
}

const { tooLarge, unreadable } = HTTP_BODY_ERRORS;
