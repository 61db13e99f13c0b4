import { prepareAgentForRequest, type AgentLike } from "../../events/agent-contract.js";
import { HTTP_ERRORS, RUN_ERRORS, httpError, runErrorEvent } from "../../errors.js";
import { type Logger, bindAgentLogger } from "../../logger.js";
import {
  InvalidRunInputError,
  StoreUnavailableError,
  ThreadAgentMismatchError,
  ThreadBusyError,
  ThreadNotFoundError,
} from "../../runners/agent-runner.js";
import { RunSession } from "../../runners/run-session.js";
import { applyGenerativeUi } from "../../genui/apply.js";
import { MissingDependencyError } from "../../missing-dependency-error.js";
import type { AgentEvent, RunInput } from "../../events/types.js";
import { closeFailedRunsBeforeNextRun } from "../../events/replay.js";
import type { RequestContext } from "../context.js";
import { HttpError, jsonResponse } from "../errors.js";
import { mergeAgentHeaders } from "../forward-headers.js";
import { parseRunInput } from "../run-input.js";

export async function findAgent(ctx: RequestContext): Promise<{ id: string; agent: AgentLike }> {
  const id = ctx.params.agentId;
  const agents = await ctx.agents();
  const agent = Object.prototype.hasOwnProperty.call(agents, id) ? agents[id] : undefined;
  if (agent === undefined) throw httpError(HTTP_ERRORS.agentNotFound, `Agent '${id}' does not exist`);
  return { id, agent };
}

/**
 * The run input of `/run`, `/connect` and `/suggest`. Malformed JSON answers with CopilotKit's
 * `Invalid request body`, like any other body that is not a `RunAgentInput`, so clients that
 * match on `error` see the same value.
 */
export async function readRunInput(ctx: RequestContext): Promise<{ body: unknown; input: RunInput }> {
  let body: unknown;
  try {
    body = await ctx.readJson();
  } catch (error) {
    if (error instanceof HttpError && error.code === "invalid_json") {
      throw httpError(HTTP_ERRORS.invalidRunInput, error.message, { details: "malformed JSON" });
    }
    throw error;
  }
  return { body, input: parseRunInput(body, ctx.settings.limits) };
}

export function forwardedHeaders(ctx: RequestContext, agent: AgentLike): Record<string, string> {
  return mergeAgentHeaders(ctx.settings.selectHeaders(ctx.headerSource()), agent.headers);
}

/** `POST /agent/:agentId/run`: starts a run and streams its events. */
export async function handleRun(ctx: RequestContext): Promise<Response> {
  const { id, agent: registered } = await findAgent(ctx);
  const { input } = await readRunInput(ctx);
  const ownerId = await ctx.ownerId();
  const agent = prepareAgentForRequest(registered, id, input, forwardedHeaders(ctx, registered));
  bindAgentLogger(agent, ctx.log);
  await addGenerativeUi(ctx, agent, id, input);
  let source;
  try {
    source = await ctx.runtime.runner.run({ threadId: input.threadId, agent, input, agentId: id, ownerId });
  } catch (error) {
    throw runnerError(error, ctx.log);
  }
  return ctx.stream(source);
}

/** The runtime's `a2ui`, `mcpApps` and `openGenerativeUI` middlewares, on this run's clone. */
export async function addGenerativeUi(ctx: RequestContext, agent: AgentLike, agentId: string, input: RunInput): Promise<void> {
  try {
    await applyGenerativeUi(ctx.runtime, agent, agentId, input, ctx.log);
  } catch (error) {
    if (error instanceof MissingDependencyError) {
      ctx.log.error({ err: error, agentId }, error.message);
      throw httpError(HTTP_ERRORS.missingDependency, error.message, { packageName: error.packageName });
    }
    throw error;
  }
}

/** `POST /agent/:agentId/connect`: replays the thread, then follows its live run. */
export async function handleConnect(ctx: RequestContext): Promise<Response> {
  const { id, agent } = await findAgent(ctx);
  const { body, input } = await readRunInput(ctx);
  const ownerId = await ctx.ownerId();
  const lastEventId = ctx.request.headers.get("last-event-id") ?? bodyEventId((body as { lastSeenEventId?: unknown }).lastSeenEventId);
  const source = ctx.runtime.runner.connect({
    threadId: input.threadId,
    agentId: id,
    ownerId,
    headers: forwardedHeaders(ctx, agent),
    lastEventId: lastEventId ?? undefined,
  });
  return ctx.stream(closeFailedRunsBeforeNextRun(source));
}

/** `lastSeenEventId` from a body: a string, or a number as JSON clients may send it (`42` is `"42"`). */
function bodyEventId(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

/** `POST /agent/:agentId/stop/:threadId`: ends the thread's active run (optionally only `runId`). */
export async function handleStop(ctx: RequestContext): Promise<Response> {
  const { id } = await findAgent(ctx);
  const threadId = ctx.params.threadId;
  const ownerId = await ctx.ownerId();
  const runId = await optionalRunId(ctx);
  let stopped: boolean | undefined;
  try {
    stopped = await ctx.runtime.runner.stop({ threadId, runId, agentId: id, ownerId });
  } catch (error) {
    ctx.log.error({ err: error, agentId: id, threadId, runId }, `stopping thread ${threadId} failed`);
    throw httpError(HTTP_ERRORS.stopFailed, "The run could not be stopped. See the server logs for details.");
  }
  if (!stopped) {
    return jsonResponse({ stopped: false, message: `No active run for thread '${threadId}'.` });
  }
  return jsonResponse({ stopped: true, interrupt: runErrorEvent(RUN_ERRORS.stopped) });
}

/**
 * `POST /agent/:agentId/suggest`: a stateless run for suggestions. It bypasses the runner (no
 * thread is stored) but still gets a well-formed, finalized stream, and like every route that
 * does work it requires a caller `identifyUser` accepts.
 */
export async function handleSuggest(ctx: RequestContext): Promise<Response> {
  const { id, agent: registered } = await findAgent(ctx);
  const { input } = await readRunInput(ctx);
  await ctx.ownerId(); // a suggestion runs the agent: only for callers identifyUser accepts
  const agent = prepareAgentForRequest(registered, id, input, forwardedHeaders(ctx, registered));
  bindAgentLogger(agent, ctx.log);
  return ctx.stream({
    subscribe(observer) {
      const session = new RunSession({
        agent,
        input,
        onEvent: (event: AgentEvent) => observer.next(event),
        onEnd: () => observer.complete(),
      });
      session.start();
      return { unsubscribe: () => session.stop() };
    },
  });
}

/** The body of a stop is optional: `{ "runId": "..." }` scopes the stop to one run. */
async function optionalRunId(ctx: RequestContext): Promise<string | undefined> {
  const fromQuery = new URL(ctx.request.url).searchParams.get("runId");
  if (fromQuery) return fromQuery;
  let body: unknown = ctx.preparsedBody;
  if (body === undefined) {
    if (ctx.request.body === null || ctx.request.headers.get("content-length") === "0") return undefined;
    try {
      body = await ctx.readJson();
    } catch (error) {
      if (error instanceof HttpError && error.code === "invalid_json") return undefined; // the body is ignored, as in CopilotKit
      throw error;
    }
  }
  const runId = (body as { runId?: unknown } | null)?.runId;
  return typeof runId === "string" && runId !== "" ? runId : undefined;
}

function runnerError(error: unknown, log: Logger): Error {
  if (error instanceof ThreadBusyError) {
    return httpError(HTTP_ERRORS.threadBusy, error.message, { threadId: error.threadId, retryable: true });
  }
  if (error instanceof Error && /already running/i.test(error.message)) {
    // CopilotKit-style custom runners signal a busy thread with a plain Error.
    return httpError(HTTP_ERRORS.threadBusy, "The thread already has an active run. Stop it or wait for it to finish.", { retryable: true });
  }
  if (error instanceof ThreadNotFoundError) return httpError(HTTP_ERRORS.threadNotFound, error.message);
  if (error instanceof InvalidRunInputError) {
    // The HTTP layer checks the same rules first; a runner with stricter ones still answers 400.
    return httpError(HTTP_ERRORS.invalidRunInput, error.message, { details: `${error.field} ${error.problem}` });
  }
  if (error instanceof StoreUnavailableError) {
    log.warn({ err: error.cause }, "the thread store is unavailable; a run was refused");
    return httpError(HTTP_ERRORS.storeUnavailable, error.message, { retryable: true }, { "Retry-After": "1" });
  }
  if (error instanceof ThreadAgentMismatchError) return httpError(HTTP_ERRORS.threadAgentMismatch, error.message);
  log.error({ err: error }, "the runner refused a run");
  return httpError(HTTP_ERRORS.runFailed, "The run could not be started. See the server logs for details.");
}
