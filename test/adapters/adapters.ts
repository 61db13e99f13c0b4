/**
 * Every way to mount the runtime, each started the way a user would, all answering at the same
 * public path (`/api/copilotkit`), so one suite can run unchanged against each.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { createCopilotEndpointExpress } from "../../src/adapters/express.js";
import { createCopilotEndpoint } from "../../src/adapters/hono.js";
import { createCopilotNextHandlers } from "../../src/adapters/next.js";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import type { CopilotCorsConfig } from "../../src/http/cors.js";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import type { CopilotRuntime } from "../../src/runtime.js";

export const PUBLIC_BASE = "/api/copilotkit";

export interface MountOptions {
  runtime: CopilotRuntime;
  cors: CopilotCorsConfig;
}

export interface Mounted {
  /** Sends a request for `path` (absolute, e.g. `/api/copilotkit/info`) through the adapter. */
  send(path: string, init?: RequestInit): Promise<Response>;
  /** True when requests cross a real socket (client disconnects are then real). */
  overHttp: boolean;
  close(): Promise<void>;
}

export interface AdapterCase {
  name: string;
  mount(options: MountOptions): Promise<Mounted>;
}

/** Calls a fetch handler in-process with real `Request` objects. */
function direct(handler: (request: Request) => Promise<Response>): Mounted {
  return {
    overHttp: false,
    send: (path, init) => handler(new Request(`http://localhost${path}`, init)),
    close: async () => {},
  };
}

/** Listens on a random loopback port. */
function listen(server: Server): Promise<Mounted> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(listening(server)));
  });
}

function listenHono(app: Hono): Promise<Mounted> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(listening(server as Server)));
  });
}

/** A listening server as a `Mounted`; `close()` cuts open streams first so it cannot hang. */
function listening(server: Server): Mounted {
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    overHttp: true,
    send: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init),
    close() {
      closing ??= new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function expressServer(setup: (app: express.Express) => void): Promise<Mounted> {
  const app = express();
  setup(app);
  return listen(createServer(app as unknown as RequestListener));
}

export const ADAPTERS: AdapterCase[] = [
  {
    name: "fetch handler (direct)",
    mount: async ({ runtime, cors }) => direct(createCopilotRuntimeHandler({ runtime, basePath: PUBLIC_BASE, cors })),
  },
  {
    name: "Hono (createCopilotEndpoint)",
    mount: ({ runtime, cors }) => listenHono(createCopilotEndpoint({ runtime, basePath: PUBLIC_BASE, cors })),
  },
  {
    name: "Hono, mounted with app.route('/api', ...)",
    mount: ({ runtime, cors }) => {
      const app = new Hono();
      app.get("/health", (c) => c.text("ok"));
      app.route("/api", createCopilotEndpoint({ runtime, basePath: "/copilotkit", cors }));
      return listenHono(app);
    },
  },
  {
    name: "Express (no body parser)",
    mount: ({ runtime, cors }) => expressServer((app) => app.use(createCopilotEndpointExpress({ runtime, basePath: PUBLIC_BASE, cors }))),
  },
  {
    name: "Express behind express.json(), mounted with app.use('/api', ...)",
    mount: ({ runtime, cors }) =>
      expressServer((app) => {
        app.use(express.json());
        app.use("/api", createCopilotEndpointExpress({ runtime, basePath: "/copilotkit", cors }));
      }),
  },
  {
    name: "Express behind express.raw({ type: '*/*' })",
    mount: ({ runtime, cors }) =>
      expressServer((app) => {
        app.use(express.raw({ type: "*/*" }));
        app.use(createCopilotEndpointExpress({ runtime, basePath: PUBLIC_BASE, cors }));
      }),
  },
  {
    name: "Node http (createCopilotNodeListener)",
    mount: ({ runtime, cors }) => listen(createServer(createCopilotNodeListener({ runtime, basePath: PUBLIC_BASE, cors }))),
  },
  {
    name: "Next.js App Router (createCopilotNextHandlers)",
    mount: async ({ runtime, cors }) => {
      const route = createCopilotNextHandlers({ runtime, basePath: PUBLIC_BASE, cors });
      // Next.js calls the export named after the method; it answers 405 itself for others.
      return direct(async (request) => {
        const handler = (route as unknown as Record<string, ((request: Request) => Promise<Response>) | undefined>)[request.method];
        return handler ? handler(request) : new Response(null, { status: 405 });
      });
    },
  },
];
