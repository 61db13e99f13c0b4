/** `copilot-runtime/v2/node`: the names of `@copilotkit/runtime/v2/node` (the same module as `copilot-runtime/node`). */
export * from "../adapters/node.js";
