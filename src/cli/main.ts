#!/usr/bin/env node
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createCopilotNodeHandler, createCopilotNodeListener, installProcessGuard, type CopilotNodeListener } from "../adapters/node.js";
import { HTTP_ERRORS } from "../errors.js";
import { createHealthHandler, type HealthHandler } from "../observability/health.js";
import { createMetricsHandler, defaultMetricsRegistry, type MetricsRegistry } from "../observability/metrics.js";
import { applyServerLimits } from "../adapters/node-server.js";
import { setLogger, type Logger } from "../logger.js";
import { CopilotRuntime } from "../runtime.js";
import { VERSION } from "../version.js";
import { HELP, parseArgs } from "./args.js";
import { removeFiles, selectRunner, type SelectedRunner } from "../runners/select-runner.js";
import { CliStartupError } from "./errors.js";
import { createCliLogger } from "./log-output.js";
import { nextStepsLine, prepareServe, type ServeSetup } from "./startup.js";

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  if (args.command === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (args.command === "version") {
    process.stdout.write(`${VERSION}\n`);
    return;
  }

  let setup: ServeSetup;
  try {
    setup = await prepareServe(args, process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof CliStartupError)) throw error;
    console.error(error.message);
    process.exit(error.exitCode);
  }
  args = { ...args, ...setup.args };
  // pino-compatible JSON lines on stdout, or human lines on a terminal; the runtime's own lines
  // (requests, runs, runners) go there too unless the config file gave the runtime a logger.
  const log = createCliLogger({ format: setup.log.format ?? (process.stdout.isTTY ? "pretty" : "json"), level: setup.log.level });
  setLogger(log);
  for (const line of setup.lines) log.info({}, line);
  let storage: SelectedRunner | undefined;
  if (setup.runtimeOptions.runner === undefined) {
    try {
      storage = await selectRunner(args.storage, process.env, process.cwd());
    } catch (error) {
      console.error((error as Error).message);
      process.exit(1);
    }
    log.info({}, `threads: ${storage.description}`);
  }
  if (setup.runtimeOptions.identifyUser === undefined) {
    log.info({}, "threads: no identifyUser, so every caller is one anonymous user who sees every thread (set identifyUser in a config file)");
  }
  // One request's bug must not end every other user's stream: log what escapes and keep serving.
  installProcessGuard();
  const runtime = new CopilotRuntime({
    ...setup.runtimeOptions,
    runner: setup.runtimeOptions.runner ?? storage!.runner,
    logger: setup.runtimeOptions.logger ?? log,
  });
  // The Node adapter is the fast path (native event streams); CORS is permissive unless the
  // config file says otherwise, as with CopilotKit's endpoints.
  // /healthz and /readyz at the root of the main port; /metrics there too unless it has a port of its own.
  const health = createHealthHandler({ runtime });
  const registry = setup.metrics.enabled ? defaultMetricsRegistry() : undefined;
  const metricsPort = registry === undefined ? undefined : setup.metrics.port;
  const listener = createCopilotNodeListener({
    ...setup.endpointOptions,
    cors: setup.endpointOptions.cors ?? true,
    runtime,
    basePath: args.basePath,
    health,
    metrics: registry === undefined ? false : { registry, endpoint: metricsPort === undefined },
  });
  // Timeouts for receiving requests, JSON answers for what Node refuses itself, and a backlog
  // that takes a burst of new connections.
  const server = applyServerLimits(createServer(refuseWhileDraining(listener, health)), setup.server);
  // A start that fails from here on leaves no database behind that it created itself.
  const failStart = async (message: string): Promise<never> => {
    console.error(message);
    await storage?.close().catch(() => {});
    removeFiles(storage?.createdFiles ?? []);
    process.exit(1);
  };
    const metricsServer =
    registry !== undefined && metricsPort !== undefined ? startMetricsServer(registry, health, metricsPort, args.host, log, failStart) : undefined;
server.on("error", (error) => void failStart(`copilot-runtime could not listen on ${args.host}:${args.port}: ${error.message}`));
  server.listen({ port: args.port, host: args.host, backlog: setup.server.backlog }, () => {
    const info = server.address() as AddressInfo;
    const shownHost = args.host === "0.0.0.0" || args.host === "::" ? "localhost" : args.host;
    const url = `http://${shownHost}:${info.port}${args.basePath}`;
    log.info(
      { url, version: VERSION },
      `copilot-runtime ${VERSION} listening on ${url} (${setup.agentSummary}; threads: ${storage?.description ?? "runner from the config file"})`,
    );
    const root = `http://${shownHost}:${info.port}`;
    const onMain = registry !== undefined && metricsPort === undefined ? `, metrics ${root}/metrics` : registry === undefined ? " (metrics off)" : "";
    log.info({}, `health: ${root}/healthz, ready: ${root}/readyz${onMain}`);
    log.info({}, nextStepsLine(url, setup.tryAgentId));
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Readiness first, so load balancers stop sending work; the port stays open until exit so
    // probes get their answer, and any other request gets 503 `shutting_down`.
    health.drain();
    log.info({ signal }, `${signal} received: /readyz answers 503, new requests get 503; letting open runs finish (up to ${args.shutdownTimeoutMs / 1000} s)`);
    await runtime.runner.shutdown?.({ deadlineMs: args.shutdownTimeoutMs });
    await storage?.close();
    // Streams end once their runs have; give the last frames a moment to flush.
    setTimeout(() => {
      for (const open of [server, metricsServer]) {
        open?.close();
        open?.closeAllConnections();
      }
      process.exit(0);
    }, 200).unref();
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

const PROBE_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/** Once draining, everything but the probes and /metrics gets 503 `shutting_down` and a closed connection. */
function refuseWhileDraining(listener: CopilotNodeListener, health: HealthHandler): CopilotNodeListener {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (!health.draining || PROBE_PATHS.has(pathOf(req.url))) return listener(req, res);
    const body = JSON.stringify({
      error: HTTP_ERRORS.shuttingDown.code,
      message: "This server is shutting down; retry on another instance.",
    });
    res.shouldKeepAlive = false;
    res.writeHead(HTTP_ERRORS.shuttingDown.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "retry-after": "5",
      connection: "close",
    });
    res.end(body);
  };
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  return query === -1 ? raw : raw.slice(0, query);
}

/** `--metrics-port`: /metrics, /healthz and /readyz on a port of their own (same host). */
function startMetricsServer(
  registry: MetricsRegistry,
  health: HealthHandler,
  port: number,
  host: string,
  log: Logger,
  failStart: (message: string) => Promise<never>,
): Server {
  const metrics = createMetricsHandler({ metrics: registry });
  const server = createServer(
    createCopilotNodeHandler((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/metrics") return metrics(request);
      return health(request); // /healthz, /readyz; 404 for anything else
    }),
  );
  server.on("error", (error) => void failStart(`copilot-runtime could not listen for metrics on ${host}:${port}: ${error.message}`));
  server.listen({ port, host }, () => {
    const info = server.address() as AddressInfo;
    const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
    log.info({}, `metrics: http://${shownHost}:${info.port}/metrics (also /healthz, /readyz)`);
  });
  return server;
}

void main();
