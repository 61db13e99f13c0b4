/**
 * Builds examples/chat with its own Vite, so the browser tests always load the current code
 * from a clean clone (after `npm ci --prefix examples/chat`).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/chat", import.meta.url));
export const EXAMPLE_DIST = `${EXAMPLE_DIR}/dist`;

/** A development build (as `npm run dev` serves) goes to its own folder, beside the production one. */
export const EXAMPLE_DEV_DIST = `${EXAMPLE_DIR}/dist-development`;

/**
 * Builds the example and returns the folder to serve. `development: true` builds with
 * `NODE_ENV=development`, which CopilotKit's provider requires before it mounts its web inspector.
 */
export async function buildExample(options: { development?: boolean } = {}): Promise<string> {
  const vite = `${EXAMPLE_DIR}/node_modules/vite/bin/vite.js`;
  if (!existsSync(vite)) {
    throw new Error("examples/chat has no dependencies installed: run `npm ci --prefix examples/chat` (.ci/run does).");
  }
  const outDir = options.development ? EXAMPLE_DEV_DIST : EXAMPLE_DIST;
  const args = [vite, "build", "--logLevel", "error", "--outDir", outDir, "--emptyOutDir"];
  if (options.development) args.push("--mode", "development");
  await promisify(execFile)(process.execPath, args, {
    cwd: EXAMPLE_DIR,
    maxBuffer: 16 * 1024 * 1024,
    env: options.development ? { ...process.env, NODE_ENV: "development" } : process.env,
  });
  return outDir;
}
