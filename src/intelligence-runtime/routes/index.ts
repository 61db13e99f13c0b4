/**
 * The routes that Intelligence mode answers differently: the handler swaps these in when
 * `isIntelligenceRuntime(runtime)`. `/suggest`, `/transcribe` and the debug feed stay as in SSE mode.
 */
import type { RequestContext } from "../../http/context.js";
import type { RouteName } from "../../http/router.js";
import { handleIntelligenceConnect } from "./connect.js";
import { handleIntelligenceInfo } from "./info.js";
import { handleIntelligenceRun } from "./run.js";
import { handleIntelligenceStop } from "./stop.js";
import {
  handleIntelligenceArchiveThread,
  handleIntelligenceClearThreads,
  handleIntelligenceDeleteThread,
  handleIntelligenceListThreads,
  handleIntelligenceSubscribe,
  handleIntelligenceThreadEvents,
  handleIntelligenceThreadMessages,
  handleIntelligenceThreadState,
  handleIntelligenceUpdateThread,
} from "./threads.js";

export const INTELLIGENCE_ROUTES: Partial<Record<RouteName, (ctx: RequestContext) => Promise<Response>>> = {
  info: handleIntelligenceInfo,
  run: handleIntelligenceRun,
  connect: handleIntelligenceConnect,
  stop: handleIntelligenceStop,
  "threads/list": handleIntelligenceListThreads,
  "threads/clear": handleIntelligenceClearThreads,
  "threads/subscribe": handleIntelligenceSubscribe,
  thread: (ctx) => (ctx.request.method === "DELETE" ? handleIntelligenceDeleteThread(ctx) : handleIntelligenceUpdateThread(ctx)),
  "thread/archive": handleIntelligenceArchiveThread,
  "thread/messages": handleIntelligenceThreadMessages,
  "thread/events": handleIntelligenceThreadEvents,
  "thread/state": handleIntelligenceThreadState,
};
