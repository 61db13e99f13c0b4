import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../../logger.js";

/**
 * A generic server for Phoenix channels (serializer v2, `vsn=2.0.0`) over WebSocket and
 * long-poll, as spoken by the `phoenix` JS client 1.8. It knows nothing about CopilotKit:
 * the Intelligence platform plugs its topics in through `SocketHandler`.
 *
 * Frames are JSON arrays `[join_ref, ref, topic, event, payload]`.
 */
export type PhoenixFrame = [joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown];

/** What carries a socket's frames: a WebSocket, long-poll requests, or direct calls inside this process. */
export type PhoenixTransportKind = "websocket" | "longpoll" | "in-process";

export interface ConnectInfo {
  /** Query parameters of the connect request, without `vsn` and the long-poll `token`. */
  params: Record<string, string>;
  headers: Headers;
  /**
   * The bearer token the client offered: from `Sec-WebSocket-Protocol: phoenix,
   * base64url.bearer.phx.<base64>` (decoded leniently) on WebSocket, or the
   * `X-Phoenix-AuthToken` header on long-poll. Null when none.
   */
  authToken: string | null;
  transport: PhoenixTransportKind;
}

export interface SocketHandler<Assigns> {
  /** Authenticates a new socket: assigns for its channels, or null to refuse it (403). */
  connect(info: ConnectInfo): Promise<Assigns | null> | Assigns | null;
  /** A `phx_join` on `topic`. Must settle within the client's 10 s join timeout. */
  join(topic: string, payload: Record<string, unknown>, channel: ChannelContext<Assigns>): Promise<JoinResult> | JoinResult;
}

export type JoinResult =
  | { ok: true; response?: Record<string, unknown>; handler: ChannelHandler }
  | { ok: false; response: Record<string, unknown> };

export interface Reply {
  status: "ok" | "error";
  response?: Record<string, unknown>;
}

/** One joined channel, from the platform's side. */
export interface ChannelHandler {
  /** A client push on this channel (not phx_leave); its result is sent back as `phx_reply`. */
  handleIn(event: string, payload: unknown): Promise<Reply> | Reply;
  /**
   * Called exactly once when the channel ends: `leave` (phx_leave), `closed` (the socket went
   * away), `replaced` (a second join of the same topic on the socket), `server` (close()/error()).
   */
  terminate(reason: "leave" | "closed" | "replaced" | "server"): void;
}

/** What a channel handler may do to its client. */
export interface ChannelContext<Assigns> {
  readonly topic: string;
  readonly assigns: Assigns;
  /** Unique per socket (per long-poll session). */
  readonly socketId: string;
  readonly transport: PhoenixTransportKind;
  /**
   * Sends `[join_ref, null, topic, event, payload]`. A payload given as a string is taken as
   * already-serialized JSON and spliced in verbatim (serialize an event once for N subscribers).
   * Returns false when the channel has ended.
   */
  push(event: string, payload: unknown): boolean;
  /** Bytes queued for this socket and not yet written (WebSocket) or not yet polled (long-poll). */
  readonly bufferedAmount: number;
  /** Ends the channel from the server with `phx_close`: the client does not rejoin. */
  close(): void;
  /** Ends the channel with `phx_error`: the client rejoins with backoff. */
  error(): void;
  readonly ended: boolean;
}

export interface PhoenixServerOptions<Assigns> {
  handler: SocketHandler<Assigns>;
  /** Largest accepted incoming frame (WebSocket message or long-poll POST body). Default 8 MiB. */
  maxFrameBytes?: number;
  /** A WebSocket with no incoming frame for this long is closed (clients heartbeat every 30 s). Default 60 s. */
  idleTimeoutMs?: number;
  /** How long a long-poll GET waits for messages before answering 204. Default 10 s. */
  longPollWindowMs?: number;
  /** A long-poll session with no request for this long is dropped (its channels end). Default 30 s. */
  longPollSessionTimeoutMs?: number;
  /** Bytes a socket may have queued before it is closed as too slow. Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Where protocol warnings (malformed frames, slow or idle sockets) go. Default: the process-wide logger. */
  logger?: Logger;
}

export interface PhoenixServer {
  /**
   * Takes a Node `upgrade` event for `<path>/websocket` (the caller matched the path). Refuses
   * with 403 when `connect` returns null. Echoes `Sec-WebSocket-Protocol: phoenix` when offered.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** `GET`/`POST <path>/longpoll` as a web Request (always 200 with a JSON status body). */
  handleLongPoll(request: Request): Promise<Response>;
  /**
   * Opens a socket from inside this process, with no network: the same authentication and
   * session as a WebSocket, its frames handed over by direct calls. `request` stands for the
   * upgrade request (the socket URL with its query, the offered subprotocols with phoenix.js's
   * bearer token); `peer` receives the server's frames and its close. Resolves null when
   * `connect` refuses the socket or the server is closing (where a WebSocket would get 403 or 503).
   */
  connectInProcess(request: InProcessConnectRequest, peer: InProcessPeer): Promise<InProcessConnection | null>;
  /** Open sockets, every transport. */
  readonly socketCount: number;
  /**
   * Closes every socket (WebSocket close `code`, default 1001; 1012 tells CopilotKit's runner
   * it is a planned restart) and ends every channel. Long-poll sessions get 410.
   */
  close(code?: number, reason?: string): Promise<void>;
}

/** The in-process counterpart of a WebSocket upgrade request. */
export interface InProcessConnectRequest {
  /** The socket URL as phoenix.js builds it (`.../websocket?vsn=2.0.0&...`): its query gives the connect params. */
  url: string;
  /** What phoenix.js offers as `Sec-WebSocket-Protocol`: `["phoenix", "base64url.bearer.phx.<token>"]` with an `authToken`. */
  protocols?: string | string[];
  /** Headers the platform may read (e.g. `origin`); default none. */
  headers?: Headers;
}

/** The client end of an in-process socket, as the server sees it. */
export interface InProcessPeer {
  /** One server frame (serialized JSON). Called synchronously by the server: defer work if needed. */
  receive(frame: string): void;
  /** The server closed the socket (`close()` of the server, or a socket it dropped). Called at most once. */
  closed(code: number, reason: string): void;
}

/** The server end of an in-process socket, as the client sees it. */
export interface InProcessConnection {
  /** One client frame (serialized JSON, a v2 array). Ignored once closed. */
  send(frame: string): void;
  /** The client leaves: every channel of the socket ends. Idempotent; `peer.closed` is not called for it. */
  close(): void;
}
