/**
 * An MCP server with an MCP Apps UI tool, built with the official SDK and served over streamable
 * HTTP on 127.0.0.1: `show_weather` declares its UI resource (`_meta.ui.resourceUri`), which is
 * what makes `MCPAppsMiddleware` offer it to agents and render its result; `plain_lookup` has no
 * UI and must not be offered.
 *
 * @example
 * ```ts
 * const mcp = await startMcpAppsServer();
 * new CopilotRuntime({ agents, mcpApps: { servers: [{ type: "http", url: mcp.url, serverId: "weather" }] } });
 * ```
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

export const WEATHER_UI_URI = "ui://weather/forecast.html";

export interface McpAppsServer {
  url: string;
  /** The tool calls the server executed. */
  calls: Array<{ name: string; args: unknown }>;
  close(): Promise<void>;
}

export async function startMcpAppsServer(): Promise<McpAppsServer> {
  const calls: McpAppsServer["calls"] = [];
  const build = () => {
    const server = new McpServer({ name: "weather-app", version: "1.0.0" });
    server.registerResource("forecast-ui", WEATHER_UI_URI, { mimeType: "text/html;profile=mcp-app" }, async () => ({
      contents: [{ uri: WEATHER_UI_URI, mimeType: "text/html;profile=mcp-app", text: "<div id=forecast>Sunny</div>" }],
    }));
    server.registerTool(
      "show_weather",
      { description: "Shows the forecast for a city", inputSchema: { city: z.string() }, _meta: { ui: { resourceUri: WEATHER_UI_URI } } },
      async ({ city }) => {
        calls.push({ name: "show_weather", args: { city } });
        return { content: [{ type: "text", text: `Sunny in ${city}, 24°C` }] };
      },
    );
    server.registerTool("plain_lookup", { description: "No UI", inputSchema: { key: z.string() } }, async ({ key }) => {
      calls.push({ name: "plain_lookup", args: { key } });
      return { content: [{ type: "text", text: key }] };
    });
    return server;
  };
  const http: Server = createServer(async (req, res) => {
    try {
      const server = build();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
