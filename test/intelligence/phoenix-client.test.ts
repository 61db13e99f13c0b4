/**
 * The Phoenix server against the real phoenix.js 1.8 client, over long-poll (what CopilotKit's
 * runner uses on Node 20) and over WebSocket (what browsers use): joins, replies, server pushes,
 * leaves, server-side close and error, refusal at connect, and the end of every channel seen by
 * the platform exactly once.
 */
import type { Channel, Socket } from "phoenix";
import { afterEach, describe, expect, it } from "vitest";
import {
  type TestServer,
  type TransportName,
  outcome,
  phoenixSocket,
  sleep,
  startTestServer,
  waitFor,
} from "./phoenix-support.js";

describe.each<TransportName>(["longpoll", "websocket"])("Phoenix server with phoenix.js over %s", (transport) => {
  let server: TestServer;
  const sockets: Socket[] = [];

  async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
    server = await startTestServer(options);
    return server;
  }

  function connect(options: Record<string, unknown> = {}): Socket {
    const socket = phoenixSocket(server, transport, options);
    sockets.push(socket);
    socket.connect();
    return socket;
  }

  async function joined(socket: Socket, topic: string, params: Record<string, unknown> = {}): Promise<Channel> {
    const channel = socket.channel(topic, params);
    const result = await outcome(channel.join());
    expect(result.status).toBe("ok");
    return channel;
  }

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await server?.close();
  });

  it("answers a join with ok and the handler's response, and gives the handler the socket's context", async () => {
    await start();
    const socket = connect({ params: { join_token: "t-1" } });
    const channel = socket.channel("room:1", { mode: "run", n: 1 });
    const result = await outcome(channel.join());

    expect(result).toEqual({ status: "ok", response: { joined: "room:1" } });
    expect(server.handler.connects).toHaveLength(1);
    expect(server.handler.connects[0].params).toEqual({ join_token: "t-1" });
    expect(server.handler.connects[0].transport).toBe(transport);
    const [join] = server.handler.joins;
    expect(join.payload).toEqual({ mode: "run", n: 1 });
    expect(join.channel.topic).toBe("room:1");
    expect(join.channel.assigns).toEqual({ user: "u1" });
    expect(join.channel.transport).toBe(transport);
    expect(typeof join.channel.socketId).toBe("string");
    expect(join.channel.ended).toBe(false);
  });

  it("answers a refused join with error and the handler's response, and the client keeps the channel errored", async () => {
    await start();
    server.handler.onJoin = () => ({ ok: false, response: { reason: "unauthorized" } });
    const socket = connect();
    const result = await outcome(socket.channel("room:secret").join());
    expect(result).toEqual({ status: "error", response: { reason: "unauthorized" } });
  });

  it("turns a join that throws into an error reply", async () => {
    await start();
    server.handler.onJoin = () => {
      throw new Error("boom");
    };
    const socket = connect();
    const result = await outcome(socket.channel("room:1").join());
    expect(result).toEqual({ status: "error", response: { reason: "join crashed" } });
    expect(server.log.has("join failed")).toBe(true);
  });

  it("round-trips client pushes: ok and error replies, and a throwing handleIn answered with an error", async () => {
    await start();
    server.handler.onPush = (_record, event, payload) => {
      if (event === "fail") return { status: "error", response: { reason: "nope" } };
      if (event === "throw") throw new Error("handler bug");
      return { status: "ok", response: { echo: payload } };
    };
    const socket = connect();
    const channel = await joined(socket, "room:1");

    expect(await outcome(channel.push("hello", { text: "hi", n: [1, 2] }))).toEqual({
      status: "ok",
      response: { echo: { text: "hi", n: [1, 2] } },
    });
    expect(await outcome(channel.push("fail", {}))).toEqual({ status: "error", response: { reason: "nope" } });
    expect(await outcome(channel.push("throw", {}))).toEqual({ status: "error", response: { reason: "internal error" } });
    expect(server.handler.joins[0].pushes.map((push) => push.event)).toEqual(["hello", "fail", "throw"]);
  });

  it("runs a channel's pushes one at a time, in order, even when handleIn is slow", async () => {
    await start();
    const order: string[] = [];
    server.handler.onPush = async (_record, event) => {
      order.push(`start ${event}`);
      await sleep(event === "a" ? 50 : 0);
      order.push(`end ${event}`);
      return { status: "ok", response: {} };
    };
    const socket = connect();
    const channel = await joined(socket, "room:1");
    const replies = await Promise.all([outcome(channel.push("a", {})), outcome(channel.push("b", {}))]);
    expect(replies.map((reply) => reply.status)).toEqual(["ok", "ok"]);
    expect(order).toEqual(["start a", "end a", "start b", "end b"]);
  });

  it("delivers server pushes to channel.on(), object payloads and pre-serialized strings alike", async () => {
    await start();
    const socket = connect();
    const channel = socket.channel("room:1");
    const received: Array<{ event: string; payload: unknown }> = [];
    channel.on("object_event", (payload) => {
      received.push({ event: "object_event", payload });
    });
    channel.on("string_event", (payload) => {
      received.push({ event: "string_event", payload });
    });
    await outcome(channel.join());

    const context = server.handler.joins[0].channel;
    expect(context.push("object_event", { a: 1 })).toBe(true);
    expect(context.push("string_event", '{"already":"serialized","n":[1,2,3]}')).toBe(true);
    await waitFor(() => received.length === 2, "two pushes");
    expect(received).toEqual([
      { event: "object_event", payload: { a: 1 } },
      { event: "string_event", payload: { already: "serialized", n: [1, 2, 3] } },
    ]);
  });

  it("holds pushes made during the join and sends them right after the ok reply", async () => {
    await start();
    server.handler.onJoin = (record) => {
      record.channel.push("early", { first: true });
      return { ok: true, response: {} };
    };
    const socket = connect();
    const channel = socket.channel("room:1");
    const seen: string[] = [];
    channel.on("early", () => {
      seen.push(channel.state);
    });
    await outcome(channel.join());
    await waitFor(() => seen.length === 1, "the early push");
    // The client got it as a joined channel, i.e. after the join reply.
    expect(seen).toEqual(["joined"]);
  });

  it("ends a channel on phx_leave with terminate('leave'), once", async () => {
    await start();
    const socket = connect();
    const channel = await joined(socket, "room:1");
    const left = await outcome(channel.leave());
    expect(left.status).toBe("ok");
    await waitFor(() => server.handler.joins[0].terminations.length > 0, "terminate");
    expect(server.handler.joins[0].terminations).toEqual(["leave"]);
    expect(server.handler.joins[0].channel.ended).toBe(true);
    expect(server.handler.joins[0].channel.push("late", {})).toBe(false);
  });

  it("closes a channel from the server with close(): the client channel closes and does not rejoin", async () => {
    await start();
    const socket = connect();
    const channel = await joined(socket, "room:1");
    let closed = 0;
    channel.onClose(() => {
      closed += 1;
    });

    server.handler.joins[0].channel.close();
    await waitFor(() => closed === 1, "the client channel to close");
    expect(channel.state).toBe("closed");
    expect(server.handler.joins[0].terminations).toEqual(["server"]);
    // Rejoins are 20 ms apart here: give several a chance to (wrongly) happen.
    await sleep(200);
    expect(server.handler.joinsOf("room:1")).toHaveLength(1);
  });

  it("errors a channel from the server with error(): the client rejoins", async () => {
    await start();
    const socket = connect();
    const channel = await joined(socket, "room:1");
    let errors = 0;
    channel.onError(() => {
      errors += 1;
    });

    server.handler.joins[0].channel.error();
    await waitFor(() => server.handler.joinsOf("room:1").length === 2, "the rejoin");
    await waitFor(() => channel.state === "joined", "the channel to be joined again");
    expect(errors).toBeGreaterThanOrEqual(1);
    expect(server.handler.joins[0].terminations).toEqual(["server"]);
    expect(server.handler.joins[1].terminations).toEqual([]);
  });

  it("lets close() during the join send the ok reply, then the close", async () => {
    await start();
    server.handler.onJoin = (record) => {
      record.channel.close();
      return { ok: true, response: {} };
    };
    const socket = connect();
    const channel = socket.channel("room:1");
    let closed = false;
    channel.onClose(() => {
      closed = true;
    });
    const result = await outcome(channel.join());
    expect(result.status).toBe("ok");
    await waitFor(() => closed, "the client channel to close");
    expect(server.handler.joins[0].terminations).toEqual(["server"]);
  });

  it("refuses a socket whose connect() returns null, and the client reports errors", async () => {
    await start();
    server.handler.onConnect = () => null;
    const socket = connect();
    const errors: unknown[] = [];
    socket.onError((error: unknown) => {
      errors.push(error);
    });
    await waitFor(() => errors.length >= 1, "a socket error");
    expect(server.handler.joins).toHaveLength(0);
    expect(server.phoenix.socketCount).toBe(0);
    if (transport === "longpoll") expect(errors[0]).toBe(403);
  });

  it("refuses a socket whose connect() throws, without crashing", async () => {
    await start();
    server.handler.onConnect = () => {
      throw new Error("auth backend down");
    };
    const socket = connect();
    const errors: unknown[] = [];
    socket.onError((error: unknown) => {
      errors.push(error);
    });
    await waitFor(() => errors.length >= 1, "a socket error");
    expect(server.phoenix.socketCount).toBe(0);
    expect(server.log.lines.some((line) => line.level === "error")).toBe(true);
  });

  it("passes the client's authToken to connect() (subprotocol on WebSocket, X-Phoenix-AuthToken on long-poll)", async () => {
    await start();
    // Encodes to "Y3BrLTFfczNjcjN0Pj4+": standard base64 with a "+", as phoenix.js sends it (btoa).
    const token = "cpk-1_s3cr3t>>>";
    const socket = connect({ authToken: token });
    await joined(socket, "room:1");
    expect(server.handler.connects[0].authToken).toBe(token);
  });

  it("ends the channels of a socket that goes away with terminate('closed')", async () => {
    await start({ longPollSessionTimeoutMs: 300 });
    const socket = connect();
    await joined(socket, "room:a");
    await joined(socket, "room:b");
    socket.disconnect();
    // Over long-poll the server only learns it when the session expires (no more polls).
    await waitFor(() => server.handler.joins.every((join) => join.terminations.length === 1), "both channels to end");
    expect(server.handler.joins.map((join) => join.terminations)).toEqual([["closed"], ["closed"]]);
    await waitFor(() => server.phoenix.socketCount === 0, "the socket to be gone");
  });

  it("closes its sockets on close(1012): channels end, the client sees the close and reconnects elsewhere", async () => {
    await start();
    const socket = connect();
    await joined(socket, "room:1");
    const closes: Array<{ code?: number }> = [];
    const errors: unknown[] = [];
    socket.onClose((event: { code?: number }) => {
      closes.push(event);
    });
    socket.onError((error: unknown) => {
      errors.push(error);
    });

    await server.phoenix.close(1012, "restart");
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);
    expect(server.phoenix.socketCount).toBe(0);
    await waitFor(() => closes.length >= 1, "the client to see the close");
    if (transport === "websocket") expect(closes[0].code).toBe(1012);
    else expect(errors[0]).toBe(410); // the pending poll got {"status":410}: session gone
  });
});

describe("Phoenix server with phoenix.js over long-poll only", () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await server?.close();
  });

  it("delivers every server push, in order, whether it arrives during a poll or between polls", async () => {
    server = await startTestServer({ longPollWindowMs: 50 });
    const socket = phoenixSocket(server, "longpoll");
    sockets.push(socket);
    socket.connect();
    const channel = socket.channel("room:1");
    const received: number[] = [];
    channel.on("n", (payload: { n: number }) => {
      received.push(payload.n);
    });
    await outcome(channel.join());

    const context = server.handler.joins[0].channel;
    let n = 0;
    // Bursts in one tick, pauses longer than the poll window, and single pushes in between.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) context.push("n", { n: n++ });
      await sleep(round % 2 === 0 ? 80 : 1);
      context.push("n", { n: n++ });
    }
    await waitFor(() => received.length === n, `${n} pushes`);
    expect(received).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it("drops a session whose buffer overflows; the client gets 410, reconnects and rejoins", async () => {
    server = await startTestServer({ maxBufferedBytes: 64 * 1024 });
    const socket = phoenixSocket(server, "longpoll");
    sockets.push(socket);
    socket.connect();
    const channel = socket.channel("room:1", { cursor: null });
    await outcome(channel.join());
    const first = server.handler.joins[0];

    // Over the limit in one tick, before any poll can take it.
    const big = JSON.stringify({ blob: "x".repeat(40 * 1024) });
    expect(first.channel.push("big", big)).toBe(true);
    expect(first.channel.push("big", big)).toBe(false);
    expect(first.terminations).toEqual(["closed"]);
    expect(server.log.has("does not poll fast enough")).toBe(true);

    await waitFor(() => server.handler.joinsOf("room:1").length === 2, "the rejoin on a new session");
    await waitFor(() => channel.state === "joined", "the channel joined again");
    expect(server.handler.joins[1].payload).toEqual({ cursor: null });
    expect(server.handler.joins[1].channel.socketId).not.toBe(first.channel.socketId);
  });
});

describe("Phoenix server with phoenix.js over WebSocket only", () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await server?.close();
  });

  it("answers heartbeats: a client heartbeating every 30 ms stays connected and joined", async () => {
    server = await startTestServer();
    const socket = phoenixSocket(server, "websocket", { heartbeatIntervalMs: 30 });
    sockets.push(socket);
    let heartbeatReplies = 0;
    let closes = 0;
    socket.onMessage((raw) => {
      const message = raw as { topic: string; event: string; payload: { status?: string } };
      if (message.topic === "phoenix" && message.event === "phx_reply" && message.payload.status === "ok") heartbeatReplies += 1;
    });
    socket.onClose(() => {
      closes += 1;
    });
    socket.connect();
    const channel = socket.channel("room:1");
    await outcome(channel.join());
    await waitFor(() => heartbeatReplies >= 5, "five heartbeat replies");
    expect(closes).toBe(0);
    expect(channel.state).toBe("joined");
    expect(server.handler.joins).toHaveLength(1);
  });

  it("closes a socket that sends nothing for idleTimeoutMs; the client reconnects and rejoins", async () => {
    server = await startTestServer({ idleTimeoutMs: 100 });
    // Heartbeats far apart: the server's idle timeout fires first.
    const socket = phoenixSocket(server, "websocket", { heartbeatIntervalMs: 60_000 });
    sockets.push(socket);
    socket.connect();
    const channel = socket.channel("room:1");
    await outcome(channel.join());
    await waitFor(() => server.handler.joins.length >= 2, "the rejoin after the idle close");
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);
    expect(server.log.has("idle WebSocket")).toBe(true);
  });
});
