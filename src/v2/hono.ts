/** `copilot-runtime/v2/hono`: the names of `@copilotkit/runtime/v2/hono` (the same module as `copilot-runtime/hono`). */
export * from "../adapters/hono.js";
