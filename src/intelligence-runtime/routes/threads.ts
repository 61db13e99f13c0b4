import { HTTP_ERRORS, type HttpErrorSpec } from "../../errors.js";
import type { RequestContext } from "../../http/context.js";
import { jsonResponse } from "../../http/errors.js";
import { identifyIntelligenceUser, isValidIdentifier } from "./identify-user.js";
import { intelligenceError, intelligenceRuntimeOf } from "./respond.js";

/**
 * The `/threads` routes in Intelligence mode: each one identifies the caller and proxies to the
 * platform with that user id (the platform enforces per-user isolation). Answers and error
 * bodies are CopilotKit 1.75's; a platform failure is logged and answered with a 500.
 */

/** A route body: the platform call's answer, or a `Response` to send as it is. */
type Proxy = (ctx: RequestContext) => Promise<unknown>;

/** Runs a proxy, turning a thrown `Response` into the answer and anything else into `failure`. */
async function proxied(ctx: RequestContext, failure: HttpErrorSpec, proxy: Proxy): Promise<Response> {
  try {
    const result = await proxy(ctx);
    return result instanceof Response ? result : jsonResponse(result);
  } catch (error) {
    if (error instanceof Response) return error;
    ctx.log.error({ err: error, threadId: ctx.params.threadId }, failure.code);
    return intelligenceError(failure);
  }
}

/** The body of a thread mutation (needs `agentId`) and the caller. */
async function mutation(ctx: RequestContext): Promise<{ userId: string; agentId: string; body: Record<string, unknown> }> {
  let body: unknown;
  try {
    body = await ctx.readJson();
  } catch {
    throw intelligenceError(HTTP_ERRORS.invalidRunInput);
  }
  const user = await identifyIntelligenceUser(ctx);
  const record = (body !== null && typeof body === "object" && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  if (!isValidIdentifier(record.agentId)) throw intelligenceError(HTTP_ERRORS.intelligenceAgentIdRequired);
  return { userId: user.id, agentId: record.agentId, body: record };
}

/** `GET /threads?agentId=&includeArchived=&limit=&cursor=`: the platform's list, verbatim. */
export function handleIntelligenceListThreads(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceListFailed, async () => {
    const query = new URL(ctx.request.url).searchParams;
    const user = await identifyIntelligenceUser(ctx);
    const agentId = query.get("agentId");
    if (!isValidIdentifier(agentId)) throw intelligenceError(HTTP_ERRORS.intelligenceAgentIdQueryRequired);
    const limit = query.get("limit");
    const cursor = query.get("cursor");
    return intelligenceRuntimeOf(ctx).intelligence.listThreads({
      userId: user.id,
      agentId,
      ...(query.get("includeArchived") === "true" ? { includeArchived: true } : {}),
      ...(limit ? { limit: Number(limit) } : {}),
      ...(cursor ? { cursor } : {}),
    });
  });
}

/** `POST /threads/subscribe`: `{ joinToken }` for the realtime thread list. */
export function handleIntelligenceSubscribe(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceSubscribeFailed, async () => {
    const user = await identifyIntelligenceUser(ctx);
    const credentials = await intelligenceRuntimeOf(ctx).intelligence.ɵsubscribeToThreads({ userId: user.id });
    return { joinToken: credentials.joinToken };
  });
}

/** `PATCH /threads/:threadId`: only `name` and `archived` reach the platform (the SDK would pass anything). */
export function handleIntelligenceUpdateThread(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceUpdateFailed, async () => {
    const { userId, agentId, body } = await mutation(ctx);
    const updates: Record<string, unknown> = {};
    for (const key of ["name", "archived"]) if (Object.prototype.hasOwnProperty.call(body, key)) updates[key] = body[key];
    return intelligenceRuntimeOf(ctx).intelligence.updateThread({ threadId: ctx.params.threadId, userId, agentId, updates });
  });
}

/** `POST /threads/:threadId/archive`. */
export function handleIntelligenceArchiveThread(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceArchiveFailed, async () => {
    const { userId, agentId } = await mutation(ctx);
    const threadId = ctx.params.threadId;
    await intelligenceRuntimeOf(ctx).intelligence.archiveThread({ threadId, userId, agentId });
    return { threadId, archived: true };
  });
}

/** `DELETE /threads/:threadId`. */
export function handleIntelligenceDeleteThread(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceDeleteFailed, async () => {
    const { userId, agentId } = await mutation(ctx);
    const threadId = ctx.params.threadId;
    await intelligenceRuntimeOf(ctx).intelligence.deleteThread({ threadId, userId, agentId });
    return { threadId, deleted: true };
  });
}

/** `GET /threads/:threadId/messages`: the platform's history, verbatim. */
export function handleIntelligenceThreadMessages(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceMessagesFailed, async () => {
    const user = await identifyIntelligenceUser(ctx);
    return intelligenceRuntimeOf(ctx).intelligence.getThreadMessages({ threadId: ctx.params.threadId, userId: user.id });
  });
}

/**
 * `GET /threads/:threadId/events`: `{ events }` from the platform's inspector endpoint. It takes
 * no user id (1.75's contract), so the platform can only scope it by project.
 */
export function handleIntelligenceThreadEvents(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceEventsFailed, async () => {
    await identifyIntelligenceUser(ctx);
    const data = await intelligenceRuntimeOf(ctx).intelligence.getThreadEvents({ threadId: ctx.params.threadId });
    return { events: data.events };
  });
}

/** `GET /threads/:threadId/state`: `{ state }`, null without a snapshot. */
export function handleIntelligenceThreadState(ctx: RequestContext): Promise<Response> {
  return proxied(ctx, HTTP_ERRORS.intelligenceStateFailed, async () => {
    await identifyIntelligenceUser(ctx);
    const data = await intelligenceRuntimeOf(ctx).intelligence.getThreadState({ threadId: ctx.params.threadId });
    return { state: data.kind === "snapshot" ? data.state : null };
  });
}

/** `POST /threads/clear`: threads live on the platform and are not wiped from a page; 204, as 1.75. */
export async function handleIntelligenceClearThreads(): Promise<Response> {
  return new Response(null, { status: 204 });
}
