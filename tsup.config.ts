import { defineConfig } from "tsup";

/** Framework adapters, each its own subpath export (`copilot-runtime/express`, ...). */
const ADAPTERS = {
  "adapters/express": "src/adapters/express.ts",
  "adapters/hono": "src/adapters/hono.ts",
  "adapters/next": "src/adapters/next.ts",
  "adapters/node": "src/adapters/node.ts",
};

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "cli/main": "src/cli/main.ts",
    ...ADAPTERS,
  },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts", ...ADAPTERS } },
  sourcemap: true,
  clean: true,
  target: "node20",
  splitting: true,
});
