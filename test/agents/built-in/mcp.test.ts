import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BuiltInAgent } from "../../../src/agents/built-in/index.js";
import { startFakeProvider, useFakeProvider } from "./helpers/fake-provider.js";
import { startMcpServer, type LocalMcpServer } from "./helpers/mcp-server.js";
import { responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types } from "./helpers/verify.js";
import { agentLines, useLogCapture } from "./helpers/logs.js";

const provider = useFakeProvider();
const logs = useLogCapture();
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

  it("skips an unreachable MCP server, answers with the other tools and logs a warning", async () => {
    const dead = await startFakeProvider();
    await dead.close();
    const deadUrl = `${dead.url.replace("/v1", "")}/mcp?token=secret-token`;
    provider.enqueue(responsesStream([responses.text("Answered without it.")]));
    const agent = agentWith([
      { type: "http", url: deadUrl },
      { type: "http", url: mcp.httpUrl },
    ]);
    const events = await collect(agent.run(makeInput({ threadId: "t-mcp", runId: "r-mcp" })));
    expect(types(events).at(-1)).toBe("RUN_FINISHED");
    // the reachable server's tools are still offered
    const offered = provider.requests[0].body.tools.map((tool: { name: string }) => tool.name);
    expect(offered).toEqual(expect.arrayContaining(["db_lookup"]));
    const wire = JSON.stringify(events);
    expect(wire).not.toContain(new URL(deadUrl).host);
    expect(wire).not.toContain("secret-token");
    const lines = agentLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "warn",
      message: "BuiltInAgent skipped an MCP server it could not use",
      details: { threadId: "t-mcp", runId: "r-mcp", mcpServer: `${new URL(deadUrl).origin}/mcp` },
    });
    expect(lines[0].details.error).toMatch(/ECONNREFUSED|fetch failed|connect/i);
    expect(lines[0].text).not.toContain("secret-token");
    await expectValidStream(events);
  });

  it("with onMcpServerError: 'fail', reports an unreachable MCP server as RUN_ERROR without its address", async () => {
    const dead = await startFakeProvider();
    await dead.close();
    const url = `${dead.url.replace("/v1", "")}/mcp?token=secret-token`;
    const agent = new BuiltInAgent({
      model: "openai/gpt-4o",
      apiKey: "sk-test-0123456789",
      baseURL: provider.url,
      maxRetries: 0,
      mcpServers: [{ type: "http", url }],
      onMcpServerError: "fail",
    });
    const events = await collect(agent.run(makeInput()));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(events[1]).toMatchObject({ code: "mcp_connection_failed", message: "An MCP server the agent needs could not be reached." });
    expect(JSON.stringify(events)).not.toContain("secret-token");
    expect(JSON.stringify(events)).not.toContain(new URL(url).host);
    expect(provider.requests).toHaveLength(0);
    const lines = agentLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "error", message: "BuiltInAgent run failed: mcp_connection_failed" });
    expect(lines[0].details.cause).toContain(`${new URL(url).origin}/mcp`);
    expect(lines[0].text).not.toContain("secret-token");
    await expectValidStream(events);
  });

  it("redacts the MCP server's token from what the client, the model and the log see", async () => {
    const token = "mcp-bearer-token-value-42";
    provider.enqueue(responsesStream([responses.call("call_w", "whoami", "{}")]), responsesStream([responses.text("No access.")]));
    const agent = agentWith([{ type: "http", url: mcp.httpUrl, headers: { authorization: `Bearer ${token}` } }]);
    const events = await collect(agent.run(makeInput()));
    expect(mcp.calls).toEqual([{ name: "whoami", args: {} }]);
    const result = events.find((event) => event.type === "TOOL_CALL_RESULT");
    expect(JSON.parse(result!.content)).toEqual({ error: "access denied for [redacted]" });
    expect(JSON.stringify(events)).not.toContain(token);
    expect(JSON.stringify(provider.requests[1].body)).toContain("access denied for");
    expect(JSON.stringify(provider.requests[1].body)).not.toContain(token);
    const lines = agentLines(logs);
    expect(lines.map((line) => [line.level, line.message])).toEqual([["warn", 'BuiltInAgent tool "whoami" failed']]);
    expect(lines[0].text).not.toContain(token);
    await expectValidStream(events);
  });
});
