/**
 * `copilot-runtime/intelligence/postgres`: the PostgreSQL store of the Intelligence platform and
 * the LISTEN/NOTIFY bus that lets several platform instances share it. Loads `pg`.
 */
export { PostgresIntelligenceStore, type PostgresIntelligenceStoreOptions } from "./store/postgres.js";
export { PostgresPlatformBus, type PostgresPlatformBusOptions } from "./postgres-bus.js";
