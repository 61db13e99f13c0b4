import type { PlatformDeps } from "./context.js";
import { publishRunActivity, publishThreadMetadata } from "./notify.js";
import type { AppendRunEventsResult, NewEvent } from "./store/types.js";
import { TERMINAL_TYPES } from "./wire.js";

export interface IngestRequest {
  projectId: string;
  threadId: string;
  runId: string;
  /** In seq order; nothing after a terminal event. */
  events: NewEvent[];
}

/**
 * Stores a run's events (durably, deduplicated by id; a terminal event ends the run and releases
 * its lock in the same transaction), then wakes the thread's subscribers and tells the owner's
 * thread list about the run's start and end. The runner channel and the finalizer both write
 * through here, so a minted `RUN_ERROR` is fanned out exactly like an ingested one.
 *
 * Resolves once the events are durable; the notifications are sent in the background.
 */
export async function ingestRunEvents(deps: PlatformDeps, request: IngestRequest): Promise<AppendRunEventsResult> {
  const last = request.events[request.events.length - 1];
  const terminal = last === undefined || !TERMINAL_TYPES.has(last.type) ? undefined : last.type === "RUN_FINISHED" ? "finished" : "error";
  const result = await deps.store.appendRunEvents({ ...request, ...(terminal ? { terminal } : {}), now: deps.now() });
  if (result.status !== "ok" || result.stored.length === 0) return result;

  const stored = result.stored;
  const ended = stored.some((event) => TERMINAL_TYPES.has(event.type));
  void announce(deps, request, stored[stored.length - 1].id, stored.find((event) => event.type === "RUN_STARTED") !== undefined, ended ? last.type : undefined);
  return result;
}

async function announce(deps: PlatformDeps, request: IngestRequest, latestEventId: string, started: boolean, terminalType: string | undefined): Promise<void> {
  try {
    await deps.bus.publish({ type: "thread_events", projectId: request.projectId, threadId: request.threadId, ...(terminalType ? { endedRunIds: [request.runId] } : {}) });
    if (!started && terminalType === undefined) return;
    const thread = await deps.store.getThread(request.projectId, request.threadId);
    if (thread === undefined) return;
    const now = deps.now();
    if (started) {
      await publishThreadMetadata(deps.bus, "updated", thread, now);
      await publishRunActivity(deps.bus, thread, request.runId, "RUN_STARTED", latestEventId);
    }
    if (terminalType !== undefined) {
      await publishThreadMetadata(deps.bus, "updated", thread, now);
      await publishRunActivity(deps.bus, thread, request.runId, terminalType, latestEventId);
    }
  } catch (err) {
    deps.log.error({ err, threadId: request.threadId, runId: request.runId }, "Intelligence: failed to announce stored run events");
  }
}
