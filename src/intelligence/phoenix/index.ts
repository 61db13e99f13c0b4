export { createPhoenixServer } from "./server.js";
export { parseFrame, serializeFrame } from "./codec.js";
export type {
  ChannelContext,
  ChannelHandler,
  ConnectInfo,
  InProcessConnectRequest,
  InProcessConnection,
  InProcessPeer,
  JoinResult,
  PhoenixFrame,
  PhoenixServer,
  PhoenixServerOptions,
  PhoenixTransportKind,
  Reply,
  SocketHandler,
} from "./types.js";
