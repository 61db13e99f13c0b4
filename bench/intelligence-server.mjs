// One server process for `intelligence.mjs`: our Intelligence platform (`copilot-runtime/intelligence`,
// memory or SQLite store) + our runtime in Intelligence mode in front of it, and, on a second port,
// our runtime on its plain SSE path (InMemoryAgentRunner) with the same agents. Both runtimes and
// the platform share this process, so its CPU time is the server side of either path.
//
// `node intelligence-server.mjs memory|sqlite`; IPC with the parent:
//   -> { ready, intelligenceUrl, sseUrl, clientWsUrl, pid }
//   <- { cmd: "cpu" }  -> { cpu: microseconds of CPU (user + system) }
//   <- { cmd: "mem" }  -> { mem: process.memoryUsage() after forced GCs } (needs --expose-gc)
//   <- { cmd: "open-gate" } releases every `stamped` run waiting for its subscribers -> { gateOpen }
//   <- { cmd: "exit" }
//
// Agents: the bench's (lib/agents.mjs: firehose, idle, ...) plus `stamped`: RUN_STARTED,
// TEXT_MESSAGE_START, then (with forwardedProps.gate) waits for "open-gate", then N deltas
// (forwardedProps.events), each delta the wall-clock time it was emitted in ms
// (performance.timeOrigin + performance.now(), comparable across processes), 100 per macrotask.
process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";
process.env.DO_NOT_TRACK = "1";

import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { OURS_ENTRY, OURS_NODE_ENTRY, REPO_DIR, repoModule, requireFromRepo } from "./lib/paths.mjs";
import { createAgents } from "./lib/agents.mjs";

const storeKind = process.argv[2] ?? "memory";
const API_KEY = "cpk-1_bench-intelligence-secret";
const BASE = "/api/copilotkit";

const { AbstractAgent } = await import(repoModule("@ag-ui/client"));
const { Observable } = requireFromRepo("rxjs");

let openGate;
let gate = new Promise((resolve) => (openGate = resolve));

class StampedAgent extends AbstractAgent {
  run(input) {
    const total = Number(input.forwardedProps?.events ?? 1000);
    const batch = Number(input.forwardedProps?.batch ?? 100);
    const waitForGate = input.forwardedProps?.gate === true;
    return new Observable((subscriber) => {
      let cancelled = false;
      const messageId = `msg-${input.runId}`;
      subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      subscriber.next({ type: "TEXT_MESSAGE_START", messageId, role: "assistant" });
      let sent = 0;
      const step = () => {
        if (cancelled) return;
        const end = Math.min(total, sent + batch);
        for (; sent < end; sent++) subscriber.next({ type: "TEXT_MESSAGE_CONTENT", messageId, delta: (performance.timeOrigin + performance.now()).toFixed(3) });
        if (sent < total) return void setImmediate(step);
        subscriber.next({ type: "TEXT_MESSAGE_END", messageId });
        subscriber.next({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
        subscriber.complete();
      };
      void (waitForGate ? gate : Promise.resolve()).then(() => setImmediate(step));
      return () => {
        cancelled = true;
      };
    });
  }
}

function agents() {
  return { ...createAgents(), stamped: new StampedAgent({ agentId: "stamped", description: "timestamped deltas" }) };
}

const ours = await import(OURS_ENTRY);
const node = await import(OURS_NODE_ENTRY);
const intelligenceEntry = await import(pathToFileURL(path.join(REPO_DIR, "dist", "intelligence", "index.js")).href);

async function openStore() {
  if (storeKind === "sqlite") {
    const { SqliteIntelligenceStore } = await import(pathToFileURL(path.join(REPO_DIR, "dist", "intelligence", "sqlite.js")).href);
    return new SqliteIntelligenceStore(); // in-memory SQLite database (":memory:")
  }
  return new intelligenceEntry.MemoryIntelligenceStore();
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const platform = await intelligenceEntry.serveIntelligencePlatform({ store: await openStore(), apiKeys: [API_KEY], tokenSecret: "bench-token-secret-0123456789abcdef", logger: silent });
const intelligence = new ours.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: API_KEY });
const identifyUser = (request) => {
  const id = request.headers.get("x-user") ?? "bench";
  return { id, name: id };
};
const intelligenceRuntime = new ours.CopilotRuntime({ agents: agents(), intelligence, identifyUser, generateThreadNames: false });
const sseRuntime = new ours.CopilotRuntime({ agents: agents(), runner: new ours.InMemoryAgentRunner() });

async function listen(runtime) {
  const server = createServer(node.createCopilotNodeListener({ runtime, basePath: BASE }));
  server.maxConnections = 20_000;
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  return server;
}
const intelligenceServer = await listen(intelligenceRuntime);
const sseServer = await listen(sseRuntime);
platform.server.maxConnections = 20_000;

process.send({
  ready: true,
  pid: process.pid,
  intelligenceUrl: `http://127.0.0.1:${intelligenceServer.address().port}${BASE}`,
  sseUrl: `http://127.0.0.1:${sseServer.address().port}${BASE}`,
  clientWsUrl: `${platform.wsUrl}/client`,
});

process.on("message", (msg) => {
  if (msg?.cmd === "cpu") {
    const { user, system } = process.cpuUsage();
    process.send({ cpu: user + system });
  } else if (msg?.cmd === "mem") {
    global.gc?.();
    global.gc?.();
    setTimeout(() => {
      global.gc?.();
      process.send({ mem: process.memoryUsage() });
    }, 50);
  } else if (msg?.cmd === "open-gate") {
    openGate();
    gate = new Promise((resolve) => (openGate = resolve));
    process.send({ gateOpen: true });
  } else if (msg?.cmd === "exit") {
    for (const server of [intelligenceServer, sseServer]) {
      server.closeAllConnections();
      server.close();
    }
    void platform.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  }
});
process.on("disconnect", () => process.exit(0));
