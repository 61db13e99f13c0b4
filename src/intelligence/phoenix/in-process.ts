import { randomUUID } from "node:crypto";
import type { Logger } from "../../logger.js";
import { connectParams, isSupportedVsn } from "./connect-info.js";
import { PhoenixSession } from "./session.js";
import { readSubprotocols } from "./subprotocol.js";
import type { ConnectInfo, InProcessConnectRequest, InProcessConnection, InProcessPeer, SocketHandler } from "./types.js";

export interface InProcessTransportOptions<Assigns> {
  handler: SocketHandler<Assigns>;
  maxFrameBytes: number;
  log: Logger;
}

/**
 * Phoenix sockets opened from inside this process (a runtime next to its platform): no TCP, no
 * HTTP, no WebSocket framing, but the same `connect` (the same credentials: the bearer token
 * phoenix.js offers as a subprotocol), the same `PhoenixSession`, and the same frames as the
 * WebSocket transport. Frames go both ways by direct calls; the client end decides when to
 * deliver them (see `createInProcessPhoenixTransport` in the runtime).
 *
 * No idle timeout and no send buffer: a peer in the same process cannot vanish without closing,
 * and it takes every frame as it is sent.
 */
export class InProcessTransport<Assigns> {
  /** Each open socket's close from the server's side. */
  private readonly sockets = new Set<(code: number, reason: string) => void>();
  private closed = false;

  constructor(private readonly options: InProcessTransportOptions<Assigns>) {}

  get socketCount(): number {
    return this.sockets.size;
  }

  async connect(request: InProcessConnectRequest, peer: InProcessPeer): Promise<InProcessConnection | null> {
    const { log, handler, maxFrameBytes } = this.options;
    if (this.closed) return null;
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      log.warn({ url: request.url }, "Phoenix: refused an in-process socket with an invalid URL");
      return null;
    }
    if (!isSupportedVsn(url)) {
      log.warn({ vsn: url.searchParams.get("vsn") }, "Phoenix: refused an in-process socket with an unsupported vsn");
      return null;
    }
    const info: ConnectInfo = {
      params: connectParams(url),
      headers: request.headers ?? new Headers(),
      authToken: readSubprotocols(request.protocols).authToken,
      transport: "in-process",
    };
    let assigns: Assigns | null | undefined;
    try {
      assigns = await handler.connect(info);
    } catch (error) {
      log.error({ err: error }, "Phoenix: connect() threw; refusing the in-process socket");
      assigns = null;
    }
    // Refused, or the server closed while `connect` ran.
    if (assigns === null || assigns === undefined || this.closed) return null;

    let open = true;
    const session: PhoenixSession<Assigns> = new PhoenixSession({
      id: randomUUID(),
      assigns,
      handler,
      log,
      transport: {
        kind: "in-process",
        bufferedAmount: 0,
        send(frame) {
          if (!open) return false;
          peer.receive(frame);
          return true;
        },
      },
    });
    const end = (): boolean => {
      if (!open) return false;
      open = false;
      this.sockets.delete(closeFromServer);
      session.end();
      return true;
    };
    const closeFromServer = (code: number, reason: string) => {
      if (end()) peer.closed(code, reason);
    };
    this.sockets.add(closeFromServer);
    return {
      send(frame) {
        if (!open) return;
        // The WebSocket transport's limit, so a frame is accepted whatever carries it.
        if (frame.length > maxFrameBytes && Buffer.byteLength(frame) > maxFrameBytes) {
          log.warn({ socketId: session.socketId, bytes: Buffer.byteLength(frame) }, "Phoenix: closing an in-process socket that sent an oversize frame");
          closeFromServer(1009, "frame too large");
          return;
        }
        session.receive(frame);
      },
      close() {
        end();
      },
    };
  }

  /** Closes every socket with `code` (the peers hear it) and ends its channels. */
  close(code: number, reason: string): void {
    this.closed = true;
    for (const closeFromServer of [...this.sockets]) closeFromServer(code, reason);
  }
}
