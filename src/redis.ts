/**
 * `copilot-runtime/redis`: a live bus over Redis pub/sub for the durable runners
 * (`liveBus` option), for many instances and followers; and `RedisPlatformBus`, the same for
 * several Intelligence platform instances (their `bus` option). Needs `ioredis` (an optional peer
 * dependency): importing this entry without it throws a `MissingDependencyError` naming the package.
 */
export { RedisLiveBus } from "./storage/redis/live-bus.js";
export type { RedisLiveBusOptions } from "./storage/redis/live-bus.js";
export type { LiveBus, LiveSignal, LiveListener } from "./runners/durable/live-bus.js";
export { RedisPlatformBus, type RedisPlatformBusOptions } from "./intelligence/redis-bus.js";
export { MissingDependencyError } from "./optional-dependency.js";
