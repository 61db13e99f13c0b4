// One runtime in its own process: `node server.mjs ours|theirs [port]`. Serves the bench agents
// at http://127.0.0.1:<port>/api/copilotkit and talks to its parent over IPC:
//   -> { ready: true, port, adapter, agui }     once listening (agui: the agents' @ag-ui/client version)
//   <- { cmd: "mem" }  -> { mem: memoryUsage + newSpace }  after forced GCs (needs --expose-gc);
//                         newSpace: the bytes V8's young generation holds from the OS
//   <- { cmd: "cpu" }  -> { cpu: cpuUsage }
//   <- { cmd: "profile-start" } / { cmd: "profile-stop", file }  a focused CPU profile
//   <- { cmd: "heap-snapshot", file }  writes a heap snapshot (diagnostics)
//   <- { cmd: "exit" }                          closes and exits (flushes --cpu-prof)
process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";
process.env.DO_NOT_TRACK = "1";

import { createServer } from "node:http";
import { getHeapSpaceStatistics } from "node:v8";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OURS_ENTRY, OURS_NODE_ENTRY, repoModule, benchResolve } from "./lib/paths.mjs";
import { AGUI_VERSION, createAgents } from "./lib/agents.mjs";

const impl = process.argv[2];
const port = Number(process.argv[3] ?? 0);
const BASE = "/api/copilotkit";

async function startOurs() {
  const ours = await import(OURS_ENTRY);
  const runtime = new ours.CopilotRuntime({ agents: createAgents(), runner: new ours.InMemoryAgentRunner() });
  // The plain node:http adapter (copilot-runtime/node) when the build has it; BENCH_OURS_ADAPTER=hono forces Hono.
  const node = existsSync(fileURLToPath(OURS_NODE_ENTRY)) ? await import(OURS_NODE_ENTRY) : ours;
  if (process.env.BENCH_OURS_ADAPTER !== "hono" && typeof node.createCopilotNodeListener === "function") {
    const listener = node.createCopilotNodeListener({ runtime, basePath: BASE, cors: true });
    return { server: createServer(listener), adapter: "createCopilotNodeListener (node:http)" };
  }
  const { getRequestListener } = await import(repoModule("@hono/node-server"));
  const app = ours.createCopilotEndpoint({ runtime, basePath: BASE });
  return { server: createServer(getRequestListener(app.fetch)), adapter: "createCopilotEndpoint (Hono) + @hono/node-server" };
}

async function startTheirs() {
  const v2 = await import(benchResolve("@copilotkit/runtime/v2"));
  const { getRequestListener } = await import(benchResolve("@hono/node-server"));
  const runtime = new v2.CopilotRuntime({ agents: createAgents(), runner: new v2.InMemoryAgentRunner() });
  const app = v2.createCopilotEndpoint({ runtime, basePath: BASE });
  return { server: createServer(getRequestListener(app.fetch)), adapter: "createCopilotEndpoint (Hono) + @hono/node-server" };
}

const { server, adapter } = impl === "ours" ? await startOurs() : impl === "theirs" ? await startTheirs() : process.exit(2);
// GET /__bench/cpu answers this process's CPU time (µs), so the client can charge CPU per run.
// It is checked before the runtime sees the request, identically for both runtimes.
const [runtimeListener] = server.listeners("request");
server.removeAllListeners("request");
server.on("request", (req, res) => {
  if (req.url === "/__bench/cpu") {
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ cpuUs: user + system }));
    return;
  }
  runtimeListener(req, res);
});
server.maxConnections = 20_000;
server.keepAliveTimeout = 65_000;
// A deep accept queue for both runtimes: with Node's default (511) a burst of 500-1,000
// connections overflows it while the loop is busy, and the kernel's 1 s SYN retry would be
// measured instead of the runtime.
server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => {
  process.send?.({ ready: true, port: server.address().port, adapter, agui: AGUI_VERSION, pid: process.pid });
});

let profiler;
process.on("message", async (msg) => {
  if (msg?.cmd === "mem") {
    global.gc?.();
    global.gc?.();
    setTimeout(() => {
      global.gc?.();
      const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.physical_space_size ?? 0;
      process.send({ mem: { ...process.memoryUsage(), newSpace } });
    }, 50);
  } else if (msg?.cmd === "profile-start") {
    profiler ??= new (await import("node:inspector")).Session();
    profiler.connect();
    profiler.post("Profiler.enable", () => profiler.post("Profiler.setSamplingInterval", { interval: 100 }, () => profiler.post("Profiler.start", () => process.send({ profiling: true }))));
  } else if (msg?.cmd === "profile-stop") {
    profiler.post("Profiler.stop", (error, { profile }) => {
      (async () => {
        const { writeFileSync } = await import("node:fs");
        writeFileSync(msg.file, JSON.stringify(profile));
        profiler.disconnect();
        process.send({ profiled: msg.file });
      })();
    });
  } else if (msg?.cmd === "heap-snapshot") {
    global.gc?.();
    const file = (await import("node:v8")).writeHeapSnapshot(msg.file);
    process.send({ snapshot: file });
  } else if (msg?.cmd === "cpu") {
    process.send({ cpu: process.cpuUsage() });
  } else if (msg?.cmd === "exit") {
    server.closeAllConnections?.();
    server.close();
    // Leave through process.exit so --cpu-prof writes its profile.
    setTimeout(() => process.exit(0), 100);
  }
});
process.on("disconnect", () => process.exit(0));
