/**
 * A small, recording stand-in for an Intelligence platform, for testing runtimes in Intelligence
 * mode (ours and CopilotKit 1.75's) against the same thing: the REST plane (`/api/...`, every
 * call recorded with its method, path, query, body and Authorization header) with plain in-memory
 * behaviour, and the runner plane (`/runner`, Phoenix v2 frames over WebSocket and long-poll)
 * that acknowledges event batches and records them. Any REST answer can be replaced per route
 * with `answer()`. It is not the real platform (src/intelligence/): no join tokens are checked,
 * no browser socket is served.
 *
 * @example
 * ```ts
 * const platform = await startFakePlatform();
 * const intelligence = new CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: platform.apiKey });
 * platform.answer("POST /api/threads/:id/lock", () => ({ status: 409, body: { error: "locked" } }));
 * await platform.close();
 * ```
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

export interface RecordedCall {
  method: string;
  /** The path with `:id` where a thread id was, e.g. `POST /api/threads/:id/lock` is `route`. */
  route: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | null;
  contentType: string | null;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
}

type Frame = [string | null, string | null, string, string, unknown];

interface FakeThread {
  id: string;
  userId: string;
  agentId: string;
  name: string | null;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

/** One runner channel join on `ingestion:<runId>`. */
export interface RunnerJoin {
  topic: string;
  payload: unknown;
  transport: "websocket" | "longpoll";
}

/** Sends frames to one runner connection (a WebSocket or a long-poll session). */
interface RunnerConnection {
  transport: "websocket" | "longpoll";
  send(frame: Frame): void;
  joins: Map<string, string>; // topic -> join ref
}

export interface FakePlatform {
  apiUrl: string;
  wsUrl: string;
  apiKey: string;
  calls: RecordedCall[];
  /** Runner joins in order, including rejoins. */
  joins: RunnerJoin[];
  /** Each push from a runner: its event name (`events` or `event`) and the events it carried. */
  pushes: Array<{ event: string; events: Array<Record<string, unknown>> }>;
  /** Every acknowledged runner event, by run id, in arrival order (duplicates included). */
  events: Map<string, Array<Record<string, unknown>>>;
  /** Replaces the answer of one route (`"POST /api/threads/:id/lock"`); undefined from `fn` falls back. */
  answer(route: string, fn: (call: RecordedCall) => FakeAnswer | undefined | Promise<FakeAnswer | undefined>): void;
  /** The join reply for `ingestion:` topics: default ok with the batch capability. */
  joinReply: (join: RunnerJoin) => { status: "ok" | "error"; response: Record<string, unknown> } | undefined;
  /** The reply to a runner push; default ok. Undefined means no reply at all (the runner times out). */
  pushReply: (event: string, events: Array<Record<string, unknown>>) => { status: "ok" | "error"; response: Record<string, unknown> } | undefined;
  /** Pushes the platform's stop signal to the runner joined on `ingestion:<runId>`. */
  sendStop(runId: string): boolean;
  /** Cuts every runner WebSocket (a network blip); the runners reconnect and rejoin. */
  dropRunnerSockets(): void;
  /** The REST calls, as `METHOD route` strings (threads ids replaced by `:id`). */
  routes(): string[];
  /** Resolves once `predicate` holds (polled). */
  waitFor(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const BATCH_CAPABILITY = "runner_event_batch_v1";

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakePlatform(options: { apiKey?: string } = {}): Promise<FakePlatform> {
  const apiKey = options.apiKey ?? "cpk-1_testsecret";
  const calls: RecordedCall[] = [];
  const overrides = new Map<string, (call: RecordedCall) => FakeAnswer | undefined | Promise<FakeAnswer | undefined>>();
  const threads = new Map<string, FakeThread>();
  const locks = new Map<string, string>(); // threadId -> runId
  const events = new Map<string, Array<Record<string, unknown>>>();
  const threadOfRun = new Map<string, string>();
  const joins: RunnerJoin[] = [];
  const pushes: FakePlatform["pushes"] = [];
  const connections = new Set<RunnerConnection>();
  const sessions = new Map<string, LongPollSession>();

  const platform: FakePlatform = {
    apiUrl: "",
    wsUrl: "",
    apiKey,
    calls,
    joins,
    pushes,
    events,
    answer: (route, fn) => void overrides.set(route, fn),
    joinReply: () => ({ status: "ok", response: { capabilities: [BATCH_CAPABILITY] } }),
    pushReply: () => ({ status: "ok", response: {} }),
    sendStop(runId) {
      const topic = `ingestion:${runId}`;
      for (const connection of connections) {
        const ref = connection.joins.get(topic);
        if (ref === undefined) continue;
        connection.send([ref, null, topic, "ag-ui", { type: "CUSTOM", name: "stop" }]);
        return true;
      }
      return false;
    },
    dropRunnerSockets: () => {
      for (const client of wss.clients) client.terminate();
    },
    routes: () => calls.map((call) => `${call.method} ${call.route}`),
    async waitFor(predicate, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: async () => {
      for (const session of sessions.values()) session.end();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  // ---- REST plane ----

  const summary = (thread: FakeThread) => ({
    id: thread.id,
    name: thread.name,
    agentId: thread.agentId,
    createdById: thread.userId,
    organizationId: "org-1",
    archived: thread.archived,
    createdAt: thread.createdAt,
    updatedAt: thread.updatedAt,
  });

  /** Message ids the platform derives from a thread's stored events (enough for H1). */
  const messagesOf = (threadId: string) => {
    const out: Array<{ id: string; role: string; content?: unknown }> = [];
    const seen = new Set<string>();
    for (const [runId, list] of events) {
      if (threadOfRun.get(runId) !== threadId) continue;
      for (const event of list) {
        const add = (id: unknown, role: string, content?: unknown) => {
          if (typeof id !== "string" || seen.has(id)) return;
          seen.add(id);
          out.push({ id, role, ...(content !== undefined ? { content } : {}) });
        };
        if (event.type === "RUN_STARTED") {
          for (const message of ((event.input as { messages?: Array<{ id: string; role: string; content?: unknown }> })?.messages ?? [])) add(message.id, message.role, message.content);
        }
        if (event.type === "TEXT_MESSAGE_START") add(event.messageId, "assistant");
      }
    }
    return out;
  };

  const defaultAnswer = (call: RecordedCall): FakeAnswer => {
    const body = (call.body ?? {}) as Record<string, unknown>;
    const id = decodeURIComponent(call.path.split("/")[3] ?? "");
    const thread = threads.get(id);
    const mine = thread !== undefined && thread.userId === (call.query.userId ?? body.userId);
    switch (`${call.method} ${call.route}`) {
      case "GET /api/entitlements/runtime":
        return { status: 200, body: { status: "ready", entitlement: { active: true, source: "selfHostedDeploymentLicense", features: { threads: true }, limits: {} } } };
      case "GET /api/threads":
        return {
          status: 200,
          body: {
            threads: [...threads.values()].filter((t) => t.userId === call.query.userId && t.agentId === call.query.agentId && (call.query.includeArchived === "true" || !t.archived)).map(summary),
            joinCode: `jc-${call.query.userId}`,
            nextCursor: null,
          },
        };
      case "POST /api/threads": {
        const threadId = String(body.threadId);
        if (threads.has(threadId)) return { status: 409, body: { error: "exists" } };
        const now = new Date().toISOString();
        const created = { id: threadId, userId: String(body.userId), agentId: String(body.agentId), name: (body.name as string) ?? null, archived: false, createdAt: now, updatedAt: now };
        threads.set(threadId, created);
        return { status: 201, body: { thread: summary(created) } };
      }
      case "POST /api/threads/subscribe":
        return { status: 200, body: { joinToken: `ut-${String(body.userId)}` } };
      case "GET /api/threads/:id":
        return mine ? { status: 200, body: { thread: summary(thread) } } : { status: 404, body: { error: "not found" } };
      case "PATCH /api/threads/:id": {
        if (!thread || thread.userId !== body.userId) return { status: 404, body: { error: "not found" } };
        if (typeof body.name === "string") thread.name = body.name;
        if (typeof body.archived === "boolean") thread.archived = body.archived;
        thread.updatedAt = new Date().toISOString();
        return { status: 200, body: { thread: summary(thread) } };
      }
      case "DELETE /api/threads/:id":
        if (!thread || thread.userId !== body.userId) return { status: 404, body: { error: "not found" } };
        threads.delete(id);
        return { status: 204 };
      case "POST /api/threads/:id/lock": {
        const holder = locks.get(id);
        if (holder !== undefined && holder !== body.runId) return { status: 409, body: { error: "locked" } };
        locks.set(id, String(body.runId));
        threadOfRun.set(String(body.runId), id);
        return { status: 200, body: { threadId: id, runId: body.runId, joinToken: `jt-${String(body.runId)}`, lock: { key: `thread:${id}`, ttlSeconds: body.ttlSeconds ?? null } } };
      }
      case "PATCH /api/threads/:id/lock":
        return { status: 200, body: { ttlSeconds: body.ttlSeconds } };
      case "DELETE /api/threads/:id/lock":
        if (locks.get(id) === body.runId) locks.delete(id);
        return { status: 204 };
      case "GET /api/threads/:id/messages":
        return mine ? { status: 200, body: { messages: messagesOf(id) } } : { status: 404, body: { error: "not found" } };
      case "POST /api/threads/:id/connect":
        if (!mine || messagesOf(id).length === 0) return { status: 204 };
        return { status: 200, body: { threadId: id, joinToken: `ct-${id}` } };
      case "GET /api/_inspect/threads/:id/events":
        return { status: 200, body: { events: [...events.entries()].filter(([runId]) => threadOfRun.get(runId) === id).flatMap(([, list]) => list), decodeErrorRowIds: [], truncated: false } };
      case "GET /api/_inspect/threads/:id/state":
        return { status: 200, body: { kind: "no-snapshot" } };
      default:
        return { status: 404, body: { error: `no fake route ${call.method} ${call.route}` } };
    }
  };

  const handleRest = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const text = await readText(req);
    const path = url.pathname;
    const route = path.replace(/^\/api\/threads\/(?!subscribe$)[^/]+/, "/api/threads/:id").replace(/^\/api\/_inspect\/threads\/[^/]+/, "/api/_inspect/threads/:id");
    const call: RecordedCall = {
      method: req.method ?? "GET",
      route,
      path,
      query: Object.fromEntries(url.searchParams),
      body: text === "" ? undefined : JSON.parse(text),
      authorization: req.headers.authorization ?? null,
      contentType: (req.headers["content-type"] as string | undefined) ?? null,
    };
    calls.push(call);
    if (call.authorization !== `Bearer ${apiKey}`) return send(res, { status: 401, body: { error: "unauthorized" } });
    const answer = (await overrides.get(`${call.method} ${call.route}`)?.(call)) ?? defaultAnswer(call);
    send(res, answer);
  };

  // ---- runner plane: Phoenix frames ----

  const handleFrame = (connection: RunnerConnection, frame: Frame) => {
    const [joinRef, ref, topic, event, payload] = frame;
    const reply = (status: "ok" | "error", response: Record<string, unknown>) => connection.send([joinRef, ref, topic, "phx_reply", { status, response }]);
    if (topic === "phoenix" && event === "heartbeat") return reply("ok", {});
    if (event === "phx_join") {
      const join: RunnerJoin = { topic, payload, transport: connection.transport };
      joins.push(join);
      if (!topic.startsWith("ingestion:")) return reply("error", { reason: "unknown topic" });
      const answer = platform.joinReply(join);
      if (answer === undefined) return; // no reply: the runner times out
      if (answer.status === "ok") connection.joins.set(topic, joinRef!);
      return reply(answer.status, answer.response);
    }
    if (event === "phx_leave") {
      connection.joins.delete(topic);
      return reply("ok", {});
    }
    if (!connection.joins.has(topic)) return reply("error", { reason: "unmatched topic" });
    if (event === "events" || event === "event") {
      const list = event === "events" ? ((payload as { events: Array<Record<string, unknown>> }).events ?? []) : [payload as Record<string, unknown>];
      pushes.push({ event, events: list });
      const answer = platform.pushReply(event, list);
      if (answer === undefined) return;
      if (answer.status === "ok") {
        const runId = topic.slice("ingestion:".length);
        const stored = events.get(runId) ?? [];
        const known = new Set(stored.map((e) => (e.metadata as { cpki_event_id?: string } | undefined)?.cpki_event_id));
        for (const item of list) {
          if (known.has((item.metadata as { cpki_event_id?: string } | undefined)?.cpki_event_id)) continue;
          stored.push(item);
          // The platform frees the lock when it stores the run's terminal event.
          if (item.type === "RUN_FINISHED" || item.type === "RUN_ERROR") {
            const threadId = threadOfRun.get(runId);
            if (threadId !== undefined && locks.get(threadId) === runId) locks.delete(threadId);
          }
        }
        events.set(runId, stored);
      }
      return reply(answer.status, answer.response);
    }
    return reply("error", { reason: "unknown event" });
  };

  const authorized = (token: string | null) => token === apiKey;

  // Long-poll sessions: a queue of frames between polls, and at most one waiting GET.
  class LongPollSession implements RunnerConnection {
    transport = "longpoll" as const;
    joins = new Map<string, string>();
    queue: string[] = [];
    waiter: (() => void) | undefined;
    constructor(readonly token: string) {}
    send(frame: Frame) {
      this.queue.push(JSON.stringify(frame));
      this.waiter?.();
    }
    end() {
      this.waiter?.();
      connections.delete(this);
    }
  }

  let sessionCounter = 0;
  const handleLongPoll = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const token = url.searchParams.get("token") ?? "";
    if (req.method === "POST") {
      const session = sessions.get(token);
      const text = await readText(req);
      if (session === undefined) return send(res, { status: 200, body: { status: 410 } });
      for (const line of text.split("\n")) if (line.trim() !== "") handleFrame(session, JSON.parse(line) as Frame);
      return send(res, { status: 200, body: { status: 200 } });
    }
    if (token === "") {
      if (!authorized((req.headers["x-phoenix-authtoken"] as string | undefined) ?? null)) return send(res, { status: 200, body: { status: 403 } });
      const session = new LongPollSession(`s${++sessionCounter}`);
      sessions.set(session.token, session);
      connections.add(session);
      return send(res, { status: 200, body: { status: 410, token: session.token } });
    }
    const session = sessions.get(token);
    if (session === undefined) return send(res, { status: 200, body: { status: 410 } });
    if (session.queue.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => finish(), 1_000);
        const finish = () => {
          clearTimeout(timer);
          session.waiter = undefined;
          resolve();
        };
        session.waiter = finish;
        req.once("close", finish);
      });
    }
    if (session.queue.length === 0) return send(res, { status: 200, body: { status: 204, token } });
    const messages = session.queue.splice(0);
    send(res, { status: 200, body: { status: 200, token, messages } });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const done = url.pathname.startsWith("/runner/longpoll") ? handleLongPoll(req, res, url) : handleRest(req, res, url);
    done.catch((error: unknown) => send(res, { status: 500, body: { error: String(error) } }));
  });

  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has("phoenix") ? "phoenix" : false),
  });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    const bearer = offered.find((p) => p.startsWith("base64url.bearer.phx."));
    const token = bearer === undefined ? null : Buffer.from(bearer.slice("base64url.bearer.phx.".length).replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
    if (url.pathname !== "/runner/websocket" || !authorized(token)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const connection: RunnerConnection = { transport: "websocket", joins: new Map(), send: (frame) => ws.send(JSON.stringify(frame)) };
      connections.add(connection);
      ws.on("message", (data) => handleFrame(connection, JSON.parse(String(data)) as Frame));
      ws.on("close", () => connections.delete(connection));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  platform.apiUrl = `http://127.0.0.1:${port}`;
  platform.wsUrl = `ws://127.0.0.1:${port}`;
  return platform;
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, answer: FakeAnswer): void {
  if (res.headersSent) return;
  if (answer.body === undefined) {
    res.writeHead(answer.status).end();
    return;
  }
  res.writeHead(answer.status, { "Content-Type": "application/json" }).end(JSON.stringify(answer.body));
}
