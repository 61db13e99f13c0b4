import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientInformation, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { BuiltInAgent } from "../../../src/built-in.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { agentLines, useLogCapture } from "./helpers/logs.js";
import { startMcpServer, type LocalMcpServer } from "./helpers/mcp-server.js";
import { responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput } from "./helpers/verify.js";

// An MCP server behind OAuth: the MCP SDK's OAuthClientProvider, given as the transport's
// `authProvider`, supplies the bearer token. A real SDK server on loopback refuses (401) any request
// without `Authorization: Bearer <token>` and records the headers of every request it gets.

const TOKEN = "mcp-access-token-7f3a";
const provider = useFakeProvider();
const logs = useLogCapture();
let mcp: LocalMcpServer;
beforeAll(async () => {
  mcp = await startMcpServer({ requireBearer: TOKEN });
});
afterAll(() => mcp.close());
beforeEach(() => {
  mcp.calls.length = 0;
  mcp.headers.length = 0;
});

const base = { model: "openai/gpt-4o", apiKey: "sk-test-0123456789", maxRetries: 0 } as const;

/** An OAuthClientProvider as an application writes one; `tokens` undefined means "not signed in yet". */
function oauthProvider(tokens: OAuthTokens | undefined) {
  const redirects: URL[] = [];
  const authProvider: OAuthClientProvider = {
    get redirectUrl() {
      return "http://127.0.0.1:1/oauth/callback";
    },
    get clientMetadata() {
      return { client_name: "copilot-runtime test", redirect_uris: ["http://127.0.0.1:1/oauth/callback"] };
    },
    clientInformation: (): OAuthClientInformation => ({ client_id: "test-client" }),
    tokens: () => tokens,
    saveTokens: () => undefined,
    redirectToAuthorization: (url: URL) => {
      redirects.push(url);
    },
    saveCodeVerifier: () => undefined,
    codeVerifier: () => "verifier",
  };
  return { authProvider, redirects };
}

describe("MCP servers behind OAuth (options.authProvider)", () => {
  it("the provider's token is sent on every request: the tool is listed and called", async () => {
    provider.enqueue(responsesStream([responses.call("call_m", "db_lookup", '{"key":"abc"}')]), responsesStream([responses.text("42.")]));
    const { authProvider, redirects } = oauthProvider({ access_token: TOKEN, token_type: "Bearer" });
    const agent = new BuiltInAgent({ ...base, baseURL: provider.url, mcpServers: [{ type: "http", url: mcp.httpUrl, options: { authProvider } }] });
    const events = await collect(agent.run(makeInput()));
    await expectValidStream(events);
    expect(provider.requests[0].body.tools.map((tool: { name: string }) => tool.name)).toContain("db_lookup");
    expect(mcp.calls).toEqual([{ name: "db.lookup", args: { key: "abc" } }]);
    expect(events.find((event) => event.type === "TOOL_CALL_RESULT")!.content).toBe("record abc: 42");
    expect(mcp.headers.length).toBeGreaterThan(1);
    for (const headers of mcp.headers) expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(redirects).toEqual([]);
  });

  it("without a token the SDK starts an authorization flow: the server is skipped with a warning, nothing of it reaches the client", async () => {
    provider.enqueue(responsesStream([responses.text("Without tools.")]));
    const { authProvider, redirects } = oauthProvider(undefined);
    const agent = new BuiltInAgent({ ...base, baseURL: provider.url, mcpServers: [{ type: "http", url: `${mcp.httpUrl}?tenant=secret-q`, options: { authProvider } }] });
    const events = await collect(agent.run(makeInput()));
    await expectValidStream(events);
    expect(events.at(-1)!.type).toBe("RUN_FINISHED");
    // the model was asked without the server's tools, and no tool ran
    expect((provider.requests[0].body.tools ?? []).map((tool: { name: string }) => tool.name)).not.toContain("db_lookup");
    expect(mcp.calls).toEqual([]);
    // the SDK asked the application to send the user to the authorization server
    expect(redirects.length).toBe(1);
    expect(redirects[0].searchParams.get("client_id")).toBe("test-client");
    const warning = agentLines(logs).find((line) => line.level === "warn" && line.text.includes(new URL(mcp.httpUrl).pathname));
    expect(warning, JSON.stringify(agentLines(logs))).toBeDefined();
    expect(warning!.text).toMatch(/Unauthorized/i);
    expect(warning!.text).not.toContain("secret-q");
    const wire = JSON.stringify(events);
    expect(wire).not.toContain("127.0.0.1");
    expect(wire).not.toMatch(/Unauthorized/i);
  });

  it("with onMcpServerError: 'fail' the run ends with mcp_connection_failed, without the address or any token", async () => {
    const { authProvider } = oauthProvider(undefined);
    const agent = new BuiltInAgent({
      ...base,
      baseURL: provider.url,
      onMcpServerError: "fail",
      mcpServers: [{ type: "http", url: mcp.httpUrl, options: { authProvider } }],
    });
    const events = await collect(agent.run(makeInput()));
    expect(events.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "mcp_connection_failed" });
    expect(provider.requests).toHaveLength(0);
    const wire = JSON.stringify(events);
    expect(wire).not.toContain("127.0.0.1");
    expect(wire).not.toContain(TOKEN);
    expect(wire).not.toMatch(/Unauthorized|oauth/i);
  });

  it("a wrong token is refused the same way: skipped, and the wrong token never reaches the client", async () => {
    provider.enqueue(responsesStream([responses.text("Without tools.")]));
    const { authProvider } = oauthProvider({ access_token: "stale-token-x9", token_type: "Bearer" });
    const agent = new BuiltInAgent({ ...base, baseURL: provider.url, mcpServers: [{ type: "http", url: mcp.httpUrl, options: { authProvider } }] });
    const events = await collect(agent.run(makeInput()));
    expect(events.at(-1)!.type).toBe("RUN_FINISHED");
    expect(mcp.calls).toEqual([]);
    expect(JSON.stringify(events)).not.toContain("stale-token-x9");
    expect(agentLines(logs).some((line) => line.level === "warn")).toBe(true);
  });
});
