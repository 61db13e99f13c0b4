import { performance } from "node:perf_hooks";
import { setSseLoadProbe } from "../http/sse.js";

let installed = false;

/**
 * Lets event streams coalesce harder while this Node process is busy (see `setSseLoadProbe`):
 * the load is the event loop's utilisation since the previous sample. Installed once, by the
 * Node-only adapters.
 */
export function installNodeLoadProbe(): void {
  if (installed) return;
  installed = true;
  let previous = performance.eventLoopUtilization();
  setSseLoadProbe(() => {
    const current = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(current, previous);
    previous = current;
    return utilization;
  });
}
