import type { EventSubscribable } from "./agent-contract.js";
import { getEventId, setEventId } from "./event-ids.js";
import { type AgentEvent, EventTypes as T } from "./types.js";

/**
 * A `connect` stream as every client can take it: a `RUN_ERROR` that is followed by another
 * run's `RUN_STARTED` is sent as a `RUN_FINISHED` of the failed run (its threadId and runId,
 * and its SSE id). Anything else passes through unchanged, the same objects.
 *
 * Why: clients check a replay with single-run rules. `@ag-ui/client` 0.0.4x (inside
 * `@copilotkitnext/core` 1.54.1) rejects every event after a `RUN_ERROR`, so a thread with a
 * failed (or interrupted) run followed by another run could never be restored on reload, and
 * `@copilotkit/core` 1.75 re-reports each such old error on every page load (one that follows
 * its run's `RUN_FINISHED` is dropped instead: that run did finish). A `RUN_ERROR`
 * that ends the stream is kept: it is still the thread's latest news. Stored history is never
 * rewritten. The error is held until the next event (or the end) shows which case it is.
 */
export function closeFailedRunsBeforeNextRun(source: EventSubscribable): EventSubscribable {
  return {
    subscribe(observer) {
      let held: AgentEvent | undefined;
      // The held error came right after the run's RUN_FINISHED (an agent that went on emitting
      // after it finished): with another run next, the run is simply finished, and a second
      // RUN_FINISHED would itself be out of order.
      let heldAfterFinish = false;
      let previousType: unknown;
      let run: { threadId?: unknown; runId?: unknown } = {};
      const release = (nextIsRun: boolean) => {
        if (held === undefined) return;
        const error = held;
        held = undefined;
        if (!nextIsRun) observer.next(error);
        else if (!heldAfterFinish) observer.next(finishedInstead(error, run));
      };
      return source.subscribe({
        next(event) {
          release(event.type === T.RUN_STARTED);
          if (event.type === T.RUN_STARTED) run = { threadId: event.threadId, runId: event.runId };
          if (event.type === T.RUN_ERROR) {
            held = event;
            heldAfterFinish = previousType === T.RUN_FINISHED;
          } else observer.next(event);
          previousType = event.type;
        },
        error(error) {
          release(false);
          observer.error(error);
        },
        complete() {
          release(false);
          observer.complete();
        },
      });
    },
  };
}

function finishedInstead(error: AgentEvent, run: { threadId?: unknown; runId?: unknown }): AgentEvent {
  if (typeof run.threadId !== "string" || typeof run.runId !== "string") return error;
  const finished: AgentEvent = { type: T.RUN_FINISHED, threadId: run.threadId, runId: run.runId };
  const id = getEventId(error);
  if (id !== undefined) setEventId(finished, id);
  return finished;
}
