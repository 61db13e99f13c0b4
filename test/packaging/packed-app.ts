/**
 * The package as an app gets it: `npm pack` of the built tree (dist/ must exist: `npm test`
 * builds first), unpacked into a temporary app's node_modules. The app's other packages are
 * links to this repository's node_modules, leaving out the ones a test names, so "an app
 * without better-sqlite3" is exactly that: nothing on the app's resolution path provides it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The optional peer dependencies, each left out of an app by some test. */
export const OPTIONAL_PEERS = [
  "better-sqlite3",
  "pg",
  "ai",
  "@ai-sdk/openai",
  "@ai-sdk/anthropic",
  "@ai-sdk/google",
  "@ai-sdk/google-vertex",
  "@modelcontextprotocol/sdk",
  "@ag-ui/a2ui-middleware",
  "@ag-ui/mcp-apps-middleware",
  "@copilotkit/shared",
  "ioredis",
  "nats",
  "phoenix",
] as const;

const made: string[] = [];

/** Removes every directory this module made; call from `afterAll`. */
export function cleanUp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * Packs the repository as `npm publish` would (without running `prepare`, which would rebuild
 * dist/ under the other tests' feet) and returns the tarball's path.
 */
export function packTarball(): string {
  if (!existsSync(join(ROOT, "dist", "index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm test does)");
  const dir = tempDir("copilot-runtime-pack-");
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" });
  const [{ filename }] = JSON.parse(out) as Array<{ filename: string }>;
  return join(dir, filename);
}

/**
 * A temporary app with the packed package installed and every package of this repository's
 * node_modules except `without`. Returns the app's directory.
 */
export function makeApp(tarball: string, without: readonly string[] = []): string {
  const app = tempDir("copilot-runtime-app-");
  const modules = join(app, "node_modules");
  mkdirSync(modules);
  execFileSync("tar", ["xzf", tarball, "-C", app]);
  renameSync(join(app, "package"), join(modules, "copilot-runtime"));
  const source = join(ROOT, "node_modules");
  const skip = new Set<string>([...without, "copilot-runtime", ".bin", ".package-lock.json", ".cache", ".vite", ".vitest"]);
  for (const name of readdirSync(source)) {
    if (skip.has(name)) continue;
    if (name.startsWith("@")) {
      mkdirSync(join(modules, name));
      for (const inner of readdirSync(join(source, name))) {
        if (!skip.has(`${name}/${inner}`)) symlinkSync(join(source, name, inner), join(modules, name, inner));
      }
    } else {
      symlinkSync(join(source, name), join(modules, name));
    }
  }
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  return app;
}

export interface NodeResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in the app, with no NODE_PATH or NODE_OPTIONS from outside. */
export function runNode(app: string, args: readonly string[], env: Record<string, string> = {}, timeout = 20_000): NodeResult {
  const { NODE_PATH: _path, NODE_OPTIONS: _options, ...inherited } = process.env;
  const result = spawnSync(process.execPath, args, { cwd: app, encoding: "utf8", env: { ...inherited, ...env }, timeout });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
