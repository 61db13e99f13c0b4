/**
 * HTTP requests that each open a new TCP connection (no keep-alive pool), as a browser tab or a
 * load balancer without connection reuse would: behind `serve --workers N` (Node's cluster hands
 * each new connection to the next worker) or a round-robin proxy, consecutive requests then
 * reach different processes. The answer is a web `Response`, so SSE helpers read it as usual.
 */
import { request } from "node:http";
import { Readable } from "node:stream";

/**
 * `fetch`'s shape over `node:http` with `agent: false`.
 *
 * @example
 * ```ts
 * const response = await fetchFresh(`${url}/agent/default/connect`, { method: "POST", body: JSON.stringify(input) });
 * ```
 */
export function fetchFresh(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "GET", headers: { "content-type": "application/json", ...init.headers }, agent: false }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      const status = res.statusCode ?? 500;
      const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, headers }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** `fetchFresh` for a JSON POST. */
export function postFresh(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetchFresh(url, { method: "POST", headers, body: JSON.stringify(body) });
}
