import { randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "../../logger.js";
import { connectParams, isSupportedVsn } from "./connect-info.js";
import { PhoenixSession, type SessionTransport } from "./session.js";
import type { ConnectInfo, SocketHandler } from "./types.js";

export interface LongPollTransportOptions<Assigns> {
  handler: SocketHandler<Assigns>;
  maxFrameBytes: number;
  longPollWindowMs: number;
  longPollSessionTimeoutMs: number;
  maxBufferedBytes: number;
  log: Logger;
}

/** What a poll found: frames to deliver, nothing within the window, or a session that is gone. */
type PollOutcome = { kind: "messages"; messages: string[] } | { kind: "empty" } | { kind: "gone" };

interface PendingPoll {
  resolve(outcome: PollOutcome): void;
}

/**
 * Phoenix over long-poll (phoenix.js `LongPoll`, which the CopilotKit runner uses on Node 20):
 * a session per random token, a buffer of server frames between polls, and the client's frames
 * arriving as NDJSON POSTs. Every answer is HTTP 200 with a JSON `status` the client switches
 * on: 410 opens a session (or tells the client its session is gone, so it reconnects and
 * rejoins), 200 carries messages, 204 means none within the window, 403 refuses credentials.
 *
 * Sessions live in this process: several instances need sticky routing by the `token` query
 * parameter for long-poll.
 */
export class LongPollTransport<Assigns> {
  private readonly sessions = new Map<string, LongPollSession<Assigns>>();
  private closed = false;

  constructor(private readonly options: LongPollTransportOptions<Assigns>) {}

  get socketCount(): number {
    return this.sessions.size;
  }

  async handle(request: Request): Promise<Response> {
    try {
      if (request.method === "GET") return await this.poll(request);
      if (request.method === "POST") return await this.publish(request);
      return jsonResponse({ error: "method_not_allowed", message: "Long-poll takes GET (poll) and POST (send)." }, 405, {
        allow: "GET, POST",
      });
    } catch (error) {
      this.options.log.error({ err: error }, "Phoenix: long-poll request failed");
      return statusResponse({ status: 500 });
    }
  }

  /** Ends every session; their pending and later polls get 410. */
  close(): void {
    this.closed = true;
    for (const session of [...this.sessions.values()]) session.end();
  }

  private async poll(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const token = url.searchParams.get("token");
    if (token === null || token === "") return this.open(request, url);
    const session = this.sessions.get(token);
    if (session === undefined) return statusResponse({ status: 410 });
    const outcome = await session.poll(request.signal, this.options.longPollWindowMs);
    if (outcome.kind === "gone") return statusResponse({ status: 410 });
    if (outcome.kind === "empty") return statusResponse({ status: 204, token });
    return statusResponse({ status: 200, token, messages: outcome.messages });
  }

  /** A poll without a session: authenticate, then hand out a session token with a 410. */
  private async open(request: Request, url: URL): Promise<Response> {
    const { log, handler } = this.options;
    // A 410 without a token would leave the client polling "token=undefined"; 500 makes it retry.
    if (this.closed) return statusResponse({ status: 500 });
    if (!isSupportedVsn(url)) {
      log.warn({ vsn: url.searchParams.get("vsn") }, "Phoenix: refused a long-poll client with an unsupported vsn");
      return statusResponse({ status: 403 });
    }
    const info: ConnectInfo = {
      params: connectParams(url),
      headers: request.headers,
      authToken: request.headers.get("x-phoenix-authtoken"),
      transport: "longpoll",
    };
    let assigns: Assigns | null | undefined;
    try {
      assigns = await handler.connect(info);
    } catch (error) {
      log.error({ err: error }, "Phoenix: connect() threw on a long-poll connect");
      return statusResponse({ status: 500 });
    }
    if (assigns === null || assigns === undefined) return statusResponse({ status: 403 });
    if (this.closed) return statusResponse({ status: 500 });

    const token = randomBytes(24).toString("base64url");
    const session = new LongPollSession<Assigns>(token, assigns, this.options, () => this.sessions.delete(token));
    this.sessions.set(token, session);
    return statusResponse({ status: 410, token });
  }

  /** The client's frames: an NDJSON body, one frame per line, for the session in `token`. */
  private async publish(request: Request): Promise<Response> {
    const token = new URL(request.url).searchParams.get("token");
    const session = token === null ? undefined : this.sessions.get(token);
    if (session === undefined) return statusResponse({ status: 410 });
    session.touch();
    const body = await readBodyText(request, this.options.maxFrameBytes);
    if (body === TOO_LARGE) {
      // The client gives up on a session whose POST fails, so end it now rather than at expiry.
      this.options.log.warn({ socketId: session.id, limit: this.options.maxFrameBytes }, "Phoenix: long-poll POST over maxFrameBytes");
      session.end();
      return statusResponse({ status: 413 });
    }
    if (body === UNREADABLE) return statusResponse({ status: 400 });
    for (const line of body.split("\n")) {
      if (line.trim() !== "") session.receive(line);
    }
    session.touch();
    return statusResponse({ status: 200 });
  }
}

/**
 * One long-poll client: its Phoenix session, the frames waiting for its next poll, the poll
 * waiting for frames (one at a time: a newer poll answers the older one with 204), and its
 * expiry once it stops polling.
 */
class LongPollSession<Assigns> implements SessionTransport {
  readonly kind = "longpoll";
  readonly id = randomUUID();
  private readonly session: PhoenixSession<Assigns>;
  private buffer: string[] = [];
  private bytes = 0;
  private pending: PendingPoll | null = null;
  private flushScheduled = false;
  private lastSeen = Date.now();
  private expiryTimer: NodeJS.Timeout;
  private ended = false;

  constructor(
    readonly token: string,
    assigns: Assigns,
    private readonly options: LongPollTransportOptions<Assigns>,
    private readonly onEnd: () => void,
  ) {
    this.session = new PhoenixSession({ id: this.id, assigns, handler: options.handler, transport: this, log: options.log });
    this.expiryTimer = this.armExpiry(options.longPollSessionTimeoutMs);
  }

  get bufferedAmount(): number {
    return this.bytes;
  }

  send(frame: string): boolean {
    if (this.ended) return false;
    this.buffer.push(frame);
    this.bytes += Buffer.byteLength(frame);
    if (this.bytes > this.options.maxBufferedBytes) {
      this.options.log.warn({ socketId: this.id, bufferedAmount: this.bytes }, "Phoenix: dropping a long-poll session that does not poll fast enough");
      this.end();
      return false;
    }
    this.scheduleFlush();
    return true;
  }

  receive(frame: string): void {
    this.session.receive(frame);
  }

  /** Records that the client is still there (any request counts). */
  touch(): void {
    this.lastSeen = Date.now();
  }

  poll(signal: AbortSignal, windowMs: number): Promise<PollOutcome> {
    this.touch();
    if (this.ended) return Promise.resolve({ kind: "gone" });
    // phoenix.js polls one at a time; a second poll means the first was abandoned (client timeout).
    this.pending?.resolve({ kind: "empty" });
    if (this.buffer.length > 0) return Promise.resolve(this.take());
    return new Promise<PollOutcome>((resolve) => {
      const finish = (outcome: PollOutcome) => {
        if (this.pending !== waiter) return;
        this.pending = null;
        clearTimeout(window);
        signal.removeEventListener("abort", onAbort);
        this.touch();
        resolve(outcome);
      };
      const waiter: PendingPoll = { resolve: finish };
      // An aborted poll leaves its frames buffered for the next one.
      const onAbort = () => finish({ kind: "empty" });
      const window = setTimeout(() => finish({ kind: "empty" }), windowMs);
      this.pending = waiter;
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Ends the session and its channels; a waiting poll gets 410. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.expiryTimer);
    this.buffer = [];
    this.bytes = 0;
    this.onEnd();
    this.session.end();
    this.pending?.resolve({ kind: "gone" });
  }

  private take(): PollOutcome {
    const messages = this.buffer;
    this.buffer = [];
    this.bytes = 0;
    return { kind: "messages", messages };
  }

  /** Answers the waiting poll on the next turn, so frames pushed together travel together. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending === null) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.pending !== null && this.buffer.length > 0 && !this.ended) this.pending.resolve(this.take());
    });
  }

  private armExpiry(delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.checkExpiry(), delayMs);
    timer.unref();
    return timer;
  }

  private checkExpiry(): void {
    if (this.ended) return;
    const timeout = this.options.longPollSessionTimeoutMs;
    // A poll in progress is a client that is there.
    if (this.pending !== null) {
      this.expiryTimer = this.armExpiry(timeout);
      return;
    }
    const idle = Date.now() - this.lastSeen;
    if (idle < timeout) {
      this.expiryTimer = this.armExpiry(timeout - idle);
      return;
    }
    this.options.log.info({ socketId: this.id, idleMs: idle }, "Phoenix: long-poll session expired");
    this.end();
  }
}

const TOO_LARGE = Symbol("too large");
const UNREADABLE = Symbol("unreadable");

/** The body as UTF-8 text, read no further than `limit` bytes. */
async function readBodyText(request: Request, limit: number): Promise<string | typeof TOO_LARGE | typeof UNREADABLE> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) return TOO_LARGE;
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return TOO_LARGE;
      }
      chunks.push(value);
    }
  } catch {
    return UNREADABLE;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The long-poll wire: always HTTP 200, the real status in the JSON body. */
function statusResponse(body: { status: number; token?: string; messages?: string[] }): Response {
  return jsonResponse(body, 200);
}

function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}
