import type { IncomingMessage, ServerResponse } from "node:http";

export interface WebRequestOptions {
  /**
   * The body to send instead of the socket's, for when a framework already read the stream
   * (e.g. `express.json()`). `undefined` streams the request itself.
   */
  body?: Uint8Array | string | null;
  /** Replaces headers after they were copied (e.g. a rebuilt body's `content-type`); `null` deletes. */
  headerOverrides?: Record<string, string | null>;
  /** The path and query to put in the URL. Default `req.url` (Express: pass `req.originalUrl`). */
  path?: string;
}

const COLON = 58;

/**
 * Turns a Node `IncomingMessage` into a web `Request` for the Express adapter, which needs what
 * a generic bridge cannot know: the full URL (`req.originalUrl`) and a body a parser may have
 * consumed. (The plain Node adapter uses `@hono/node-server`'s lazier listener.) Headers are
 * copied once from `rawHeaders`, the body is streamed from the socket only when someone reads
 * it (an unread body is left for Node to discard), and the signal aborts when the client goes
 * away before the response has been sent (`res` `close` without `finish`).
 *
 * @example
 * ```ts
 * createServer(async (req, res) => {
 *   const request = toWebRequest(req, res);
 *   await sendWebResponse(res, await handler(request));
 * });
 * ```
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse, options: WebRequestOptions = {}): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    // HTTP/2 pseudo-headers (":path", ":authority") are not headers in the Fetch sense.
    if (raw[i].charCodeAt(0) !== COLON) headers.append(raw[i], raw[i + 1]);
  }
  if (options.headerOverrides !== undefined) {
    for (const [name, value] of Object.entries(options.headerOverrides)) {
      if (value === null) headers.delete(name);
      else headers.set(name, value);
    }
  }

  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });

  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal: controller.signal };
  if (method !== "GET" && method !== "HEAD") {
    if (options.body !== undefined) {
      init.body = options.body as BodyInit | null; // a Buffer is a Uint8Array over an ArrayBuffer
    } else if (req.headers["content-length"] !== "0") {
      init.body = streamBody(req, res);
      init.duplex = "half";
    }
  }
  return new Request(requestUrl(req, options.path), init);
}

function requestUrl(req: IncomingMessage, path = req.url ?? "/"): string {
  const encrypted = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  const host = req.headers.host ?? (req.headers[":authority"] as string | undefined) ?? "localhost";
  return `${encrypted ? "https" : "http"}://${host}${path.startsWith("/") ? path : `/${path}`}`;
}

/**
 * The request body as a byte stream with backpressure: the socket is paused whenever the
 * reader has not asked for more. Listeners are attached on the first read, so a body nobody
 * reads stays untouched and Node drains it when the response ends (keep-alive keeps working).
 */
function streamBody(req: IncomingMessage, res: ServerResponse): ReadableStream<Uint8Array> {
  let attached = false;
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (attached) {
          req.resume();
          return;
        }
        attached = true;
        req.on("data", (chunk: Buffer) => {
          if (cancelled) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once("end", () => cancelled || controller.close());
        req.once("error", (error) => cancelled || controller.error(error));
        // A body read only partly (a 413 cut it off, or the response ended first) is drained,
        // so the connection can serve its next request.
        res.once("finish", () => {
          if (!req.readableEnded) req.resume();
        });
        req.resume();
      },
      cancel() {
        cancelled = true;
        req.resume();
      },
    },
    { highWaterMark: 0 },
  );
}
