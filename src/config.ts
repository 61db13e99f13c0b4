/**
 * `copilot-runtime/config`: `defineConfig` and the types of a `copilot-runtime serve` config file.
 * Loads nothing beyond the function itself.
 */
export { defineConfig } from "./cli/define-config.js";
export type {
  CopilotRuntimeConfig,
  CopilotRuntimeConfigContext,
  CopilotRuntimeConfigFactory,
  CopilotRuntimeConfigRuntimeOptions,
  CopilotRuntimeIntelligenceConfig,
} from "./cli/define-config.js";
