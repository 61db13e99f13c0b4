// A small HTTP client for the benchmark: SSE runs over node:http (llhttp parses the chunked
// body in C, we parse the SSE frames), and a raw keep-alive socket client for /info that costs
// far less per request than node:http's client, so the server is what gets measured.
import http from "node:http";
import net from "node:net";
import { randomUUID } from "node:crypto";

export function runInput(threadId, forwardedProps = {}, runId = randomUUID()) {
  return {
    threadId,
    runId,
    state: {},
    messages: [{ id: `user-${runId}`, role: "user", content: "hello" }],
    tools: [],
    context: [],
    forwardedProps,
  };
}

/**
 * POSTs `body` to `url` and parses the SSE response. Resolves when the stream ends with
 * `{ status, events, types, t0, sentAt, firstEventAt, lastEventAt, endAt }` (times from
 * performance.now()). `onEvent(event, state)` sees each parsed event; `keepTypes` keeps the
 * type list; `parse: false` counts frames without JSON.parse (not used by the phases).
 */
export function postSse(url, body, { agent, onEvent, keepTypes = false, keepEvents = false, signal, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    const t0 = performance.now();
    const state = { status: 0, count: 0, types: keepTypes ? [] : undefined, events: keepEvents ? [] : undefined, t0, firstEventAt: undefined, lastEventAt: undefined, endAt: undefined, text: "" };
    const req = http.request(url, {
      method: "POST",
      agent,
      signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", "content-length": Buffer.byteLength(payload), ...headers },
    });
    req.on("response", (res) => {
      state.status = res.statusCode;
      state.headers = res.headers;
      state.res = res;
      const sse = (res.headers["content-type"] ?? "").startsWith("text/event-stream");
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk) => {
        if (!sse) {
          state.text += chunk;
          return;
        }
        buffer += chunk;
        let start = 0;
        for (;;) {
          const end = buffer.indexOf("\n\n", start);
          if (end === -1) break;
          const frame = buffer.slice(start, end);
          start = end + 2;
          const event = parseFrame(frame);
          if (event === undefined) continue;
          const now = performance.now();
          state.firstEventAt ??= now;
          state.lastEventAt = now;
          state.count++;
          state.types?.push(event.type);
          state.events?.push(event);
          onEvent?.(event, state);
        }
        buffer = start === 0 ? buffer : buffer.slice(start);
      });
      res.on("end", () => {
        state.endAt = performance.now();
        resolve(state);
      });
      res.on("error", (error) => {
        state.endAt = performance.now();
        state.error = error;
        resolve(state);
      });
    });
    // When the request has been handed to the socket: time to first event counts from here, so
    // the client's own work before sending (building 500 requests in a loop) is not charged.
    req.on("finish", () => {
      state.sentAt = performance.now();
    });
    req.on("error", (error) => {
      if (signal?.aborted) {
        state.endAt = performance.now();
        state.aborted = true;
        resolve(state);
      } else reject(error);
    });
    req.end(payload);
  });
}

function parseFrame(frame) {
  // Frames are `data: <json>` (ours may add an `id:` line); comments (`: ping`) are skipped.
  let data;
  let from = 0;
  while (from < frame.length) {
    let nl = frame.indexOf("\n", from);
    if (nl === -1) nl = frame.length;
    if (frame.startsWith("data:", from)) {
      const value = frame.slice(from + (frame.charCodeAt(from + 5) === 32 ? 6 : 5), nl);
      data = data === undefined ? value : `${data}\n${value}`;
    }
    from = nl + 1;
  }
  return data === undefined ? undefined : JSON.parse(data);
}

/**
 * GET `path` `total` times over `connections` keep-alive sockets, one request in flight per
 * socket. Returns `{ seconds, ok, failed }`. Handles Content-Length and chunked bodies.
 */
export function hammerGet({ host, port, path, connections, total }) {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n`);
  let started = 0;
  let ok = 0;
  let failed = 0;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let open = connections;
    const done = () => {
      if (--open === 0) resolve({ seconds: (performance.now() - t0) / 1000, ok, failed });
    };
    for (let c = 0; c < connections; c++) {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      let buffer = Buffer.alloc(0);
      const next = () => {
        if (started >= total) {
          socket.end();
          done();
          return;
        }
        started++;
        socket.write(request);
      };
      socket.on("connect", next);
      socket.on("error", reject);
      socket.on("data", (chunk) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const headerEnd = buffer.indexOf("\r\n\r\n");
          if (headerEnd === -1) return;
          const head = buffer.toString("latin1", 0, headerEnd);
          const status = Number(head.slice(9, 12));
          const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          let end;
          if (lengthMatch) {
            end = headerEnd + 4 + Number(lengthMatch[1]);
            if (buffer.length < end) return;
          } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
            const terminator = buffer.indexOf("\r\n0\r\n\r\n", headerEnd);
            if (terminator === -1) {
              if (buffer.indexOf("0\r\n\r\n", headerEnd + 4) !== headerEnd + 4) return;
              end = headerEnd + 9;
            } else end = terminator + 7;
          } else {
            reject(new Error(`response without a length: ${head}`));
            return;
          }
          if (status === 200) ok++;
          else failed++;
          buffer = buffer.subarray(end);
          next();
        }
      });
    }
  });
}
