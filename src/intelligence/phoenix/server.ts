import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { logger as processLogger, toLogger } from "../../logger.js";
import { InProcessTransport } from "./in-process.js";
import { LongPollTransport } from "./longpoll.js";
import type { InProcessConnectRequest, InProcessConnection, InProcessPeer, PhoenixServer, PhoenixServerOptions } from "./types.js";
import { WebSocketTransport } from "./websocket.js";

const MiB = 1024 * 1024;
/** phoenix.js `longpollerTimeout` default: a poll unanswered for this long counts as a failure. */
const PHOENIX_JS_POLL_TIMEOUT_MS = 20_000;

/**
 * A Phoenix channels server (serializer v2) over WebSocket and long-poll, for phoenix.js 1.8
 * clients. It speaks the protocol (joins, replies, heartbeats, leaves, `phx_close`/`phx_error`)
 * and leaves every decision to `handler`: who may connect (`connect`, whose `null` or
 * `undefined` refuses the socket), who may join what (`join`), and what a push means
 * (`ChannelHandler.handleIn`). Mount it yourself: route `upgrade` events for `<path>/websocket`
 * to `handleUpgrade` and `GET`/`POST <path>/longpoll` to `handleLongPoll` (CORS is yours too).
 * Code in the same process can open a socket without any network through `connectInProcess`.
 *
 * @example
 * ```ts
 * const phoenix = createPhoenixServer({
 *   handler: {
 *     connect: ({ params }) => (params.token === "secret" ? { user: "u1" } : null),
 *     join: (topic, payload, channel) => ({
 *       ok: true,
 *       handler: { handleIn: (event, body) => ({ status: "ok", response: { echo: body } }), terminate() {} },
 *     }),
 *   },
 * });
 * server.on("upgrade", (req, socket, head) => {
 *   if (req.url?.startsWith("/socket/websocket")) phoenix.handleUpgrade(req, socket, head);
 *   else socket.destroy();
 * });
 * // and for HTTP: if the path is /socket/longpoll, answer with await phoenix.handleLongPoll(request)
 * ```
 */
export function createPhoenixServer<Assigns>(options: PhoenixServerOptions<Assigns>): PhoenixServer {
  const log = options.logger === undefined ? processLogger : toLogger(options.logger);
  const maxFrameBytes = positive("maxFrameBytes", options.maxFrameBytes, 8 * MiB);
  const maxBufferedBytes = positive("maxBufferedBytes", options.maxBufferedBytes, 16 * MiB);
  const websocket = new WebSocketTransport<Assigns>({
    handler: options.handler,
    maxFrameBytes,
    idleTimeoutMs: positive("idleTimeoutMs", options.idleTimeoutMs, 60_000),
    maxBufferedBytes,
    log,
  });
  const longPollWindowMs = positive("longPollWindowMs", options.longPollWindowMs, 10_000);
  if (longPollWindowMs >= PHOENIX_JS_POLL_TIMEOUT_MS) {
    log.warn({ longPollWindowMs }, "Phoenix: longPollWindowMs should stay under phoenix.js's 20 s poll timeout, or idle clients reconnect");
  }
  const longPoll = new LongPollTransport<Assigns>({
    handler: options.handler,
    maxFrameBytes,
    longPollWindowMs,
    longPollSessionTimeoutMs: positive("longPollSessionTimeoutMs", options.longPollSessionTimeoutMs, 30_000),
    maxBufferedBytes,
    log,
  });
  const inProcess = new InProcessTransport<Assigns>({ handler: options.handler, maxFrameBytes, log });
  let closing: Promise<void> | null = null;

  return {
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
      websocket.handleUpgrade(request, socket, head);
    },
    handleLongPoll(request: Request): Promise<Response> {
      return longPoll.handle(request);
    },
    connectInProcess(request: InProcessConnectRequest, peer: InProcessPeer): Promise<InProcessConnection | null> {
      return inProcess.connect(request, peer);
    },
    get socketCount(): number {
      return websocket.socketCount + longPoll.socketCount + inProcess.socketCount;
    },
    close(code = 1001, reason = ""): Promise<void> {
      closing ??= (async () => {
        longPoll.close();
        inProcess.close(code, reason);
        await websocket.close(code, reason);
      })();
      return closing;
    },
  };
}

/** An option's value, or its default; a misconfigured limit fails at startup, not on the first socket. */
function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`createPhoenixServer(): ${name} must be a positive number of ${name.endsWith("Ms") ? "milliseconds" : "bytes"}, got ${String(value)}`);
  }
  return value;
}
