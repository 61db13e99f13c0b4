/**
 * `copilot-runtime/nats`: a live bus over NATS pub/sub for the durable runners (`liveBus`
 * option). Needs `nats` (an optional peer dependency): importing this entry without it throws a
 * `MissingDependencyError` naming the package.
 */
export { NatsLiveBus } from "./storage/nats/live-bus.js";
export type { NatsLiveBusOptions } from "./storage/nats/live-bus.js";
export type { LiveBus, LiveSignal, LiveListener } from "./runners/durable/live-bus.js";
export { MissingDependencyError } from "./optional-dependency.js";
