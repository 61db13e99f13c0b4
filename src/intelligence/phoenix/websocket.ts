import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../../logger.js";
import { connectParams, headersFromRaw, isSupportedVsn } from "./connect-info.js";
import { PhoenixSession } from "./session.js";
import { PHOENIX_SUBPROTOCOL, readSubprotocols } from "./subprotocol.js";
import type { ConnectInfo, SocketHandler } from "./types.js";

export interface WebSocketTransportOptions<Assigns> {
  handler: SocketHandler<Assigns>;
  maxFrameBytes: number;
  idleTimeoutMs: number;
  maxBufferedBytes: number;
  log: Logger;
}

/** How long `close()` waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Phoenix over WebSocket, on `ws` in `noServer` mode: the caller routes `upgrade` events here.
 * The platform's `connect` runs before the handshake completes, so a refused socket never opens
 * (403). Each open socket carries one `PhoenixSession`; it is closed when it sends nothing for
 * `idleTimeoutMs` (clients heartbeat every 30 s) or when more than `maxBufferedBytes` wait to be
 * written to it (a client that does not read must not hold the server's memory).
 */
export class WebSocketTransport<Assigns> {
  private readonly server: WebSocketServer;
  private readonly sockets = new Map<WebSocket, PhoenixSession<Assigns>>();
  private closed = false;

  constructor(private readonly options: WebSocketTransportOptions<Assigns>) {
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      // The header reaching ws only ever lists "phoenix" (see upgrade()); never pick anything else.
      handleProtocols: (protocols) => (protocols.has(PHOENIX_SUBPROTOCOL) ? PHOENIX_SUBPROTOCOL : false),
      // Compression costs CPU per frame for every subscriber; phoenix.js does not need it.
      perMessageDeflate: false,
    });
  }

  get socketCount(): number {
    return this.sockets.size;
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Until ws takes the socket over, its errors (a client hanging up mid-handshake) are ours.
    const onSocketError = (error: Error) => this.options.log.debug?.({ err: error }, "Phoenix: socket error before the WebSocket upgrade");
    socket.on("error", onSocketError);
    this.upgrade(request, socket, head)
      .catch((error: unknown) => {
        this.options.log.error({ err: error }, "Phoenix: WebSocket upgrade failed");
        refuseUpgrade(socket, 500, "internal_error", "The WebSocket upgrade failed.");
      })
      .finally(() => socket.off("error", onSocketError));
  }

  /** Closes every socket with `code` and ends its channels; resolves once they are all closed. */
  async close(code: number, reason: string): Promise<void> {
    this.closed = true;
    const closing = [...this.sockets.entries()].map(([ws, session]) => {
      session.end();
      return closeAndWait(ws, code, reason);
    });
    await Promise.all(closing);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.closed) {
      refuseUpgrade(socket, 503, "shutting_down", "The server is shutting down.");
      return;
    }
    const url = new URL(request.url ?? "/", "http://localhost");
    if (!isSupportedVsn(url)) {
      refuseUpgrade(socket, 400, "unsupported_vsn", "Only the Phoenix serializer 2.x (vsn=2.0.0) is supported.");
      return;
    }
    const { offered, authToken } = readSubprotocols(request.headers["sec-websocket-protocol"]);
    const info: ConnectInfo = {
      params: connectParams(url),
      headers: headersFromRaw(request.rawHeaders),
      authToken,
      transport: "websocket",
    };

    let assigns: Assigns | null | undefined;
    try {
      assigns = await this.options.handler.connect(info);
    } catch (error) {
      this.options.log.error({ err: error }, "Phoenix: connect() threw; refusing the WebSocket");
      assigns = null;
    }
    if (socket.destroyed) return;
    if (assigns === null || assigns === undefined) {
      refuseUpgrade(socket, 403, "forbidden", "The socket's credentials were refused.");
      return;
    }
    if (this.closed) {
      refuseUpgrade(socket, 503, "shutting_down", "The server is shutting down.");
      return;
    }

    // ws parses the header strictly and would reject the bearer token's "/" with a 400; the
    // token is read already, and "phoenix" is the only protocol we answer with.
    if (offered.includes(PHOENIX_SUBPROTOCOL)) request.headers["sec-websocket-protocol"] = PHOENIX_SUBPROTOCOL;
    else delete request.headers["sec-websocket-protocol"];

    const granted = assigns;
    this.server.handleUpgrade(request, socket, head, (ws) => this.attach(ws, granted));
  }

  private attach(ws: WebSocket, assigns: Assigns): void {
    const { log, idleTimeoutMs, maxBufferedBytes } = this.options;
    const id = randomUUID();
    const session: PhoenixSession<Assigns> = new PhoenixSession({
      id,
      assigns,
      handler: this.options.handler,
      log,
      transport: {
        kind: "websocket",
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
        send(frame) {
          if (ws.readyState !== WebSocket.OPEN) return false;
          ws.send(frame);
          if (ws.bufferedAmount <= maxBufferedBytes) return true;
          log.warn({ socketId: id, bufferedAmount: ws.bufferedAmount }, "Phoenix: closing a WebSocket that does not read fast enough");
          session.end();
          ws.terminate();
          return false;
        },
      },
    });
    this.sockets.set(ws, session);

    // One timer per socket, re-armed lazily: a message only records the time.
    let lastSeen = Date.now();
    let idleTimer: NodeJS.Timeout;
    const checkIdle = () => {
      const idle = Date.now() - lastSeen;
      if (idle < idleTimeoutMs) {
        idleTimer = setTimeout(checkIdle, idleTimeoutMs - idle);
        return;
      }
      log.info({ socketId: id, idleMs: idle }, "Phoenix: closing an idle WebSocket");
      session.end();
      ws.close(1001, "idle timeout");
    };
    idleTimer = setTimeout(checkIdle, idleTimeoutMs);

    ws.on("message", (data, isBinary) => {
      lastSeen = Date.now();
      if (isBinary) {
        log.warn({ socketId: id }, "Phoenix: dropped a binary frame (only JSON text frames are supported)");
        return;
      }
      session.receive(rawDataToString(data));
    });
    // Oversize frames (1009), invalid UTF-8 (1007) and resets surface here; ws closes the socket.
    ws.on("error", (error) => log.warn({ err: error, socketId: id }, "Phoenix: WebSocket error"));
    ws.on("close", () => {
      clearTimeout(idleTimer);
      this.sockets.delete(ws);
      session.end();
    });
  }
}

function rawDataToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

function closeAndWait(ws: WebSocket, code: number, reason: string): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) {
      resolve();
      return;
    }
    const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    ws.once("close", () => {
      clearTimeout(grace);
      resolve();
    });
    try {
      ws.close(code, reason);
    } catch {
      // An invalid code (1005, 1006, …) or a reason over 123 bytes: close as "going away".
      ws.close(1001);
    }
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Answers an upgrade request with a plain HTTP error and a JSON body, then drops the socket. */
function refuseUpgrade(socket: Duplex, status: number, error: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error, message });
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "\r\n" +
      body,
  );
}
