/**
 * A per-request agents factory and header forwarding, with the real clients: the
 * `authorization` and `x-*` headers a client is configured with reach the agent on run AND
 * the runner on connect (CopilotKit forgets connect: #3170); infrastructure headers do not.
 */
import type { BaseEvent } from "@ag-ui/core";
import type { Observable } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import type { AgentRunnerConnectRequest } from "../../src/runners/agent-runner.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { AgentRecorder, ScriptedAgent, echoReply } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type CoreError, coreClients, httpAgentClients } from "./clients.js";
import { installBrowserGlobals, waitUntil } from "./support.js";
import { HttpAgent as HttpAgent_1_0 } from "@ag-ui/client";
import { HttpAgent as HttpAgent_0_0_48 } from "ag-ui-client-0-0-48";

import type { AgentLike } from "../../src/events/agent-contract.js";

type HttpAgentClass = new (config: { url: string }) => AgentLike;

installBrowserGlobals();

/** Records what the runtime passes to `connect`; everything else is the in-memory runner. */
class ConnectRecordingRunner extends InMemoryAgentRunner {
  readonly connects: AgentRunnerConnectRequest[] = [];
  override connect(request: AgentRunnerConnectRequest): Observable<BaseEvent> {
    this.connects.push(request);
    return super.connect(request);
  }
}

const CLIENT_HEADERS = {
  authorization: "Bearer user-token-123",
  "x-tenant": "acme",
  "x-forwarded-for": "203.0.113.9", // infrastructure: never forwarded by default
};

function expectForwarded(headers: Record<string, string> | undefined): void {
  expect(headers).toMatchObject({ authorization: "Bearer user-token-123", "x-tenant": "acme" });
  expect(Object.keys(headers ?? {})).not.toContain("x-forwarded-for");
}

describe("per-request agents and forwarded headers", () => {
  let server: TestServer;
  const runner = new ConnectRecordingRunner();
  const recorder = new AgentRecorder();
  const tenantsSeen: Array<string | null> = [];

  beforeAll(async () => {
    const runtime = new CopilotRuntime({
      runner,
      // A multi-tenant setup: the agent list depends on who asks.
      agents: ({ request }) => {
        const tenant = request.headers.get("x-tenant");
        tenantsSeen.push(tenant);
        const agents: Record<string, ScriptedAgent> = {
          default: new ScriptedAgent({ script: echoReply(), delayMs: 1, recorder, description: `for ${tenant ?? "nobody"}` }),
        };
        if (tenant === "beta") agents.preview = new ScriptedAgent({ script: echoReply(), delayMs: 1, recorder });
        return agents;
      },
    });
    server = await startServer({ runtime, mode: "multi-route" });
  });
  afterAll(() => server.close());

  describe.each(coreClients.filter((c) => c.expectedTransport === "rest"))("$name", (factory) => {
    it("the agent list follows the request: each tenant sees its own agents", async () => {
      const acme = factory.create({ runtimeUrl: server.runtimeUrl, headers: { "x-tenant": "acme" } });
      const beta = factory.create({ runtimeUrl: server.runtimeUrl, headers: { "x-tenant": "beta" } });
      await waitUntil(() => acme.runtimeConnectionStatus === "connected" && beta.runtimeConnectionStatus === "connected", "/info");
      expect(Object.keys(acme.agents).sort()).toEqual(["default"]);
      expect(Object.keys(beta.agents).sort()).toEqual(["default", "preview"]);
      expect(tenantsSeen).toContain("acme");
      expect(tenantsSeen).toContain("beta");
    });
  });

  describe.each(coreClients)("$name", (factory) => {
    let singleRoute: TestServer | undefined;
    afterAll(() => singleRoute?.close());

    it("authorization and x-* headers reach the agent on run and the runner on connect", async () => {
      let runtimeUrl = server.runtimeUrl;
      if (factory.expectedTransport === "single") {
        singleRoute = await startServer({
          runtime: new CopilotRuntime({ runner, agents: () => ({ default: new ScriptedAgent({ script: echoReply(), delayMs: 1, recorder }) }) }),
          mode: "single-route",
        });
        runtimeUrl = singleRoute.runtimeUrl;
      }
      const errors: CoreError[] = [];
      const core = factory.create({ runtimeUrl, headers: CLIENT_HEADERS });
      core.subscribe({ onError: (event) => void errors.push(event) });
      await waitUntil(() => core.runtimeConnectionStatus === "connected", "/info");
      const agent = core.getAgent("default")!;
      agent.threadId = `headers-${factory.name}`;

      const connectsBefore = runner.connects.length;
      await core.connectAgent({ agent });
      expect(runner.connects.length).toBe(connectsBefore + 1);
      expectForwarded(runner.connects[runner.connects.length - 1].headers);

      const runsBefore = recorder.runs.length;
      agent.addMessage({ id: `h-${factory.name}`, role: "user", content: "who am I?" });
      await core.runAgent({ agent });
      expect(recorder.runs.length).toBe(runsBefore + 1);
      expectForwarded(recorder.lastRun?.headers);
      expect(errors).toEqual([]);
    });
  });

  describe.each(httpAgentClients)("$name HttpAgent", (client) => {
    it("its configured headers reach the agent on run", async () => {
      const agent = client.create({ url: `${server.runtimeUrl}/agent/default/run`, headers: CLIENT_HEADERS });
      agent.addMessage({ id: "u1", role: "user", content: "hi" });
      const runsBefore = recorder.runs.length;
      await agent.runAgent();
      expect(recorder.runs.length).toBe(runsBefore + 1);
      expectForwarded(recorder.lastRun?.headers);
    });
  });

  /**
   * The real chain: browser -> our runtime -> an HttpAgent calling an upstream AG-UI server.
   * The client's authorization must arrive upstream (agents built with old and new clients).
   */
  describe.each([
    { name: "@ag-ui/client 1.0.0", HttpAgent: HttpAgent_1_0 as unknown as HttpAgentClass },
    { name: "@ag-ui/client 0.0.48", HttpAgent: HttpAgent_0_0_48 as unknown as HttpAgentClass },
  ])("an $name HttpAgent as the runtime's agent", ({ HttpAgent }) => {
    let upstream: TestServer;
    let proxy: TestServer;
    const upstreamRecorder = new AgentRecorder();
    beforeAll(async () => {
      upstream = await startServer({
        runtime: new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: echoReply(), delayMs: 1, recorder: upstreamRecorder }) } }),
      });
      proxy = await startServer({
        runtime: new CopilotRuntime({ agents: { default: new HttpAgent({ url: `${upstream.runtimeUrl}/agent/default/run` }) } }),
      });
    });
    afterAll(async () => {
      await proxy.close();
      await upstream.close();
    });

    it("forwards the client's authorization and x-* headers upstream, and streams the upstream reply back", async () => {
      const core = coreClients[2].create({ runtimeUrl: proxy.runtimeUrl, headers: CLIENT_HEADERS });
      await waitUntil(() => core.runtimeConnectionStatus === "connected", "/info");
      const agent = core.getAgent("default")!;
      agent.addMessage({ id: "p1", role: "user", content: "through the proxy" });
      await core.runAgent({ agent });

      expect(agent.messages.map((m) => m.content)).toEqual(["through the proxy", "You said: through the proxy"]);
      expectForwarded(upstreamRecorder.lastRun?.headers);
    });
  });
});
