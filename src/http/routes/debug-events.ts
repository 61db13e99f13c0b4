import { HTTP_ERRORS, httpError } from "../../errors.js";
import type { RequestContext } from "../context.js";

/**
 * How far one feed reader may fall behind before it is cut off. The feed carries every event of
 * every run, so a stalled reader (a background tab) would otherwise hold all of it.
 */
export const DEBUG_FEED_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Feed readers at once: each costs a buffer and a serialisation per event. */
export const DEBUG_FEED_MAX_READERS = 32;

/**
 * `GET <basePath>/cpk-debug-events`: CopilotKit's live debug feed, an SSE stream with one
 * `data:` frame per event sent on any run or connect stream, as
 * `{ timestamp, agentId, threadId, runId, event }`. Served only when the runtime's `debug`
 * option is on or `NODE_ENV` is `development` (404 otherwise, like an unknown path). The stream
 * ends when the client goes away, or when it falls {@link DEBUG_FEED_MAX_BUFFERED_BYTES} behind.
 * With `identifyUser`, a reader must be identified (401 otherwise) and sees only its own streams.
 */
export async function handleDebugEvents(ctx: RequestContext): Promise<Response> {
  const bus = ctx.runtime.debugEvents;
  if (bus === undefined) {
    throw httpError(HTTP_ERRORS.notFound, `No route for ${ctx.request.method} ${new URL(ctx.request.url).pathname}.`);
  }
  if (bus.size >= DEBUG_FEED_MAX_READERS) {
    throw httpError(HTTP_ERRORS.tooManyStreams, `The debug feed already has ${DEBUG_FEED_MAX_READERS} readers.`, { limit: DEBUG_FEED_MAX_READERS, scope: "debug-feed" });
  }
  // With identifyUser, the feed is the caller's own: 401 without an identity, and only the
  // caller's streams (CopilotKit's feed carries every user's threads to anyone who asks).
  const owner = ctx.runtime.identifyUser === undefined ? undefined : await ctx.ownerId();
  return ctx.stream(bus.feed(owner), { maxBufferedBytes: DEBUG_FEED_MAX_BUFFERED_BYTES });
}
