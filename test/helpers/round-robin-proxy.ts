/**
 * A load balancer for multi-instance tests: each request goes to the next upstream in turn (no
 * stickiness), request and response bodies streamed through (event streams included). The
 * response says where it went in `X-Upstream` (the upstream's index).
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`: append the upstreams' paths. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Starts the proxy in front of `upstreams` (origins such as `http://127.0.0.1:4001`).
 *
 * @example
 * ```ts
 * const proxy = await startRoundRobinProxy([a.origin, b.origin, c.origin]);
 * await fetch(`${proxy.origin}/api/copilotkit/info`); // a, then b, then c, then a...
 * ```
 */
export async function startRoundRobinProxy(upstreams: string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const index = next++ % upstreams.length;
    const target = new URL(req.url ?? "/", upstreams[index]);
    const forwarded = request(target, { method: req.method, headers: { ...req.headers, host: target.host }, agent: false }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, { ...upstream.headers, "x-upstream": String(index) });
      upstream.pipe(res);
    });
    forwarded.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "bad_gateway", message: "the upstream failed" }));
    });
    // A client that goes away (a cancelled stream) closes its upstream request too.
    res.on("close", () => forwarded.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
