import { defineConfig } from "tsup";

/**
 * The published entries, each its own subpath export (`copilot-runtime/sqlite`, ...). The main
 * entry stays lean; each other one loads only what it needs (see src/index.ts).
 */
const ENTRIES = {
  index: "src/index.ts",
  sqlite: "src/sqlite.ts",
  postgres: "src/postgres.ts",
  redis: "src/redis.ts",
  nats: "src/nats.ts",
  // The entry asks for the AI SDK at import; `v2` re-exports src/built-in.ts without asking.
  "built-in": "src/built-in-entry.ts",
  config: "src/config.ts",
  // The self-hosted Intelligence platform; its durable stores load native/optional packages, so each has its own entry.
  "intelligence/index": "src/intelligence/index.ts",
  "intelligence/sqlite": "src/intelligence/store/sqlite.ts",
  "intelligence/postgres": "src/intelligence/postgres-entry.ts",
  "adapters/express": "src/adapters/express.ts",
  "adapters/hono": "src/adapters/hono.ts",
  "adapters/next": "src/adapters/next.ts",
  "adapters/node": "src/adapters/node.ts",
  // `@copilotkit/runtime/v2` and its subpaths, name for name (see src/v2/index.ts).
  "v2/index": "src/v2/index.ts",
  "v2/express": "src/v2/express.ts",
  "v2/hono": "src/v2/hono.ts",
  "v2/node": "src/v2/node.ts",
};

export default defineConfig({
  entry: {
    ...ENTRIES,
    "cli/main": "src/cli/main.ts",
  },
  format: ["esm"],
  dts: { entry: ENTRIES },
  sourcemap: true,
  clean: true,
  target: "node20",
  // Keep `node:` in built-in imports (tsup strips it by default): Deno and Bun resolve only the
  // prefixed names, and Node 20 needs no help.
  removeNodeProtocol: false,
  // Shared chunks: one copy of each module (one runtime class, one SSE load probe) whatever
  // mix of entries an app imports.
  splitting: true,
});
