/**
 * Real server processes for the multi-process tests: a private build of the current source,
 * and `fixtures/durable-server.mjs` started on it (a durable runner serving the demo agent).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "tsup";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SERVER = fileURLToPath(new URL("./fixtures/durable-server.mjs", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

/** Builds src/index.ts into a private folder (independent of dist/, which other builds may be rewriting); returns the module and a cleanup. */
export async function buildRuntime(name: string): Promise<{ runtimeDir: string; remove: () => void }> {
  // A private build of the current source (the main entry and the durable runners' entries):
  // independent of dist/, which other builds may be rewriting. Inside the repository, so the
  // child resolves dependencies from its node_modules.
  const outDir = path.join(REPO, "node_modules", ".cache", `copilot-runtime-${name}`, `${process.pid}-${Date.now()}`);
  mkdirSync(outDir, { recursive: true });
  await build({
    config: false,
    entry: {
      index: path.join(REPO, "src/index.ts"),
      sqlite: path.join(REPO, "src/sqlite.ts"),
      postgres: path.join(REPO, "src/postgres.ts"),
      redis: path.join(REPO, "src/redis.ts"),
      nats: path.join(REPO, "src/nats.ts"),
    },
    outDir,
    format: ["esm"],
    target: "node20",
    dts: false,
    sourcemap: false,
    clean: false,
    silent: true,
    splitting: true,
  });
  return { runtimeDir: outDir, remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

export function startServer(runtimeDir: string, env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], {
      cwd: REPO,
      env: { ...process.env, ...env, RUNTIME_DIR: runtimeDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    let output = "";
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const match = /LISTENING (\d+)/.exec(output);
      if (match) resolve({ child, exited, url: `http://127.0.0.1:${match[1]}/api/copilotkit` });
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
}

export async function kill(server: ServerProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (server === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  await server.exited;
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
