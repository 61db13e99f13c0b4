import type { PlatformDeps } from "../context.js";
import type { FanOut, ThreadSubscriber } from "../fan-out.js";
import type { RunFinalizer } from "../finalizer.js";
import type { JoinTokenClaims } from "../join-tokens.js";
import type { ChannelContext, ChannelHandler, JoinResult } from "../phoenix/types.js";
import type { StoredEvent } from "../store/types.js";
import { TERMINAL_TYPES } from "../wire.js";
import type { RunDeliveryCursors } from "./run-cursors.js";

/** What a client socket proved at connect: its join token's claims. */
export interface ClientAssigns {
  claims: JoinTokenClaims;
}

export interface ThreadChannelDeps {
  deps: PlatformDeps;
  fanOut: FanOut;
  finalizer: RunFinalizer;
  cursors: RunDeliveryCursors;
}

const PAGE = 256;
export const THREAD_TOPIC_PREFIX = "thread:";

/**
 * A browser's join of `thread:<threadId>`, authorized by its join token (same user, same
 * thread; a token minted for a run may follow only that run).
 *
 * - run mode `{stream_mode:"run", run_id}`: every event of that run from `RUN_STARTED` in seq
 *   order, then live until its terminal event; a rejoin with the same token resumes after the
 *   last event pushed on it.
 * - connect mode `{stream_mode:"connect", last_seen_event_id}`: the thread's events after the
 *   cursor (all of them when the cursor is null or unknown), `replay_complete`, live events of a
 *   running run, then `stream_idle` once no run is running.
 *
 * `stop_run {run_id}` is acknowledged at once; the stop is relayed to the run's runner.
 */
export async function joinThreadChannel(
  channelDeps: ThreadChannelDeps,
  topic: string,
  payload: Record<string, unknown>,
  channel: ChannelContext<ClientAssigns>,
): Promise<JoinResult> {
  const { deps, fanOut, finalizer } = channelDeps;
  const { claims } = channel.assigns;
  if (claims.topic !== topic) return refuse("unauthorized", "The join token is not valid for this topic");
  const threadId = topic.slice(THREAD_TOPIC_PREFIX.length);
  const thread = await deps.store.getThread(claims.project, threadId);
  if (thread === undefined || thread.userId !== claims.userId) return refuse("thread_not_found", `Thread ${threadId} not found`);

  const mode = payload.stream_mode ?? "connect";
  let subscriber: ThreadSubscriber & { start(): Promise<void> };
  if (mode === "run") {
    const runId = payload.run_id;
    if (typeof runId !== "string" || runId === "") return refuse("invalid_join", "run mode needs run_id");
    if (claims.runId !== undefined && claims.runId !== runId) return refuse("unauthorized", "The join token is for another run");
    const run = await deps.store.getRun(claims.project, runId);
    if (run === undefined || run.threadId !== threadId) return refuse("run_not_found", `No run ${runId} on thread ${threadId}`);
    subscriber = runModeSubscriber(channelDeps, channel, threadId, runId);
  } else if (mode === "connect") {
    const cursor = payload.last_seen_event_id ?? payload.lastSeenEventId ?? null;
    if (cursor !== null && typeof cursor !== "string") return refuse("invalid_join", "last_seen_event_id must be a string or null");
    subscriber = connectModeSubscriber(deps, channel, threadId, cursor);
  } else {
    return refuse("invalid_join", "stream_mode must be run or connect");
  }

  let unsubscribe: (() => void) | undefined;
  let ended = false;
  // Start after the join reply is on its way: replayed events must follow it, not precede it.
  setImmediate(() => {
    if (ended) return;
    fanOut
      .subscribeThread(claims.project, threadId, subscriber, () => subscriber.start())
      .then((off) => {
        if (ended) off();
        else unsubscribe = off;
      })
      .catch((err: unknown) => {
        deps.log.error({ err, threadId }, "Intelligence: thread replay failed");
        if (!channel.ended) channel.error();
      });
  });

  const handler: ChannelHandler = {
    handleIn(event, body) {
      if (event !== "stop_run") return { status: "error", response: { reason: "unknown_event", message: `Unknown event ${event}` } };
      const runId = (body as { run_id?: unknown } | null)?.run_id ?? (body as { runId?: unknown } | null)?.runId;
      if (typeof runId !== "string" || runId === "") return { status: "error", response: { reason: "invalid_request", message: "run_id is required" } };
      // Acknowledge first: the browser tears down on the reply; the stop itself is asynchronous.
      void finalizer.requestStop(claims.project, threadId, runId).catch((err: unknown) => {
        deps.log.error({ err, threadId, runId }, "Intelligence: stop request failed");
      });
      return { status: "ok", response: {} };
    },
    terminate() {
      ended = true;
      unsubscribe?.();
    },
  };
  return { ok: true, response: {}, handler };
}

function runModeSubscriber(channelDeps: ThreadChannelDeps, channel: ChannelContext<ClientAssigns>, threadId: string, runId: string) {
  const { deps, cursors } = channelDeps;
  const { claims } = channel.assigns;
  let lastSeq = cursors.get(claims.jti, runId);
  let done = false;

  const push = (event: StoredEvent): void => {
    if (done || event.runId !== runId || event.seq <= lastSeq) return;
    channel.push("ag_ui_event", event.json);
    lastSeq = event.seq;
    cursors.set(claims.jti, runId, lastSeq, claims.exp);
    if (TERMINAL_TYPES.has(event.type)) done = true;
  };

  return {
    async start() {
      for (;;) {
        const page = await deps.store.runEvents(claims.project, runId, lastSeq, PAGE);
        for (const event of page) if (event.threadId === threadId) push(event);
        if (page.length < PAGE || done) return;
      }
    },
    deliver: push,
    runsEnded() {},
    threadDeleted() {
      if (!channel.ended) channel.close();
    },
  };
}

function connectModeSubscriber(deps: PlatformDeps, channel: ChannelContext<ClientAssigns>, threadId: string, cursor: string | null) {
  const { project } = channel.assigns.claims;
  let lastPosition = -Infinity;
  let lastEventId: string | null = cursor;
  const openRuns = new Set<string>();
  let replayed = false;
  let idle = false;

  const push = (event: StoredEvent): void => {
    if (event.position <= lastPosition) return;
    channel.push("ag_ui_event", event.json);
    lastPosition = event.position;
    lastEventId = event.id;
    if (event.type === "RUN_STARTED") {
      openRuns.add(event.runId);
      idle = false;
    } else if (TERMINAL_TYPES.has(event.type)) openRuns.delete(event.runId);
  };

  const maybeIdle = (): void => {
    if (!replayed || idle || openRuns.size > 0) return;
    idle = true;
    channel.push("stream_idle", { latestEventId: lastEventId });
  };

  return {
    async start() {
      // Ask before reading: a run still running now has its terminal event after the replay.
      const active = await deps.store.activeRun(project, threadId);
      if (active !== undefined) openRuns.add(active.runId);
      let after = cursor;
      let first = await deps.store.eventsAfter(project, threadId, after, PAGE);
      if (first === undefined) {
        // Unknown cursor (another thread's id, a deleted event): replay everything.
        deps.log.info({ threadId, cursor }, "Intelligence: unknown connect cursor; replaying the whole thread");
        lastEventId = null;
        after = null;
        first = (await deps.store.eventsAfter(project, threadId, null, PAGE)) ?? [];
      }
      for (let page = first; ; ) {
        for (const event of page) push(event);
        if (page.length < PAGE) break;
        after = page[page.length - 1].id;
        page = (await deps.store.eventsAfter(project, threadId, after, PAGE)) ?? [];
      }
      channel.push("replay_complete", { latestEventId: lastEventId });
      replayed = true;
      maybeIdle();
    },
    deliver(event: StoredEvent) {
      push(event);
      maybeIdle();
    },
    runsEnded(runIds: readonly string[]) {
      for (const runId of runIds) openRuns.delete(runId);
      maybeIdle();
    },
    threadDeleted() {
      if (!channel.ended) channel.close();
    },
  };
}

function refuse(reason: string, message: string): JoinResult {
  return { ok: false, response: { reason, message } };
}
