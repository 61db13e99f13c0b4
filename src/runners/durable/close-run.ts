import { logger } from "../../logger.js";
import { retryTransient } from "./retry.js";
import type { DurableStore, FinishRunRequest } from "./store.js";

/**
 * Writes a run's end (`finishRun`), retrying transient failures until `deadline`. When the
 * store refuses it for good, writes it once more without the thread's message index and
 * state (they only save later runs work), so data the database cannot keep never leaves a
 * thread held by a run that can be neither finished nor recovered. Returns false when the
 * guard no longer held; throws when even the lean write failed.
 */
export async function closeRun(store: DurableStore, request: FinishRunRequest, deadline: number, what: string): Promise<boolean> {
  try {
    return await retryTransient(() => store.finishRun(request), { isTransient: (error) => store.isTransient(error), deadline, what });
  } catch (error) {
    if (store.isTransient(error)) throw error;
    logger.error(`${what}: the store refused it; storing it again without its message index and state`, error);
    return store.finishRun({ ...request, messageIds: [], state: undefined });
  }
}
