/**
 * A client that sends `Connection: close` gets `Connection: close` on an event stream too, and
 * the server closes the socket when the stream ends (a forced `Connection: keep-alive` used to
 * keep it open). Over raw sockets, through the native Node path and the web-stream path.
 */
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { serve } from "@hono/node-server";
import { createCopilotEndpoint } from "../../src/adapters/hono.js";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, helloScript } from "../helpers/agents.js";

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.close();
    server.closeAllConnections();
  }
});

function runtime(): CopilotRuntime {
  return new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) } });
}

async function listening(server: Server): Promise<number> {
  servers.push(server);
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends `head` + `body` on a fresh socket; resolves with all it received once the server ends the socket. */
function exchange(port: number, head: string, body: string, timeoutMs = 10_000): Promise<{ text: string; serverClosed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(head + body));
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, serverClosed: false });
    }, timeoutMs);
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, serverClosed: true });
    });
    socket.on("error", () => {});
  });
}

function runRequest(connection: string): { head: string; body: string } {
  const body = JSON.stringify(runInput({ threadId: `t-${Math.random().toString(36).slice(2)}` }));
  const head =
    `POST /api/copilotkit/agent/default/run HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Accept: text/event-stream\r\nConnection: ${connection}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return { head, body };
}

const HOSTS: Array<{ name: string; start: () => Promise<number> }> = [
  { name: "Node listener (native SSE)", start: () => listening(createServer(createCopilotNodeListener({ runtime: runtime(), basePath: "/api/copilotkit" }))) },
  {
    name: "Hono on @hono/node-server (web stream)",
    start: () => listening(serve({ fetch: createCopilotEndpoint({ runtime: runtime(), basePath: "/api/copilotkit" }).fetch, port: 0, hostname: "127.0.0.1" }) as Server),
  },
];

describe.each(HOSTS)("$name", ({ start }) => {
  it("honours Connection: close on an event stream: says close and closes the socket after the stream", { timeout: 20_000 }, async () => {
    const port = await start();
    const { head, body } = runRequest("close");
    const { text, serverClosed } = await exchange(port, head, body);
    const headers = text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase();
    expect(headers).toMatch(/^http\/1\.1 200/);
    expect(headers).toContain("content-type: text/event-stream");
    expect(headers).toContain("connection: close");
    expect(headers).not.toContain("keep-alive");
    expect(text).toContain('"type":"RUN_FINISHED"');
    expect(serverClosed).toBe(true);
  });

  it("still keeps the connection alive for a client that asks for it", async () => {
    const port = await start();
    const { head, body } = runRequest("keep-alive");
    const { text, serverClosed } = await exchange(port, head, body, 1_500);
    const headers = text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase();
    expect(headers).toContain("connection: keep-alive");
    expect(text).toContain('"type":"RUN_FINISHED"');
    expect(serverClosed).toBe(false);
  });
});
