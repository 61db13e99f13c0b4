/**
 * Express specifics the shared suite does not cover: falling through to the app's own routes,
 * every kind of body parser in front (including body-parser 1.x's "req.body = {} but the
 * stream is unread" case that hung CopilotKit), and flushing through `compression`.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createCopilotEndpointExpress, createCopilotEndpointSingleRouteExpress } from "../../src/adapters/express.js";
import { DemoAgent } from "../../src/agents/demo.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { userRunInput, SseReader } from "./support.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
    ),
  );
});

async function serve(app: express.Express): Promise<string> {
  const server = createServer(app as unknown as RequestListener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const runtime = () => new CopilotRuntime({ agents: { default: new DemoAgent({ wordDelayMs: 1 }) } });

async function replyText(response: Response): Promise<string> {
  const events = await new SseReader(response).rest();
  return events
    .filter((e) => e.type === "TEXT_MESSAGE_CONTENT")
    .map((e) => e.delta)
    .join("");
}

function postRun(base: string, threadId: string, text: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/api/copilotkit/agent/default/run`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(userRunInput(threadId, text)),
  });
}

describe("createCopilotEndpointExpress", () => {
  it("passes requests outside basePath on to the app's own routes", async () => {
    const app = express();
    app.use(createCopilotEndpointExpress({ runtime: runtime(), basePath: "/api/copilotkit" }));
    app.get("/health", (_req, res) => void res.send("ok"));
    app.get("/api/copilotkit-admin", (_req, res) => void res.send("admin"));
    const base = await serve(app);

    expect(await (await fetch(`${base}/health`)).text()).toBe("ok");
    expect(await (await fetch(`${base}/api/copilotkit-admin`)).text()).toBe("admin");
    expect((await fetch(`${base}/api/copilotkit/info`)).status).toBe(200);
  });

  it("streams the socket body when a parser set req.body but did not read (body-parser 1.x)", async () => {
    const app = express();
    app.use((req, _res, next) => {
      (req as { body?: unknown }).body = {}; // what body-parser 1.x does before it decides to skip
      next();
    });
    app.use(createCopilotEndpointExpress({ runtime: runtime(), basePath: "/api/copilotkit" }));
    const base = await serve(app);

    expect(await replyText(await postRun(base, "bp1", "unread stream"))).toContain('You said: "unread stream"');
  });

  it("rebuilds the body from express.text()", async () => {
    const app = express();
    app.use(express.text({ type: "*/*" }));
    app.use(createCopilotEndpointExpress({ runtime: runtime(), basePath: "/api/copilotkit" }));
    const base = await serve(app);

    expect(await replyText(await postRun(base, "text", "parsed as text"))).toContain('You said: "parsed as text"');
  });

  it("rebuilds a JSON body whose re-serialised length differs from the original", async () => {
    const app = express();
    app.use(express.json());
    app.use(createCopilotEndpointExpress({ runtime: runtime(), basePath: "/api/copilotkit" }));
    const base = await serve(app);
    // Pretty-printed with escapes: JSON.stringify(req.body) is shorter than the bytes sent.
    const body = JSON.stringify(userRunInput("pretty", "caf\u00e9 \u2713"), null, 4).replace("café", "caf\\u00e9");

    const response = await fetch(`${base}/api/copilotkit/agent/default/run`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(await replyText(response)).toContain('You said: "café ✓"');
  });

  it("flushes every event-stream write through compression's res.flush()", async () => {
    let flushes = 0;
    const app = express();
    app.use((_req, res, next) => {
      (res as unknown as { flush: () => void }).flush = () => void flushes++;
      next();
    });
    app.use(createCopilotEndpointExpress({ runtime: runtime(), basePath: "/api/copilotkit" }));
    const base = await serve(app);

    await replyText(await postRun(base, "flush", "hi"));
    expect(flushes).toBeGreaterThan(0);
  });

  it("defaults to permissive CORS, as CopilotKit's Express endpoint does", async () => {
    const app = express();
    app.use(createCopilotEndpointExpress({ runtime: runtime(), basePath: "/api/copilotkit" }));
    const base = await serve(app);

    const response = await fetch(`${base}/api/copilotkit/info`, { headers: { Origin: "http://anywhere.test" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("refuses credentials with a wildcard origin when the middleware is created", () => {
    expect(() => createCopilotEndpointExpress({ runtime: runtime(), basePath: "/api/copilotkit", cors: { origin: "*", credentials: true } })).toThrow(
      /explicit origins/,
    );
  });
});

describe("createCopilotEndpointSingleRouteExpress", () => {
  it("serves the envelope at POST basePath behind express.json(), and no REST routes", async () => {
    const app = express();
    app.use(express.json());
    app.use("/api", createCopilotEndpointSingleRouteExpress({ runtime: runtime(), basePath: "/copilotkit" }));
    const base = await serve(app);

    const info = await fetch(`${base}/api/copilotkit`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ method: "info" }),
    });
    expect(info.status).toBe(200);
    expect((await info.json()).agents.default.name).toBe("default");
    const run = await fetch(`${base}/api/copilotkit`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ method: "agent/run", params: { agentId: "default" }, body: userRunInput("single", "one route") }),
    });
    expect(await replyText(run)).toContain('You said: "one route"');
    expect((await fetch(`${base}/api/copilotkit/info`)).status).toBe(404);
  });
});
