import { getEventId, setEventId } from "./event-ids.js";
import { type AgentEvent, EventTypes as T } from "./types.js";

/**
 * A stored event of a finished run as `connect` replays it: a run that ended in `RUN_ERROR`
 * is replayed as ended by `RUN_FINISHED` (with its threadId and runId); every other event is
 * returned as is (the same object, so its serialised frame is reused).
 *
 * Why: clients check a replay with single-run rules. `@ag-ui/client` 0.0.4x (inside
 * `@copilotkitnext/core` 1.54.1) rejects any event after a `RUN_ERROR`, so a thread with one
 * failed run followed by another could never be restored on reload; `@copilotkit/core` 1.75
 * reports every replayed `RUN_ERROR` as a fresh error on each page load. The failure was
 * reported live when it happened; the stored history keeps the original event.
 */
export function replayEvent(event: AgentEvent, threadId: string, runId: string): AgentEvent {
  if (event.type !== T.RUN_ERROR) return event;
  const finished: AgentEvent = { type: T.RUN_FINISHED, threadId, runId };
  const id = getEventId(event);
  if (id !== undefined) setEventId(finished, id);
  return finished;
}
