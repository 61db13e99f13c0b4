import type { PlatformThread } from "./store/types.js";

/** A thread as CopilotKit's runtime and browser read it (`ThreadSummary`, ISO-8601 times). */
export interface WireThread {
  id: string;
  name: string | null;
  agentId: string;
  createdById: string;
  organizationId: string;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  lastRunAt?: string;
  lastUpdatedAt: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The wire form of a thread. `createdAt` and `updatedAt` are always present because the browser
 * sorts with `lastRunAt ?? updatedAt ?? createdAt`; the project stands in for the organization.
 */
export function toWireThread(thread: PlatformThread): WireThread {
  return {
    id: thread.id,
    name: thread.name,
    agentId: thread.agentId,
    createdById: thread.userId,
    organizationId: thread.projectId,
    archived: thread.archived,
    createdAt: iso(thread.createdAt),
    updatedAt: iso(thread.updatedAt),
    ...(thread.lastRunAt !== null ? { lastRunAt: iso(thread.lastRunAt) } : {}),
    lastUpdatedAt: iso(thread.updatedAt),
  };
}

export type ThreadOperation = "created" | "renamed" | "archived" | "unarchived" | "updated";

/** A `thread_metadata` payload for an upsert (`created`, `renamed`, ...). */
export function threadMetadataUpsert(operation: ThreadOperation, thread: PlatformThread, now: number): Record<string, unknown> {
  return {
    operation,
    threadId: thread.id,
    userId: thread.userId,
    organizationId: thread.projectId,
    occurredAt: iso(now),
    thread: toWireThread(thread),
  };
}

/** A `thread_metadata` payload for a deletion. */
export function threadMetadataDeleted(thread: PlatformThread, now: number): Record<string, unknown> {
  return {
    operation: "deleted",
    threadId: thread.id,
    userId: thread.userId,
    organizationId: thread.projectId,
    occurredAt: iso(now),
    deleted: { id: thread.id },
  };
}

/** AG-UI types that end a run. */
export const TERMINAL_TYPES: ReadonlySet<string> = new Set(["RUN_FINISHED", "RUN_ERROR"]);

/** The run lifecycle types `thread_run_activity` carries (the browser reconnects on others). */
export const RUN_ACTIVITY_TYPES: ReadonlySet<string> = new Set(["RUN_STARTED", "RUN_FINISHED", "RUN_ERROR"]);
