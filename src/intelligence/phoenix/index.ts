export { createPhoenixServer } from "./server.js";
export { parseFrame, serializeFrame } from "./codec.js";
export type {
  ChannelContext,
  ChannelHandler,
  ConnectInfo,
  JoinResult,
  PhoenixFrame,
  PhoenixServer,
  PhoenixServerOptions,
  Reply,
  SocketHandler,
} from "./types.js";
