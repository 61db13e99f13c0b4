/**
 * Node specifics: the response writer the Express adapter uses (backpressure and flushing,
 * against a response whose socket buffer the test controls), and the Node listener's
 * connection reuse after bodies the runtime did not read or cut off, over keep-alive sockets.
 */
import { EventEmitter } from "node:events";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createCopilotNodeHandler, createCopilotNodeListener } from "../../src/adapters/node.js";
import { sendWebResponse, type NodeResponseLike } from "../../src/adapters/node-response.js";
import { DemoAgent } from "../../src/agents/demo.js";
import { CopilotRuntime } from "../../src/runtime.js";

/** A response whose `write()` reports a full buffer until the test emits `drain`. */
class FakeResponse extends EventEmitter {
  log: string[] = [];
  full = false;
  headersSent = false;
  writableEnded = false;
  destroyed = false;
  status = 0;
  headers: Record<string, unknown> = {};

  writeHead(status: number, ...rest: unknown[]) {
    this.status = status;
    this.headers = (rest.at(-1) ?? {}) as Record<string, unknown>;
    this.headersSent = true;
    this.log.push("head");
    return this;
  }
  flushHeaders() {
    this.log.push("flushHeaders");
  }
  write(chunk: Uint8Array) {
    this.log.push(`write:${new TextDecoder().decode(chunk)}`);
    return !this.full;
  }
  end(chunk?: Uint8Array) {
    this.log.push(chunk === undefined ? "end" : `end:${new TextDecoder().decode(chunk)}`);
    this.writableEnded = true;
    return this;
  }
  destroy() {
    this.destroyed = true;
    this.emit("close");
    return this;
  }
}

const asRes = (fake: FakeResponse) => fake as unknown as NodeResponseLike;

/** A body the test feeds chunk by chunk, counting how many chunks the writer pulled. */
function controlledBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: () => void pulls++,
    },
    { highWaterMark: 0 },
  );
  const encoder = new TextEncoder();
  return {
    stream,
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
    get pulls() {
      return pulls;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("sendWebResponse (the Express adapter's writer)", () => {
  it("flushes event-stream headers before the first event exists", async () => {
    const res = new FakeResponse();
    const body = controlledBody();
    const sending = sendWebResponse(asRes(res), new Response(body.stream, { headers: { "Content-Type": "text/event-stream" } }));
    await tick();
    expect(res.log).toEqual(["head", "flushHeaders"]);
    body.push("data: 1\n\n");
    await tick();
    expect(res.log).toEqual(["head", "flushHeaders", "write:data: 1\n\n"]);
    body.close();
    await sending;
    expect(res.log.at(-1)).toBe("end");
  });

  it("stops reading the body while the socket buffer is full, and resumes on drain", async () => {
    const res = new FakeResponse();
    const body = controlledBody();
    const sending = sendWebResponse(asRes(res), new Response(body.stream, { headers: { "Content-Type": "text/event-stream" } }));
    res.full = true;
    body.push("a");
    await tick();
    const pullsWhileFull = body.pulls;
    await tick();
    await tick();
    // Full buffer: the writer waits for drain instead of asking for the next chunk.
    expect(body.pulls).toBe(pullsWhileFull);
    expect(res.log.filter((l) => l.startsWith("write:"))).toEqual(["write:a"]);

    res.full = false;
    res.emit("drain");
    await tick();
    expect(body.pulls).toBeGreaterThan(pullsWhileFull);
    body.push("b");
    body.close();
    await sending;
    expect(res.log.filter((l) => l.startsWith("write:"))).toEqual(["write:a", "write:b"]);
  });

  it("cancels the body when the client goes away", async () => {
    const res = new FakeResponse();
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
    const sending = sendWebResponse(asRes(res), new Response(stream, { headers: { "Content-Type": "text/event-stream" } }));
    await tick();
    res.emit("close");
    await sending;
    expect(cancelled).toBe(true);
  });

  it("sends a body that arrives whole in one write with a Content-Length", async () => {
    const res = new FakeResponse();
    await sendWebResponse(asRes(res), Response.json({ ok: true }));
    expect(res.log).toEqual(["head", 'end:{"ok":true}']);
    expect(res.headers["content-length"]).toBe("11");
  });

  it("keeps several Set-Cookie headers apart", async () => {
    const res = new FakeResponse();
    const headers = new Headers();
    headers.append("Set-Cookie", "a=1");
    headers.append("Set-Cookie", "b=2");
    await sendWebResponse(asRes(res), new Response(null, { status: 204, headers }));
    expect(res.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
  });
});

describe("createCopilotNodeListener over keep-alive sockets", () => {
  let server: Server | undefined;
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((done) => (s.close(() => done()), s.closeAllConnections()));
  });

  async function start(listener: Parameters<typeof createServer>[1]): Promise<number> {
    server = createServer(listener!);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return (server!.address() as AddressInfo).port;
  }

  /** One socket for every request: a body left in it would block the next request. */
  function send(agent: Agent, port: number, method: string, path: string, body?: Buffer): Promise<{ status: number; body: string; socket: unknown }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method, path, agent, headers: body ? { "content-type": "application/json" } : {} }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, socket: req.socket }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  it("serves the next request on the same connection after an unread or oversized body", async () => {
    const runtime = new CopilotRuntime({ agents: { default: new DemoAgent() } });
    const port = await start(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", maxBodyBytes: 64 * 1024 }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Buffer.alloc(1024 * 1024, "x");
      const unread = await send(agent, port, "POST", "/api/copilotkit/nowhere", big);
      expect(unread.status).toBe(404);
      const tooLarge = await send(agent, port, "POST", "/api/copilotkit/agent/default/run", big);
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.body)).toMatchObject({ error: "payload_too_large" });
      const info = await send(agent, port, "GET", "/api/copilotkit/info");
      expect(info.status).toBe(200);
      expect(JSON.parse(info.body).agents.default.name).toBe("default");
    } finally {
      agent.destroy();
    }
  });

  it("answers a handler that throws with a JSON 500 and no stack trace", async () => {
    const port = await start(
      createCopilotNodeHandler(() => {
        throw new Error("secret internals at /srv/app.js:12");
      }),
    );
    const response = await fetch(`http://127.0.0.1:${port}/anything`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: "internal_error" });
    expect(text).not.toContain("secret internals");
  });
});
