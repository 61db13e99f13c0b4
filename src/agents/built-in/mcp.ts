import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONSchema7, Tool } from "ai";
import { ai } from "./ai-sdk.js";
import { loadMcpSdk } from "./packages.js";
import { TOOL_NAME_PATTERN } from "./define-tool.js";
import { BuiltInAgentError } from "./errors.js";
import { ToolCallFailure } from "./tool-errors.js";
import { outboundHeaders } from "./forwarded-headers.js";
import type { MCPClientProvider, MCPServerConfig, MCPServerConfigHTTP } from "./types.js";

/** The tools of the configured MCP servers for one run, and how to let go of their connections. */
export interface McpToolset {
  tools: Record<string, Tool>;
  close(): Promise<void>;
}

interface ListedTool {
  name: string;
  description?: string;
  title?: string;
  inputSchema: unknown;
}

interface CallResult {
  content?: unknown;
  structuredContent?: unknown;
  isError?: boolean;
}

const CLIENT_INFO = { name: "copilot-runtime", version: "0.1.0" };
const MAX_TOOL_PAGES = 50;

/** How a run treats an MCP server it cannot connect to or list the tools of. */
export interface McpOpenOptions {
  signal: AbortSignal;
  takenNames?: ReadonlySet<string>;
  /** `skip` (default): leave the server out and go on; `fail`: end the run with `mcp_connection_failed`. */
  onServerError?: "skip" | "fail";
  /** Told about each skipped server (its address without the query string, and the error). */
  onSkip?: (server: { url: string }, error: unknown) => void;
  /** The request headers the runtime forwarded to the agent; sent to servers that ask for them. */
  forwardedHeaders?: Record<string, string>;
  /** Application-managed MCP clients whose tools join the servers' (they are never closed here). */
  clients?: readonly MCPClientProvider[];
}

/**
 * Connects to each MCP server, lists its tools and wraps them as AI SDK tools whose `execute` calls
 * the server. Names are made valid for every provider (`a.b` becomes `a_b`, clashes get a suffix);
 * the original name is used when calling. A server that cannot be reached or listed is skipped (as
 * CopilotKit does) or, with `onServerError: "fail"`, fails the run: then the servers already open are
 * closed and a `mcp_connection_failed` error says so without the server's address, which is kept for
 * the log (in the error's cause).
 *
 * @example
 * ```ts
 * const mcp = await openMcpToolset([{ type: "http", url: "http://127.0.0.1:3001/mcp" }], { signal });
 * try { ... streamText({ tools: mcp.tools }) ... } finally { await mcp.close(); }
 * ```
 */
export async function openMcpToolset(servers: readonly MCPServerConfig[], options: McpOpenOptions): Promise<McpToolset> {
  const clients: Client[] = [];
  const close = async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  };
  const tools: Record<string, Tool> = {};
  const used = new Set(options.takenNames);
  const clientTools = await Promise.allSettled((options.clients ?? []).map((client) => listClientTools(client)));
  const results = await Promise.allSettled(
    servers.map(async (server) => {
      const client = await connect(server, options.signal, options.forwardedHeaders);
      clients.push(client);
      try {
        return { client, listed: await listTools(client, server, options.signal) };
      } catch (error) {
        clients.splice(clients.indexOf(client), 1);
        await client.close().catch(() => undefined);
        throw error;
      }
    }),
  );
  const failure = [...clientTools, ...results].find((result) => result.status === "rejected") as PromiseRejectedResult | undefined;
  if (failure && (options.onServerError === "fail" || options.signal.aborted)) {
    await close();
    throw failure.reason;
  }
  clientTools.forEach((result, index) => {
    if (result.status === "rejected") {
      const reason = result.reason as { cause?: unknown };
      options.onSkip?.({ url: `mcpClients[${index}]` }, reason.cause ?? reason);
      return;
    }
    for (const [listedName, tool] of Object.entries(result.value)) {
      const name = uniqueName(listedName, used);
      used.add(name);
      tools[name] = tool;
    }
  });
  results.forEach((result, index) => {
    if (result.status === "rejected") {
      const reason = result.reason as { cause?: unknown };
      options.onSkip?.({ url: displayUrl(servers[index].url) }, reason.cause ?? reason);
      return;
    }
    for (const tool of result.value.listed) {
      const name = uniqueName(tool.name, used);
      used.add(name);
      tools[name] = wrapTool(result.value.client, tool);
    }
  });
  return { tools, close };
}

function createTransport(server: MCPServerConfig, forwarded: Record<string, string> | undefined): Transport {
  const url = new URL(server.url);
  const options = server.options ?? {};
  // Headers of the transport options, then the forwarded ones the server asked for, then `headers`:
  // what the configuration sets wins over what a user's request brings.
  const headers = new Headers(options.requestInit?.headers);
  for (const [name, value] of Object.entries(outboundHeaders(forwarded, server.forwardHeaders, server.headers))) headers.set(name, value);
  const requestInit = [...headers.keys()].length > 0 ? { ...options.requestInit, headers } : options.requestInit;
  return server.type === "sse"
    ? new (loadMcpSdk().SSEClientTransport)(url, { ...options, requestInit })
    : new (loadMcpSdk().StreamableHTTPClientTransport)(url, { ...(options as MCPServerConfigHTTP["options"]), requestInit });
}

async function connect(server: MCPServerConfig, signal: AbortSignal, forwarded: Record<string, string> | undefined): Promise<Client> {
  const client = new (loadMcpSdk().Client)(CLIENT_INFO);
  try {
    await client.connect(createTransport(server, forwarded), { signal });
    return client;
  } catch (error) {
    await client.close().catch(() => undefined);
    throw connectionError(server, error);
  }
}

async function listClientTools(client: MCPClientProvider): Promise<Record<string, Tool>> {
  try {
    const listed = await client.tools();
    if (!listed || typeof listed !== "object") throw new TypeError("tools() did not return a tool set");
    return listed as Record<string, Tool>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BuiltInAgentError("mcp_connection_failed", "An MCP server the agent needs could not be reached.", {
      cause: new Error(`MCP client tools() failed: ${reason}`, { cause: error }),
    });
  }
}

async function listTools(client: Client, server: MCPServerConfig, signal: AbortSignal): Promise<ListedTool[]> {
  const tools: ListedTool[] = [];
  let cursor: string | undefined;
  try {
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await client.listTools(cursor ? { cursor } : undefined, { signal });
      tools.push(...(result.tools as ListedTool[]));
      cursor = result.nextCursor;
      if (!cursor) break;
    }
  } catch (error) {
    throw connectionError(server, error);
  }
  return tools;
}

function wrapTool(client: Client, tool: ListedTool): Tool {
  return {
    description: tool.description ?? tool.title ?? "",
    inputSchema: ai.jsonSchema(objectSchema(tool.inputSchema)),
    execute: async (args: unknown, options: { abortSignal?: AbortSignal }) => {
      const result = (await client.callTool(
        { name: tool.name, arguments: (args ?? {}) as Record<string, unknown> },
        undefined,
        { signal: options.abortSignal },
      )) as CallResult;
      const text = renderResult(result);
      // Thrown, the AI SDK reports it as a tool error: the model sees it failed and can react.
      if (result.isError) throw ToolCallFailure.reported(text || `The MCP tool "${tool.name}" failed.`);
      return text;
    },
  } as Tool;
}

function objectSchema(schema: unknown): JSONSchema7 {
  if (!schema || typeof schema !== "object") return { type: "object", properties: {} };
  return { type: "object", properties: {}, ...(schema as JSONSchema7) };
}

/** The text of an MCP tool result: its text parts, else its structured content, else the raw parts. */
function renderResult(result: CallResult): string {
  const parts = Array.isArray(result.content) ? (result.content as Array<{ type?: string; text?: unknown }>) : [];
  const texts = parts.filter((part) => part.type === "text" && typeof part.text === "string").map((part) => part.text);
  if (texts.length > 0) return texts.join("\n");
  if (result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return parts.length > 0 ? JSON.stringify(parts) : "";
}

function uniqueName(name: string, used: ReadonlySet<string>): string {
  const base = (name.replace(/[^A-Za-z0-9_-]/g, "_") || "tool").slice(0, 60);
  if (!used.has(base) && TOOL_NAME_PATTERN.test(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}_${i}`;
    if (!used.has(candidate)) return candidate;
  }
}

function connectionError(server: MCPServerConfig, error: unknown): BuiltInAgentError {
  if (error instanceof BuiltInAgentError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  // The address is for the log only: an internal host name tells a browser too much.
  return new BuiltInAgentError("mcp_connection_failed", "An MCP server the agent needs could not be reached.", {
    cause: new Error(`MCP server ${displayUrl(server.url)}: ${reason}`, { cause: error }),
  });
}

/** A server's address without its query string and credentials, which may hold a token. */
function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
