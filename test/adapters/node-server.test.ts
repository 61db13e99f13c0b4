/**
 * applyServerLimits: Node's own refusals answered in the runtime's JSON shape, a body that
 * trickles in cut after requestTimeoutMs with a 408, and an event stream on the same server
 * left alone far past that time. Over raw sockets, since these requests are not valid HTTP or
 * never finish.
 */
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { applyServerLimits, createCopilotNodeListener, DEFAULT_SERVER_LIMITS, resolveServerLimits } from "../../src/adapters/node.js";
import type { CopilotServerLimits } from "../../src/adapters/node-server.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { GatedAgent, Gates, userRunInput, SseReader } from "./support.js";

const servers: Server[] = [];
const gateSets: Gates[] = [];
afterEach(() => {
  for (const gates of gateSets.splice(0)) gates.openAll();
  for (const server of servers.splice(0)) {
    server.close();
    server.closeAllConnections();
  }
});

async function start(limits?: CopilotServerLimits): Promise<{ port: number; gates: Gates; server: Server }> {
  const gates = new Gates();
  gateSets.push(gates);
  const runtime = new CopilotRuntime({ agents: { default: new GatedAgent(gates) } });
  const server = applyServerLimits(createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit" })), limits);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, gates, server };
}

interface RawResult {
  status: number;
  headers: string;
  body: string;
  elapsedMs: number;
}

/** Writes `chunks` (a string, or strings sent `everyMs` apart) and reads until the server closes. */
function raw(port: number, chunks: string | string[], everyMs = 0): Promise<RawResult> {
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    socket.on("connect", () => {
      if (typeof chunks === "string") {
        socket.write(chunks);
        return;
      }
      const queue = [...chunks];
      socket.write(queue.shift()!);
      timer = setInterval(() => {
        const next = queue.shift();
        if (next === undefined || socket.destroyed) clearInterval(timer);
        else socket.write(next);
      }, everyMs);
    });
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("error", () => {}); // a reset after the answer is fine
    socket.on("close", () => {
      clearInterval(timer);
      const split = text.indexOf("\r\n\r\n");
      if (split === -1) {
        reject(new Error(`no HTTP answer before the socket closed: ${JSON.stringify(text)}`));
        return;
      }
      const headers = text.slice(0, split);
      resolve({ status: Number(headers.split(" ")[1]), headers: headers.toLowerCase(), body: text.slice(split + 4), elapsedMs: Date.now() - startedAt });
    });
  });
}

describe("applyServerLimits", () => {
  it("answers headers over Node's limit with 431 in the JSON error shape", async () => {
    const { port } = await start();
    const result = await raw(port, `GET /api/copilotkit/info HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(40_000)}\r\n\r\n`);
    expect(result.status).toBe(431);
    expect(result.headers).toContain("content-type: application/json");
    expect(result.headers).toContain("connection: close");
    expect(JSON.parse(result.body)).toEqual({ error: "request_header_too_large", message: expect.any(String) });
  });

  it("answers a malformed request line with 400 in the JSON error shape", async () => {
    const { port } = await start();
    for (const request of ["G@T /api/copilotkit/info HTTP/1.1\r\nHost: x\r\n\r\n", "GET /api/copilotkit/info HTTP/9.9 nonsense\r\n\r\n"]) {
      const result = await raw(port, request);
      expect(result.status, request).toBe(400);
      expect(result.headers).toContain("content-type: application/json");
      expect(JSON.parse(result.body)).toMatchObject({ error: "bad_request", message: expect.stringContaining("HPE_") });
    }
  });

  it("answers a malformed request after a finished one on the same keep-alive socket with a JSON 400", async () => {
    const { port } = await start();
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write("GET /api/copilotkit/info HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i < 250 && !/"version"/.test(text); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const firstLength = text.length;
    socket.write("G@T / HTTP/1.1\r\nHost: x\r\n\r\n");
    await closed;
    const second = text.slice(firstLength);
    expect(second).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(second.slice(second.indexOf("\r\n\r\n") + 4))).toMatchObject({ error: "bad_request" });
  });

  it("closes the socket, writing nothing into the stream, when garbage follows a request whose event stream is open", async () => {
    const { port, gates } = await start();
    const body = JSON.stringify(userRunInput("t-pipelined"));
    const head = `POST /api/copilotkit/agent/default/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(head + body);
    for (let i = 0; i < 100 && !text.includes("RUN_STARTED"); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(text).toContain("RUN_STARTED");
    socket.write("G@T / HTTP/1.1\r\nHost: x\r\n\r\n");
    await closed;
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(text).not.toContain("bad_request");
  });

  it("cuts a body sent a byte every 200 ms after requestTimeoutMs with a JSON 408, and leaves a long event stream alone", { timeout: 60_000 }, async () => {
    const requestTimeoutMs = 1_500;
    const { port, gates } = await start({ headersTimeoutMs: 1_000, requestTimeoutMs });
    const base = `http://127.0.0.1:${port}/api/copilotkit`;

    // An event stream whose request is complete: it stays open until its run's gate opens.
    const streamStartedAt = Date.now();
    const response = await fetch(`${base}/agent/default/run`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(userRunInput("long-stream")),
    });
    expect(response.status).toBe(200);
    const stream = new SseReader(response);
    await stream.until((e) => e.type === "TEXT_MESSAGE_CONTENT");

    // Meanwhile a body that trickles in: 100 bytes announced, one sent every 200 ms (20 s in all).
    const body = JSON.stringify(userRunInput("slow-body")).padEnd(100, " ").slice(0, 100);
    const head = `POST /api/copilotkit/agent/default/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    const slow = await raw(port, [head, ...body.split("")], 200);
    expect(slow.status).toBe(408);
    expect(slow.headers).toContain("content-type: application/json");
    expect(JSON.parse(slow.body)).toEqual({ error: "request_timeout", message: expect.any(String) });
    // Cut after the limit, well before the body would have arrived (generous bounds: a shared machine).
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(requestTimeoutMs - 100);
    expect(slow.elapsedMs).toBeLessThan(12_000);

    // Hold the stream past several request timeouts, then let the run finish: nothing was cut.
    const heldFor = 3 * requestTimeoutMs + 500;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, heldFor - (Date.now() - streamStartedAt))));
    gates.open("long-stream");
    const events = await stream.rest();
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", threadId: "long-stream" });
    expect(Date.now() - streamStartedAt).toBeGreaterThan(3 * requestTimeoutMs);
  });

  it("sets Node's timeouts, with defaults", async () => {
    const { server } = await start();
    expect(server.headersTimeout).toBe(DEFAULT_SERVER_LIMITS.headersTimeoutMs);
    expect(server.requestTimeout).toBe(DEFAULT_SERVER_LIMITS.requestTimeoutMs);
    expect(server.keepAliveTimeout).toBe(DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs);
    const custom = applyServerLimits(createServer(), { headersTimeoutMs: 2_000, requestTimeoutMs: 4_000, keepAliveTimeoutMs: 7_000 });
    expect([custom.headersTimeout, custom.requestTimeout, custom.keepAliveTimeout]).toEqual([2_000, 4_000, 7_000]);
    expect((custom as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval).toBe(500);
  });

  it("refuses limits that are not whole milliseconds, or headers allowed longer than the whole request", () => {
    expect(() => resolveServerLimits({ requestTimeoutMs: -1 })).toThrow(/requestTimeoutMs/);
    expect(() => resolveServerLimits({ keepAliveTimeoutMs: 1.5 })).toThrow(/keepAliveTimeoutMs/);
    expect(() => resolveServerLimits({ headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 })).toThrow(/headersTimeoutMs/);
    expect(resolveServerLimits({ requestTimeoutMs: 4_000 })).toMatchObject({ headersTimeoutMs: 4_000, requestTimeoutMs: 4_000 });
    expect(resolveServerLimits({ headersTimeoutMs: 20_000, requestTimeoutMs: 0 })).toMatchObject({ headersTimeoutMs: 20_000, requestTimeoutMs: 0 });
  });
});
