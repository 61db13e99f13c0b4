import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BuiltInAgent } from "../../../src/agents/built-in/index.js";
import { startFakeProvider, useFakeProvider } from "./helpers/fake-provider.js";
import { startMcpServer, type LocalMcpServer } from "./helpers/mcp-server.js";
import { responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types } from "./helpers/verify.js";

const provider = useFakeProvider();
let mcp: LocalMcpServer;

beforeAll(async () => {
  mcp = await startMcpServer();
});
afterAll(async () => {
  await mcp.close();
});
beforeEach(() => {
  mcp.calls.length = 0;
  mcp.headers.length = 0;
});

const agentWith = (mcpServers: ConstructorParameters<typeof BuiltInAgent>[0]["mcpServers"]) =>
  new BuiltInAgent({ model: "openai/gpt-4o", apiKey: "sk-test-0123456789", baseURL: provider.url, maxRetries: 0, mcpServers });

describe("BuiltInAgent with MCP servers", () => {
  it.each(["http", "sse"] as const)("offers the tools of an MCP server (%s) and calls the one the model picks", async (type) => {
    provider.enqueue(
      responsesStream([responses.call("call_m", "db_lookup", '{"key":"abc"}')]),
      responsesStream([responses.text("The record is 42.")]),
    );
    const url = type === "http" ? mcp.httpUrl : mcp.sseUrl;
    const events = await collect(agentWith([{ type, url, headers: { authorization: "Bearer mcp-token" } }]).run(makeInput()));

    // The model saw the MCP tools, with names every provider accepts.
    const offered = provider.requests[0].body.tools.map((tool: { name: string }) => tool.name);
    expect(offered).toEqual(expect.arrayContaining(["db_lookup", "broken"]));
    const lookup = provider.requests[0].body.tools.find((tool: { name: string }) => tool.name === "db_lookup");
    expect(lookup).toMatchObject({ description: "Look up a record by key", parameters: { properties: { key: { type: "string" } } } });

    // The server ran the call under its own name, with the configured headers.
    expect(mcp.calls).toEqual([{ name: "db.lookup", args: { key: "abc" } }]);
    expect(mcp.headers.every((headers) => headers.authorization === "Bearer mcp-token")).toBe(true);

    expect(events.find((event) => event.type === "TOOL_CALL_START")).toMatchObject({ toolCallName: "db_lookup" });
    expect(events.find((event) => event.type === "TOOL_CALL_RESULT")).toMatchObject({ toolCallId: "call_m", content: "record abc: 42" });
    expect(types(events).at(-1)).toBe("RUN_FINISHED");
    await expectValidStream(events);

    // Clients are closed when the run ends.
    if (type === "sse") await vi.waitFor(() => expect(mcp.openSseStreams()).toBe(0));
  });

  it("gives an MCP tool error to the model as a tool error", async () => {
    provider.enqueue(responsesStream([responses.call("call_b", "broken", "{}")]), responsesStream([responses.text("Sorry.")]));
    const events = await collect(agentWith([{ type: "http", url: mcp.httpUrl }]).run(makeInput()));
    const result = events.find((event) => event.type === "TOOL_CALL_RESULT");
    expect(JSON.parse(result!.content)).toEqual({ error: "backend down" });
    await expectValidStream(events);
  });

  it("reports an unreachable MCP server as RUN_ERROR without its query string", async () => {
    const dead = await startFakeProvider();
    await dead.close();
    const url = `${dead.url.replace("/v1", "")}/mcp?token=secret-token`;
    const events = await collect(agentWith([{ type: "http", url }]).run(makeInput()));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(events[1]).toMatchObject({ code: "mcp_connection_failed" });
    expect(JSON.stringify(events)).not.toContain("secret-token");
    expect(provider.requests).toHaveLength(0);
    await expectValidStream(events);
  });
});
