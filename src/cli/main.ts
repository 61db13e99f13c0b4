#!/usr/bin/env node
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createCopilotNodeListener, installProcessGuard } from "../adapters/node.js";
import { applyServerLimits } from "../adapters/node-server.js";
import { CopilotRuntime } from "../runtime.js";
import { VERSION } from "../version.js";
import { HELP, parseArgs } from "./args.js";
import { selectRunner, type SelectedRunner } from "../runners/select-runner.js";
import { CliStartupError } from "./errors.js";
import { prepareServe, type ServeSetup } from "./startup.js";

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
  for (const line of setup.lines) console.log(line);
  let storage: SelectedRunner | undefined;
  if (setup.runtimeOptions.runner === undefined) {
    try {
      storage = await selectRunner(args.storage, process.env, process.cwd());
    } catch (error) {
      console.error((error as Error).message);
      process.exit(1);
    }
    console.log(`threads: ${storage.description}`);
  }
  if (setup.runtimeOptions.identifyUser === undefined) {
    console.log("threads: no identifyUser, so every caller is one anonymous user who sees every thread (set identifyUser in a config file)");
  }
  // One request's bug must not end every other user's stream: log what escapes and keep serving.
  installProcessGuard();
  const runtime = new CopilotRuntime({ ...setup.runtimeOptions, runner: setup.runtimeOptions.runner ?? storage!.runner });
  // The Node adapter is the fast path (native event streams); CORS is permissive unless the
  // config file says otherwise, as with CopilotKit's endpoints.
  const listener = createCopilotNodeListener({
    ...setup.endpointOptions,
    cors: setup.endpointOptions.cors ?? true,
    runtime,
    basePath: args.basePath,
  });
  // Timeouts for receiving requests, JSON answers for what Node refuses itself, and a backlog
  // that takes a burst of new connections.
  const server = applyServerLimits(createServer(listener), setup.server);
  server.on("error", (error) => {
    console.error(`copilot-runtime could not listen on ${args.host}:${args.port}: ${error.message}`);
    process.exit(1);
  });
  server.listen({ port: args.port, host: args.host, backlog: setup.server.backlog }, () => {
    const info = server.address() as AddressInfo;
    const shownHost = args.host === "0.0.0.0" || args.host === "::" ? "localhost" : args.host;
    console.log(
      `copilot-runtime ${VERSION} listening on http://${shownHost}:${info.port}${args.basePath} ` +
        `(${setup.agentSummary}; threads: ${storage?.description ?? "runner from the config file"})`,
    );
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: no new connections; letting open runs finish (up to ${args.shutdownTimeoutMs / 1000} s)`);
    server.close();
    await runtime.runner.shutdown?.({ deadlineMs: args.shutdownTimeoutMs });
    await storage?.close();
    // Streams end once their runs have; give the last frames a moment to flush.
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 200).unref();
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
