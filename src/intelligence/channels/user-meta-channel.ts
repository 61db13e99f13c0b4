import type { PlatformDeps } from "../context.js";
import type { FanOut } from "../fan-out.js";
import type { ChannelContext, JoinResult } from "../phoenix/types.js";
import type { ClientAssigns } from "./thread-channel.js";

export const USER_META_TOPIC_PREFIX = "user_meta:";

/**
 * A browser's join of `user_meta:<joinCode>` (the thread list's realtime feed), authorized when
 * the join token names this topic and the join code belongs to the token's user. The channel
 * then receives `thread_metadata` and `thread_run_activity` for that user's threads.
 */
export async function joinUserMetaChannel(deps: PlatformDeps, fanOut: FanOut, topic: string, channel: ChannelContext<ClientAssigns>): Promise<JoinResult> {
  const { claims } = channel.assigns;
  if (claims.topic !== topic) return { ok: false, response: { reason: "unauthorized", message: "The join token is not valid for this topic" } };
  const joinCode = topic.slice(USER_META_TOPIC_PREFIX.length);
  const owner = await deps.store.userForJoinCode(claims.project, joinCode);
  if (owner !== claims.userId) return { ok: false, response: { reason: "unauthorized", message: "Unknown join code" } };
  const unregister = fanOut.addUserMeta(claims.project, claims.userId, channel);
  return {
    ok: true,
    response: {},
    handler: {
      handleIn: (event) => ({ status: "error", response: { reason: "unknown_event", message: `Unknown event ${event}` } }),
      terminate: unregister,
    },
  };
}
