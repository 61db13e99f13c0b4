import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { CopilotRuntime, createCopilotRuntimeHandler } from "../../../src/index.js";
import { BuiltInAgent } from "../../../src/built-in.js";
import type { BuiltInAgentConfig, MCPServerConfig } from "../../../src/agents/built-in/types.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { agentLines, useLogCapture } from "./helpers/logs.js";
import { startMcpServer, type LocalMcpServer } from "./helpers/mcp-server.js";
import { responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, type AnyEvent } from "./helpers/verify.js";

// A user's token flows from the browser through the runtime's forwardHeaders policy to the MCP
// servers that ask for it (and, by name, to the model provider), checked on a real MCP server
// (@modelcontextprotocol/sdk) on loopback that records every request's headers.

const provider = useFakeProvider();
const logs = useLogCapture();
let mcp: LocalMcpServer;
beforeAll(async () => {
  mcp = await startMcpServer();
});
afterAll(() => mcp.close());
beforeEach(() => {
  mcp.calls.length = 0;
  mcp.headers.length = 0;
});

const base = { model: "openai/gpt-4o", apiKey: "sk-test-0123456789", maxRetries: 0 } as const;

/** Serves one BuiltInAgent through the runtime and runs it with the given browser headers. */
async function runThroughRuntime(config: Partial<BuiltInAgentConfig>, headers: Record<string, string>): Promise<AnyEvent[]> {
  const agent = new BuiltInAgent({ ...base, baseURL: provider.url, ...config });
  const handler = createCopilotRuntimeHandler({ runtime: new CopilotRuntime({ agents: { default: agent } }), basePath: "/api" });
  const response = await handler(
    new Request("http://localhost/api/agent/default/run", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(makeInput()),
    }),
  );
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split("\n\n")
    .map((frame) => frame.split("\n").find((line) => line.startsWith("data:")))
    .filter((line): line is string => Boolean(line))
    .map((line) => JSON.parse(line.slice(5)) as AnyEvent);
}

const lookupThenAnswer = () =>
  provider.enqueue(responsesStream([responses.call("call_m", "db_lookup", '{"key":"abc"}')]), responsesStream([responses.text("42.")]));
const browser = { authorization: "Bearer user-token", "x-tenant-id": "t1", "x-forwarded-for": "10.0.0.9", cookie: "sid=1" };

describe("forwarded headers reach MCP servers", () => {
  it("forwardHeaders: true sends what the runtime's policy let through to every request of the server, the tool call included", async () => {
    lookupThenAnswer();
    const events = await runThroughRuntime({ mcpServers: [{ type: "http", url: mcp.httpUrl, forwardHeaders: true }] }, browser);
    await expectValidStream(events);
    expect(mcp.calls).toEqual([{ name: "db.lookup", args: { key: "abc" } }]);
    expect(mcp.headers.length).toBeGreaterThan(1);
    for (const headers of mcp.headers) {
      expect(headers).toMatchObject({ authorization: "Bearer user-token", "x-tenant-id": "t1" });
      // the runtime's policy keeps these from any agent, so from MCP servers too
      expect(headers["x-forwarded-for"]).toBeUndefined();
      expect(headers.cookie).toBeUndefined();
    }
  });

  it("sends nothing of the user's by default", async () => {
    lookupThenAnswer();
    await runThroughRuntime({ mcpServers: [{ type: "http", url: mcp.httpUrl }] }, browser);
    expect(mcp.calls).toHaveLength(1);
    for (const headers of mcp.headers) {
      expect(headers.authorization).toBeUndefined();
      expect(headers["x-tenant-id"]).toBeUndefined();
    }
  });

  it.each(["http", "sse"] as const)("a list picks headers by name (%s), and the server's own headers win", async (type) => {
    lookupThenAnswer();
    const url = type === "http" ? mcp.httpUrl : mcp.sseUrl;
    const server: MCPServerConfig = { type, url, forwardHeaders: ["Authorization", "X-Tenant-Id"], headers: { "X-Tenant-Id": "fixed" } };
    await runThroughRuntime({ mcpServers: [server] }, browser);
    expect(mcp.calls).toHaveLength(1);
    for (const headers of mcp.headers) expect(headers).toMatchObject({ authorization: "Bearer user-token", "x-tenant-id": "fixed" });
  });

  it("the runtime's forwardHeaders policy applies: a denied header never reaches the server", async () => {
    lookupThenAnswer();
    const agent = new BuiltInAgent({ ...base, baseURL: provider.url, mcpServers: [{ type: "http", url: mcp.httpUrl, forwardHeaders: true }] });
    const runtime = new CopilotRuntime({ agents: { default: agent }, forwardHeaders: { deny: ["x-tenant-id"] } });
    const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api" });
    const response = await handler(
      new Request("http://localhost/api/agent/default/run", { method: "POST", headers: { "content-type": "application/json", ...browser }, body: JSON.stringify(makeInput()) }),
    );
    await response.text();
    expect(mcp.calls).toHaveLength(1);
    for (const headers of mcp.headers) {
      expect(headers.authorization).toBe("Bearer user-token");
      expect(headers["x-tenant-id"]).toBeUndefined();
    }
  });

  it("forwardHeadersToModel sends the named headers to the provider, never in place of its key", async () => {
    provider.enqueue(responsesStream([responses.text("ok")]));
    await runThroughRuntime({ forwardHeadersToModel: ["x-tenant-id"] }, browser);
    expect(provider.requests[0].headers["x-tenant-id"]).toBe("t1");
    expect(provider.requests[0].headers.authorization).toBe("Bearer sk-test-0123456789");
    expect(() => new BuiltInAgent({ ...base, forwardHeadersToModel: ["Authorization"] })).toThrow(/carries the model provider's key/);
  });

  it("refuses a malformed forwardHeaders option at construction", () => {
    expect(() => new BuiltInAgent({ ...base, mcpServers: [{ type: "http", url: mcp.httpUrl, forwardHeaders: "authorization" as any }] })).toThrow(
      /mcpServers\[0\]\.forwardHeaders must be true or a list of header names/,
    );
    expect(() => new BuiltInAgent({ ...base, forwardHeadersToModel: true as any })).toThrow(/forwardHeadersToModel must be a list/);
  });
});

describe("MCP transport options and mcpClients", () => {
  it("options go to the MCP SDK's transport: a custom fetch carries every request", async () => {
    lookupThenAnswer();
    const seen: string[] = [];
    const fetchThroughApp: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers).get("x-via") ?? "none");
      return fetch(input, init);
    };
    const agent = new BuiltInAgent({
      ...base,
      baseURL: provider.url,
      mcpServers: [{ type: "http", url: mcp.httpUrl, options: { fetch: fetchThroughApp, requestInit: { headers: { "x-via": "app" } } } }],
    });
    const events = await collect(agent.run(makeInput()));
    await expectValidStream(events);
    expect(mcp.calls).toHaveLength(1);
    expect(seen.length).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set(["app"]));
  });

  it("the tools of an application-managed MCP client are offered and executed; the agent never closes it", async () => {
    const executed: unknown[] = [];
    let closed = false;
    const client = {
      tools: async () => ({
        "kb.search": {
          description: "Search the knowledge base",
          inputSchema: z.object({ q: z.string() }),
          execute: async (args: unknown) => {
            executed.push(args);
            return "found it";
          },
        },
      }),
      close: async () => {
        closed = true;
      },
    };
    provider.enqueue(responsesStream([responses.call("call_k", "kb_search", '{"q":"refunds"}')]), responsesStream([responses.text("Found.")]));
    const agent = new BuiltInAgent({ ...base, baseURL: provider.url, mcpClients: [client as any] });
    const events = await collect(agent.run(makeInput()));
    await expectValidStream(events);
    expect(provider.requests[0].body.tools.map((tool: { name: string }) => tool.name)).toContain("kb_search");
    expect(executed).toEqual([{ q: "refunds" }]);
    expect(events.find((event) => event.type === "TOOL_CALL_RESULT")!.content).toBe("found it");
    expect(closed).toBe(false);
  });

  it("a client whose tools() fails is skipped with a warning (or fails the run with onMcpServerError: 'fail')", async () => {
    const broken = { tools: async () => Promise.reject(new Error("session expired")) };
    provider.enqueue(responsesStream([responses.text("Without tools.")]));
    const skipped = await collect(new BuiltInAgent({ ...base, baseURL: provider.url, mcpClients: [broken as any] }).run(makeInput()));
    expect(skipped.at(-1)!.type).toBe("RUN_FINISHED");
    expect(agentLines(logs).some((line) => line.level === "warn" && line.text.includes("session expired"))).toBe(true);

    const failed = await collect(new BuiltInAgent({ ...base, baseURL: provider.url, mcpClients: [broken as any], onMcpServerError: "fail" }).run(makeInput()));
    expect(failed.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "mcp_connection_failed" });
    expect(() => new BuiltInAgent({ ...base, mcpClients: [{} as any] })).toThrow(/mcpClients\[0\] must have a tools\(\) method/);
  });
});
