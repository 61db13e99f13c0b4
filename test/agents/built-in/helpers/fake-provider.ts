import { afterAll, beforeAll, beforeEach } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One server-sent event: `event:` line (optional) and a JSON (or raw string) `data:` line. */
export interface SseFrame {
  event?: string;
  data: unknown;
}

/** What the fake answers to one request. */
export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** A JSON body (error responses). */
  json?: unknown;
  /** An SSE stream. */
  sse?: SseFrame[];
  /** Pause between SSE frames. */
  frameDelayMs?: number;
  /** After the frames, keep the response open until the client goes away. */
  hang?: boolean;
  /** After the frames, destroy the connection without ending the response (a cut stream). */
  cut?: boolean;
}

/** A request the fake received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: any;
  /** True when the client closed the connection before the response was complete. */
  aborted: boolean;
  /** Resolves when the response ends or the connection closes. */
  closed: Promise<void>;
}

export interface FakeProvider {
  /** Base URL, e.g. `http://127.0.0.1:1234/v1`. */
  url: string;
  requests: RecordedRequest[];
  enqueue(...responses: ScriptedResponse[]): void;
  /** How many scripted responses have not been requested. */
  pending(): number;
  /** Forgets recorded requests and unplayed scripts (call between tests). */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local HTTP server that plays scripted provider responses in order, whatever the path, and
 * records each request and whether the client aborted it. Only listens on 127.0.0.1.
 */
export async function startFakeProvider(): Promise<FakeProvider> {
  const queue: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let resolveClosed!: () => void;
      const record: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: raw ? safeJson(raw) : undefined,
        aborted: false,
        closed: new Promise<void>((resolve) => (resolveClosed = resolve)),
      };
      requests.push(record);
      res.on("close", () => {
        if (!res.writableFinished) record.aborted = true;
        resolveClosed();
      });
      void respond(res, queue.shift() ?? { status: 500, json: { error: { message: "no scripted response left" } } });
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...responses) => queue.push(...responses),
    pending: () => queue.length,
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function respond(res: ServerResponse, script: ScriptedResponse): Promise<void> {
  const status = script.status ?? 200;
  if (!script.sse) {
    res.writeHead(status, { "content-type": "application/json", ...script.headers });
    res.end(JSON.stringify(script.json ?? {}));
    return;
  }
  res.writeHead(status, { "content-type": "text/event-stream", "cache-control": "no-cache", ...script.headers });
  for (const frame of script.sse) {
    if (res.destroyed) return;
    const data = typeof frame.data === "string" ? frame.data : JSON.stringify(frame.data);
    // wait until the frame is handed to the socket, so a cut below happens after the client got it
    await new Promise<void>((resolve) => res.write(`${frame.event ? `event: ${frame.event}\n` : ""}data: ${data}\n\n`, () => resolve()));
    if (script.frameDelayMs) await sleep(script.frameDelayMs);
  }
  if (script.hang) return; // left open; the client's abort closes it
  if (script.cut) {
    res.socket?.destroy(); // no terminating chunk: the client sees the body end abruptly
    return;
  }
  res.end();
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts a fake provider for the current test file (closed after it, reset before each test)
 * and returns a handle that reads through to it.
 */
export function useFakeProvider(): FakeProvider {
  let current: FakeProvider | undefined;
  beforeAll(async () => {
    current = await startFakeProvider();
  });
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(() => {
    current?.reset();
  });
  const live = (): FakeProvider => {
    if (current === undefined) throw new Error("the fake provider starts in beforeAll; use it inside tests");
    return current;
  };
  return {
    get url() {
      return live().url;
    },
    get requests() {
      return live().requests;
    },
    enqueue: (...responses) => live().enqueue(...responses),
    pending: () => live().pending(),
    reset: () => live().reset(),
    close: () => live().close(),
  };
}
