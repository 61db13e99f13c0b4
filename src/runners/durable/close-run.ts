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
  let failedBefore = false;
  const attempt = () =>
    store.finishRun(request).catch((error: unknown) => {
      failedBefore = true;
      throw error;
    });
  try {
    const stored = await retryTransient(attempt, { isTransient: (error) => store.isTransient(error), deadline, what });
    // A retry finds the guard gone when the failed attempt did commit and only its answer was lost.
    return stored || (failedBefore && (await isStoredAs(store, request)));
  } catch (error) {
    if (store.isTransient(error)) throw error;
    logger.error({ err: error }, `${what}: the store refused it; storing it again without its message index and state`);
    return store.finishRun({ ...request, messageIds: [], state: undefined });
  }
}

/** True when the run is ended with this request's status and its last rows, exactly. */
async function isStoredAs(store: DurableStore, request: FinishRunRequest): Promise<boolean> {
  try {
    const loaded = await store.loadRun(request.run);
    if (loaded === undefined || loaded.row.status !== request.status) return false;
    const { rows } = request;
    if (rows.length === 0) return true;
    const stored = loaded.events.filter((entry) => entry.seq >= rows[0].seq && entry.seq <= rows[rows.length - 1].seq);
    return stored.length === rows.length && stored.every((entry, i) => entry.seq === rows[i].seq && JSON.stringify(entry.event) === rows[i].data);
  } catch {
    return false;
  }
}
