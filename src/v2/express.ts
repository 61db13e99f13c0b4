/** `copilot-runtime/v2/express`: the names of `@copilotkit/runtime/v2/express` (the same module as `copilot-runtime/express`). */
export * from "../adapters/express.js";
