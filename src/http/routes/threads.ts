import { identifierProblem } from "../../events/input-limits.js";
import { HTTP_ERRORS, httpError } from "../../errors.js";
import type { AgentMessage } from "../../events/types.js";
import { ThreadNotFoundError, type AgentRunner } from "../../runners/agent-runner.js";
import type { RequestContext } from "../context.js";
import { HttpError, jsonResponse } from "../errors.js";

const AGENT_ID = /^[\w.@:=-]{1,128}$/;
const MAX_LIMIT = 200;
const MAX_NAME = 500;

function capability<K extends keyof AgentRunner>(ctx: RequestContext, method: K): NonNullable<AgentRunner[K]> {
  const runner = ctx.runtime.runner;
  const fn = runner[method];
  if (typeof fn !== "function") {
    throw httpError(HTTP_ERRORS.threadsNotSupported, `The configured runner does not support thread operations (${String(method)}).`);
  }
  return (fn as (...args: unknown[]) => unknown).bind(runner) as NonNullable<AgentRunner[K]>;
}

function notFound(threadId: string): HttpError {
  return httpError(HTTP_ERRORS.threadNotFound, `Thread '${threadId}' was not found.`);
}

/** `GET /threads?agentId&includeArchived&limit&cursor`: the caller's threads, newest first. */
export async function handleListThreads(ctx: RequestContext): Promise<Response> {
  const query = new URL(ctx.request.url).searchParams;
  const agentId = query.get("agentId") ?? undefined;
  if (agentId !== undefined && !AGENT_ID.test(agentId)) {
    throw httpError(HTTP_ERRORS.invalidAgentId, "Valid agentId query param is required");
  }
  let limit: number | undefined;
  const rawLimit = query.get("limit");
  if (rawLimit !== null) {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw httpError(HTTP_ERRORS.invalidLimit, `limit must be an integer from 1 to ${MAX_LIMIT}.`);
    }
  }
  const list = capability(ctx, "listThreads");
  const ownerId = await ctx.ownerId();
  try {
    const page = await list({
      ownerId,
      agentId,
      includeArchived: query.get("includeArchived") === "true",
      limit,
      cursor: query.get("cursor") ?? undefined,
    });
    return jsonResponse(page);
  } catch (error) {
    if (error instanceof RangeError) throw httpError(HTTP_ERRORS.invalidCursor, "The cursor is not one this server issued.");
    throw error;
  }
}

/** `PATCH /threads/:threadId`: rename (`name`) and/or archive state (`archived`). */
export async function handleUpdateThread(ctx: RequestContext): Promise<Response> {
  const threadId = ctx.params.threadId;
  const body = await ctx.readJson();
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw httpError(HTTP_ERRORS.invalidRunInput, "The body must be a JSON object.");
  }
  const { name, archived } = body as { name?: unknown; archived?: unknown };
  if (name !== undefined && name !== null && (typeof name !== "string" || (name !== "" && identifierProblem(name, MAX_NAME) !== undefined))) {
    throw httpError(HTTP_ERRORS.invalidName, `name must be a string of at most ${MAX_NAME} characters without NUL or lone surrogates, or null.`);
  }
  if (archived !== undefined && typeof archived !== "boolean") {
    throw httpError(HTTP_ERRORS.invalidArchived, "archived must be a boolean.");
  }
  const update = capability(ctx, "updateThread");
  const ownerId = await ctx.ownerId();
  try {
    const thread = await update({ threadId, ownerId, name: name as string | null | undefined, archived: archived as boolean | undefined });
    return jsonResponse(thread);
  } catch (error) {
    if (error instanceof ThreadNotFoundError) throw notFound(threadId);
    throw error;
  }
}

/** `POST /threads/:threadId/archive`. */
export async function handleArchiveThread(ctx: RequestContext): Promise<Response> {
  const threadId = ctx.params.threadId;
  const update = capability(ctx, "updateThread");
  const ownerId = await ctx.ownerId();
  try {
    await update({ threadId, ownerId, archived: true });
  } catch (error) {
    if (error instanceof ThreadNotFoundError) throw notFound(threadId);
    throw error;
  }
  return jsonResponse({ threadId, archived: true });
}

/** `DELETE /threads/:threadId`: the thread, its runs and events. */
export async function handleDeleteThread(ctx: RequestContext): Promise<Response> {
  const threadId = ctx.params.threadId;
  const remove = capability(ctx, "deleteThread");
  const ownerId = await ctx.ownerId();
  const deleted = await remove({ threadId, ownerId });
  if (!deleted) throw notFound(threadId);
  return jsonResponse({ threadId, deleted: true });
}

/** `POST /threads/clear`: removes every thread of the caller. */
export async function handleClearThreads(ctx: RequestContext): Promise<Response> {
  const clear = capability(ctx, "clearThreads");
  await clear({ ownerId: await ctx.ownerId() });
  return new Response(null, { status: 204 });
}

/** `GET /threads/:threadId/messages`, in CopilotKit's inspection shape. */
export async function handleThreadMessages(ctx: RequestContext): Promise<Response> {
  const threadId = ctx.params.threadId;
  const messages = await capability(ctx, "getThreadMessages")({ threadId, ownerId: await ctx.ownerId() });
  if (messages === undefined) throw notFound(threadId);
  return jsonResponse({ messages: messages.map(toInspectionMessage) });
}

/** `GET /threads/:threadId/events`: the compacted event history. */
export async function handleThreadEvents(ctx: RequestContext): Promise<Response> {
  const threadId = ctx.params.threadId;
  const events = await capability(ctx, "getThreadEvents")({ threadId, ownerId: await ctx.ownerId() });
  if (events === undefined) throw notFound(threadId);
  return jsonResponse({ events });
}

/** `GET /threads/:threadId/state`: the last state snapshot, or null. */
export async function handleThreadState(ctx: RequestContext): Promise<Response> {
  const threadId = ctx.params.threadId;
  const result = await capability(ctx, "getThreadState")({ threadId, ownerId: await ctx.ownerId() });
  if (result === undefined) throw notFound(threadId);
  return jsonResponse({ state: result.state ?? null });
}

function toInspectionMessage(message: AgentMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { id: message.id, role: message.role };
  if (message.content !== undefined) out.content = message.content;
  if (message.role === "assistant" && Array.isArray(message.toolCalls)) {
    out.toolCalls = (message.toolCalls as Array<{ id: string; function: { name: string; arguments: string } }>).map((call) => ({
      id: call.id,
      name: call.function.name,
      args: call.function.arguments,
    }));
  }
  if (message.role === "tool") out.toolCallId = message.toolCallId;
  return out;
}
