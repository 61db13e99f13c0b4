import type { AgentEvent } from "../events/types.js";
import { type ApiKeyRegistry, bearerToken } from "./api-keys.js";
import type { PlatformDeps } from "./context.js";
import type { RunFinalizer } from "./finalizer.js";
import { PlatformHttpError, errorResponse, json, readJsonObject, requireId, requireResourceId } from "./http-json.js";
import { connectPlanResponse, createIsolationGapWarning, isLegacy154Call, userIdFromDeleteReason } from "./legacy-154.js";
import { publishThreadDeleted, publishThreadMetadata } from "./notify.js";
import { ThreadNotFoundError } from "./store/errors.js";
import type { PlatformThread, ThreadPatch } from "./store/types.js";
import { threadMessagesFromEvents } from "./thread-messages.js";
import { type ThreadOperation, toWireThread } from "./wire.js";

export interface RestApiOptions {
  apiKeys: ApiKeyRegistry;
  finalizer: RunFinalizer;
  /** Lock TTL when L1 sends none. Default 20 s (CopilotKit's default). */
  defaultLockTtlSeconds?: number;
  /** Longest lock TTL accepted; longer requests are clamped. Default 3600 s. */
  maxLockTtlSeconds?: number;
  /** Largest accepted JSON body. Default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * The self-hosted entitlement (§9): unsigned JSON that unlocks the threads drawer and hides the
 * license banner in CopilotKit's React components. No call-home.
 */
export const SELF_HOSTED_ENTITLEMENT = {
  status: "ready",
  entitlement: {
    active: true,
    source: "selfHostedDeploymentLicense",
    features: { threads: true, chat: true, popup: true, sidebar: true },
    limits: {},
  },
} as const;

const MAX_NAME_LENGTH = 1_000;
const HISTORY_PAGE = 1_000;

interface Call {
  request: Request;
  url: URL;
  projectId: string;
  /** Path segments after `/api/`. */
  segments: string[];
}

/**
 * The REST API CopilotKit's runtime calls (`apiUrl`), as a fetch handler for `/api/...`: threads
 * (T1–T6), run locks (L1–L3), history (H1), connect (C1), entitlements (E1) and the inspector
 * stubs (I1–I3). Every thread operation is scoped to the API key's project and to `userId`: a
 * thread of another user answers as if it did not exist (404 on reads, 409 on create, 204 on
 * connect), so nothing of it leaks.
 *
 * @example
 * const api = createRestApi(deps, { apiKeys, finalizer });
 * const response = await api(new Request("http://platform/api/threads?userId=u&agentId=a", { headers: { authorization: `Bearer ${key}` } }));
 */
export function createRestApi(deps: PlatformDeps, options: RestApiOptions): (request: Request) => Promise<Response> {
  const defaultTtl = options.defaultLockTtlSeconds ?? 20;
  const maxTtl = options.maxLockTtlSeconds ?? 3_600;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const { store, tokens, bus } = deps;

  const body = (call: Call) => readJsonObject(call.request, maxBody);
  const warnIsolationGap = createIsolationGapWarning(deps.log);

  /**
   * The thread a read without `userId` may see: CopilotKit 1.54.1 sends none on T1 and H1, so
   * its calls are scoped by project alone. Every other caller must name the user.
   */
  const readableThread = async (call: Call, threadId: string, endpoint: string): Promise<PlatformThread> => {
    const userId = call.url.searchParams.get("userId");
    if (userId === null && isLegacy154Call(call.request)) {
      warnIsolationGap(endpoint);
      const thread = await store.getThread(call.projectId, threadId);
      if (thread === undefined) throw new PlatformHttpError(404, "thread_not_found", `Thread ${threadId} not found`);
      return thread;
    }
    return requireOwnedThread(call.projectId, threadId, requireId(userId, "userId"));
  };

  const ownedThread = async (projectId: string, threadId: string, userId: string): Promise<PlatformThread | undefined> => {
    const thread = await store.getThread(projectId, threadId);
    return thread !== undefined && thread.userId === userId ? thread : undefined;
  };

  const requireOwnedThread = async (projectId: string, threadId: string, userId: string): Promise<PlatformThread> => {
    const thread = await ownedThread(projectId, threadId, userId);
    if (thread === undefined) throw new PlatformHttpError(404, "thread_not_found", `Thread ${threadId} not found`);
    return thread;
  };

  const threadToken = (thread: PlatformThread, runId?: string): string =>
    tokens.issue({ project: thread.projectId, userId: thread.userId, topic: `thread:${thread.id}`, ...(runId !== undefined ? { runId } : {}) });

  // ---- T1 GET /api/threads/:id?userId=
  async function getThread(call: Call, threadId: string): Promise<Response> {
    const thread = await readableThread(call, threadId, "GET /api/threads/:id");
    return json(200, { thread: toWireThread(thread) });
  }

  // ---- T2 POST /api/threads
  async function createThread(call: Call): Promise<Response> {
    const input = await body(call);
    const threadId = requireResourceId(input.threadId, "threadId");
    const userId = requireId(input.userId, "userId");
    const agentId = requireId(input.agentId, "agentId");
    const name = optionalName(input.name);
    const { thread, created } = await store.createThread({ projectId: call.projectId, threadId, userId, agentId, name: name ?? null, now: deps.now() });
    // Taken (by this user in a race, or by another user): the runtime re-reads with T1, which tells them apart.
    if (!created) throw new PlatformHttpError(409, "thread_exists", `Thread ${threadId} already exists`);
    void publishThreadMetadata(bus, "created", thread, deps.now());
    return json(201, { thread: toWireThread(thread) });
  }

  // ---- T3 GET /api/threads?userId&agentId[&includeArchived][&limit][&cursor]
  async function listThreads(call: Call): Promise<Response> {
    const params = call.url.searchParams;
    const userId = requireId(params.get("userId"), "userId");
    const agentId = requireId(params.get("agentId"), "agentId");
    const includeArchived = parseBooleanParam(params.get("includeArchived"), "includeArchived");
    const limit = parseLimit(params.get("limit"));
    const cursor = params.get("cursor") || null;
    const page = await store.listThreads({ projectId: call.projectId, userId, agentId, includeArchived, limit, cursor });
    const joinCode = await store.joinCodeFor(call.projectId, userId);
    return json(200, {
      threads: page.threads.map(toWireThread),
      joinCode,
      joinToken: tokens.issue({ project: call.projectId, userId, topic: `user_meta:${joinCode}` }),
      nextCursor: page.nextCursor,
    });
  }

  // ---- T4 PATCH /api/threads/:id
  async function updateThread(call: Call, threadId: string): Promise<Response> {
    const input = await body(call);
    const userId = requireId(input.userId, "userId");
    requireId(input.agentId, "agentId");
    // Allow-list: only these fields ever reach the store, whatever else the body carries.
    const patch: ThreadPatch = {};
    if (input.name !== undefined) patch.name = optionalName(input.name) ?? null;
    if (input.archived !== undefined) {
      if (typeof input.archived !== "boolean") throw new PlatformHttpError(400, "invalid_request", "archived must be a boolean");
      patch.archived = input.archived;
    }
    const before = await requireOwnedThread(call.projectId, threadId, userId);
    const after = await store.updateThread(call.projectId, threadId, patch, deps.now());
    if (after === undefined) throw new PlatformHttpError(404, "thread_not_found", `Thread ${threadId} not found`);
    void publishThreadMetadata(bus, operationFor(before, after, patch), after, deps.now());
    return json(200, { thread: toWireThread(after) });
  }

  // ---- T5 DELETE /api/threads/:id
  async function deleteThread(call: Call, threadId: string): Promise<Response> {
    const input = await body(call);
    // 1.54.1 sends only `{reason}`, which names the user: "Deleted via CopilotKit runtime (userId=…, agentId=…)".
    const userId = requireId(input.userId === undefined && isLegacy154Call(call.request) ? userIdFromDeleteReason(input.reason) : input.userId, "userId");
    const thread = await requireOwnedThread(call.projectId, threadId, userId);
    const active = await store.activeRun(call.projectId, threadId);
    await store.deleteThread(call.projectId, threadId);
    // A runner still streaming into the deleted thread is told to stop (its next batch would be refused anyway).
    if (active !== undefined) void bus.publish({ type: "stop_run", projectId: call.projectId, threadId, runId: active.runId });
    void publishThreadDeleted(bus, thread, deps.now());
    return json(200, { threadId, deleted: true });
  }

  // ---- T6 POST /api/threads/subscribe
  async function subscribe(call: Call): Promise<Response> {
    const input = await body(call);
    const userId = requireId(input.userId, "userId");
    const joinCode = await store.joinCodeFor(call.projectId, userId);
    return json(200, { joinToken: tokens.issue({ project: call.projectId, userId, topic: `user_meta:${joinCode}` }) });
  }

  // ---- L1 POST /api/threads/:id/lock
  async function acquireLock(call: Call, threadId: string): Promise<Response> {
    const input = await body(call);
    const runId = requireResourceId(input.runId, "runId");
    const userId = requireId(input.userId, "userId");
    const legacy = isLegacy154Call(call.request);
    // 1.54.1 sends neither agentId nor a TTL (and never renews): the run belongs to the thread's agent,
    // and its lock lives on the default TTL, kept alive while its runner is joined.
    const requestedAgentId = legacy && input.agentId === undefined ? undefined : requireId(input.agentId, "agentId");
    const ttlSeconds = parseTtl(input.ttlSeconds, defaultTtl, maxTtl);
    const thread = await requireOwnedThread(call.projectId, threadId, userId);
    const agentId = requestedAgentId ?? thread.agentId;
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await lockOrNotFound(() => store.acquireLock({ projectId: call.projectId, threadId, runId, userId, agentId, ttlMs: ttlSeconds * 1000, now: deps.now() }));
      switch (result.status) {
        case "acquired":
          // 1.54.1 reads `{joinToken, joinCode?}`; without a joinCode its runner joins `ingestion:<threadId>`.
          if (legacy) return json(200, { joinToken: threadToken(thread, runId) });
          return json(200, { threadId, runId, joinToken: threadToken(thread, runId), lock: { key: `thread:${threadId}`, ttlSeconds } });
        case "held":
          throw new PlatformHttpError(409, "thread_locked", `Thread ${threadId} is locked by another run`);
        case "ended":
          throw new PlatformHttpError(409, "run_ended", `Run ${runId} already ended on thread ${threadId}`);
        case "stale":
          // The previous run's runner is gone: close it (closers + RUN_ERROR) and take the lock.
          await options.finalizer.finalize(result.run, "expired");
          continue;
      }
    }
    throw new PlatformHttpError(409, "thread_locked", `Thread ${threadId} is locked by another run`);
  }

  // ---- L2 PATCH /api/threads/:id/lock
  async function renewLock(call: Call, threadId: string): Promise<Response> {
    const input = await body(call);
    const runId = requireResourceId(input.runId, "runId");
    const ttlSeconds = parseTtl(input.ttlSeconds, defaultTtl, maxTtl);
    const result = await store.renewLock(call.projectId, threadId, runId, ttlSeconds * 1000, deps.now());
    // "ended": a heartbeat racing the release on the terminal event; a failure would abort the finished agent.
    if (result === "missing") throw new PlatformHttpError(404, "run_not_found", `No run ${runId} on thread ${threadId}`);
    return json(200, { ttlSeconds });
  }

  // ---- L3 DELETE /api/threads/:id/lock
  async function releaseLock(call: Call, threadId: string): Promise<Response> {
    const input = await body(call);
    const runId = requireResourceId(input.runId, "runId");
    const run = await store.getRun(call.projectId, runId);
    if (run !== undefined && run.threadId === threadId && run.status === "running") {
      // Ended, not just unlocked: a run that logged events gets closers and RUN_ERROR so the
      // log stays a valid AG-UI sequence; one that logged none ends without events.
      await options.finalizer.finalize(run, "released");
    }
    return json(200, { threadId, runId, released: true });
  }

  // ---- H1 GET /api/threads/:id/messages?userId=
  async function messages(call: Call, threadId: string): Promise<Response> {
    await readableThread(call, threadId, "GET /api/threads/:id/messages");
    const events: AgentEvent[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.eventsAfter(call.projectId, threadId, after, HISTORY_PAGE);
      if (page === undefined || page.length === 0) break;
      for (const event of page) events.push(JSON.parse(event.json) as AgentEvent);
      after = page[page.length - 1].id;
      if (page.length < HISTORY_PAGE) break;
    }
    return json(200, { messages: threadMessagesFromEvents(events) });
  }

  // ---- C1 POST /api/threads/:id/connect
  async function connect(call: Call, threadId: string): Promise<Response> {
    const input = await body(call);
    const userId = requireId(input.userId, "userId");
    // 1.54.1 runtimes send no agentId; accept it missing.
    if (input.agentId !== undefined) requireId(input.agentId, "agentId");
    const thread = await ownedThread(call.projectId, threadId, userId);
    // Unknown (for this user) or empty: 204, which the browser reads as "nothing to connect to".
    if (thread === undefined) return new Response(null, { status: 204 });
    if (isLegacy154Call(call.request)) {
      const cursor = input.lastSeenEventId ?? null;
      if (cursor !== null && typeof cursor !== "string") throw new PlatformHttpError(400, "invalid_request", "lastSeenEventId must be a string or null");
      return connectPlanResponse(deps, options.finalizer, thread, cursor, () => threadToken(thread));
    }
    let active = await store.activeRun(call.projectId, threadId);
    if (active !== undefined && (await options.finalizer.closeIfLapsed(active))) active = undefined;
    if (active === undefined && (await store.latestEventId(call.projectId, threadId)) === null) return new Response(null, { status: 204 });
    return json(200, {
      threadId,
      joinToken: threadToken(thread),
      ...(active !== undefined
        ? { runId: active.runId, lock: { key: `thread:${threadId}`, ttlSeconds: Math.max(0, Math.ceil((active.lockExpiresAt - deps.now()) / 1000)) } }
        : {}),
    });
  }

  const route = async (call: Call): Promise<Response> => {
    const [first, id, sub, extra] = call.segments;
    const method = call.request.method;
    if (first === "entitlements" && id === "runtime" && sub === undefined) {
      return only(method, "GET", () => json(200, SELF_HOSTED_ENTITLEMENT));
    }
    if (first === "inspector" && id === "metadata" && sub === undefined) {
      return only(method, "GET", () => new Response(null, { status: 204 }));
    }
    if (first === "_inspect" && id === "threads" && sub !== undefined && call.segments.length === 4) {
      // No userId reaches these (the runtime cannot prove ownership): debug stubs, no data.
      if (extra === "events") return only(method, "GET", () => json(200, { events: [], decodeErrorRowIds: [], truncated: false }));
      if (extra === "state") return only(method, "GET", () => json(200, { kind: "no-snapshot" }));
    }
    if (first !== "threads") throw notFound(call);
    if (id === undefined) {
      if (method === "GET") return listThreads(call);
      if (method === "POST") return createThread(call);
      throw methodNotAllowed(method);
    }
    if (id === "subscribe" && sub === undefined && method === "POST") return subscribe(call);
    const threadId = requireResourceId(id, "thread id");
    if (call.segments.length > 3) throw notFound(call);
    switch (sub) {
      case undefined:
        if (method === "GET") return getThread(call, threadId);
        if (method === "PATCH") return updateThread(call, threadId);
        if (method === "DELETE") return deleteThread(call, threadId);
        throw methodNotAllowed(method);
      case "lock":
        if (method === "POST") return acquireLock(call, threadId);
        if (method === "PATCH") return renewLock(call, threadId);
        if (method === "DELETE") return releaseLock(call, threadId);
        throw methodNotAllowed(method);
      case "messages":
        return only(method, "GET", () => messages(call, threadId));
      case "connect":
        return only(method, "POST", () => connect(call, threadId));
      default:
        throw notFound(call);
    }
  };

  return async function handleRestApi(request: Request): Promise<Response> {
    try {
      const url = new URL(request.url);
      const rest = url.pathname.replace(/^\/api\/?/, "");
      if (rest === url.pathname) throw notFound({ url } as Call);
      const identity = options.apiKeys.authenticate(bearerToken(request.headers));
      if (identity === null) throw new PlatformHttpError(401, "unauthorized", "A valid API key is required (Authorization: Bearer cpk-<projectId>_<secret>)");
      let segments: string[];
      try {
        segments = rest.split("/").filter((part) => part !== "").map(decodeURIComponent);
      } catch {
        throw new PlatformHttpError(400, "invalid_path", "The path is not valid percent-encoding");
      }
      return await route({ request, url, projectId: identity.projectId, segments });
    } catch (err) {
      if (err instanceof PlatformHttpError) return errorResponse(err);
      deps.log.error({ err, method: request.method, url: request.url }, "Intelligence REST API: request failed");
      return errorResponse(new PlatformHttpError(500, "internal_error", "The request failed; see the platform's logs"));
    }
  };
}

async function lockOrNotFound<T>(take: () => Promise<T>): Promise<T> {
  try {
    return await take();
  } catch (err) {
    // A delete raced the lock request.
    if (err instanceof ThreadNotFoundError) throw new PlatformHttpError(404, "thread_not_found", err.message);
    throw err;
  }
}

function only(method: string, allowed: string, handle: () => Response | Promise<Response>): Response | Promise<Response> {
  if (method !== allowed) throw methodNotAllowed(method);
  return handle();
}

function notFound(call: Pick<Call, "url">): PlatformHttpError {
  return new PlatformHttpError(404, "not_found", `No such endpoint: ${call.url.pathname}`);
}

function methodNotAllowed(method: string): PlatformHttpError {
  return new PlatformHttpError(405, "method_not_allowed", `Method ${method} is not allowed here`);
}

function optionalName(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== "string") throw new PlatformHttpError(400, "invalid_request", "name must be a string or null");
  if (value.length > MAX_NAME_LENGTH) throw new PlatformHttpError(400, "invalid_request", `name must be at most ${MAX_NAME_LENGTH} characters`);
  return value;
}

function parseBooleanParam(value: string | null, field: string): boolean {
  if (value === null || value === "" || value === "false") return false;
  if (value === "true") return true;
  throw new PlatformHttpError(400, "invalid_request", `${field} must be true or false`);
}

function parseLimit(value: string | null): number {
  if (value === null || value === "") return 100;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new PlatformHttpError(400, "invalid_request", "limit must be an integer from 1 to 1000");
  return limit;
}

function parseTtl(value: unknown, fallback = 20, max = 3_600): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new PlatformHttpError(400, "invalid_request", "ttlSeconds must be a positive number");
  return Math.min(value, max);
}

function operationFor(before: PlatformThread, after: PlatformThread, patch: ThreadPatch): ThreadOperation {
  if (patch.archived !== undefined && before.archived !== after.archived) return after.archived ? "archived" : "unarchived";
  if (patch.name !== undefined && before.name !== after.name) return "renamed";
  return "updated";
}
