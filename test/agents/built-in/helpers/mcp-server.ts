import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

export interface LocalMcpServer {
  /** Streamable HTTP endpoint. */
  httpUrl: string;
  /** Legacy HTTP+SSE endpoint. */
  sseUrl: string;
  /** Tool calls the server executed. */
  calls: Array<{ name: string; args: unknown }>;
  /** Headers of every request. */
  headers: IncomingMessage["headers"][];
  /** Number of SSE streams currently open (legacy transport). */
  openSseStreams: () => number;
  close(): Promise<void>;
}

/** What the local MCP server demands of its callers. */
export interface LocalMcpServerOptions {
  /** Answer 401 (with a `WWW-Authenticate: Bearer` challenge) to every request without `Authorization: Bearer <this>`. */
  requireBearer?: string;
}

/**
 * An MCP server (the official SDK) on 127.0.0.1, with a `db.lookup` tool, a failing `broken` tool and
 * `whoami`, which fails echoing the caller's authorization header.
 */
export async function startMcpServer(options: LocalMcpServerOptions = {}): Promise<LocalMcpServer> {
  const calls: LocalMcpServer["calls"] = [];
  const headers: LocalMcpServer["headers"] = [];
  const sseTransports = new Map<string, SSEServerTransport>();

  const build = () => {
    const server = new McpServer({ name: "test-mcp", version: "1.0.0" });
    server.registerTool(
      "db.lookup",
      { description: "Look up a record by key", inputSchema: { key: z.string() } },
      async ({ key }) => {
        calls.push({ name: "db.lookup", args: { key } });
        return { content: [{ type: "text", text: `record ${key}: 42` }] };
      },
    );
    server.registerTool("broken", { description: "Always fails", inputSchema: {} }, async () => {
      calls.push({ name: "broken", args: {} });
      return { content: [{ type: "text", text: "backend down" }], isError: true };
    });
    // Echoes the caller's credentials in its error, as careless servers do.
    server.registerTool("whoami", { description: "Who am I", inputSchema: {} }, async (_args, extra) => {
      calls.push({ name: "whoami", args: {} });
      const auth = extra.requestInfo?.headers?.authorization;
      return { content: [{ type: "text", text: `access denied for ${String(auth)}` }], isError: true };
    });
    return server;
  };

  const http: Server = createServer(async (req, res) => {
    headers.push(req.headers);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (options.requireBearer && req.headers.authorization !== `Bearer ${options.requireBearer}`) {
      // Also the OAuth discovery paths: the server has no metadata, so a client falls back to defaults.
      res.writeHead(401, { "www-authenticate": 'Bearer error="invalid_token"' }).end();
      return;
    }
    try {
      if (url.pathname === "/mcp") {
        const server = build();
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        res.on("close", () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res);
      } else if (url.pathname === "/sse" && req.method === "GET") {
        const transport = new SSEServerTransport("/messages", res);
        sseTransports.set(transport.sessionId, transport);
        res.on("close", () => sseTransports.delete(transport.sessionId));
        await build().connect(transport);
      } else if (url.pathname === "/messages" && req.method === "POST") {
        const transport = sseTransports.get(url.searchParams.get("sessionId") ?? "");
        if (!transport) {
          res.writeHead(404).end();
          return;
        }
        await transport.handlePostMessage(req, res);
      } else {
        res.writeHead(404).end();
      }
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    httpUrl: `http://127.0.0.1:${port}/mcp`,
    sseUrl: `http://127.0.0.1:${port}/sse`,
    calls,
    headers,
    openSseStreams: () => sseTransports.size,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
