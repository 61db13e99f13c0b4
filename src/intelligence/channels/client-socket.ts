import type { SocketHandler } from "../phoenix/types.js";
import { THREAD_TOPIC_PREFIX, type ClientAssigns, type ThreadChannelDeps, joinThreadChannel } from "./thread-channel.js";
import { USER_META_TOPIC_PREFIX, joinUserMetaChannel } from "./user-meta-channel.js";

export interface ClientSocketOptions {
  /** Origins allowed to open `/client` sockets; null allows every origin. Requests without `Origin` (non-browsers) are allowed. */
  allowedOrigins: ReadonlySet<string> | null;
}

/**
 * The `/client` socket: browsers connect with `?join_token=` and join `thread:<id>` or
 * `user_meta:<joinCode>`, the topic their token names. A missing, forged or expired token, or a
 * foreign origin, refuses the socket (403).
 */
export function createClientSocketHandler(channelDeps: ThreadChannelDeps, options: ClientSocketOptions): SocketHandler<ClientAssigns> {
  const { deps, fanOut } = channelDeps;
  return {
    connect(info) {
      const origin = info.headers.get("origin");
      if (origin !== null && options.allowedOrigins !== null && !options.allowedOrigins.has(origin)) return null;
      const claims = deps.tokens.verify(info.params.join_token);
      return claims === null ? null : { claims };
    },
    join(topic, payload, channel) {
      // Checked again at join: a long-lived socket must not outlive its token's expiry on new joins.
      if (channel.assigns.claims.exp <= deps.now()) return { ok: false, response: { reason: "token_expired", message: "The join token has expired" } };
      if (topic.startsWith(THREAD_TOPIC_PREFIX)) return joinThreadChannel(channelDeps, topic, payload, channel);
      if (topic.startsWith(USER_META_TOPIC_PREFIX)) return joinUserMetaChannel(deps, fanOut, topic, channel);
      return { ok: false, response: { reason: "unknown_topic", message: `Unknown topic ${topic}` } };
    },
  };
}
