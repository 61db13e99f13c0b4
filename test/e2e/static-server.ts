/**
 * A tiny static file server for a built single-page app, on a random loopback port: what a
 * CDN or `vite preview` would do, without another process.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { sendWebResponse } from "../../src/adapters/node-response.js";
import { toWebRequest } from "../../src/adapters/node-request.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

/** A fetch handler served beside the files under a path prefix (as an app's own API route would be). */
export interface MountedHandler {
  /** e.g. `/api/copilotkit`: requests for it and below go to `fetch`, everything else is a file. */
  prefix: string;
  fetch: (request: Request) => Promise<Response>;
}

export interface StaticServer {
  /** `http://<host>:<port>`, no trailing slash. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves `root` at `http://<host>:<port>/`; unknown paths get `index.html` (SPA fallback).
 * `host` is the name put in `origin` (the socket always listens on 127.0.0.1), so two servers
 * can be two different origins for the browser: `localhost` and `127.0.0.1`. With `mount`, one
 * path prefix is answered by a fetch handler instead (the page and its runtime on one origin).
 */
export async function startStaticServer(root: string, host = "127.0.0.1", mount?: MountedHandler): Promise<StaticServer> {
  const server: Server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (mount !== undefined && (pathname === mount.prefix || pathname.startsWith(`${mount.prefix}/`))) {
      try {
        await sendWebResponse(res, await mount.fetch(toWebRequest(req, res)));
      } catch {
        res.destroy();
      }
      return;
    }
    let file = normalize(join(root, pathname));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(403).end();
      return;
    }
    let info = await stat(file).catch(() => undefined);
    if (info === undefined || info.isDirectory()) {
      file = join(root, "index.html");
      info = await stat(file);
    }
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": info.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
