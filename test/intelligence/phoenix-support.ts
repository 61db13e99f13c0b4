/**
 * Test support for the Phoenix server: a plain node:http server routing `/socket/websocket`
 * upgrades and `/socket/longpoll` requests to it, a recording `SocketHandler` whose behaviour
 * each test sets, and small helpers to wait for conditions and talk the raw wire.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { LongPoll, Socket } from "phoenix";
import { WebSocket } from "ws";
import { createPhoenixServer } from "../../src/intelligence/phoenix/index.js";
import type {
  ChannelContext,
  ChannelHandler,
  ConnectInfo,
  JoinResult,
  PhoenixServer,
  PhoenixServerOptions,
  Reply,
} from "../../src/intelligence/phoenix/types.js";
import type { Logger } from "../../src/logger.js";

export type Assigns = { user: string };
export type TransportName = "longpoll" | "websocket";

/** One join the handler saw, and what became of it. */
export interface JoinRecord {
  topic: string;
  payload: Record<string, unknown>;
  channel: ChannelContext<Assigns>;
  pushes: Array<{ event: string; payload: unknown }>;
  terminations: string[];
}

/** A handler recording everything; tests replace `onConnect`, `onJoin`, `onPush` as needed. */
export class RecordingHandler {
  connects: ConnectInfo[] = [];
  joins: JoinRecord[] = [];
  /** Default: accept everyone as user "u1". */
  onConnect: (info: ConnectInfo) => Promise<Assigns | null> | Assigns | null = () => ({ user: "u1" });
  /** Default: accept every join, answering `{joined: topic}`. */
  onJoin: (record: JoinRecord) => Promise<JoinOutcome> | JoinOutcome = (record) => ({ ok: true, response: { joined: record.topic } });
  /** Default: echo the payload back. */
  onPush: (record: JoinRecord, event: string, payload: unknown) => Promise<Reply> | Reply = (_record, _event, payload) => ({
    status: "ok",
    response: { echo: payload },
  });

  readonly handler = {
    connect: (info: ConnectInfo) => {
      this.connects.push(info);
      return this.onConnect(info);
    },
    join: async (topic: string, payload: Record<string, unknown>, channel: ChannelContext<Assigns>): Promise<JoinResult> => {
      const record: JoinRecord = { topic, payload, channel, pushes: [], terminations: [] };
      this.joins.push(record);
      const outcome = await this.onJoin(record);
      if (!outcome.ok) return outcome;
      const handler: ChannelHandler = {
        handleIn: (event, body) => {
          record.pushes.push({ event, payload: body });
          return this.onPush(record, event, body);
        },
        terminate: (reason) => {
          record.terminations.push(reason);
        },
      };
      return { ok: true, response: outcome.response, handler };
    },
  };

  joinsOf(topic: string): JoinRecord[] {
    return this.joins.filter((join) => join.topic === topic);
  }
}

export type JoinOutcome = { ok: true; response?: Record<string, unknown> } | { ok: false; response: Record<string, unknown> };

/** Log lines kept in memory, so a test can check a warning was given and nothing went to the console. */
export class MemoryLogger implements Logger {
  lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  error(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "error", msg, fields });
  }
  warn(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "warn", msg, fields });
  }
  info(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "info", msg, fields });
  }
  debug(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "debug", msg, fields });
  }
  has(fragment: string): boolean {
    return this.lines.some((line) => line.msg.includes(fragment));
  }
}

export interface TestServer {
  phoenix: PhoenixServer;
  handler: RecordingHandler;
  log: MemoryLogger;
  /** `ws://127.0.0.1:<port>/socket`, the phoenix.js endpoint. */
  socketUrl: string;
  /** `http://127.0.0.1:<port>/socket/longpoll`. */
  longPollUrl: string;
  /** `ws://127.0.0.1:<port>/socket/websocket`. */
  webSocketUrl: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a Phoenix server on a random port behind node:http. */
export async function startTestServer(options: Omit<PhoenixServerOptions<Assigns>, "handler"> = {}): Promise<TestServer> {
  const handler = new RecordingHandler();
  const log = new MemoryLogger();
  const phoenix = createPhoenixServer<Assigns>({ logger: log, ...options, handler: handler.handler });
  const longPoll = getRequestListener((request) => phoenix.handleLongPoll(request));
  const server: Server = createServer((req, res) => {
    if (new URL(req.url ?? "/", "http://x").pathname === "/socket/longpoll") {
      void longPoll(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://x").pathname === "/socket/websocket") phoenix.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    phoenix,
    handler,
    log,
    port,
    socketUrl: `ws://127.0.0.1:${port}/socket`,
    longPollUrl: `http://127.0.0.1:${port}/socket/longpoll`,
    webSocketUrl: `ws://127.0.0.1:${port}/socket/websocket`,
    async close() {
      await phoenix.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Fast backoffs so reconnects and rejoins happen within a test. */
const FAST = {
  reconnectAfterMs: () => 20,
  rejoinAfterMs: () => 20,
};

/** A phoenix.js Socket over the given transport (ws's WebSocket, or LongPoll). */
export function phoenixSocket(server: TestServer, transport: TransportName, options: Record<string, unknown> = {}): Socket {
  return new Socket(server.socketUrl, {
    ...FAST,
    transport: (transport === "websocket" ? WebSocket : LongPoll) as unknown as new (endpoint: string) => object,
    ...options,
  });
}

/** Resolves when `check` holds, polling every 10 ms; fails with `what` after 10 s. */
export async function waitFor(check: () => boolean, what = "condition"): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A push's outcome as a promise: which of ok / error / timeout it got, with the response. */
export function outcome(push: { receive(status: string, callback: (response?: unknown) => void): unknown }): Promise<{
  status: string;
  response: unknown;
}> {
  return new Promise((resolve) => {
    for (const status of ["ok", "error", "timeout"]) push.receive(status, (response) => resolve({ status, response }));
  });
}

/** A raw `ws` client collecting parsed frames, for checks below phoenix.js. */
export class RawWebSocket {
  readonly frames: unknown[][] = [];
  readonly texts: string[] = [];
  closeCode: number | null = null;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, protocols?: string[], options?: ConstructorParameters<typeof WebSocket>[2]) {
    this.ws = new WebSocket(url, protocols, options);
    this.ws.on("message", (data) => {
      const text = String(data);
      this.texts.push(text);
      this.frames.push(JSON.parse(text) as unknown[]);
    });
    this.ws.on("close", (code) => {
      this.closeCode = code;
    });
    this.ws.on("error", () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
  }

  send(frame: unknown[] | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits for a frame matching `match` and returns it. */
  async next(match: (frame: unknown[]) => boolean, what = "frame"): Promise<unknown[]> {
    await waitFor(() => this.frames.some(match), what);
    return this.frames.find(match)!;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}

/** A reply to ref `ref`: `[joinRef, ref, topic, "phx_reply", {status, response}]`. */
export function replyTo(ref: string) {
  return (frame: unknown[]) => frame[1] === ref && frame[3] === "phx_reply";
}

/** Fetches a long-poll URL and returns the JSON body (the HTTP status is always 200). */
export async function longPollRequest(url: string, init: RequestInit = {}): Promise<{ status: number; token?: string; messages?: string[] }> {
  const response = await fetch(url, init);
  if (response.status !== 200) throw new Error(`long-poll answered HTTP ${response.status}`);
  return (await response.json()) as { status: number; token?: string; messages?: string[] };
}

/** Opens a raw long-poll session and returns its token. */
export async function openLongPoll(server: TestServer, query = "vsn=2.0.0", headers: Record<string, string> = {}): Promise<string> {
  const body = await longPollRequest(`${server.longPollUrl}?${query}`, { headers });
  if (body.status !== 410 || body.token === undefined) throw new Error(`expected a session, got ${JSON.stringify(body)}`);
  return body.token;
}

/** POSTs frames (NDJSON) to a raw long-poll session. */
export function postFrames(server: TestServer, token: string, frames: Array<unknown[] | string>): Promise<{ status: number }> {
  const body = frames.map((frame) => (typeof frame === "string" ? frame : JSON.stringify(frame))).join("\n");
  return longPollRequest(`${server.longPollUrl}?vsn=2.0.0&token=${encodeURIComponent(token)}`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body,
  });
}

/** Polls a raw long-poll session until `count` frames came back (or the 10 s wait ends). */
export async function pollFrames(server: TestServer, token: string, count: number): Promise<unknown[][]> {
  const frames: unknown[][] = [];
  const deadline = Date.now() + 10_000;
  while (frames.length < count && Date.now() < deadline) {
    const body = await longPollRequest(`${server.longPollUrl}?vsn=2.0.0&token=${encodeURIComponent(token)}`);
    if (body.status === 200) for (const text of body.messages ?? []) frames.push(JSON.parse(text) as unknown[]);
    else if (body.status !== 204) throw new Error(`poll answered ${JSON.stringify(body)}`);
  }
  return frames;
}
