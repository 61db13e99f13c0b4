/**
 * The Vercel AI SDK (`ai`), which every BuiltInAgent needs. Loaded on first use, not with this
 * module: `copilot-runtime/v2` re-exports BuiltInAgent next to the runtime, and an app without
 * `ai` must still be able to import it for everything else. `copilot-runtime/built-in` asks for
 * it at import (see built-in-entry.ts), and `new BuiltInAgent()` at construction, so a missing
 * package is still an error naming it before any run.
 */
import type * as AiSdk from "ai";
import { requireOptional } from "../../optional-dependency.js";

let loaded: typeof AiSdk | undefined;

/** The `ai` package, loaded once; throws a `MissingDependencyError` naming it when it is missing. */
export function loadAiSdk(): typeof AiSdk {
  loaded ??= requireOptional<typeof AiSdk>({ specifier: "ai", packageName: "ai", version: "6", neededBy: "BuiltInAgent" });
  return loaded;
}

/** The `ai` package's exports, loaded on the first property read. */
export const ai: typeof AiSdk = new Proxy({} as typeof AiSdk, {
  get: (_target, key) => Reflect.get(loadAiSdk(), key),
  has: (_target, key) => Reflect.has(loadAiSdk(), key),
});
