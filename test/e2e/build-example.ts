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

export async function buildExample(): Promise<string> {
  const vite = `${EXAMPLE_DIR}/node_modules/vite/bin/vite.js`;
  if (!existsSync(vite)) {
    throw new Error("examples/chat has no dependencies installed: run `npm ci --prefix examples/chat` (.ci/run does).");
  }
  await promisify(execFile)(process.execPath, [vite, "build", "--logLevel", "error"], { cwd: EXAMPLE_DIR, maxBuffer: 16 * 1024 * 1024 });
  return EXAMPLE_DIST;
}
