/**
 * `hooks` behaviour beyond what the side-by-side tests with CopilotKit cover
 * (test/compat/hooks-parity.test.ts): an event stream that `onResponse` discards or fails on
 * does not keep its run and stream slot, refusals of our own (body limits) reach `onResponse`,
 * and the Node adapter's native paths keep working when a hook replaces the request.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import type { RouteInfo } from "../../src/http/hooks.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { AgentRecorder, ScriptedAgent, longReply, textReply } from "../helpers/agents.js";
import { runBody, sseEventTypes } from "../helpers/runtimes.js";

const BASE = "/api/copilotkit";

function run(handler: (request: Request) => Promise<Response>, headers: Record<string, string> = {}) {
  return handler(
    new Request(`http://localhost${BASE}/agent/default/run`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: runBody(`t-${Math.random()}`, "r-1"),
    }),
  );
}

describe("onResponse and event streams", () => {
  it("a stream onResponse replaces is ended: its stream slot comes back", async () => {
    const recorder = new AgentRecorder();
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: longReply(5000), delayMs: 5, recorder }) } });
    const handler = createCopilotRuntimeHandler({
      runtime,
      basePath: BASE,
      limits: { maxStreams: 1 },
      hooks: {
        onResponse: ({ request }) => {
          if (request.headers.get("x-deny") !== null) return Response.json({ error: "denied" }, { status: 403 });
        },
      },
    });
    const denied = await run(handler, { "x-deny": "1" });
    expect(denied.status).toBe(403);
    // With the first stream still holding the only slot, this would be 429 too_many_streams.
    const allowed = await run(handler);
    expect(allowed.status).toBe(200);
    await allowed.body!.cancel();
  });

  it("onResponse throwing on a stream: onError answers, and the stream is ended", async () => {
    const recorder = new AgentRecorder();
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: longReply(5000), delayMs: 5, recorder }) } });
    const errors: unknown[] = [];
    const handler = createCopilotRuntimeHandler({
      runtime,
      basePath: BASE,
      limits: { maxStreams: 1 },
      hooks: {
        onResponse: ({ response }) => {
          if (response.status === 200) throw new Error("onResponse failed");
        },
        onError: ({ error, route }) => {
          errors.push([(error as Error).message, route]);
          return new Response("sorry", { status: 502 });
        },
      },
    });
    const failed = await run(handler);
    expect(failed.status).toBe(502);
    expect(errors).toEqual([["onResponse failed", { method: "agent/run", agentId: "default" }]]);
    const second = await run(handler);
    expect(second.status).toBe(502); // not 429: the first stream's slot came back
  });
});

describe("our own refusals go through onResponse like CopilotKit's thrown Responses", () => {
  it("an envelope over maxBodyBytes: onResponse sees the 413, onError is not called", async () => {
    const seen: unknown[] = [];
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) } });
    const handler = createCopilotRuntimeHandler({
      runtime,
      basePath: BASE,
      maxBodyBytes: 100,
      hooks: {
        onResponse: ({ response, route }) => {
          seen.push(["onResponse", response.status, route]);
        },
        onError: () => {
          seen.push(["onError"]);
        },
      },
    });
    const response = await handler(
      new Request(`http://localhost${BASE}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ method: "info", padding: "x".repeat(500) }),
      }),
    );
    expect(response.status).toBe(413);
    expect(seen).toEqual([["onResponse", 413, { method: "info" } satisfies RouteInfo]]);
  });
});

describe("the Node adapter with hooks", () => {
  it("a Request replaced by onRequest is read for its body, and reaches the agent", async () => {
    const recorder = new AgentRecorder();
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("Hello there"), recorder }) } });
    const listener = createCopilotNodeListener({
      runtime,
      basePath: BASE,
      hooks: {
        onRequest: ({ request }) => {
          const headers = new Headers(request.headers);
          headers.set("x-tenant", "acme");
          return new Request(request, { headers });
        },
      },
    });
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`http://127.0.0.1:${port}${BASE}/agent/default/run`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: runBody(`t-node-${i}`, `r-node-${i}`),
        });
        expect(response.status).toBe(200);
        expect(sseEventTypes(await response.text())).toEqual([
          "RUN_STARTED",
          "TEXT_MESSAGE_START",
          "TEXT_MESSAGE_CONTENT",
          "TEXT_MESSAGE_CONTENT",
          "TEXT_MESSAGE_END",
          "RUN_FINISHED",
        ]);
      }
      expect(recorder.runs.map((r) => [r.input.threadId, r.headers["x-tenant"]])).toEqual([
        ["t-node-0", "acme"],
        ["t-node-1", "acme"],
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the hooks option itself", () => {
  const runtime = () => new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) } });

  it("a hook that is not a function, or hooks that are not an object, fail at creation", () => {
    expect(() => createCopilotRuntimeHandler({ runtime: runtime(), hooks: { onRequest: "yes" } as never })).toThrow(/hooks\.onRequest must be a function/);
    expect(() => createCopilotRuntimeHandler({ runtime: runtime(), hooks: [] as never })).toThrow(/hooks must be an object/);
  });

  it("a misspelt hook is warned about once, by name", () => {
    const warnings: unknown[] = [];
    const logger = { warn: (fields: unknown, message: string) => warnings.push([fields, message]), info() {}, error() {}, debug() {} };
    const rt = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) }, logger: logger as never });
    const hooks = { onRequets: () => {} } as never;
    createCopilotRuntimeHandler({ runtime: rt, hooks });
    createCopilotRuntimeHandler({ runtime: rt, hooks, basePath: "/other" });
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain("onRequets");
  });
});
