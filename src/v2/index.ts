/**
 * `copilot-runtime/v2`: the same names as `@copilotkit/runtime/v2`, so switching is replacing the
 * package name in the import. It is the main entry, the BuiltInAgent family (`copilot-runtime/built-in`)
 * and the Express endpoints, as in CopilotKit's `/v2`. The AI SDK stays optional: without `ai`
 * this entry loads and everything but BuiltInAgent works; `new BuiltInAgent()` then throws a
 * `MissingDependencyError` naming the package. For a worker or edge bundle, import the main
 * entry `copilot-runtime` instead: this one pulls in the Node adapters.
 *
 * @example
 * ```ts
 * // before: import { CopilotRuntime, BuiltInAgent } from "@copilotkit/runtime/v2";
 * import { CopilotRuntime, BuiltInAgent } from "copilot-runtime/v2";
 * ```
 */
export * from "../index.js";
export * from "../built-in.js";
export {
  createCopilotEndpointExpress,
  createCopilotEndpointSingleRouteExpress,
  createCopilotExpressHandler,
} from "../adapters/express.js";
export type {
  CopilotExpressEndpointOptions,
  CopilotExpressEndpointParams,
  CopilotExpressMiddleware,
  CopilotExpressRouter,
} from "../adapters/express.js";
