#!/usr/bin/env node
import cluster from "node:cluster";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createCopilotNodeHandler, createCopilotNodeListener, installProcessGuard, type CopilotNodeListener } from "../adapters/node.js";
import { HTTP_ERRORS } from "../errors.js";
import { createHealthHandler, type HealthHandler } from "../observability/health.js";
import { createMetricsHandler, defaultMetricsRegistry, type MetricsRegistry } from "../observability/metrics.js";
import { applyServerLimits } from "../adapters/node-server.js";
import { setLogger, type Logger } from "../logger.js";
import { CopilotRuntime } from "../runtime.js";
import { CopilotKitIntelligence } from "../intelligence-runtime/copilotkit-intelligence.js";
import { VERSION } from "../version.js";
import { HELP, parseArgs } from "./args.js";
import { removeFiles, selectRunner, storageKind, storageTarget, type SelectedRunner } from "../runners/select-runner.js";
import type { LiveBus } from "../runners/durable/live-bus.js";
import { InMemoryAgentRunner } from "../runners/in-memory.js";
import { MissingDependencyError } from "../missing-dependency-error.js";
import { isMetricsRequest, runPrimary, WORKER_SLOT_VARIABLE, type MetricsReply } from "./cluster-primary.js";
import { WorkerLiveBus } from "./worker-live-bus.js";
import { decideWorkers, type WorkerStorage } from "./workers.js";
import { CliStartupError } from "./errors.js";
import { intelligenceUrlLines, intelligenceWorkers, isPlatformPath } from "./intelligence.js";
import { startPlatform, type ServedPlatform } from "./intelligence-server.js";
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
  // In a worker of `serve --workers N`, the primary prints what was chosen and the listening
  // line; the worker's own lines carry `worker: <slot>`.
  const slot = cluster.isWorker ? process.env[WORKER_SLOT_VARIABLE] ?? "?" : undefined;
  // pino-compatible JSON lines on stdout, or human lines on a terminal; the runtime's own lines
  // (requests, runs, runners) go there too unless the config file gave the runtime a logger.
  const rootLog = createCliLogger({ format: setup.log.format ?? (process.stdout.isTTY ? "pretty" : "json"), level: setup.log.level });
  const log = slot === undefined ? rootLog : (rootLog.child?.({ worker: Number(slot) }) ?? rootLog);
  setLogger(log);
  const announce = (line: string) => slot === undefined && log.info({}, line);
  for (const line of setup.lines) announce(line);
  const configRunner = setup.runtimeOptions.runner;
  // In Intelligence mode the runtime hands its runs to a platform: no store of this process's own.
  const inProcessRuntime = setup.intelligence?.inProcessRuntime;
  const intelligenceRuntime = setup.runtimeOptions.intelligence !== undefined || inProcessRuntime !== undefined;
  const workerStorage: WorkerStorage = intelligenceRuntime
    ? "config-runner"
    : configRunner === undefined
      ? storageKind(args.storage, process.env)
      : configRunner instanceof InMemoryAgentRunner || configRunner.constructor?.name === "InMemoryAgentRunner"
        ? "config-memory-runner"
        : "config-runner";
  const intelligence = setup.intelligence;
  const platformOnly = intelligence?.mode === "only";
  let workers;
  try {
    // The platform's long-poll sessions and fan-out live in one process: one worker with it.
    const decide = () => (intelligence !== undefined ? intelligenceWorkers(setup.workers) : decideWorkers(setup.workers, workerStorage, availableParallelism()));
    workers = slot === undefined ? decide() : undefined;
    checkBus(setup.bus, workerStorage);
  } catch (error) {
    if (!(error instanceof CliStartupError)) throw error;
    console.error(error.message);
    process.exit(error.exitCode);
  }
  if (workers !== undefined) announce(workers.line);
  if (workers !== undefined && workers.count > 1) return startPrimary(args, setup, workers.count, log);

  let storage: SelectedRunner | undefined;
  if (configRunner === undefined && !platformOnly && !intelligenceRuntime) {
    try {
      storage = await selectRunner(args.storage, process.env, process.cwd(), { liveBus: await createLiveBus(setup.bus, args, slot, workerStorage) });
    } catch (error) {
      console.error((error as Error).message);
      process.exit(1);
    }
    announce(`threads: ${storage.description}${setup.bus === undefined ? "" : `; live bus: ${busEngine(setup.bus)} ${redactUrl(setup.bus)}`}`);
  }
  if (setup.runtimeOptions.identifyUser === undefined && !platformOnly) {
    announce("threads: no identifyUser, so every caller is one anonymous user who sees every thread (set identifyUser in a config file)");
  }
  let platform: ServedPlatform | undefined;
  if (intelligence !== undefined) {
    try {
      platform = await startPlatform(intelligence, args.storage, process.env, process.cwd(), log);
    } catch (error) {
      console.error((error as Error).message);
      await storage?.close().catch(() => {});
      removeFiles(storage?.createdFiles ?? []);
      process.exit(1);
    }
    if (platform.storeWarning !== undefined) log.warn({}, platform.storeWarning);
    // The platform warns about both in its own words; here is where this command takes them.
    if (intelligence.tokenSecret === undefined) log.warn({}, "intelligence: set COPILOT_INTELLIGENCE_TOKEN_SECRET (or intelligence.tokenSecret) so browser join tokens survive a restart");
    if (intelligence.clientOrigins === undefined) log.warn({}, "intelligence: set intelligence.clientOrigins in a config file to admit only your app's origins on /client");
    announce(`intelligence: threads, runs and events in ${platform.storeDescription}`);
  }
  // One request's bug must not end every other user's stream: log what escapes and keep serving.
  installProcessGuard();
  // intelligence.runtime: true: REST calls and runner sockets go straight to the platform, with its first key.
  const inProcessIntelligence =
    inProcessRuntime !== undefined && platform !== undefined && intelligence !== undefined
      ? new CopilotKitIntelligence({ platform: platform.platform, wsUrl: inProcessRuntime.publicWsUrl, apiKey: intelligence.apiKeys[0] })
      : undefined;
  const runtime = platformOnly
    ? undefined
    : new CopilotRuntime({
        ...setup.runtimeOptions,
        ...(inProcessIntelligence !== undefined ? { intelligence: inProcessIntelligence } : {}),
        ...(intelligenceRuntime ? {} : { runner: setup.runtimeOptions.runner ?? storage!.runner }),
        logger: setup.runtimeOptions.logger ?? log,
      });
  // The Node adapter is the fast path (native event streams); CORS is permissive unless the
  // config file says otherwise, as with CopilotKit's endpoints.
  // /healthz and /readyz at the root of the main port; /metrics there too unless it has a port of its own.
  const health = createHealthHandler({ ...(runtime !== undefined ? { runtime } : {}), checks: platform === undefined ? [] : [platform.readiness] });
  const registry = setup.metrics.enabled ? defaultMetricsRegistry() : undefined;
  const metricsPort = registry === undefined ? undefined : setup.metrics.port;
  // A worker with a metrics port: the primary serves it, merging every worker's series.
  const ownMetricsServer = metricsPort !== undefined && slot === undefined;
  if (slot !== undefined && registry !== undefined) {
    process.on("message", (message: unknown) => {
      if (!isMetricsRequest(message)) return;
      const reply: MetricsReply = { type: "copilot-runtime:metrics-reply", id: message.id, text: registry.render() };
      process.send?.(reply, () => {});
    });
  }
  const listener =
    runtime === undefined
      ? probesOnly(health, registry !== undefined && metricsPort === undefined ? registry : undefined)
      : createCopilotNodeListener({
          ...setup.endpointOptions,
          cors: setup.endpointOptions.cors ?? true,
          runtime,
          basePath: args.basePath,
          health,
          metrics: registry === undefined ? false : { registry, endpoint: metricsPort === undefined },
        });
  // Timeouts for receiving requests, JSON answers for what Node refuses itself, and a backlog
  // that takes a burst of new connections.
  const server = applyServerLimits(createServer(tagWorker(routePlatform(refuseWhileDraining(listener, health), platform), slot)), setup.server);
  if (platform !== undefined) server.on("upgrade", platform.upgrade);
  // A start that fails from here on leaves no database behind that it created itself.
  const failStart = async (message: string): Promise<never> => {
    console.error(message);
    await platform?.close().catch(() => {});
    await storage?.close().catch(() => {});
    removeFiles([...(storage?.createdFiles ?? []), ...(platform?.createdFiles ?? [])]);
    process.exit(1);
  };
  const metricsServer =
    registry !== undefined && metricsPort !== undefined && ownMetricsServer ? startMetricsServer(registry, health, metricsPort, args.host, log, failStart) : undefined;
  server.on("error", (error) => void failStart(`copilot-runtime could not listen on ${args.host}:${args.port}: ${error.message}`));
  server.listen({ port: args.port, host: args.host, backlog: setup.server.backlog }, () => {
    if (slot !== undefined) return; // the primary prints the listening lines once every worker listens
    const info = server.address() as AddressInfo;
    const shownHost = args.host === "0.0.0.0" || args.host === "::" ? "localhost" : args.host;
    const root = `http://${shownHost}:${info.port}`;
    const url = platformOnly ? root : `${root}${args.basePath}`;
    const threads = platformOnly ? platform!.storeDescription : (storage?.description ?? (inProcessRuntime !== undefined ? "this process's Intelligence platform, in process" : intelligenceRuntime ? "the Intelligence platform (runtime.intelligence)" : "runner from the config file"));
    log.info({ url, version: VERSION }, `copilot-runtime ${VERSION} listening on ${url} (${setup.agentSummary}; threads: ${threads})`);
    if (intelligence !== undefined) for (const line of intelligenceUrlLines(root, intelligence)) log.info({}, line);
    const onMain = registry !== undefined && metricsPort === undefined ? `, metrics ${root}/metrics` : registry === undefined ? " (metrics off)" : "";
    log.info({}, `health: ${root}/healthz, ready: ${root}/readyz${onMain}`);
    if (!platformOnly) log.info({}, nextStepsLine(url, setup.tryAgentId));
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Readiness first, so load balancers stop sending work; the port stays open until exit so
    // probes get their answer, and any other request gets 503 `shutting_down`.
    health.drain();
    log.info({ signal }, `${signal} received: /readyz answers 503, new requests get 503; letting open runs finish (up to ${args.shutdownTimeoutMs / 1000} s)`);
    // The platform drains at once: runner sockets close with 1012, so CopilotKit's runners
    // reconnect (to another instance) without counting an error; browser sockets close with 1001.
    // Its REST API answers until the store closes, after the runtime's open runs.
    const drained = platform?.drain().then(
      () => log.info({}, "intelligence: platform drained (runner WebSockets closed with 1012, long-poll sessions ended, browser sockets closed with 1001)"),
      (error: unknown) => log.error({ err: error }, "intelligence: draining the platform failed"),
    );
    await Promise.all([runtime?.runner.shutdown?.({ deadlineMs: args.shutdownTimeoutMs }), drained]);
    await platform?.close().catch((error: unknown) => log.error({ err: error }, "intelligence: closing the platform's store failed"));
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

/**
 * `serve --workers N` in the primary process: open the store once (its errors stop the start with
 * the usual message, and the schema is migrated before N workers race for it), then fork.
 */
async function startPrimary(args: ReturnType<typeof parseArgs>, setup: ServeSetup, count: number, log: Logger): Promise<void> {
  let storage: SelectedRunner | undefined;
  if (setup.runtimeOptions.runner === undefined) {
    try {
      storage = await selectRunner(args.storage, process.env, process.cwd());
      await storage.close();
    } catch (error) {
      console.error((error as Error).message);
      process.exit(1);
    }
    const bus = setup.bus === undefined ? (storage.description.startsWith("PostgreSQL") ? "PostgreSQL LISTEN/NOTIFY" : "between the workers, through this process") : `${busEngine(setup.bus)} ${redactUrl(setup.bus)}`;
    log.info({}, `threads: ${storage.description}; live bus: ${bus}`);
  }
  if (setup.runtimeOptions.identifyUser === undefined) {
    log.info({}, "threads: no identifyUser, so every caller is one anonymous user who sees every thread (set identifyUser in a config file)");
  }
  const registry = setup.metrics.enabled;
  runPrimary({
    count,
    log,
    shutdownTimeoutMs: args.shutdownTimeoutMs,
    host: args.host,
    metricsPort: registry ? setup.metrics.port : undefined,
    onStartFailed: async () => removeFiles(storage?.createdFiles ?? []),
    onListening: (port) => {
      const shownHost = args.host === "0.0.0.0" || args.host === "::" ? "localhost" : args.host;
      const url = `http://${shownHost}:${port}${args.basePath}`;
      log.info(
        { url, version: VERSION, workers: count },
        `copilot-runtime ${VERSION} listening on ${url} (${setup.agentSummary}; threads: ${storage?.description ?? "runner from the config file"}; ${count} workers)`,
      );
      const root = `http://${shownHost}:${port}`;
      const onMain = !registry ? " (metrics off)" : setup.metrics.port === undefined ? `, metrics ${root}/metrics (of the worker that answers; --metrics-port for all of them)` : "";
      log.info({}, `health: ${root}/healthz, ready: ${root}/readyz (each answered by one worker)${onMain}`);
      log.info({}, nextStepsLine(url, setup.tryAgentId));
    },
  });
}

/** `--bus` needs a durable store this CLI opens: it is handed to that store's runner. */
function checkBus(bus: string | undefined, storage: WorkerStorage): void {
  if (bus === undefined) return;
  if (storage === "memory" || storage === "config-memory-runner") {
    throw new CliStartupError("--bus carries wake-ups between instances that share a database, but threads are kept in memory: use --db with it.");
  }
  if (storage === "config-runner") {
    throw new CliStartupError("--bus (or the config's bus) cannot reach the config file's own runner: pass liveBus: new RedisLiveBus({ url }) (copilot-runtime/redis) or new NatsLiveBus({ servers }) (copilot-runtime/nats) to it instead.");
  }
}

/**
 * The live bus for this process's runner: Redis or NATS when asked (`--bus`); for a worker on a
 * SQLite file, the workers' channel through the primary; otherwise none here (PostgreSQL brings
 * LISTEN/NOTIFY).
 */
async function createLiveBus(bus: string | undefined, args: ReturnType<typeof parseArgs>, slot: string | undefined, storage: WorkerStorage): Promise<LiveBus | undefined> {
  if (bus === undefined) return slot !== undefined && storage === "sqlite" ? new WorkerLiveBus(process) : undefined;
  const engine = busEngine(bus);
  // Instances on the same database share channels; another database on the same server does not hear them.
  const scope = createHash("sha256").update(storageTarget(args.storage, process.env)).digest("hex").slice(0, 12);
  let live: LiveBus & { ready(): Promise<void> };
  try {
    if (engine === "NATS") {
      const { NatsLiveBus } = await import("../storage/nats/live-bus.js");
      live = new NatsLiveBus({ servers: bus, prefix: `copilot-runtime.live.${scope}` });
    } else {
      const { RedisLiveBus } = await import("../storage/redis/live-bus.js");
      live = new RedisLiveBus({ url: bus, prefix: `copilot-runtime:live:${scope}:` });
    }
  } catch (error) {
    if (error instanceof MissingDependencyError) throw new Error(`--bus ${redactUrl(bus)}: ${error.message}`);
    throw error;
  }
  try {
    await live.ready();
  } catch (error) {
    await live.close();
    throw new Error(`--bus ${redactUrl(bus)}: cannot reach ${engine}: ${(error as Error).message}. Check the URL, or leave --bus out to use the store's own bus.`);
  }
  return live;
}

function busEngine(bus: string): "Redis" | "NATS" {
  return /^nats:/i.test(bus) ? "NATS" : "Redis";
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * With several workers, every answer says which one gave it (`X-Copilot-Runtime-Worker: <slot>`,
 * the same number as the `worker` field of its log lines): "which process served this?" is the
 * first question when following one request through N workers' logs.
 */
function tagWorker(listener: CopilotNodeListener, slot: string | undefined): CopilotNodeListener {
  if (slot === undefined) return listener;
  return (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader("x-copilot-runtime-worker", slot);
    return listener(req, res);
  };
}

const PROBE_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * The Intelligence platform's paths (`/api/threads...`, `/runner`, `/client`, ...) go to it, the
 * rest to `listener`. Also while draining: the platform answers in its own protocol then
 * (long-poll `{"status":410}`/`500`, a refused WebSocket upgrade) so runners retry elsewhere,
 * and lock heartbeats of runs still streaming keep their answers until the process exits.
 */
function routePlatform(listener: CopilotNodeListener, platform: ServedPlatform | undefined): CopilotNodeListener {
  if (platform === undefined) return listener;
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (isPlatformPath(pathOf(req.url))) return platform.listener(req, res);
    return listener(req, res);
  };
}

/** `--intelligence-only`: no runtime, so the main port's own routes are the probes and /metrics. */
function probesOnly(health: HealthHandler, registry: MetricsRegistry | undefined): CopilotNodeListener {
  const metrics = registry === undefined ? undefined : createMetricsHandler({ metrics: registry });
  return createCopilotNodeHandler((request) => {
    if (metrics !== undefined && new URL(request.url).pathname === "/metrics") return metrics(request);
    return health(request); // /healthz, /readyz; a JSON 404 for anything else
  });
}

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
