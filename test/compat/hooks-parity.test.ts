/**
 * `hooks` ({ onRequest, onBeforeHandler, onResponse, onError }) and the request middleware,
 * side by side with `@copilotkit/runtime@1.75`: the same scenario against its
 * `createCopilotRuntimeHandler` and ours must call the same hooks in the same order with the
 * same route info, and answer with the same status, body and CORS headers.
 */
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { AgentRecorder, ScriptedAgent, textReply } from "../helpers/agents.js";
import { loadRuntimes, runBody, sseEventTypes, type RuntimeImpl } from "../helpers/runtimes.js";

const BASE = "/api/copilotkit";
const ORIGIN = "http://app.test";

type Call = [string, ...unknown[]];

interface Setup {
  hooks?: Record<string, unknown>;
  cors?: boolean;
  mode?: "multi-route" | "single-route";
  basePath?: string;
  before?: (ctx: { request: Request; path: string }) => unknown;
  recorder?: AgentRecorder;
}

/** A runtime + fetch handler whose hooks and middleware write what they saw to `calls`. */
function build(impl: RuntimeImpl, setup: Setup = {}) {
  const calls: Call[] = [];
  const recorder = setup.recorder ?? new AgentRecorder();
  const runtime = new impl.CopilotRuntime({
    agents: { default: new ScriptedAgent({ script: textReply("Hello there"), recorder }) },
    beforeRequestMiddleware: (ctx: { request: Request; path: string }) => {
      calls.push(["before", ctx.path]);
      return setup.before?.(ctx);
    },
    afterRequestMiddleware: (ctx: { response: Response; path: string; messages?: unknown[]; threadId?: string; runId?: string }) => {
      calls.push(["after", ctx.path, ctx.response.status, ctx.messages?.length, ctx.threadId, ctx.runId]);
    },
  });
  const recording = {
    onRequest: (ctx: { request: Request; path: string }) => {
      calls.push(["onRequest", ctx.path, ctx.request.method]);
    },
    onBeforeHandler: (ctx: { route: unknown; path: string }) => {
      calls.push(["onBeforeHandler", ctx.route, ctx.path]);
    },
    onResponse: (ctx: { route: unknown; response: Response }) => {
      calls.push(["onResponse", ctx.route, ctx.response.status, mediaType(ctx.response), ctx.response.body !== null]);
    },
    onError: (ctx: { error: unknown; route: unknown }) => {
      calls.push(["onError", (ctx.error as Error).message, ctx.route]);
    },
  };
  // A scenario's own hook runs after the recording one, so its throw or return is what counts.
  const hooks: Record<string, (ctx: any) => unknown> = {};
  for (const name of Object.keys(recording) as (keyof typeof recording)[]) {
    const own = setup.hooks?.[name] as ((ctx: any) => unknown) | undefined;
    hooks[name] = (ctx) => {
      recording[name](ctx);
      return own?.(ctx);
    };
  }
  const handler = impl.createCopilotRuntimeHandler({
    runtime,
    basePath: "basePath" in setup ? setup.basePath : BASE,
    mode: setup.mode,
    cors: setup.cors ?? true,
    hooks,
  });
  const send = (path: string, init?: RequestInit) => handler(new Request(`http://localhost${path}`, init));
  return { calls, recorder, send };
}

function mediaType(response: Response): string | undefined {
  return response.headers.get("content-type")?.split(";")[0];
}

const runInit = (headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", origin: ORIGIN, ...headers },
  body: runBody("t-hooks", "r-hooks"),
});

/** Runs a scenario against both runtimes and returns what each saw, CopilotKit's first. */
async function both<T>(scenario: (impl: RuntimeImpl) => Promise<T>): Promise<[T, T]> {
  const [theirs, ours] = impls;
  return [await scenario(theirs), await scenario(ours)];
}

/** What the client saw, in the parts the contract fixes. */
async function wire(response: Response) {
  const text = await response.text();
  return {
    status: response.status,
    type: mediaType(response),
    allowOrigin: response.headers.get("access-control-allow-origin"),
    body: mediaType(response) === "text/event-stream" ? sseEventTypes(text) : text,
  };
}

/** Lets the after middleware (which never delays the client) run. */
async function settle(calls: Call[], expectAfter: boolean) {
  if (expectAfter) await vi.waitFor(() => expect(calls.some((c) => c[0] === "after")).toBe(true));
  else await new Promise((resolve) => setTimeout(resolve, 50));
}

let impls: RuntimeImpl[];
beforeAll(async () => {
  impls = await loadRuntimes();
});

describe("hooks: order and arguments, as in CopilotKit 1.75", () => {
  it("GET /info: onRequest, before middleware, onBeforeHandler, onResponse, after middleware", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl);
      const response = await send(`${BASE}/info`, { headers: { origin: ORIGIN } });
      expect(response.status).toBe(200);
      await response.text();
      await settle(calls, true);
      return calls;
    });
    expect(theirs).toEqual([
      ["onRequest", `${BASE}/info`, "GET"],
      ["before", `${BASE}/info`],
      ["onBeforeHandler", { method: "info" }, `${BASE}/info`],
      ["onResponse", { method: "info" }, 200, "application/json", true],
      // A JSON answer: no messages, no ids.
      ["after", `${BASE}/info`, 200, 0, undefined, undefined],
    ]);
    expect(ours).toEqual(theirs);
  });

  it("a run: onResponse gets the event stream itself, the after middleware the run's messages and ids", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl);
      const seen = await wire(await send(`${BASE}/agent/default/run`, runInit()));
      await settle(calls, true);
      return { seen, calls };
    });
    expect(theirs.calls).toEqual([
      ["onRequest", `${BASE}/agent/default/run`, "POST"],
      ["before", `${BASE}/agent/default/run`],
      ["onBeforeHandler", { method: "agent/run", agentId: "default" }, `${BASE}/agent/default/run`],
      ["onResponse", { method: "agent/run", agentId: "default" }, 200, "text/event-stream", true],
      ["after", `${BASE}/agent/default/run`, 200, 1, "t-hooks", "r-hooks"],
    ]);
    expect(ours.calls).toEqual(theirs.calls);
    expect(ours.seen).toEqual(theirs.seen);
    expect(theirs.seen.body).toContain("RUN_FINISHED");
  });

  it("stop: the route carries the agent and thread ids", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl);
      await (await send(`${BASE}/agent/default/stop/t-x`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).text();
      return calls.find((c) => c[0] === "onBeforeHandler");
    });
    expect(theirs).toEqual(["onBeforeHandler", { method: "agent/stop", agentId: "default", threadId: "t-x" }, `${BASE}/agent/default/stop/t-x`]);
    expect(ours).toEqual(theirs);
  });
});

describe("hooks: short-circuits", () => {
  it("onRequest throwing a 401 Response: sent as is with CORS headers, seen by onResponse, nothing else runs", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send, recorder } = build(impl, {
        hooks: {
          onRequest: ({ request }: { request: Request }) => {
            if (request.headers.get("authorization") !== "Bearer good") throw new Response("Unauthorized", { status: 401 });
          },
        },
      });
      const denied = await wire(await send(`${BASE}/agent/default/run`, runInit()));
      await settle(calls, false);
      const deniedCalls = [...calls];
      calls.length = 0;
      const allowed = await wire(await send(`${BASE}/agent/default/run`, runInit({ authorization: "Bearer good" })));
      return { denied, deniedCalls, allowed, runs: recorder.runs.length };
    });
    expect(theirs.denied).toEqual({ status: 401, type: "text/plain", allowOrigin: "*", body: "Unauthorized" });
    expect(theirs.deniedCalls).toEqual([
      ["onRequest", `${BASE}/agent/default/run`, "POST"],
      ["onResponse", { method: "info" }, 401, "text/plain", true],
    ]);
    expect(theirs.runs).toBe(1);
    expect(ours).toEqual(theirs);
  });

  it("onBeforeHandler throwing a 403 Response for one agent: onResponse sees it with the route, no after middleware", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send, recorder } = build(impl, {
        hooks: {
          onBeforeHandler: ({ route }: { route: { method: string; agentId?: string } }) => {
            if (route.method === "agent/run") throw Response.json({ error: "forbidden" }, { status: 403 });
          },
        },
      });
      const seen = await wire(await send(`${BASE}/agent/default/run`, runInit()));
      await settle(calls, false);
      return { seen, calls, runs: recorder.runs.length };
    });
    expect(theirs.seen).toEqual({ status: 403, type: "application/json", allowOrigin: "*", body: '{"error":"forbidden"}' });
    expect(theirs.calls.map((c) => c[0])).toEqual(["onRequest", "before", "onBeforeHandler", "onResponse"]);
    expect(theirs.calls[3]).toEqual(["onResponse", { method: "agent/run", agentId: "default" }, 403, "application/json", true]);
    expect(theirs.runs).toBe(0);
    expect(ours).toEqual(theirs);
  });

  it("an Error thrown by a hook goes to onError, whose Response is sent with CORS headers and without onResponse", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl, {
        hooks: {
          onBeforeHandler: () => {
            throw new Error("boom");
          },
          onError: () => new Response("custom failure", { status: 503 }),
        },
      });
      const seen = await wire(await send(`${BASE}/info`, { headers: { origin: ORIGIN } }));
      await settle(calls, false);
      return { seen, calls };
    });
    expect(theirs.seen).toEqual({ status: 503, type: "text/plain", allowOrigin: "*", body: "custom failure" });
    expect(theirs.calls.map((c) => c[0])).toEqual(["onRequest", "before", "onBeforeHandler", "onError"]);
    expect(theirs.calls[3]).toEqual(["onError", "boom", { method: "info" }]);
    expect(ours).toEqual(theirs);
  });

  it("onError returning nothing, or throwing: a 500 internal_error with CORS headers", async () => {
    for (const onError of [() => undefined, () => { throw new Error("the hook failed too"); }]) {
      const [theirs, ours] = await both(async (impl) => {
        const { calls, send } = build(impl, {
          hooks: {
            onRequest: () => {
              throw new Error("at secret.ts:12");
            },
            onError,
          },
        });
        const response = await send(`${BASE}/info`, { headers: { origin: ORIGIN } });
        const text = await response.text();
        expect(text).not.toContain("secret.ts");
        return { status: response.status, error: JSON.parse(text).error, allowOrigin: response.headers.get("access-control-allow-origin"), calls };
      });
      expect(theirs).toEqual({
        status: 500,
        error: "internal_error",
        allowOrigin: "*",
        calls: [["onRequest", `${BASE}/info`, "GET"], ["onError", "at secret.ts:12", undefined]],
      });
      expect(ours).toEqual(theirs);
    }
  });

  it("beforeRequestMiddleware throwing a Response: sent with CORS headers, no onResponse, no after middleware", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl, {
        before: () => {
          throw new Response("go away", { status: 401 });
        },
      });
      const seen = await wire(await send(`${BASE}/info`, { headers: { origin: ORIGIN } }));
      await settle(calls, false);
      return { seen, calls };
    });
    expect(theirs.seen).toEqual({ status: 401, type: "text/plain", allowOrigin: "*", body: "go away" });
    expect(theirs.calls.map((c) => c[0])).toEqual(["onRequest", "before"]);
    expect(ours).toEqual(theirs);
  });

  it("an unknown path: onResponse sees the 404 (route reported as info), no onBeforeHandler, no after middleware", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl);
      const response = await send(`${BASE}/nope`, { headers: { origin: ORIGIN } });
      await response.text();
      await settle(calls, false);
      return { status: response.status, calls };
    });
    expect(theirs.status).toBe(404);
    expect(theirs.calls.map((c) => c[0])).toEqual(["onRequest", "before", "onResponse"]);
    expect(theirs.calls[2]).toEqual(["onResponse", { method: "info" }, 404, "application/json", true]);
    expect(ours).toEqual(theirs);
  });
});

describe("hooks: replacing the request and the response", () => {
  it("a Request returned by onRequest and by onBeforeHandler is the one the agent gets", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const recorder = new AgentRecorder();
      const addHeader = (name: string) => ({ request }: { request: Request }) => {
        const headers = new Headers(request.headers);
        headers.set(name, "yes");
        return new Request(request, { headers });
      };
      const { send } = build(impl, { recorder, hooks: { onRequest: addHeader("x-from-on-request"), onBeforeHandler: addHeader("x-from-before-handler") } });
      const seen = await wire(await send(`${BASE}/agent/default/run`, runInit()));
      const headers = recorder.runs[0].headers;
      return { seen, onRequest: headers["x-from-on-request"], onBeforeHandler: headers["x-from-before-handler"] };
    });
    expect(theirs).toMatchObject({ onRequest: "yes", onBeforeHandler: "yes" });
    expect(ours).toEqual(theirs);
  });

  it("a Response returned by onResponse replaces the answer, stream included, and still gets CORS headers", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { send } = build(impl, {
        hooks: {
          onResponse: ({ response }: { response: Response }) => {
            const headers = new Headers(response.headers);
            headers.set("x-copilot-version", "2.0");
            return new Response(response.body, { status: response.status, headers });
          },
        },
      });
      const run = await send(`${BASE}/agent/default/run`, runInit());
      const info = await send(`${BASE}/info`, { headers: { origin: ORIGIN } });
      return {
        run: { ...(await wire(run)), version: run.headers.get("x-copilot-version") },
        info: { status: info.status, version: info.headers.get("x-copilot-version"), allowOrigin: info.headers.get("access-control-allow-origin") },
      };
    });
    expect(theirs.run.version).toBe("2.0");
    expect(theirs.run.body).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    expect(theirs.info).toEqual({ status: 200, version: "2.0", allowOrigin: "*" });
    expect(ours).toEqual(theirs);
  });
});

describe("hooks and CORS preflight", () => {
  it("with CORS on, a preflight is answered before any hook", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl, {
        hooks: {
          onRequest: () => {
            throw new Response("Unauthorized", { status: 401 });
          },
        },
      });
      const response = await send(`${BASE}/agent/default/run`, {
        method: "OPTIONS",
        headers: { origin: ORIGIN, "access-control-request-method": "POST" },
      });
      return { status: response.status, allowOrigin: response.headers.get("access-control-allow-origin"), calls };
    });
    expect(theirs).toEqual({ status: 204, allowOrigin: "*", calls: [] });
    expect(ours).toEqual(theirs);
  });

  it("with CORS off, OPTIONS goes through onRequest and gets a 405 that onResponse sees with the route", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl, { cors: false });
      const response = await send(`${BASE}/agent/default/run`, { method: "OPTIONS" });
      await response.text();
      await settle(calls, false);
      return { status: response.status, allow: response.headers.get("allow"), calls };
    });
    expect(theirs).toEqual({
      status: 405,
      allow: "POST",
      calls: [
        ["onRequest", `${BASE}/agent/default/run`, "OPTIONS"],
        ["before", `${BASE}/agent/default/run`],
        ["onResponse", { method: "agent/run", agentId: "default" }, 405, "application/json", true],
      ],
    });
    expect(ours).toEqual(theirs);
  });
});

describe("single-route mode", () => {
  const envelope = (method: string, params: Record<string, unknown>, body?: unknown): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ method, params, body }),
  });

  it("without a basePath the envelope is served at whatever path the handler is mounted", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { send } = build(impl, { mode: "single-route", basePath: undefined });
      const info = await send("/api/copilotkit", envelope("info", {}));
      const run = await send("/anywhere/else", envelope("agent/run", { agentId: "default" }, JSON.parse(runBody("t-single", "r-single"))));
      return { info: info.status, infoMode: ((await info.json()) as { mode?: string }).mode, run: await wire(run) };
    });
    expect(theirs.info).toBe(200);
    expect(theirs.run.body).toContain("RUN_FINISHED");
    expect(ours).toEqual(theirs);
  });

  it("hooks see the envelope's route; a bad envelope reaches onResponse as info", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { calls, send } = build(impl, { mode: "single-route" });
      await (await send(BASE, envelope("agent/stop", { agentId: "default", threadId: "t-1" }))).text();
      const good = [...calls];
      calls.length = 0;
      const bad = await send(BASE, envelope("agent/run", {}));
      await bad.text();
      await settle(calls, false);
      return { good: good.filter((c) => c[0] !== "after"), bad: bad.status, badCalls: calls };
    });
    expect(theirs.good).toEqual([
      ["onRequest", BASE, "POST"],
      ["before", BASE],
      ["onBeforeHandler", { method: "agent/stop", agentId: "default", threadId: "t-1" }, BASE],
      ["onResponse", { method: "agent/stop", agentId: "default", threadId: "t-1" }, 200, "application/json", true],
    ]);
    expect(theirs.bad).toBe(400);
    expect(theirs.badCalls).toEqual([
      ["onRequest", BASE, "POST"],
      ["before", BASE],
      ["onResponse", { method: "info" }, 400, "application/json", true],
    ]);
    expect(ours).toEqual(theirs);
  });
});

describe("single-route mode over the fetch handler: what is not the envelope", () => {
  it("a GET under basePath is 405 (Allow: POST), a path outside it 404", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const { send } = build(impl, { mode: "single-route" });
      const inside = await send(`${BASE}/info`);
      const outside = await send("/elsewhere", { method: "POST", headers: { "content-type": "application/json" }, body: '{"method":"info"}' });
      return { inside: inside.status, allow: inside.headers.get("allow"), outside: outside.status };
    });
    expect(theirs).toEqual({ inside: 405, allow: "POST", outside: 404 });
    expect(ours).toEqual(theirs);
  });
});

// --- over HTTP, through each adapter ------------------------------------------------------------

interface Served {
  url: string;
  close(): Promise<void>;
}

function listen(listener: RequestListener): Promise<Served> {
  const server = createServer(listener);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

type AdapterName = "hono" | "express" | "node";

/** Serves `impl`'s runtime through one of its adapters, with the given endpoint options. */
async function serveWith(impl: RuntimeImpl, adapter: AdapterName, options: Record<string, unknown>): Promise<Served> {
  if (adapter === "hono") {
    const app = impl.createCopilotEndpoint({ basePath: BASE, ...options });
    return listen(getRequestListener((request) => app.fetch(request)) as RequestListener);
  }
  if (adapter === "express") {
    const app = express();
    app.use(impl.createCopilotExpressHandler({ basePath: BASE, ...options }));
    return listen(app as unknown as RequestListener);
  }
  return listen(impl.createCopilotNodeListener({ basePath: BASE, cors: true, ...options }) as RequestListener);
}

describe.each<AdapterName>(["hono", "express", "node"])("hooks over HTTP through the %s adapter", (adapter) => {
  it("an onRequest auth gate answers 401 before the agent runs; an authorised run streams the same events", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const recorder = new AgentRecorder();
      const runtime = new impl.CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("Hello there"), recorder }) } });
      const served = await serveWith(impl, adapter, {
        runtime,
        hooks: {
          onRequest: ({ request }: { request: Request }) => {
            if (request.headers.get("authorization") !== "Bearer good") throw new Response("Unauthorized", { status: 401 });
          },
        },
      });
      try {
        const denied = await fetch(`${served.url}${BASE}/agent/default/run`, runInit());
        const deniedSeen = { status: denied.status, body: await denied.text(), allowOrigin: denied.headers.get("access-control-allow-origin") };
        const allowed = await wire(await fetch(`${served.url}${BASE}/agent/default/run`, runInit({ authorization: "Bearer good" })));
        return { denied: deniedSeen, allowed, runs: recorder.runs.length };
      } finally {
        await served.close();
      }
    });
    expect(theirs.denied).toMatchObject({ status: 401, body: "Unauthorized" });
    expect(theirs.allowed.body).toContain("RUN_FINISHED");
    expect(theirs.runs).toBe(1);
    expect(ours).toEqual(theirs);
  });

  it("onResponse sees the run's event stream and can add a header to it", async () => {
    const [theirs, ours] = await both(async (impl) => {
      const seen: unknown[] = [];
      const runtime = new impl.CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("Hello there") }) } });
      const served = await serveWith(impl, adapter, {
        runtime,
        hooks: {
          onResponse: ({ response, route }: { response: Response; route: unknown }) => {
            seen.push([route, response.status, mediaType(response), response.body instanceof ReadableStream]);
            const headers = new Headers(response.headers);
            headers.set("x-copilot-version", "2.0");
            return new Response(response.body, { status: response.status, headers });
          },
        },
      });
      try {
        const response = await fetch(`${served.url}${BASE}/agent/default/run`, runInit());
        return { version: response.headers.get("x-copilot-version"), ...(await wire(response)), seen };
      } finally {
        await served.close();
      }
    });
    expect(theirs.version).toBe("2.0");
    expect(theirs.seen).toEqual([[{ method: "agent/run", agentId: "default" }, 200, "text/event-stream", true]]);
    expect(ours).toEqual(theirs);
  });
});

describe("createCopilotExpressHandler's mode", () => {
  it('mode: "single-route" serves the envelope at basePath and leaves the REST paths to the next handler', async () => {
    const [theirs, ours] = await both(async (impl) => {
      const runtime = new impl.CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("Hello there") }) } });
      const served = await serveWith(impl, "express", { runtime, mode: "single-route" });
      try {
        const envelope = await fetch(`${served.url}${BASE}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ method: "agent/run", params: { agentId: "default" }, body: JSON.parse(runBody("t-express", "r-express")) }),
        });
        const rest = await fetch(`${served.url}${BASE}/info`);
        await rest.text();
        return { envelope: await wire(envelope), rest: rest.status };
      } finally {
        await served.close();
      }
    });
    expect(theirs.envelope.body).toContain("RUN_FINISHED");
    expect(theirs.rest).toBe(404);
    expect(ours).toEqual(theirs);
  });
});
