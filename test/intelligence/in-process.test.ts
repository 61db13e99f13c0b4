/**
 * Our runtime on our platform in ONE process with no network hop between them
 * (`new CopilotKitIntelligence({ platform, wsUrl, apiKey })`): REST calls go to the platform's
 * fetch handler and the runner's Phoenix sockets open on it directly. The platform listens on no
 * port for them: the only server here serves the browser's `/client` socket (WebSocket and
 * long-poll), and every TCP connection made in this process is recorded to show that only
 * browsers used it. Browsers are the real `phoenix` client and the real `@copilotkit/core` 1.75
 * `IntelligenceAgent`.
 */
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { type BaseEvent, verifyEvents } from "@ag-ui/client";
import { Socket } from "phoenix";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendWebResponse } from "../../src/adapters/node-response.js";
import { toWebRequest } from "../../src/adapters/node-request.js";
import { CopilotKitIntelligence, CopilotRuntime, createCopilotRuntimeHandler } from "../../src/index.js";
import { createInProcessPhoenixTransport } from "../../src/intelligence-runtime/in-process-transport.js";
import { type IntelligencePlatform, createIntelligencePlatform } from "../../src/intelligence/platform.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/memory.js";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { API_KEY, TOKEN_SECRET, eventually, followThread, quietLogger, runInput } from "../helpers/intelligence.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = any;

/** Every outgoing TCP connection this process opens while the suite runs: host:port. */
const outgoing: string[] = [];
const originalConnect = net.Socket.prototype.connect;

describe("our runtime on our platform in process (no network hop)", () => {
  let platform: IntelligencePlatform;
  let clientServer: Server;
  let clientPort: number;
  /** Paths of every HTTP request and upgrade the browser-facing server received. */
  const served: string[] = [];
  let handle: (request: Request) => Promise<Response>;
  let releaseHeld!: () => void;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));
  let IntelligenceAgent: Untyped;

  beforeAll(async () => {
    ({ IntelligenceAgent } = await import("@copilotkit/core"));
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      // net.connect() hands over its normalized arguments as one array.
      const options = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { port?: number; host?: string; path?: string } | number;
      outgoing.push(typeof options === "object" && options !== null ? `${options.host ?? "localhost"}:${options.port ?? options.path}` : `localhost:${String(options)}`);
      return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof originalConnect;

    platform = createIntelligencePlatform({ store: new MemoryIntelligenceStore(), apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger(), sweepIntervalMs: 500 });
    await platform.ready;
    // The browsers' side only: /client over WebSocket and long-poll. REST and /runner are not served.
    clientServer = createServer((req, res) => {
      served.push(`${req.method} ${(req.url ?? "").split("?")[0]}`);
      const path = (req.url ?? "").split("?")[0];
      if (path !== "/client/longpoll") {
        res.writeHead(404).end();
        return;
      }
      void platform.fetch(toWebRequest(req, res)).then((response) => sendWebResponse(res, response));
    });
    clientServer.on("upgrade", (req, socket, head) => {
      served.push(`UPGRADE ${(req.url ?? "").split("?")[0]}`);
      if ((req.url ?? "").startsWith("/client/websocket")) platform.handleUpgrade(req, socket, head);
      else socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    });
    await new Promise<void>((resolve) => clientServer.listen(0, "127.0.0.1", resolve));
    clientPort = (clientServer.address() as AddressInfo).port;

    const intelligence = new CopilotKitIntelligence({ platform, wsUrl: `ws://127.0.0.1:${clientPort}`, apiKey: API_KEY });
    const runtime = new CopilotRuntime({
      intelligence,
      agents: {
        default: new ScriptedAgent({ script: textReply("Hi from next door") }),
        slow: new ScriptedAgent({ script: textReply("slow answer here", { pauseAfterFirstWord: () => held }) }),
      },
      identifyUser: (request: Request) => {
        const id = request.headers.get("x-user") ?? "alice";
        return { id, name: id };
      },
      generateThreadNames: false,
    });
    handle = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" });
  });

  afterAll(async () => {
    releaseHeld();
    net.Socket.prototype.connect = originalConnect;
    await platform?.close();
    await new Promise<void>((resolve) => {
      clientServer?.close(() => resolve());
      clientServer?.closeAllConnections();
    });
  });

  async function browser(method: string, path: string, body?: unknown, user = "alice") {
    const response = await handle(
      new Request(`http://runtime.test/api/copilotkit${path}`, {
        method,
        headers: { "content-type": "application/json", "x-user": user },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
    const text = await response.text();
    return { status: response.status, text, json: text === "" ? undefined : JSON.parse(text) };
  }

  function browserAgent(threadId: string, user = "carol") {
    const agent = new IntelligenceAgent({
      url: `ws://127.0.0.1:${clientPort}/client`,
      runtimeUrl: "http://runtime.test/api/copilotkit",
      agentId: "default",
      headers: { "x-user": user },
      fetch: (input: RequestInfo | URL, init?: RequestInit) => handle(new Request(input, init)),
    });
    agent.threadId = threadId;
    return agent;
  }

  /** Only browsers touched the network: every connection went to the client server, for /client. */
  function expectOnlyBrowserTraffic(): void {
    expect(outgoing.length).toBeGreaterThan(0);
    expect(outgoing.every((target) => target.endsWith(`:${clientPort}`))).toBe(true);
    expect(served.every((entry) => / \/client\/(websocket|longpoll)$/.test(entry))).toBe(true);
  }

  it("/info advertises the public client socket and the platform's entitlement, read in process", async () => {
    const info = await browser("GET", "/info");
    expect(info.json).toMatchObject({
      mode: "intelligence",
      intelligence: { wsUrl: `ws://127.0.0.1:${clientPort}/client` },
      licenseStatus: "valid",
      runtimeEntitlements: { status: "ready" },
    });
    expect(outgoing).toEqual([]);
  });

  it("a run streams to a phoenix.js browser subscriber; a reconnect replays the thread; no TCP but the browser's", async () => {
    const run = await browser("POST", "/agent/default/run", runInput("ip-thread-1", "ip-run-1", "Hello?"));
    expect(run.status, run.text).toBe(200);
    expect(run.json).toMatchObject({ threadId: "ip-thread-1", runId: "ip-run-1", realtime: { clientUrl: `ws://127.0.0.1:${clientPort}/client`, topic: "thread:ip-thread-1" } });
    // Before the browser connects, the run went from the runner to the platform without the network.
    expect(outgoing).toEqual([]);

    const live = followThread(run.json.realtime.clientUrl, run.json.joinToken, "thread:ip-thread-1", { stream_mode: "run", run_id: "ip-run-1" }, "websocket");
    await live.join;
    await live.done;
    live.leave();
    expect(live.sequence[0]).toBe("RUN_STARTED");
    expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
    expect(live.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("")).toBe("Hi from next door");
    await lastValueFrom(from(live.events as BaseEvent[]).pipe(verifyEvents(), toArray()));

    // Reconnect: credentials from /connect, a connect-mode join from the start replays the whole run.
    const connect = await browser("POST", "/agent/default/connect", runInput("ip-thread-1", "ip-connect", "x"));
    expect(connect.status, connect.text).toBe(200);
    const replay = followThread(connect.json.realtime.clientUrl, connect.json.joinToken, "thread:ip-thread-1", { stream_mode: "connect", last_seen_event_id: null }, "websocket");
    await replay.join;
    await replay.done;
    replay.leave();
    expect(replay.events.map((e) => e.metadata.cpki_event_id)).toEqual(live.events.map((e) => e.metadata.cpki_event_id));
    expect(replay.sequence.at(-1)).toBe("stream_idle");

    const history = await browser("GET", "/threads/ip-thread-1/messages");
    expect(history.json.messages.map((m: { id: string }) => m.id)).toEqual(["msg-ip-run-1", expect.any(String)]);
    expectOnlyBrowserTraffic();
  });

  it("the real 1.75 browser client (long-poll /client) runs, then a reload replays the thread", async () => {
    const agent = browserAgent("ip-thread-2");
    agent.addMessage({ id: "ip-user-1", role: "user", content: "Hello?" });
    await agent.runAgent();
    const texts = (a: Untyped) => a.messages.map((m: { role: string; content?: unknown }) => `${m.role}:${String(m.content ?? "")}`);
    expect(texts(agent)).toEqual(["user:Hello?", "assistant:Hi from next door"]);
    const reloaded = browserAgent("ip-thread-2");
    await reloaded.connectAgent();
    expect(texts(reloaded)).toEqual(texts(agent));
    agent.detachActiveRun?.();
    reloaded.detachActiveRun?.();
    expectOnlyBrowserTraffic();
  });

  it("a locked thread answers 409; the HTTP stop and the browser's stop_run both end a run and free the lock", async () => {
    const first = await browser("POST", "/agent/slow/run", runInput("ip-locked", "ip-held", "first"), "dave");
    expect(first.status, first.text).toBe(200);
    const second = await browser("POST", "/agent/slow/run", runInput("ip-locked", "ip-second", "second"), "dave");
    expect({ status: second.status, body: second.json }).toEqual({ status: 409, body: { error: "Thread lock denied" } });

    const stopped = await browser("POST", "/agent/slow/stop/ip-locked", {}, "dave");
    expect(stopped.json).toMatchObject({ stopped: true });
    let again: { status: number; json: Untyped; text: string } | undefined;
    await eventually(async () => {
      again = await browser("POST", "/agent/slow/run", runInput("ip-locked", "ip-again", "again"), "dave");
      expect(again.status).toBe(200);
    }, 10_000);

    // The browser's stop goes platform -> runner over the in-process socket: the run closes with RUN_FINISHED.
    const live = followThread(again!.json.realtime.clientUrl, again!.json.joinToken, "thread:ip-locked", { stream_mode: "run", run_id: "ip-again" }, "websocket");
    await live.join;
    await eventually(() => expect(live.sequence).toContain("TEXT_MESSAGE_CONTENT"));
    await new Promise<void>((resolve, reject) =>
      live.channel
        .push("stop_run", { run_id: "ip-again" })
        .receive("ok", () => resolve())
        .receive("error", (reply: unknown) => reject(new Error(JSON.stringify(reply)))),
    );
    await live.done;
    live.leave();
    expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
    await lastValueFrom(from(live.events as BaseEvent[]).pipe(verifyEvents(), toArray()));
    await eventually(async () => {
      const next = await browser("POST", "/agent/default/run", runInput("ip-locked-free", "ip-free", "free"), "dave");
      expect(next.status).toBe(200);
    });
    expectOnlyBrowserTraffic();
  });

  it("the thread list, rename and the realtime subscription go through the platform in process", async () => {
    const run = await browser("POST", "/agent/default/run", runInput("ip-list-1", "ip-list-run", "List me"), "erin");
    expect(run.status).toBe(200);
    await eventually(async () => {
      const list = await browser("GET", "/threads?agentId=default", undefined, "erin");
      expect(list.json.threads.map((t: { id: string }) => t.id)).toEqual(["ip-list-1"]);
      expect(typeof list.json.joinCode).toBe("string");
    });
    const renamed = await browser("PATCH", "/threads/ip-list-1", { agentId: "default", name: "Listed" }, "erin");
    expect(renamed.json).toMatchObject({ id: "ip-list-1", name: "Listed" });
    expect((await browser("GET", "/threads?agentId=default", undefined, "someone-else")).json.threads).toEqual([]);
    const subscribed = await browser("POST", "/threads/subscribe", {}, "erin");
    expect(Object.keys(subscribed.json)).toEqual(["joinToken"]);
  });

  it("the runner's in-process socket still presents the API key: a wrong key is refused, the right one opens and reaches the runner channel", async () => {
    const transport = createInProcessPhoenixTransport(platform, "runner");
    const open = (authToken: string) => {
      const socket = new Socket("ws://in-process/runner", { authToken, transport: transport as Untyped, reconnectAfterMs: () => 60_000 });
      const outcome = new Promise<string>((resolve) => {
        socket.onOpen(() => resolve("open"));
        socket.onError(() => resolve("error"));
      });
      socket.connect();
      return { socket, outcome };
    };
    const wrong = open("cpk-7_not-the-key");
    expect(await wrong.outcome).toBe("error");
    wrong.socket.disconnect();
    const right = open(API_KEY);
    expect(await right.outcome).toBe("open");
    const joined = await new Promise<unknown>((resolve) =>
      right.socket
        .channel("ingestion:ip-unknown-run", { thread_id: "nope", run_id: "ip-unknown-run" })
        .join()
        .receive("ok", (reply: unknown) => resolve({ ok: reply }))
        .receive("error", (reply: unknown) => resolve({ error: reply })),
    );
    // The platform's runner channel answered the join: a run it holds no lock for is refused.
    expect(joined).toEqual({ error: expect.objectContaining({ reason: "run_not_found", retryable: false }) });
    right.socket.disconnect();
  });

  it("needs wsUrl with platform (browsers need the public socket address)", () => {
    expect(() => new CopilotKitIntelligence({ platform, apiKey: API_KEY })).toThrow(/needs `wsUrl`/);
    expect(() => new CopilotKitIntelligence({ platform: {} as Untyped, wsUrl: "ws://x", apiKey: API_KEY })).toThrow(/must be an Intelligence platform/);
  });
});

describe("a closing platform and its in-process runner sockets", () => {
  it("closes them with 1012 (a planned restart for the runner) and refuses new ones", async () => {
    const platform = createIntelligencePlatform({ store: new MemoryIntelligenceStore(), apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger() });
    await platform.ready;
    const transport = createInProcessPhoenixTransport(platform, "runner");
    const socket = new Socket("ws://in-process/runner", { authToken: API_KEY, transport: transport as Untyped, reconnectAfterMs: () => 60_000 });
    const opened = new Promise<void>((resolve) => socket.onOpen(() => resolve()));
    const closed = new Promise<number | undefined>((resolve) => socket.onClose((event: Untyped) => resolve(event?.code)));
    socket.connect();
    await opened;
    await platform.close();
    expect(await closed).toBe(1012);
    socket.disconnect();
    const late = new transport("ws://in-process/runner/websocket?vsn=2.0.0");
    const refused = await new Promise<number>((resolve) => (late.onclose = (event) => resolve(event.code)));
    expect(refused).toBe(1006);
  });
});

describe("PhoenixServer.connectInProcess (the generic server)", () => {
  async function echoServer() {
    const { createPhoenixServer } = await import("../../src/intelligence/phoenix/index.js");
    const connects: Array<{ params: Record<string, string>; authToken: string | null; transport: string }> = [];
    const server = createPhoenixServer<{ user: string }>({
      logger: quietLogger(),
      maxFrameBytes: 1024,
      handler: {
        connect: (info) => {
          connects.push({ params: info.params, authToken: info.authToken, transport: info.transport });
          return info.authToken === "s3cret" ? { user: "u1" } : null;
        },
        join: (_topic, _payload, channel) => ({
          ok: true,
          response: { user: channel.assigns.user },
          handler: { handleIn: (_event, body) => ({ status: "ok", response: { echo: body } }), terminate() {} },
        }),
      },
    });
    return { server, connects };
  }
  const recorder = () => {
    const frames: unknown[] = [];
    const closes: Array<[number, string]> = [];
    return { frames, closes, peer: { receive: (frame: string) => void frames.push(JSON.parse(frame)), closed: (code: number, reason: string) => void closes.push([code, reason]) } };
  };
  const bearer = ["phoenix", `base64url.bearer.phx.${Buffer.from("s3cret").toString("base64").replace(/=+$/, "")}`];

  it("authenticates like a WebSocket upgrade (params, bearer subprotocol), then speaks frames", async () => {
    const { server, connects } = await echoServer();
    const record = recorder();
    expect(await server.connectInProcess({ url: "ws://x/socket/websocket?vsn=2.0.0&tenant=a", protocols: ["phoenix"] }, record.peer)).toBeNull();
    const connection = await server.connectInProcess({ url: "ws://x/socket/websocket?vsn=2.0.0&tenant=a", protocols: bearer }, record.peer);
    expect(connects.at(-1)).toEqual({ params: { tenant: "a" }, authToken: "s3cret", transport: "in-process" });
    expect(server.socketCount).toBe(1);
    connection!.send(JSON.stringify(["1", "1", "room:1", "phx_join", {}]));
    await eventually(() => expect(record.frames).toEqual([["1", "1", "room:1", "phx_reply", { status: "ok", response: { user: "u1" } }]]));
    connection!.send(JSON.stringify(["1", "2", "room:1", "say", { text: "hi" }]));
    await eventually(() => expect(record.frames.at(-1)).toEqual(["1", "2", "room:1", "phx_reply", { status: "ok", response: { echo: { text: "hi" } } }]));
    connection!.close();
    expect(server.socketCount).toBe(0);
    expect(record.closes).toEqual([]);
    await server.close();
  });

  it("refuses serializer 1.x; closes a socket that sends an oversize frame with 1009; close() closes the rest and refuses new ones", async () => {
    const { server } = await echoServer();
    expect(await server.connectInProcess({ url: "ws://x/socket/websocket?vsn=1.0.0", protocols: bearer }, recorder().peer)).toBeNull();
    const big = recorder();
    const connection = await server.connectInProcess({ url: "ws://x/socket/websocket?vsn=2.0.0", protocols: bearer }, big.peer);
    connection!.send(JSON.stringify(["1", "1", "room:1", "phx_join", { pad: "x".repeat(2048) }]));
    expect(big.closes).toEqual([[1009, "frame too large"]]);
    expect(big.frames).toEqual([]);
    const other = recorder();
    await server.connectInProcess({ url: "ws://x/socket/websocket?vsn=2.0.0", protocols: bearer }, other.peer);
    await server.close(1012, "gateway_draining");
    expect(other.closes).toEqual([[1012, "gateway_draining"]]);
    expect(await server.connectInProcess({ url: "ws://x/socket/websocket?vsn=2.0.0", protocols: bearer }, recorder().peer)).toBeNull();
  });
});
