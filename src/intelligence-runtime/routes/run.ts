import { prepareAgentForRequest } from "../../events/agent-contract.js";
import type { AgentEvent } from "../../events/types.js";
import { HTTP_ERRORS } from "../../errors.js";
import type { RequestContext } from "../../http/context.js";
import { jsonResponse } from "../../http/errors.js";
import { addGenerativeUi, findAgent, forwardedHeaders, readRunInput } from "../../http/routes/agent.js";
import { bindAgentLogger } from "../../logger.js";
import type { IntelligenceAgentRunner } from "../intelligence-agent-runner.js";
import { platformErrorStatus } from "../platform-request-error.js";
import { nameNewThread } from "../thread-names.js";
import { identifyIntelligenceUser } from "./identify-user.js";
import { intelligenceError, intelligenceRuntimeOf } from "./respond.js";

/**
 * `POST /agent/:agentId/run` in Intelligence mode (CopilotKit 1.75's sequence): the thread is
 * got or created on the platform, its lock taken, its history read (to tell new messages from
 * old), and the run started on this process's runner, whose socket joins the platform. Once the
 * platform accepted that join, the browser gets credentials to read the run from the platform:
 * `{ threadId, runId, joinToken, realtime: { clientUrl, topic } }`. The lock is renewed every
 * `lockHeartbeatIntervalSeconds` while the run lasts; the platform frees it on the run's terminal
 * event, and the runtime frees it itself only on failure paths.
 */
export async function handleIntelligenceRun(ctx: RequestContext): Promise<Response> {
  const runtime = intelligenceRuntimeOf(ctx);
  const intelligence = runtime.intelligence;
  const log = ctx.log;
  const { id: agentId, agent: registered } = await findAgent(ctx);
  const { input } = await readRunInput(ctx);
  const user = await identifyIntelligenceUser(ctx);
  const agent = prepareAgentForRequest(registered, agentId, input, forwardedHeaders(ctx, registered));
  bindAgentLogger(agent, log);
  await addGenerativeUi(ctx, agent, agentId, input);

  try {
    const { thread, created } = await intelligence.getOrCreateThread({ threadId: input.threadId, userId: user.id, agentId });
    if (created && runtime.generateThreadNames && !thread.name?.trim()) {
      // In the background: the run does not wait for its thread's name.
      nameNewThread({ runtime, registered, agentId, input, threadId: thread.id, userId: user.id, log }).catch((error: unknown) =>
        log.error({ err: error, threadId: thread.id }, "Failed to generate thread name"),
      );
    }
  } catch (error) {
    log.error({ err: error, threadId: input.threadId }, "Failed to get or create thread");
    const status = platformErrorStatus(error);
    return intelligenceError(HTTP_ERRORS.intelligenceThreadInitFailed, { status: status !== undefined && status >= 400 && status < 500 ? status : 502 });
  }

  let threadId: string;
  let runId: string;
  let joinToken: string;
  try {
    const lock = await intelligence.ɵacquireThreadLock({
      threadId: input.threadId,
      runId: input.runId,
      userId: user.id,
      agentId,
      ...(runtime.lockKeyPrefix !== undefined ? { lockKeyPrefix: runtime.lockKeyPrefix } : {}),
      ttlSeconds: runtime.lockTtlSeconds,
    });
    threadId = lock?.threadId;
    runId = lock?.runId;
    joinToken = lock?.joinToken;
  } catch (error) {
    log.error({ err: error, threadId: input.threadId }, "Thread lock denied");
    return intelligenceError(HTTP_ERRORS.intelligenceLockDenied, { status: platformErrorStatus(error) === 409 ? 409 : 502 });
  }

  const releaseLock = (reason: string): Promise<void> =>
    intelligence
      .ɵcleanupThreadLock({ threadId: threadId || input.threadId, runId: runId || input.runId })
      .catch((error: unknown) => log.error({ err: error, reason }, "Failed to cleanup thread lock"));

  if (!threadId || !runId || !joinToken) {
    await releaseLock("malformed-lock-response");
    return intelligenceError(HTTP_ERRORS.intelligenceCredentialsUnavailable, {
      message: "Intelligence platform did not return canonical threadId, runId, and joinToken",
    });
  }

  const canonicalInput = { ...input, threadId, runId };
  let persistedInputMessages = input.messages;
  if (Array.isArray(input.messages)) {
    try {
      const history = await intelligence.getThreadMessages({ threadId, userId: user.id });
      const known = new Set(history.messages.map((message) => message.id));
      persistedInputMessages = input.messages.filter((message) => !known.has(message.id));
    } catch (error) {
      log.error({ err: error, threadId }, "Thread history lookup failed");
      await releaseLock("thread-history-lookup-failed");
      return intelligenceError(HTTP_ERRORS.intelligenceHistoryFailed);
    }
  }

  // A lost lock means the platform may give the thread to another run: the agent is aborted
  // and the run closed (1.75 only aborts the agent, which an agent stuck in a call ignores).
  const runner = runtime.runner as IntelligenceAgentRunner;
  const heartbeat = startLockHeartbeat(ctx, { threadId, runId }, () => {
    runner.stop({ threadId, runId }).catch((error: unknown) => log.error({ err: error, threadId, runId }, "Failed to end the run after lock renewal failure"));
  });
  let lockReleased: Promise<void> | undefined;
  const releaseOnce = (reason: string) => (lockReleased ??= releaseLock(reason));

  try {
    const { events, startup } = runner.runWithStartupBoundary({ threadId, agent, input: canonicalInput, agentId, ownerId: user.id, persistedInputMessages });
    events.subscribe({
      next: (event) => {
        // A failed run's lock is freed here (the platform frees it too, on the RUN_ERROR it stores).
        if ((event as AgentEvent).type === "RUN_ERROR") {
          heartbeat.stop();
          void releaseOnce("runner-error");
        }
      },
      error: (error: unknown) => {
        heartbeat.stop();
        log.error({ err: error, threadId, runId }, "Error running agent");
        void releaseOnce("runner-error");
      },
      complete: () => heartbeat.stop(),
    });
    await startup;
  } catch (error) {
    heartbeat.stop();
    log.error({ err: error, threadId, runId }, "Error starting agent runner");
    await releaseOnce("runner-start-failed");
    return intelligenceError(HTTP_ERRORS.intelligenceRunnerFailed, { message: error instanceof Error ? error.message : String(error) });
  }

  return jsonResponse(
    { threadId, runId, joinToken, realtime: { clientUrl: intelligence.ɵgetClientWsUrl(), topic: `thread:${threadId}` } },
    200,
    { "Cache-Control": "no-cache" },
  );
}

/**
 * Renews the run's lock every `lockHeartbeatIntervalSeconds` until stopped. A failed renewal
 * means the platform may hand the thread to another run: the agent is aborted.
 */
function startLockHeartbeat(ctx: RequestContext, run: { threadId: string; runId: string }, onLost: () => void): { stop(): void } {
  const runtime = intelligenceRuntimeOf(ctx);
  let stopped = false;
  const timer = setInterval(() => {
    runtime.intelligence
      .ɵrenewThreadLock({
        ...run,
        ttlSeconds: runtime.lockTtlSeconds,
        ...(runtime.lockKeyPrefix !== undefined ? { lockKeyPrefix: runtime.lockKeyPrefix } : {}),
      })
      .catch((error: unknown) => {
        if (stopped) return;
        ctx.log.error({ err: error, ...run }, "Failed to renew thread lock");
        stop();
        onLost();
      });
  }, runtime.lockHeartbeatIntervalSeconds * 1_000);
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  return { stop };
}
