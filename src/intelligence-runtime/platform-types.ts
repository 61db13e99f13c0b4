/** The Intelligence platform's REST shapes the runtime sends and reads (CopilotKit 1.75's names). */

/** A thread as the platform describes it; single-thread answers wrap it as `{ thread }`. */
export interface PlatformThreadSummary {
  id: string;
  name: string | null;
  lastRunAt?: string;
  lastUpdatedAt?: string;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
  agentId?: string;
  createdById?: string;
  organizationId?: string;
}

/** `GET /api/threads`: passed to the browser verbatim. */
export interface ListThreadsResponse {
  threads: PlatformThreadSummary[];
  /** Names the `user_meta:<joinCode>` topic of the realtime thread list. */
  joinCode: string;
  joinToken?: string;
  nextCursor?: string | null;
}

export interface CreateThreadRequest {
  threadId: string;
  userId: string;
  agentId: string;
  name?: string;
  learningContainerId?: string;
}

/** What `PATCH /api/threads/:id` may change; extra keys are forwarded (the SDK trusts its caller). */
export interface UpdateThreadRequest {
  name?: string;
  [key: string]: unknown;
}

/** Browser credentials for the `thread:<threadId>` topic. */
export interface ThreadConnectionResponse {
  threadId: string;
  runId?: string;
  joinToken: string;
  lock?: ThreadLockInfo;
}

export interface AcquireThreadLockResponse extends ThreadConnectionResponse {
  runId: string;
}

export interface ThreadLockInfo {
  key: string;
  ttlSeconds: number | null;
}

export interface AcquireThreadLockRequest {
  threadId: string;
  runId: string;
  userId: string;
  agentId: string;
  learningContainerId?: string;
  lockKeyPrefix?: string;
  ttlSeconds?: number;
}

export interface RenewThreadLockRequest {
  threadId: string;
  runId: string;
  ttlSeconds: number;
  lockKeyPrefix?: string;
}

export interface ThreadMessage {
  id: string;
  role: string;
  content?: unknown;
  activityType?: string;
  toolCalls?: Array<{ id: string; name: string; args: string }>;
  toolCallId?: string;
}

export interface ThreadMessagesResponse {
  messages: ThreadMessage[];
}

export interface ThreadEventsResponse {
  events: Array<{ type: string; [key: string]: unknown }>;
  decodeErrorRowIds: string[];
  truncated: boolean;
}

export type ThreadStateResponse = { kind: "no-snapshot" } | { kind: "snapshot-decode-error" } | { kind: "snapshot"; state: unknown; skippedDeltas: number };

/** What `onThreadDeleted` listeners receive. */
export interface ThreadDeletedPayload {
  threadId: string;
  userId: string;
  agentId: string;
}
