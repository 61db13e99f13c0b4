/**
 * Starts a runtime (or any fetch handler) over real HTTP on a random loopback port, so tests
 * talk to it exactly as a browser or an AG-UI client would: sockets, chunked SSE, disconnects.
 *
 * @example
 * ```ts
 * let server: TestServer;
 * beforeAll(async () => {
 *   server = await startServer({ runtime: new CopilotRuntime({ agents: { default: new DemoAgent() } }) });
 * });
 * afterAll(() => server.close());
 * // fetch(`${server.runtimeUrl}/info`), new HttpAgent({ url: `${server.runtimeUrl}/agent/default/run` }), ...
 * ```
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createCopilotEndpoint, createCopilotEndpointSingleRoute, type CopilotEndpointOptions } from "../../src/adapters/hono.js";
import type { CopilotRuntime } from "../../src/runtime.js";

export interface TestServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  baseUrl: string;
  /** `baseUrl + basePath`: what a CopilotKit client takes as `runtimeUrl`. */
  runtimeUrl: string;
  /** Ends open connections (streams included) and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

export interface RuntimeServerOptions extends Partial<Omit<CopilotEndpointOptions, "runtime">> {
  runtime: CopilotRuntime;
  /** Default `/api/copilotkit`. */
  basePath?: string;
  /**
   * `"multi-route"` (default): `createCopilotEndpoint`, every route plus the envelope at
   * `POST basePath`. `"single-route"`: `createCopilotEndpointSingleRoute`, the envelope only.
   */
  mode?: "multi-route" | "single-route";
}

export interface FetchServerOptions {
  /** Any web-standard handler, e.g. a hand-written SSE responder for a negative control. */
  fetch: (request: Request) => Response | Promise<Response>;
  /** Only used to build `runtimeUrl`. Default `/api/copilotkit`. */
  basePath?: string;
}

export const DEFAULT_BASE_PATH = "/api/copilotkit";

/** Serves a runtime (through the Hono endpoint a user would mount) or a bare fetch handler. */
export async function startServer(options: RuntimeServerOptions | FetchServerOptions): Promise<TestServer> {
  const basePath = options.basePath ?? DEFAULT_BASE_PATH;
  let fetchHandler: (request: Request) => Response | Promise<Response>;
  if ("runtime" in options) {
    const { mode, ...endpointOptions } = options;
    const create = mode === "single-route" ? createCopilotEndpointSingleRoute : createCopilotEndpoint;
    const app = create({ ...endpointOptions, basePath });
    fetchHandler = (request) => app.fetch(request);
  } else {
    fetchHandler = options.fetch;
  }
  return listen(fetchHandler, basePath);
}

function listen(fetchHandler: (request: Request) => Response | Promise<Response>, basePath: string): Promise<TestServer> {
  return new Promise((resolve, reject) => {
    // Loopback only, port 0: the OS picks a free port, so parallel test files never collide.
    const server = serve({ fetch: fetchHandler, port: 0, hostname: "127.0.0.1" }) as Server;
    server.once("error", reject);
    server.once("listening", () => {
      const { port } = server.address() as AddressInfo;
      const baseUrl = `http://127.0.0.1:${port}`;
      let closing: Promise<void> | undefined;
      resolve({
        baseUrl,
        runtimeUrl: `${baseUrl}${basePath === "/" ? "" : basePath.replace(/\/$/, "")}`,
        close() {
          // An open SSE stream would keep `close()` waiting forever: cut every connection first.
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
