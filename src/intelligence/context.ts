import type { Logger } from "../logger.js";
import type { PlatformBus } from "./bus.js";
import type { JoinTokens } from "./join-tokens.js";
import type { IntelligenceStore } from "./store/types.js";

/** What every part of the platform shares: built once by `createIntelligencePlatform`. */
export interface PlatformDeps {
  store: IntelligenceStore;
  bus: PlatformBus;
  tokens: JoinTokens;
  /** Epoch milliseconds; injectable so tests can move time. */
  now: () => number;
  log: Logger;
}
