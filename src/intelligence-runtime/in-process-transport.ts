/**
 * A runtime and its Intelligence platform in one process, with no network between them: REST
 * calls go straight to the platform's fetch handler, and the runner's Phoenix socket is a
 * WebSocket look-alike that hands frames to the platform's socket session by direct calls.
 *
 * Only types come from the platform's modules: this file is reachable from the main entry,
 * which must not load the platform (or `node:` built-ins).
 */
import type { InProcessConnectRequest, InProcessConnection, InProcessPeer } from "../intelligence/phoenix/types.js";

/**
 * What a runtime needs of a platform in the same process; `createIntelligencePlatform()` from
 * `copilot-runtime/intelligence` returns one.
 */
export interface InProcessIntelligencePlatform {
  /** The platform's HTTP surface as a web fetch handler (REST at `/api/*`). */
  fetch(request: Request): Promise<Response>;
  /** Opens a Phoenix socket on one of its planes without the network; null when refused. */
  connectInProcess(plane: "runner" | "client", request: InProcessConnectRequest, peer: InProcessPeer): Promise<InProcessConnection | null>;
}

/** The `WebSocket` surface phoenix.js uses of its `transport`. */
export interface InProcessWebSocket {
  readonly url: string;
  readonly protocol: string;
  readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  timeout?: number;
  onopen: ((event: { type: "open" }) => void) | null;
  onmessage: ((event: { type: "message"; data: string }) => void) | null;
  onerror: ((event: { type: "error"; message: string }) => void) | null;
  onclose: ((event: { type: "close"; code: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: unknown): void;
  close(code?: number, reason?: string): void;
}

/** A `WebSocket`-compatible constructor, as phoenix.js's `Socket` takes for `transport`. */
export type InProcessWebSocketClass = new (url: string, protocols?: string | string[]) => InProcessWebSocket;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * A `WebSocket` class whose sockets open on `platform`'s `plane` in this process. Give it to
 * phoenix.js as `new Socket(url, { transport })` (or to `IntelligenceAgentRunner` as
 * `transport`): phoenix.js then speaks its usual protocol, credentials included (its
 * `authToken` travels as the bearer subprotocol, and the platform checks it as for a WebSocket),
 * but no byte leaves the process. Events are delivered on later microtasks, never inside the
 * call that caused them, as a real socket's are.
 *
 * @example
 * ```ts
 * const platform = createIntelligencePlatform({ store, apiKeys: [key] });
 * const socket = new Socket("ws://in-process/runner", { authToken: key, transport: createInProcessPhoenixTransport(platform, "runner") });
 * ```
 */
export function createInProcessPhoenixTransport(platform: InProcessIntelligencePlatform, plane: "runner" | "client"): InProcessWebSocketClass {
  return class InProcessWebSocketTransport implements InProcessWebSocket {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;

    readonly protocol = "phoenix";
    readonly bufferedAmount = 0;
    readyState = CONNECTING;
    binaryType = "arraybuffer";
    timeout?: number;
    onopen: InProcessWebSocket["onopen"] = null;
    onmessage: InProcessWebSocket["onmessage"] = null;
    onerror: InProcessWebSocket["onerror"] = null;
    onclose: InProcessWebSocket["onclose"] = null;
    #connection: InProcessConnection | null = null;

    constructor(
      readonly url: string,
      protocols?: string | string[],
    ) {
      const peer: InProcessPeer = {
        receive: (frame) =>
          queueMicrotask(() => {
            if (this.readyState === OPEN) this.onmessage?.({ type: "message", data: frame });
          }),
        // After the frames sent before it, as on a WebSocket.
        closed: (code, reason) => queueMicrotask(() => this.#closed(code, reason)),
      };
      platform.connectInProcess(plane, { url, ...(protocols !== undefined ? { protocols } : {}) }, peer).then(
        (connection) => this.#opened(connection),
        (error: unknown) => this.#refused(error instanceof Error ? error.message : String(error)),
      );
    }

    send(data: unknown): void {
      if (this.readyState === CONNECTING) throw new Error("InvalidStateError: the in-process socket is still connecting");
      // A closing or closed WebSocket discards what is sent, without an error.
      if (this.readyState !== OPEN || this.#connection === null) return;
      // phoenix.js sends binary frames only for ArrayBuffer payloads, which CopilotKit never uses (nor does the platform read them).
      if (typeof data !== "string") throw new TypeError("The in-process socket carries text frames only");
      const connection = this.#connection;
      queueMicrotask(() => connection.send(data));
    }

    close(code = 1000, reason = ""): void {
      if (this.readyState === CLOSING || this.readyState === CLOSED) return;
      const connection = this.#connection;
      this.#connection = null;
      // Nothing to wait for: the platform's session ends at once.
      this.readyState = CLOSED;
      if (connection !== null) queueMicrotask(() => connection.close());
      queueMicrotask(() => this.onclose?.({ type: "close", code, reason, wasClean: true }));
    }

    #opened(connection: InProcessConnection | null): void {
      if (connection === null) {
        this.#refused("the platform refused the socket's credentials, or is shutting down");
        return;
      }
      // Closed by the client while connecting: let the platform forget it.
      if (this.readyState !== CONNECTING) {
        connection.close();
        return;
      }
      this.#connection = connection;
      this.readyState = OPEN;
      this.onopen?.({ type: "open" });
    }

    /** As a failed WebSocket handshake: an error, then a close with 1006. */
    #refused(message: string): void {
      if (this.readyState !== CONNECTING) return;
      this.readyState = CLOSED;
      this.onerror?.({ type: "error", message: `In-process ${plane} socket: ${message}` });
      this.onclose?.({ type: "close", code: 1006, reason: "", wasClean: false });
    }

    #closed(code: number, reason: string): void {
      if (this.readyState === CLOSED) return;
      this.#connection = null;
      this.readyState = CLOSED;
      this.onclose?.({ type: "close", code, reason, wasClean: true });
    }
  };
}
