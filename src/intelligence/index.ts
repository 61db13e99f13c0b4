/**
 * `copilot-runtime/intelligence`: a self-hosted CopilotKit Intelligence platform for the
 * unmodified `@copilotkit/runtime` 1.75 (`CopilotKitIntelligence({ apiUrl, wsUrl, apiKey })`) and
 * the unmodified `@copilotkit/core` browser client.
 *
 * The SQLite and PostgreSQL stores load native or optional packages: import them from
 * `copilot-runtime/intelligence` only by path when chosen (see `./store/sqlite.js`, `./store/postgres.js`).
 */
export {
  createIntelligencePlatform,
  serveIntelligencePlatform,
  type IntelligencePlatform,
  type IntelligencePlatformOptions,
  type ServeIntelligencePlatformOptions,
  type ServedIntelligencePlatform,
} from "./platform.js";
export { MemoryIntelligenceStore } from "./store/memory.js";
export type { IntelligenceStore } from "./store/types.js";
export { createInProcessBus, type PlatformBus, type PlatformBusMessage, type PlatformBusListener } from "./bus.js";
export { parseApiKey } from "./api-keys.js";
export { SELF_HOSTED_ENTITLEMENT } from "./rest-api.js";
