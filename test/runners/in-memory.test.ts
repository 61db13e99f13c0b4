import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { setLogger } from "../../src/logger.js";
import { defineRunnerSuite } from "./runner-suite.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

defineRunnerSuite("InMemoryAgentRunner", {
  numbered: true,
  create: async (options) => new InMemoryAgentRunner({ resumable: true, ...options }),
});
