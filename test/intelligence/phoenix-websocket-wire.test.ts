/**
 * The Phoenix server's WebSocket transport on the raw wire (a bare `ws` client and raw HTTP
 * upgrades): exact frames, subprotocol handling, refusals, replacement of a second join,
 * malformed and oversize frames, backpressure and close codes.
 */
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { RawWebSocket, type TestServer, replyTo, sleep, startTestServer, waitFor } from "./phoenix-support.js";

describe("Phoenix server over a raw WebSocket", () => {
  let server: TestServer;
  const clients: RawWebSocket[] = [];

  async function open(query = "vsn=2.0.0", protocols?: string[]): Promise<RawWebSocket> {
    const client = new RawWebSocket(`${server.webSocketUrl}?${query}`, protocols);
    clients.push(client);
    await client.opened;
    return client;
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await server?.close();
  });

  it("answers a heartbeat and a join with the exact Phoenix v2 frames", async () => {
    server = await startTestServer();
    const client = await open();
    client.send([null, "1", "phoenix", "heartbeat", {}]);
    client.send(["2", "2", "room:1", "phx_join", {}]);
    await client.next(replyTo("2"), "join reply");
    expect(client.texts).toEqual([
      '[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]',
      '["2","2","room:1","phx_reply",{"status":"ok","response":{"joined":"room:1"}}]',
    ]);
  });

  it("splices a pre-serialized string payload verbatim, with the join's ref and a null ref", async () => {
    server = await startTestServer();
    const client = await open();
    client.send(["3", "3", "room:1", "phx_join", {}]);
    await client.next(replyTo("3"));
    const preSerialized = '{"b":1,  "a":[1.0, "\\u00e9"]}';
    expect(server.handler.joins[0].channel.push("ag_ui_event", preSerialized)).toBe(true);
    await waitFor(() => client.texts.length === 2, "the push");
    expect(client.texts[1]).toBe(`["3",null,"room:1","ag_ui_event",${preSerialized}]`);
  });

  it("answers a push for a topic that is not joined, or for an older join, with an error reply", async () => {
    server = await startTestServer();
    const client = await open();
    client.send(["1", "2", "room:nope", "say", {}]);
    client.send(["4", "4", "room:1", "phx_join", {}]);
    await client.next(replyTo("4"));
    client.send(["1", "5", "room:1", "say", {}]);
    client.send(["4", "6", "room:1", "say", { ok: true }]);
    const unjoined = await client.next(replyTo("2"));
    const stale = await client.next(replyTo("5"));
    const current = await client.next(replyTo("6"));
    expect(unjoined).toEqual(["1", "2", "room:nope", "phx_reply", { status: "error", response: { reason: "unmatched topic" } }]);
    expect(stale[4]).toEqual({ status: "error", response: { reason: "unmatched topic" } });
    expect(current[4]).toEqual({ status: "ok", response: { echo: { ok: true } } });
    expect(server.handler.joins[0].pushes).toEqual([{ event: "say", payload: { ok: true } }]);
  });

  it("replaces the first join of a topic when the socket joins it again (terminate('replaced'), once)", async () => {
    server = await startTestServer();
    const client = await open();
    client.send(["1", "1", "room:1", "phx_join", { n: 1 }]);
    await client.next(replyTo("1"));
    client.send(["2", "2", "room:1", "phx_join", { n: 2 }]);
    await client.next(replyTo("2"));
    const [first, second] = server.handler.joins;
    expect(first.terminations).toEqual(["replaced"]);
    expect(first.channel.ended).toBe(true);
    expect(first.channel.push("x", {})).toBe(false);
    expect(second.terminations).toEqual([]);
    // Pushes now go to the second join only.
    client.send(["2", "3", "room:1", "say", {}]);
    await client.next(replyTo("3"));
    expect(first.pushes).toEqual([]);
    expect(second.pushes).toHaveLength(1);
    await client.close();
    await waitFor(() => second.terminations.length === 1, "the second channel to end");
    expect(first.terminations).toEqual(["replaced"]);
    expect(second.terminations).toEqual(["closed"]);
  });

  it("ends a join replaced while it was still running as 'replaced' once it settles, without answering it", async () => {
    server = await startTestServer();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let joinsSeen = 0;
    server.handler.onJoin = async () => {
      joinsSeen += 1;
      if (joinsSeen === 1) await gate;
      return { ok: true, response: {} };
    };
    const client = await open();
    client.send(["1", "1", "room:1", "phx_join", {}]);
    client.send(["2", "2", "room:1", "phx_join", {}]);
    await client.next(replyTo("2"));
    release();
    await waitFor(() => server.handler.joins[0].terminations.length === 1, "the slow join to end");
    expect(server.handler.joins[0].terminations).toEqual(["replaced"]);
    await sleep(20);
    expect(client.frames.filter(replyTo("1"))).toEqual([]);
  });

  it("queues pushes sent while the join runs and handles them after it", async () => {
    server = await startTestServer();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    server.handler.onJoin = async () => {
      await gate;
      return { ok: true, response: {} };
    };
    const client = await open();
    client.send(["1", "1", "room:1", "phx_join", {}]);
    client.send(["1", "2", "room:1", "say", { n: 1 }]);
    await sleep(20);
    expect(client.frames).toEqual([]);
    release();
    await client.next(replyTo("2"));
    expect(client.frames.map((frame) => frame[1])).toEqual(["1", "2"]);
  });

  it("answers phx_leave for a topic that is not joined with ok, and rejects a join payload that is not an object", async () => {
    server = await startTestServer();
    const client = await open();
    client.send(["1", "1", "room:1", "phx_leave", {}]);
    client.send(["2", "2", "room:2", "phx_join", ["not", "an", "object"]]);
    expect((await client.next(replyTo("1")))[4]).toEqual({ status: "ok", response: {} });
    expect((await client.next(replyTo("2")))[4]).toEqual({ status: "error", response: { reason: "join payload must be an object" } });
    expect(server.handler.joins).toHaveLength(0);
  });

  it("echoes the phoenix subprotocol and decodes a URL-safe bearer token", async () => {
    server = await startTestServer();
    // btoa("a~~~?>") is "YX5+fj8+"; URL-safe, that is "YX5-fj8-".
    const client = await open("vsn=2.0.0", ["phoenix", "base64url.bearer.phx.YX5-fj8-"]);
    expect(client.ws.protocol).toBe("phoenix");
    expect(server.handler.connects[0].authToken).toBe("a~~~?>");
  });

  it("accepts a bearer token with a '/' (standard base64 from btoa), which strict parsers reject", async () => {
    server = await startTestServer();
    // btoa("ab?") is "YWI/"; phoenix.js strips the padding.
    const response = await rawUpgrade(server.port, "/socket/websocket?vsn=2.0.0&join_token=j", {
      "sec-websocket-protocol": "phoenix, base64url.bearer.phx.YWI/",
    });
    expect(response.status).toBe(101);
    expect(response.headers["sec-websocket-protocol"]).toBe("phoenix");
    expect(server.handler.connects[0].authToken).toBe("ab?");
    expect(server.handler.connects[0].params).toEqual({ join_token: "j" });
  });

  it("refuses the upgrade with 403 when connect() returns null, and 400 for a v1 serializer", async () => {
    server = await startTestServer();
    server.handler.onConnect = (info) => (info.params.join_token === "good" ? { user: "u1" } : null);
    const refused = await rawUpgrade(server.port, "/socket/websocket?vsn=2.0.0&join_token=bad");
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({ error: "forbidden", message: expect.any(String) });
    const v1 = await rawUpgrade(server.port, "/socket/websocket?vsn=1.0.0&join_token=good");
    expect(v1.status).toBe(400);
    const accepted = await rawUpgrade(server.port, "/socket/websocket?vsn=2.0.0&join_token=good");
    expect(accepted.status).toBe(101);
    expect(accepted.headers["sec-websocket-protocol"]).toBeUndefined();
  });

  it("drops malformed and binary frames with a warning and keeps serving the socket", async () => {
    server = await startTestServer();
    const client = await open();
    client.send("not json");
    client.send("[1,2]");
    client.send('{"topic":"room:1","event":"phx_join"}');
    client.send('[null,"1","","heartbeat",{}]');
    client.send('[{},"1","room:1","phx_join",{}]');
    client.ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    client.send([null, "9", "phoenix", "heartbeat", {}]);
    await client.next(replyTo("9"), "the heartbeat reply");
    expect(client.frames).toHaveLength(1);
    expect(server.log.lines.filter((line) => line.msg.includes("malformed"))).toHaveLength(5);
    expect(server.log.has("binary frame")).toBe(true);
  });

  it("closes a socket that sends a frame over maxFrameBytes (1009) and keeps serving others", async () => {
    server = await startTestServer({ maxFrameBytes: 1024 });
    const client = await open();
    client.send(["1", "1", "room:1", "phx_join", {}]);
    await client.next(replyTo("1"));
    client.send(["1", "2", "room:1", "say", { blob: "x".repeat(2048) }]);
    await waitFor(() => client.closeCode !== null, "the close");
    expect(client.closeCode).toBe(1009);
    await waitFor(() => server.handler.joins[0].terminations.length === 1, "the channel to end");
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);

    const other = await open();
    other.send([null, "1", "phoenix", "heartbeat", {}]);
    await other.next(replyTo("1"));
  });

  it("closes a socket that does not read when more than maxBufferedBytes wait to be written", async () => {
    server = await startTestServer({ maxBufferedBytes: 256 * 1024 });
    const client = await open();
    client.send(["1", "1", "room:1", "phx_join", {}]);
    await client.next(replyTo("1"));
    // Stop reading: the kernel buffers fill, then ws starts queueing.
    const rawSocket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    rawSocket.pause();
    const channel = server.handler.joins[0].channel;
    const chunk = JSON.stringify({ blob: "x".repeat(64 * 1024) });
    let pushed = 0;
    while (channel.push("chunk", chunk)) {
      pushed += 1;
      if (pushed > 4_000) throw new Error("the server never noticed the client was not reading");
      if (pushed % 50 === 0) await sleep(1);
    }
    expect(channel.ended).toBe(true);
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);
    expect(server.log.has("does not read fast enough")).toBe(true);
    await waitFor(() => server.phoenix.socketCount === 0, "the socket to be gone");
    // Read again: the client then sees the connection cut (1006: no close frame from the server).
    rawSocket.resume();
    await waitFor(() => client.closeCode !== null, "the client to see the connection end");
    expect(client.closeCode).toBe(1006);
  });

  it("reports bufferedAmount and counts open sockets", async () => {
    server = await startTestServer();
    expect(server.phoenix.socketCount).toBe(0);
    const client = await open();
    client.send(["1", "1", "room:1", "phx_join", {}]);
    await client.next(replyTo("1"));
    expect(server.phoenix.socketCount).toBe(1);
    expect(server.handler.joins[0].channel.bufferedAmount).toBeGreaterThanOrEqual(0);
    await client.close();
    await waitFor(() => server.phoenix.socketCount === 0, "the socket to be gone");
  });

  it("closes every socket with the given code on close(1012), and refuses new upgrades after", async () => {
    server = await startTestServer();
    const a = await open();
    const b = await open();
    a.send(["1", "1", "room:1", "phx_join", {}]);
    await a.next(replyTo("1"));
    await server.phoenix.close(1012, "restart");
    await waitFor(() => a.closeCode !== null && b.closeCode !== null, "both closes");
    expect([a.closeCode, b.closeCode]).toEqual([1012, 1012]);
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);
    const late = await rawUpgrade(server.port, "/socket/websocket?vsn=2.0.0");
    expect(late.status).toBe(503);
  });
});

/** A raw WebSocket upgrade request: the status, headers and body of the server's answer. */
function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      path,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
