// Where things live. The bench has its own node_modules (with @copilotkit/runtime and the
// @ag-ui/client 0.0.x it bundles); our runtime and the agents' @ag-ui/client 1.0 come from the
// repository root, so bare imports here would pick the wrong copies: resolve them explicitly.
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_DIR = path.resolve(BENCH_DIR, "..");
export const OURS_ENTRY = pathToFileURL(path.join(REPO_DIR, "dist", "index.js")).href;
export const OURS_NODE_ENTRY = pathToFileURL(path.join(REPO_DIR, "dist", "adapters", "node.js")).href;

const repoRequire = createRequire(path.join(REPO_DIR, "package.json"));
export const benchRequire = createRequire(path.join(BENCH_DIR, "package.json"));

/** The ESM entry of a package installed at the repository root (e.g. @ag-ui/client 1.0). */
export function repoModule(name) {
  const pkgJson = path.join(REPO_DIR, "node_modules", name, "package.json");
  const pkg = repoRequire(pkgJson);
  const dot = pkg.exports?.["."];
  const entry = typeof dot === "string" ? dot : dot?.import?.default ?? dot?.import ?? dot?.default ?? pkg.main;
  return pathToFileURL(path.join(path.dirname(pkgJson), entry)).href;
}

/** `require()` of a package installed at the repository root (for CommonJS-first packages such as rxjs). */
export const requireFromRepo = repoRequire;

/** A file inside a package installed in bench/node_modules. */
export function benchResolve(specifier) {
  return pathToFileURL(benchRequire.resolve(specifier)).href;
}
