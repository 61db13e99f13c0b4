/**
 * CopilotKit 1.54.1 (`@copilotkitnext/runtime` + `@copilotkitnext/core`) on the platform built
 * for 1.75 (protocol spec §6, "1.54.1 differences"). The differences that are cheap to serve:
 *
 * - REST calls carry `X-Organization-Id` (1.75 never sends it): that header is how a call is
 *   recognised as 1.54.1's. The organization is not used; the API key names the project.
 * - T1 (`GET /api/threads/:id`) and H1 (`.../messages`) carry no `userId`: they can only be
 *   scoped by project (an isolation gap of 1.54.1 the platform cannot close; logged once).
 * - L1 sends `{runId, userId}`: no agentId, no TTL, and no heartbeat or release follow.
 * - C1 sends `{userId, lastSeenEventId?}` and expects a connect plan (see `connectPlanResponse`).
 * - The runner joins `ingestion:<threadId>` with `{runId}` and pushes single `event`s without
 *   waiting for replies (see `channels/legacy-runner-channel.ts`).
 */
import type { Logger } from "../logger.js";
import type { PlatformDeps } from "./context.js";
import type { RunFinalizer } from "./finalizer.js";
import type { PlatformThread, StoredEvent } from "./store/types.js";

/** The header only CopilotKit 1.54.1's platform client sends. */
export const LEGACY_154_HEADER = "x-organization-id";

/** True for a REST call made by CopilotKit 1.54.1's runtime. */
export function isLegacy154Call(request: Request): boolean {
  return request.headers.has(LEGACY_154_HEADER);
}

/**
 * Logs, once per process and endpoint, that a 1.54.1 runtime made a thread call without a
 * `userId`, so the platform could not check which user the thread belongs to.
 */
export function createIsolationGapWarning(log: Logger): (endpoint: string) => void {
  const warned = new Set<string>();
  return (endpoint) => {
    if (warned.has(endpoint)) return;
    warned.add(endpoint);
    log.warn(
      { endpoint },
      `Intelligence platform: a CopilotKit 1.54.1 runtime called ${endpoint} without userId; the thread is scoped by project only (a known isolation gap of 1.54.1; upgrade the runtime to 1.75 to close it).`,
    );
  };
}

const PAGE = 500;

/**
 * The 1.54.1 answer to C1: a connect plan, as JSON built around the stored events' serialized
 * form (no re-encoding).
 *
 * - No run active: `{mode:"bootstrap", latestEventId, events}`: the thread's events after the
 *   client's cursor (all of them for a null or unknown cursor), replayed over HTTP; no socket.
 * - A run active: `{mode:"live", joinToken, joinFromEventId, events}`: the events after the
 *   cursor that precede the active run, and the id of the last of them (or the cursor when there
 *   are none), from which the client joins `thread:<id>` in connect mode to receive the active
 *   run (replayed from the log, then live) until its terminal event.
 * - A thread with no events and no active run: 204 (the runtime answers the browser 204 too).
 *
 * `thread` must already be checked to belong to the caller.
 */
export async function connectPlanResponse(
  deps: PlatformDeps,
  finalizer: RunFinalizer,
  thread: PlatformThread,
  requestedCursor: string | null,
  issueToken: () => string,
): Promise<Response> {
  const { store } = deps;
  let active = await store.activeRun(thread.projectId, thread.id);
  if (active !== undefined && (await finalizer.closeIfLapsed(active))) active = undefined;

  let cursor = requestedCursor;
  // An unknown cursor (another thread's id, a deleted event) replays the whole thread, as connect mode does.
  if (cursor !== null && (await store.eventsAfter(thread.projectId, thread.id, cursor, 1)) === undefined) cursor = null;

  const events: StoredEvent[] = [];
  let reachedActiveRun = false;
  for (let after = cursor; !reachedActiveRun; ) {
    const page = (await store.eventsAfter(thread.projectId, thread.id, after, PAGE)) ?? [];
    for (const event of page) {
      // One run holds the lock at a time, so everything logged before the active run's first event belongs to earlier runs.
      if (active !== undefined && event.runId === active.runId) {
        reachedActiveRun = true;
        break;
      }
      events.push(event);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1].id;
  }
  const lastId = events.length > 0 ? events[events.length - 1].id : cursor;
  const eventsJson = `[${events.map((event) => event.json).join(",")}]`;

  if (active === undefined) {
    const latestEventId = lastId ?? (await store.latestEventId(thread.projectId, thread.id));
    if (latestEventId === null) return new Response(null, { status: 204 });
    return rawJson(`{"mode":"bootstrap","latestEventId":${JSON.stringify(latestEventId)},"events":${eventsJson}}`);
  }
  return rawJson(`{"mode":"live","joinToken":${JSON.stringify(issueToken())},"joinFromEventId":${JSON.stringify(lastId)},"events":${eventsJson}}`);
}

function rawJson(body: string): Response {
  return new Response(body, { status: 200, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}

/**
 * The user a 1.54.1 delete (T5) is for. Its body is only `{reason}`, which the runtime writes as
 * `Deleted via CopilotKit runtime (userId=<id>, agentId=<id>)`; ids cannot contain `,` or `)`,
 * so the user can be read back and ownership checked as for any other caller. Undefined when
 * the reason has another shape (the call is then refused for lack of a userId).
 */
export function userIdFromDeleteReason(reason: unknown): string | undefined {
  if (typeof reason !== "string") return undefined;
  return /^Deleted via CopilotKit runtime \(userId=([\w.@:=-]+), agentId=[\w.@:=-]+\)$/.exec(reason)?.[1];
}
