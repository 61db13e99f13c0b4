import { MemoryIntelligenceStore } from "../../src/intelligence/store/index.js";
import { describeIntelligenceStore } from "./store-conformance.js";

describeIntelligenceStore("MemoryIntelligenceStore", async () => {
  const store = new MemoryIntelligenceStore();
  await store.migrate();
  return store;
});
