import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { sendWebResponse } from "../adapters/node-response.js";
import { toWebRequest } from "../adapters/node-request.js";
import { PlatformHttpError, errorResponse } from "./http-json.js";
import { createPhoenixServer } from "./phoenix/index.js";
import type { PhoenixServer, SocketHandler } from "./phoenix/types.js";
import { type IntelligencePlatformOptions, type PlatformCore, createPlatformCore } from "./platform-core.js";

export type { IntelligencePlatformOptions } from "./platform-core.js";

/** The self-hosted CopilotKit Intelligence platform: REST at `/api/*`, Phoenix sockets at `/runner` and `/client`. */
export interface IntelligencePlatform {
  /** `/api/*` (REST), `/runner/longpoll` and `/client/longpoll` (Phoenix long-poll); JSON 404 for anything else. */
  fetch(request: Request): Promise<Response>;
  /** Takes a Node `upgrade` for `/runner/websocket` or `/client/websocket`; false when the path is not ours (the caller handles it). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Resolves once the store is migrated (requests wait for it on their own). */
  readonly ready: Promise<void>;
  /** The transport-independent parts (store, fan-out, finalizer), for tests and embedding. */
  readonly core: PlatformCore;
  /**
   * Drains: new runner joins are refused as `gateway_draining` (retryable), runner sockets close
   * with 1012 (CopilotKit's runner reconnects without counting errors), browser sockets with
   * 1001. Stops the lock sweep. Leaves the store open (it is the caller's).
   */
  close(): Promise<void>;
}

/**
 * Builds the platform. Point CopilotKit's runtime at it with
 * `new CopilotKitIntelligence({ apiUrl: "http://host:port", wsUrl: "ws://host:port", apiKey })`.
 * Starts migrating the store and the expired-lock sweep at once.
 *
 * @throws TypeError on invalid options.
 * @example
 * const platform = createIntelligencePlatform({ store: new MemoryIntelligenceStore(), apiKeys: ["cpk-1_secret"], tokenSecret: process.env.TOKEN_SECRET });
 * const server = createServer(async (req, res) => sendWebResponse(res, await platform.fetch(toWebRequest(req, res))));
 * server.on("upgrade", (req, socket, head) => { if (!platform.handleUpgrade(req, socket, head)) socket.destroy(); });
 */
export function createIntelligencePlatform(options: IntelligencePlatformOptions): IntelligencePlatform {
  const core = createPlatformCore(options);
  const ownsBus = options.bus === undefined;
  const { log } = core.deps;
  let draining = false;
  const ready = Promise.all([core.deps.store.migrate(), core.deps.bus.ready]).then(() => undefined);
  // A failed migration surfaces on every request; do not crash the process on an unhandled rejection.
  ready.catch((err: unknown) => log.error({ err }, "Intelligence platform: store migration failed"));

  const afterReady = <A>(handler: SocketHandler<A>, refuseJoins: boolean): SocketHandler<A> => ({
    async connect(info) {
      await ready;
      return handler.connect(info);
    },
    join(topic, payload, channel) {
      if (refuseJoins && draining) return { ok: false, response: { reason: "gateway_draining", retryable: true } };
      return handler.join(topic, payload, channel);
    },
  });
  const phoenixLogger = options.logger !== undefined ? { logger: log } : {};
  const runner: PhoenixServer = createPhoenixServer({ handler: afterReady(core.runnerSocket, true), ...phoenixLogger });
  const client: PhoenixServer = createPhoenixServer({ handler: afterReady(core.clientSocket, false), ...phoenixLogger });
  core.finalizer.start();

  return {
    core,
    ready,
    async fetch(request) {
      const { pathname } = new URL(request.url);
      try {
        if (pathname === "/runner/longpoll") return await runner.handleLongPoll(request);
        if (pathname === "/client/longpoll") return await client.handleLongPoll(request);
        if (pathname === "/api" || pathname.startsWith("/api/")) {
          await ready;
          return await core.rest(request);
        }
        return errorResponse(new PlatformHttpError(404, "not_found", `No such endpoint: ${pathname}`));
      } catch (err) {
        log.error({ err, path: pathname }, "Intelligence platform: request failed");
        return errorResponse(new PlatformHttpError(500, "internal_error", "The request failed; see the platform's logs"));
      }
    },
    handleUpgrade(request, socket, head) {
      const pathname = (request.url ?? "/").split("?")[0];
      if (pathname === "/runner/websocket") runner.handleUpgrade(request, socket, head);
      else if (pathname === "/client/websocket") client.handleUpgrade(request, socket, head);
      else return false;
      return true;
    },
    async close() {
      draining = true;
      core.finalizer.stop();
      await Promise.all([runner.close(1012, "gateway_draining"), client.close(1001, "going away")]);
      core.close();
      if (ownsBus) await core.deps.bus.close();
    },
  };
}

export interface ServeIntelligencePlatformOptions extends IntelligencePlatformOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** A running platform on a Node HTTP server. */
export interface ServedIntelligencePlatform {
  platform: IntelligencePlatform;
  server: Server;
  port: number;
  /** `apiUrl` for `CopilotKitIntelligence`, e.g. `http://127.0.0.1:4100`. */
  apiUrl: string;
  /** `wsUrl` for `CopilotKitIntelligence`, e.g. `ws://127.0.0.1:4100`. */
  wsUrl: string;
  /** Drains the platform and closes the server. */
  close(): Promise<void>;
}

/**
 * Starts the platform on a `node:http` server (REST, long-poll and WebSocket on one port) once
 * the store is migrated.
 *
 * @example
 * const served = await serveIntelligencePlatform({ port: 4100, store, apiKeys: [key], tokenSecret });
 * new CopilotKitIntelligence({ apiUrl: served.apiUrl, wsUrl: served.wsUrl, apiKey: key });
 */
export async function serveIntelligencePlatform(options: ServeIntelligencePlatformOptions): Promise<ServedIntelligencePlatform> {
  const { port = 0, host = "127.0.0.1", ...platformOptions } = options;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError("port must be an integer from 0 to 65535");
  if (typeof host !== "string") throw new TypeError("host must be a string");
  const platform = createIntelligencePlatform(platformOptions);
  await platform.ready;
  const server = createServer((req, res) => {
    void platform.fetch(toWebRequest(req, res)).then(
      (response) => sendWebResponse(res, response),
      () => res.destroy(),
    );
  });
  server.on("upgrade", (req, socket, head) => {
    if (!platform.handleUpgrade(req, socket, head)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const origin = `${host.includes(":") ? `[${host}]` : host}:${bound}`;
  return {
    platform,
    server,
    port: bound,
    apiUrl: `http://${origin}`,
    wsUrl: `ws://${origin}`,
    async close() {
      await platform.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
