/**
 * The Phoenix server's long-poll transport on the raw wire (fetch): the JSON status protocol of
 * phoenix.js `LongPoll` (410 to open, 200 with messages, 204 on an empty window, 410 for a gone
 * session, 403 on refusal), NDJSON posts, one pending poll per session, expiry and limits.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type TestServer,
  longPollRequest,
  openLongPoll,
  pollFrames,
  postFrames,
  replyTo,
  sleep,
  startTestServer,
  waitFor,
} from "./phoenix-support.js";

describe("Phoenix server over raw long-poll", () => {
  let server: TestServer;
  afterEach(async () => {
    await server?.close();
  });

  const pollUrl = (token: string) => `${server.longPollUrl}?vsn=2.0.0&token=${encodeURIComponent(token)}`;

  it("opens a session with {status:410, token}, passing params (without vsn/token) and X-Phoenix-AuthToken to connect()", async () => {
    server = await startTestServer();
    // phoenix.js may leave a trailing "&" and sends an empty token on the first poll.
    const body = await longPollRequest(`${server.longPollUrl}?join_token=abc&vsn=2.0.0&token=&`, {
      headers: { accept: "application/json", "x-phoenix-authtoken": "cpk-1_raw-token" },
    });
    expect(body.status).toBe(410);
    expect(typeof body.token).toBe("string");
    expect(body.token!.length).toBeGreaterThanOrEqual(16);
    expect(server.handler.connects).toHaveLength(1);
    expect(server.handler.connects[0]).toMatchObject({ params: { join_token: "abc" }, authToken: "cpk-1_raw-token", transport: "longpoll" });
    expect(server.handler.connects[0].headers.get("x-phoenix-authtoken")).toBe("cpk-1_raw-token");
    expect(server.phoenix.socketCount).toBe(1);
  });

  it("answers {status:403} when connect() refuses, and {status:500} when it throws", async () => {
    server = await startTestServer();
    server.handler.onConnect = () => null;
    expect(await longPollRequest(`${server.longPollUrl}?vsn=2.0.0`)).toEqual({ status: 403 });
    server.handler.onConnect = () => {
      throw new Error("down");
    };
    expect(await longPollRequest(`${server.longPollUrl}?vsn=2.0.0`)).toEqual({ status: 500 });
    expect(server.phoenix.socketCount).toBe(0);
  });

  it("answers {status:410} without a token for an unknown session, on GET and on POST", async () => {
    server = await startTestServer();
    expect(await longPollRequest(pollUrl("no-such-session"))).toEqual({ status: 410 });
    expect(await postFrames(server, "no-such-session", [[null, "1", "phoenix", "heartbeat", {}]])).toEqual({ status: 410 });
  });

  it("takes an NDJSON batch of frames in one POST and returns the replies, in order, on the next poll", async () => {
    server = await startTestServer();
    const token = await openLongPoll(server);
    const posted = await postFrames(server, token, [
      ["1", "1", "room:1", "phx_join", {}],
      ["1", "2", "room:1", "say", { n: 1 }],
      [null, "3", "phoenix", "heartbeat", {}],
      ["1", "4", "room:1", "say", { n: 2 }],
    ]);
    expect(posted).toEqual({ status: 200 });
    const frames = await pollFrames(server, token, 4);
    const heartbeat = frames.find(replyTo("3"));
    expect(heartbeat).toEqual([null, "3", "phoenix", "phx_reply", { status: "ok", response: {} }]);
    // The channel's own frames keep their order.
    expect(frames.filter((frame) => frame[2] === "room:1").map((frame) => frame[1])).toEqual(["1", "2", "4"]);
    expect(server.handler.joins[0].pushes.map((push) => push.payload)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("answers a poll with {status:204, token} when nothing arrives within longPollWindowMs", async () => {
    server = await startTestServer({ longPollWindowMs: 50 });
    const token = await openLongPoll(server);
    expect(await longPollRequest(pollUrl(token))).toEqual({ status: 204, token });
  });

  it("answers a waiting poll as soon as a frame is pushed", async () => {
    server = await startTestServer({ longPollWindowMs: 20_000 });
    const token = await openLongPoll(server);
    await postFrames(server, token, [["1", "1", "room:1", "phx_join", {}]]);
    await pollFrames(server, token, 1);
    const waiting = longPollRequest(pollUrl(token));
    await sleep(30);
    server.handler.joins[0].channel.push("hello", '{"x":1}');
    const body = await waiting;
    expect(body.status).toBe(200);
    expect(body.messages).toEqual(['["1",null,"room:1","hello",{"x":1}]']);
  });

  it("keeps one pending poll per session: a newer poll answers the older one with 204", async () => {
    server = await startTestServer({ longPollWindowMs: 20_000 });
    const token = await openLongPoll(server);
    await postFrames(server, token, [["1", "1", "room:1", "phx_join", {}]]);
    await pollFrames(server, token, 1);
    const older = longPollRequest(pollUrl(token));
    await sleep(30);
    const newer = longPollRequest(pollUrl(token));
    expect(await older).toEqual({ status: 204, token });
    server.handler.joins[0].channel.push("hello", {});
    expect((await newer).messages).toHaveLength(1);
  });

  it("keeps frames buffered for the next poll when a waiting poll is aborted", async () => {
    server = await startTestServer({ longPollWindowMs: 20_000 });
    const token = await openLongPoll(server);
    await postFrames(server, token, [["1", "1", "room:1", "phx_join", {}]]);
    await pollFrames(server, token, 1);
    const controller = new AbortController();
    const aborted = fetch(pollUrl(token), { signal: controller.signal }).catch((error: unknown) => error);
    await sleep(30);
    controller.abort();
    await aborted;
    await sleep(30);
    server.handler.joins[0].channel.push("kept", { n: 1 });
    expect(server.handler.joins[0].channel.bufferedAmount).toBeGreaterThan(0);
    const frames = await pollFrames(server, token, 1);
    expect(frames).toEqual([["1", null, "room:1", "kept", { n: 1 }]]);
    expect(server.handler.joins[0].channel.bufferedAmount).toBe(0);
  });

  it("expires a session nobody polls: its channels end as 'closed' and its token gets 410", async () => {
    server = await startTestServer({ longPollSessionTimeoutMs: 200 });
    const token = await openLongPoll(server);
    await postFrames(server, token, [["1", "1", "room:1", "phx_join", {}]]);
    await waitFor(() => server.handler.joins.length === 1, "the join");
    await waitFor(() => server.handler.joins[0].terminations.length === 1, "the session to expire");
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);
    expect(server.phoenix.socketCount).toBe(0);
    expect(await longPollRequest(pollUrl(token))).toEqual({ status: 410 });
    expect(server.log.has("long-poll session expired")).toBe(true);
  });

  it("does not expire a session while a poll is waiting", async () => {
    server = await startTestServer({ longPollSessionTimeoutMs: 100, longPollWindowMs: 400 });
    const token = await openLongPoll(server);
    await postFrames(server, token, [["1", "1", "room:1", "phx_join", {}]]);
    await pollFrames(server, token, 1);
    // Two windows in a row, each longer than the session timeout.
    expect(await longPollRequest(pollUrl(token))).toEqual({ status: 204, token });
    expect(await longPollRequest(pollUrl(token))).toEqual({ status: 204, token });
    expect(server.handler.joins[0].terminations).toEqual([]);
  });

  it("ignores malformed lines of a POST and handles the valid ones", async () => {
    server = await startTestServer();
    const token = await openLongPoll(server);
    const posted = await postFrames(server, token, ["garbage", "[1]", "", [null, "1", "phoenix", "heartbeat", {}], "{}"]);
    expect(posted).toEqual({ status: 200 });
    expect(await pollFrames(server, token, 1)).toEqual([[null, "1", "phoenix", "phx_reply", { status: "ok", response: {} }]]);
    expect(server.log.lines.filter((line) => line.msg.includes("malformed"))).toHaveLength(3);
  });

  it("answers a POST over maxFrameBytes with {status:413} and ends the session", async () => {
    server = await startTestServer({ maxFrameBytes: 1024 });
    const token = await openLongPoll(server);
    await postFrames(server, token, [["1", "1", "room:1", "phx_join", {}]]);
    await waitFor(() => server.handler.joins.length === 1, "the join");
    const posted = await postFrames(server, token, [["1", "2", "room:1", "say", { blob: "x".repeat(4096) }]]);
    expect(posted).toEqual({ status: 413 });
    expect(server.handler.joins[0].pushes).toEqual([]);
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);
    expect(await longPollRequest(pollUrl(token))).toEqual({ status: 410 });
  });

  it("refuses a v1 serializer client with {status:403} and other methods with a 405 JSON error", async () => {
    server = await startTestServer();
    expect(await longPollRequest(`${server.longPollUrl}?vsn=1.0.0`)).toEqual({ status: 403 });
    const response = await fetch(server.longPollUrl, { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ error: "method_not_allowed", message: expect.any(String) });
  });

  it("answers waiting and later polls with {status:410} after close(), and ends the channels", async () => {
    server = await startTestServer({ longPollWindowMs: 20_000 });
    const token = await openLongPoll(server);
    await postFrames(server, token, [["1", "1", "room:1", "phx_join", {}]]);
    await pollFrames(server, token, 1);
    const waiting = longPollRequest(pollUrl(token));
    await sleep(30);
    await server.phoenix.close(1012);
    expect(await waiting).toEqual({ status: 410 });
    expect(server.handler.joins[0].terminations).toEqual(["closed"]);
    expect(await longPollRequest(pollUrl(token))).toEqual({ status: 410 });
    // A new connect is told to retry (a 410 without a token would leave the client polling "token=undefined").
    expect(await longPollRequest(`${server.longPollUrl}?vsn=2.0.0`)).toEqual({ status: 500 });
  });
});
