import type { OutgoingHttpHeaders, ServerResponse } from "node:http";

/** The part of `ServerResponse` the writer uses (Express's `res` is one). */
export type NodeResponseLike = Pick<
  ServerResponse,
  "writeHead" | "write" | "end" | "flushHeaders" | "once" | "off" | "destroy" | "destroyed" | "headersSent" | "writableEnded"
> & { flush?: () => void };

/**
 * Writes a web `Response` to a Node response (the Express adapter's writer). Event streams get
 * their headers flushed at once and every chunk written as it arrives (through `compression`'s
 * `flush()` when present, which would otherwise hold them); when
 * the socket's buffer is full the writer waits for `drain` before reading more, so a slow
 * client holds back the producer instead of growing memory. A short body that arrives whole
 * is sent in one write with a `Content-Length`. When the client leaves, the body is cancelled.
 *
 * @example
 * ```ts
 * await sendWebResponse(res, new Response("hello", { headers: { "Content-Type": "text/plain" } }));
 * ```
 */
export async function sendWebResponse(res: NodeResponseLike, response: Response): Promise<void> {
  const headers = nodeHeaders(response.headers);
  const body = response.body;
  if (body === null) {
    writeHead(res, response, headers);
    res.end();
    return;
  }

  const reader = body.getReader();
  let gone = false;
  const onClose = () => {
    gone = true;
    reader.cancel().catch(() => {});
  };
  res.once("close", onClose);
  try {
    const eventStream = (headers["content-type"] as string | undefined)?.startsWith("text/event-stream") === true;
    if (eventStream) {
      writeHead(res, response, headers);
      res.flushHeaders();
    } else {
      // Read ahead one chunk: a body that is complete after it goes out in a single write.
      const first = await reader.read();
      if (first.done) {
        writeHead(res, response, withLength(headers, 0, response.status));
        res.end();
        return;
      }
      const second = await reader.read();
      if (second.done) {
        writeHead(res, response, withLength(headers, first.value.byteLength, response.status));
        res.end(first.value);
        return;
      }
      writeHead(res, response, headers);
      if (!res.write(first.value)) await drained(res);
      if (!gone && !res.write(second.value)) await drained(res);
    }
    while (!gone) {
      const { done, value } = await reader.read();
      if (done) break;
      const ok = res.write(value);
      res.flush?.();
      if (!ok) await drained(res);
    }
    if (!gone) res.end();
  } catch {
    // The body failed mid-way: headers are out, so the only honest signal is a cut connection.
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal_error", message: "The response could not be produced." }));
    } else if (!res.writableEnded) {
      res.destroy();
    }
  } finally {
    res.off("close", onClose);
  }
}

function writeHead(res: NodeResponseLike, response: Response, headers: OutgoingHttpHeaders): void {
  // An empty statusText would become an empty reason phrase; Node fills in the standard one.
  if (response.statusText === "") res.writeHead(response.status, headers);
  else res.writeHead(response.status, response.statusText, headers);
}

/** Resolves when the socket can take more, or when it closed (the caller then stops). */
function drained(res: NodeResponseLike): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

/** Fetch headers as Node wants them; `set-cookie` stays a list. */
function nodeHeaders(headers: Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  headers.forEach((value, name) => {
    if (name === "set-cookie") return;
    out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  return out;
}

function withLength(headers: OutgoingHttpHeaders, length: number, status: number): OutgoingHttpHeaders {
  if (status === 204 || status === 304 || headers["content-length"] !== undefined || headers["transfer-encoding"] !== undefined) {
    return headers;
  }
  headers["content-length"] = String(length);
  return headers;
}
