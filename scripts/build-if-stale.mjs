#!/usr/bin/env node
// `npm start`'s pre-step: builds dist/ only when it is missing or older than the sources, so a
// second `npm start` (or one right after `npm install`, whose `prepare` built it) starts at once.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The newest modification time under `paths` (files, or folders walked recursively). */
export function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const stat = statSync(p);
    if (stat.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

/** True when `output` is missing or older than any of `sources`. */
export function isStale(sources, output) {
  return !existsSync(output) || statSync(output).mtimeMs < newestMtime(sources);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const sources = ["src", "tsup.config.ts", "package.json", "tsconfig.json"].map((p) => path.join(root, p));
  if (isStale(sources, path.join(root, "dist", "cli", "main.js"))) {
    console.log("> dist/ is missing or older than src/: building it (npm run build)");
    const result = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
    process.exit(result.status ?? 1);
  }
  console.log("> dist/ is up to date (npm run build rebuilds it by hand)");
}
