/**
 * The Node adapter's native event-stream path: the sink that writes frames straight to a
 * `ServerResponse` (headers with the first frame, `drain` backpressure, cleanup on `close`),
 * the body reader that skips the web `Request`, and the shared heartbeat timer.
 */
import { EventEmitter } from "node:events";
import { createServer, request as httpRequest, type ServerResponse } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { Observable, Subject } from "rxjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import { NodeSseSink, RawHeaders } from "../../src/adapters/node-sse.js";
import type { AgentEvent } from "../../src/events/types.js";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import { coalesceWindowMs, createSseStream, heartbeatWheel } from "../../src/http/sse.js";
import { setLogger } from "../../src/logger.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { AgentRecorder, ScriptedAgent, textReply } from "../helpers/agents.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

/** A response whose `write()` reports a full socket buffer until the test emits `drain`. */
class FakeResponse extends EventEmitter {
  log: string[] = [];
  full = false;
  headersSent = false;
  writableEnded = false;
  destroyed = false;

  writeHead(status: number, headers: Record<string, unknown>) {
    this.log.push(`head:${status}:${Object.keys(headers).join(",")}`);
    return this;
  }
  flushHeaders() {
    this.headersSent = true;
    this.log.push("flushHeaders");
  }
  write(chunk: string) {
    this.headersSent = true;
    this.log.push(`write:${chunk}`);
    return !this.full;
  }
  end(chunk?: string) {
    this.log.push(chunk === undefined ? "end" : `end:${chunk}`);
    this.writableEnded = true;
    return this;
  }
}

const frame = (n: number) => `data: {"type":"CUSTOM","name":"n","value":${n}}\n\n`;
const custom = (n: number): AgentEvent => ({ type: "CUSTOM", name: "n", value: n });
const microtasks = () => new Promise((resolve) => setImmediate(resolve));
const HEADERS = { "content-type": "text/event-stream" };

function startSink(source: Subject<AgentEvent>, options: { maxBufferedBytes?: number; onClose?: () => void } = {}) {
  const res = new FakeResponse();
  new NodeSseSink(res as unknown as ServerResponse, { source, options: { coalesceMs: 0, ...options } }).start(200, HEADERS);
  return res;
}

describe("NodeSseSink", () => {
  it("sends the headers with the first frame when one is waiting, in one write", async () => {
    const source = new Subject<AgentEvent>();
    const res = new FakeResponse();
    // A source that has an event ready at subscription, like a run that already started.
    const ready = new Observable<AgentEvent>((subscriber) => {
      subscriber.next(custom(0));
      return source.subscribe(subscriber);
    });
    new NodeSseSink(res as unknown as ServerResponse, { source: ready, options: {} }).start(200, HEADERS);
    await microtasks();
    expect(res.log).toEqual(["head:200:content-type", `write:${frame(0)}`]);
    source.complete();
    expect(res.log.at(-1)).toBe("end");
  });

  it("flushes the headers at once when no frame is waiting", () => {
    const source = new Subject<AgentEvent>();
    const res = startSink(source);
    expect(res.log).toEqual(["head:200:content-type", "flushHeaders"]);
    source.complete();
  });

  it("holds frames while the socket buffer is full and sends them together on drain", async () => {
    const source = new Subject<AgentEvent>();
    const res = startSink(source);
    res.full = true;
    source.next(custom(1));
    await microtasks();
    expect(res.log.at(-1)).toBe(`write:${frame(1)}`);
    const writes = res.log.length;
    for (let i = 2; i <= 4; i++) source.next(custom(i));
    await microtasks();
    expect(res.log.length).toBe(writes); // nothing written until drain
    res.full = false;
    res.emit("drain");
    await microtasks();
    expect(res.log.at(-1)).toBe(`write:${frame(2)}${frame(3)}${frame(4)}`);
    source.complete();
    expect(res.log.at(-1)).toBe("end");
  });

  it("drops a reader that stays behind past maxBufferedBytes instead of buffering without bound", async () => {
    const source = new Subject<AgentEvent>();
    const res = startSink(source, { maxBufferedBytes: 10_000 });
    res.full = true;
    source.next(custom(0));
    await microtasks();
    for (let i = 0; i < 1000; i++) source.next({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "x".repeat(100) });
    expect(source.observed).toBe(false);
    await microtasks();
    expect(res.writableEnded).toBe(true);
  });

  it("sends the last frames with the end of the body", async () => {
    const source = new Subject<AgentEvent>();
    const res = startSink(source);
    source.next(custom(1));
    source.next(custom(2));
    source.complete();
    expect(res.log.at(-1)).toBe(`end:${frame(1)}${frame(2)}`);
  });

  it("unsubscribes and reports the end when the client goes away", () => {
    const source = new Subject<AgentEvent>();
    const onClose = vi.fn();
    const res = startSink(source, { onClose });
    expect(source.observed).toBe(true);
    res.destroyed = true;
    res.emit("close");
    expect(source.observed).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(res.listenerCount("close")).toBe(0);
    expect(res.listenerCount("drain")).toBe(0);
  });
});

describe("shared heartbeat", () => {
  it("pings every quiet stream from one timer, whatever the number of streams", async () => {
    vi.useFakeTimers();
    try {
      const sources = [new Subject<AgentEvent>(), new Subject<AgentEvent>(), new Subject<AgentEvent>()];
      const readers = sources.map((source) => createSseStream(source, { heartbeatMs: 800 }).getReader());
      const reads = readers.map((reader) => reader.read());
      await vi.advanceTimersByTimeAsync(0);
      expect(heartbeatWheel(800).size).toBe(3);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(800);
      for (const read of reads) expect(new TextDecoder().decode((await read).value)).toBe(": ping\n\n");
      for (const source of sources) source.complete();
      expect(heartbeatWheel(800).size).toBe(0);
      expect(vi.getTimerCount()).toBe(0); // the timer stops with the last stream
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not ping a stream that wrote within the period", async () => {
    vi.useFakeTimers();
    try {
      const source = new Subject<AgentEvent>();
      const reader = createSseStream(source, { heartbeatMs: 400, coalesceMs: 0 }).getReader();
      await vi.advanceTimersByTimeAsync(300);
      source.next(custom(1));
      expect(new TextDecoder().decode((await reader.read()).value)).toBe(frame(1));
      const next = reader.read();
      await vi.advanceTimersByTimeAsync(300); // 600 ms since start, 300 since the frame
      let settled = false;
      void next.then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(200); // a full period (+ at most an eighth) after the frame
      expect(new TextDecoder().decode((await next).value)).toBe(": ping\n\n");
      source.complete();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("createCopilotNodeListener native streaming", () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  /** An agent that emits RUN_STARTED, then one event every `everyMs` until unsubscribed. */
  function endlessAgent(state: { unsubscribed: number }) {
    const agent = {
      clone: () => agent,
      run: (input: { threadId: string; runId: string }) =>
        new Observable<AgentEvent>((subscriber) => {
          subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
          subscriber.next({ type: "TEXT_MESSAGE_START", messageId: "m", role: "assistant" });
          const timer = setInterval(() => subscriber.next({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "x".repeat(4000) }), 1);
          return () => {
            clearInterval(timer);
            state.unsubscribed++;
          };
        }),
    };
    return agent;
  }

  it("keeps the server's memory bounded for a client that stops reading, and lets go of the response when it leaves", async () => {
    const state = { unsubscribed: 0 };
    const runtime = new CopilotRuntime({ agents: { endless: endlessAgent(state) as never }, runner: new InMemoryAgentRunner({ busyThread: "interrupt" }) });
    const server = createServer(createCopilotNodeListener({ runtime, basePath: "/api" }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const body = JSON.stringify({ threadId: "t", runId: "r", messages: [], tools: [], context: [], state: {}, forwardedProps: {} });
    let serverRes: ServerResponse | undefined;
    server.prependListener("request", (_req, res) => (serverRes = res));
    const req = httpRequest({ port, host: "127.0.0.1", method: "POST", path: "/api/agent/endless/run", headers: { "content-type": "application/json" } });
    req.end(body);
    const res = await new Promise<import("node:http").IncomingMessage>((resolve) => req.once("response", resolve));
    expect(res.headers["content-type"]).toBe("text/event-stream");
    res.pause(); // the client stops reading
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The socket buffers fill up, then the writer holds: what Node buffers stays near one chunk.
    expect(serverRes!.writableLength).toBeLessThan(256 * 1024);
    res.destroy();
    await vi.waitFor(() => expect(serverRes!.destroyed).toBe(true));
    await vi.waitFor(() => expect(serverRes!.listenerCount("drain")).toBe(0));
  });
});

describe("the Node adapter's load probe", () => {
  it("stretches event streams' coalescing window while the event loop is saturated", () => {
    createCopilotNodeListener({ runtime: new CopilotRuntime({ agents: {} }), basePath: "/api" });
    // Sample once to start a fresh interval, keep the loop busy, then sample again.
    const far = Date.now() + 1_000_000;
    coalesceWindowMs(4, far);
    const until = Date.now() + 80;
    while (Date.now() < until) {
      // busy: the loop never idles during this interval
    }
    expect(coalesceWindowMs(4, far + 1_000)).toBeGreaterThan(20);
  });
});

describe("the Node adapter's header forwarding", () => {
  it("forwards the same headers as the web path, read from the raw list: repeats joined, spaces trimmed, denied ones left out", async () => {
    const recorder = new AgentRecorder();
    const rawRead = vi.spyOn(RawHeaders.prototype, "forEach");
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ recorder, script: textReply("hi") }) } });
    const server = createServer(createCopilotNodeListener({ runtime, basePath: "/api" }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const body = (threadId: string) => JSON.stringify({ threadId, runId: `${threadId}-run`, messages: [], tools: [], context: [], state: {}, forwardedProps: {} });
    const sent = [
      ["Authorization", " Bearer t\t"],
      ["X-Tenant", "a"],
      ["x-tenant", "b"],
      ["X-Forwarded-For", "1.2.3.4"],
      ["X-Request-Id", "r1"],
      ["Cookie", "c=1"],
    ];
    try {
      // A raw request, so the header list reaches the server exactly as written.
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        let text = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk) => {
          text += chunk;
          if (text.includes("RUN_FINISHED")) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.on("error", reject);
        const payload = body("raw-thread");
        socket.write(
          `POST /api/agent/default/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n` +
            sent.map(([name, value]) => `${name}:${value}\r\n`).join("") +
            `\r\n${payload}`,
        );
      });
      expect(raw).toContain("RUN_FINISHED");
      // The same headers through the web-standard handler (a `Headers` behind the request).
      const headers = new Headers({ "content-type": "application/json" });
      for (const [name, value] of sent) headers.append(name, value);
      const web = await createCopilotRuntimeHandler({ runtime, basePath: "/api" })(
        new Request("http://localhost/api/agent/default/run", { method: "POST", headers, body: body("web-thread") }),
      );
      await web.text();

      const [viaNode, viaWeb] = recorder.runs.map((run) => run.headers);
      expect(viaNode).toEqual({ authorization: "Bearer t", "x-tenant": "a, b" });
      expect(viaNode).toEqual(viaWeb);
      // The Node request's headers were read from its raw list.
      expect(rawRead).toHaveBeenCalledTimes(1);
    } finally {
      rawRead.mockRestore();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the Node adapter's native event streams and afterRequestMiddleware", () => {
  it("hands the hook the headers the client got, CORS included", async () => {
    const seen: Headers[] = [];
    const runtime = new CopilotRuntime({
      agents: { default: new ScriptedAgent({ script: textReply("hi") }) },
      afterRequestMiddleware: ({ response }) => {
        seen.push(response.headers);
      },
    });
    const server = createServer(createCopilotNodeListener({ runtime, basePath: "/api", cors: true }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "http://app.test" },
        body: JSON.stringify({ threadId: "t-after", runId: "r-after", messages: [], tools: [], context: [], state: {}, forwardedProps: {} }),
      });
      expect(await response.text()).toContain("RUN_FINISHED");
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      for (const headers of [response.headers, seen[0]]) {
        expect(headers.get("content-type")).toBe("text/event-stream");
        expect(headers.get("access-control-allow-origin")).toBe("*");
        expect(headers.get("access-control-expose-headers")).toBe("Content-Type");
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
