import type { PlatformBus } from "./bus.js";
import type { PlatformThread } from "./store/types.js";
import { type ThreadOperation, threadMetadataDeleted, threadMetadataUpsert } from "./wire.js";

/** Publishes a `thread_metadata` upsert to every `user_meta` socket of the thread's owner. */
export function publishThreadMetadata(bus: PlatformBus, operation: ThreadOperation, thread: PlatformThread, now: number): Promise<void> {
  return bus.publish({
    type: "user_meta",
    projectId: thread.projectId,
    userId: thread.userId,
    event: "thread_metadata",
    payload: threadMetadataUpsert(operation, thread, now),
  });
}

/** Publishes a `thread_metadata` deletion, and closes the thread's subscribers everywhere. */
export async function publishThreadDeleted(bus: PlatformBus, thread: PlatformThread, now: number): Promise<void> {
  await bus.publish({ type: "thread_deleted", projectId: thread.projectId, threadId: thread.id });
  await bus.publish({
    type: "user_meta",
    projectId: thread.projectId,
    userId: thread.userId,
    event: "thread_metadata",
    payload: threadMetadataDeleted(thread, now),
  });
}

/** Publishes a `thread_run_activity` (RUN_STARTED, RUN_FINISHED or RUN_ERROR only). */
export function publishRunActivity(bus: PlatformBus, thread: PlatformThread, runId: string, eventType: string, latestEventId: string | null): Promise<void> {
  return bus.publish({
    type: "user_meta",
    projectId: thread.projectId,
    userId: thread.userId,
    event: "thread_run_activity",
    payload: { threadId: thread.id, agentId: thread.agentId, runId, eventType, latestEventId },
  });
}
