import { HTTP_ERRORS, RUN_ERRORS, runErrorEvent } from "../../errors.js";
import { parseJsonText, readBodyText } from "../../http/body.js";
import type { RequestContext } from "../../http/context.js";
import { jsonResponse } from "../../http/errors.js";
import { findAgent } from "../../http/routes/agent.js";
import { nativeSseHost } from "../../http/sse.js";
import { platformErrorStatus } from "../platform-request-error.js";
import { identifyIntelligenceUser } from "./identify-user.js";
import { intelligenceError, intelligenceRuntimeOf } from "./respond.js";

/**
 * `POST /agent/:agentId/stop/:threadId` in Intelligence mode: the platform confirms the thread
 * is the caller's and this agent's (`GET /api/threads/:id`), then this process's run of it stops
 * (`{ runId }` in the body stops only that run). A run on another process is stopped through
 * the platform instead (the browser's `stop_run` on the thread channel).
 */
export async function handleIntelligenceStop(ctx: RequestContext): Promise<Response> {
  const runtime = intelligenceRuntimeOf(ctx);
  const threadId = ctx.params.threadId;
  const scope = await readStopScope(ctx);
  if (scope instanceof Response) return scope;
  const user = await identifyIntelligenceUser(ctx);
  let stopThreadId = threadId;
  try {
    const thread = await runtime.intelligence.getThread({ threadId, userId: user.id });
    if (!thread || typeof thread.id !== "string" || !thread.id.trim()) return intelligenceError(HTTP_ERRORS.intelligenceInvalidThread);
    if (thread.agentId !== undefined && thread.agentId !== ctx.params.agentId) return intelligenceError(HTTP_ERRORS.intelligenceThreadAccessDenied);
    stopThreadId = thread.id;
  } catch (error) {
    const status = platformErrorStatus(error);
    return intelligenceError(HTTP_ERRORS.intelligenceThreadAccessDenied, { status: status !== undefined && status >= 400 && status < 500 ? status : 502 });
  }
  await findAgent(ctx);
  let stopped: boolean | undefined;
  try {
    stopped = await runtime.runner.stop({ threadId: stopThreadId, ...(scope.runId !== undefined ? { runId: scope.runId } : {}) });
  } catch (error) {
    ctx.log.error({ err: error, threadId }, `stopping thread ${threadId} failed`);
    return intelligenceError(HTTP_ERRORS.stopFailed, { message: error instanceof Error ? error.message : "Unknown error" });
  }
  if (!stopped) {
    const message = scope.runId === undefined ? `No active run for thread '${threadId}'.` : `Run '${scope.runId}' is not the active run for thread '${threadId}'.`;
    return jsonResponse({ stopped: false, message });
  }
  return jsonResponse({ stopped: true, interrupt: runErrorEvent(RUN_ERRORS.stopped) });
}

/** `{}`, no body, or `{ runId }`; anything else is refused, since a stop cannot be undone. */
async function readStopScope(ctx: RequestContext): Promise<{ runId?: string } | Response> {
  let body: unknown = ctx.preparsedBody;
  if (body === undefined) {
    try {
      const host = nativeSseHost(ctx.request);
      const text = host?.readBodyText !== undefined ? await host.readBodyText(ctx.settings.maxBodyBytes) : await readBodyText(ctx.request, ctx.settings.maxBodyBytes);
      body = text.trim() === "" ? {} : parseJsonText(text, ctx.settings.limits.maxJsonDepth);
    } catch {
      return intelligenceError(HTTP_ERRORS.intelligenceInvalidStop);
    }
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return intelligenceError(HTTP_ERRORS.intelligenceInvalidStop);
  if (Object.keys(body).some((key) => key !== "runId")) return intelligenceError(HTTP_ERRORS.intelligenceInvalidStop);
  if (!("runId" in body)) return {};
  const runId = (body as { runId: unknown }).runId;
  if (typeof runId !== "string" || !runId.trim()) return intelligenceError(HTTP_ERRORS.intelligenceInvalidRunId);
  return { runId };
}
