import { HTTP_ERRORS } from "../../errors.js";
import type { RequestContext } from "../../http/context.js";
import { jsonResponse } from "../../http/errors.js";
import { findAgent, readRunInput } from "../../http/routes/agent.js";
import { platformErrorStatus } from "../platform-request-error.js";
import { identifyIntelligenceUser } from "./identify-user.js";
import { intelligenceError, intelligenceRuntimeOf } from "./respond.js";

/** Platform refusals the browser should see as such (the thread is not theirs, or not there). */
const REJECTIONS = new Set([400, 401, 403, 404, 409]);

/**
 * `POST /agent/:agentId/connect` in Intelligence mode: asks the platform for credentials to
 * replay the thread (`POST /api/threads/:id/connect`). 204 when there is nothing to replay;
 * otherwise `{ threadId, joinToken, realtime: { clientUrl, topic } }` and the browser reads the
 * thread from the platform. `lastSeenEventId` in the body is ignored, as in 1.75 (the browser
 * sends its cursor when it joins).
 */
export async function handleIntelligenceConnect(ctx: RequestContext): Promise<Response> {
  const { intelligence } = intelligenceRuntimeOf(ctx);
  const { id: agentId } = await findAgent(ctx);
  const { input } = await readRunInput(ctx);
  const user = await identifyIntelligenceUser(ctx);
  try {
    const result = await intelligence.ɵconnectThread({ threadId: input.threadId, userId: user.id, agentId });
    if (result === null) return new Response(null, { status: 204 });
    return jsonResponse(
      { threadId: result.threadId, joinToken: result.joinToken, realtime: { clientUrl: intelligence.ɵgetClientWsUrl(), topic: `thread:${result.threadId}` } },
      200,
      { "Cache-Control": "no-cache", Connection: "keep-alive" },
    );
  } catch (error) {
    const status = platformErrorStatus(error);
    const message = error instanceof Error ? error.message : "Connect request failed";
    if (status !== undefined && REJECTIONS.has(status)) return intelligenceError(HTTP_ERRORS.intelligenceConnectRejected, { status, message });
    // Another platform status passes through (a 503 is worth retrying, not a missing thread);
    // no status at all means the platform was not reached.
    ctx.log.error({ err: error, threadId: input.threadId, status }, "Connect request failed");
    return intelligenceError(HTTP_ERRORS.intelligenceConnectFailed, { status: status ?? 502, message });
  }
}
