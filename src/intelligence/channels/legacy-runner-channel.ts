import type { PlatformDeps } from "../context.js";
import type { FanOut } from "../fan-out.js";
import type { RunFinalizer } from "../finalizer.js";
import type { ChannelContext } from "../phoenix/types.js";
import type { RunnerAssigns, RunnerTarget } from "./runner-channel.js";

/** How often the platform renews a 1.54.1 run's lock while its runner is joined. */
export const LEGACY_KEEPALIVE_MS = 5_000;
/** The lock lifetime each renewal gives (four missed renewals before it lapses). */
export const LEGACY_LOCK_TTL_MS = 20_000;
/**
 * How long a 1.54.1 run's lock lives after its runner's channel ends without a terminal event:
 * time for a reconnecting runner to rejoin (here or on another instance, whose keepalive then
 * takes over); after it the expired-lock sweep closes the run.
 */
export const LEGACY_LEAVE_GRACE_MS = 10_000;

const TOPIC_PREFIX = "ingestion:";

/** True for a join in CopilotKit 1.54.1's shape: `{runId}` and no `thread_id`. */
export function isLegacyRunnerJoin(payload: Record<string, unknown>): boolean {
  return payload.thread_id === undefined && payload.runId !== undefined;
}

/** An accepted 1.54.1 runner join: the run its events go to, and what to do when the channel ends. */
export interface LegacyRunnerJoin {
  target: RunnerTarget;
  onTerminate: () => void;
}

/** A refused join's error response. */
export interface RunnerJoinRefusal {
  reason: string;
  message: string;
  retryable: false;
}

/**
 * CopilotKit 1.54.1's runner join: topic `ingestion:<threadId>` (its L1 answer carries no
 * joinCode), params `{runId}`. Allowed while the project holds a live lock for that run of that
 * thread. The caller serves the channel like a 1.75 one: its single `event` pushes are stored
 * before they are acknowledged (1.54.1 does not wait for the reply, nor retry).
 *
 * 1.54.1 neither renews nor releases its lock, so the platform renews it while the runner is
 * joined (a long run is not taken for a dead one) and, when the runner's channel ends before the
 * run's terminal event arrived, lets it lapse after `LEGACY_LEAVE_GRACE_MS`; the sweep then
 * closes the run (closers + `RUN_ERROR`) and frees the thread. A run that was asked to stop is
 * closed at once (closers + `RUN_FINISHED`): 1.54.1 sends its own stop closers only after it
 * left the channel, so they are always lost.
 */
export async function acceptLegacyRunnerJoin(
  deps: PlatformDeps,
  fanOut: FanOut,
  topic: string,
  payload: Record<string, unknown>,
  channel: ChannelContext<RunnerAssigns>,
  finalizer?: RunFinalizer,
): Promise<LegacyRunnerJoin | RunnerJoinRefusal> {
  const { projectId } = channel.assigns;
  if (!topic.startsWith(TOPIC_PREFIX)) return refuse("unknown_topic", `Runner sockets join ${TOPIC_PREFIX}<threadId>, not ${topic}`);
  const threadId = topic.slice(TOPIC_PREFIX.length);
  const runId = payload.runId;
  if (typeof runId !== "string" || runId === "") return refuse("invalid_join", "runId is required");

  const run = await deps.store.getRun(projectId, runId);
  if (run === undefined || run.threadId !== threadId) return refuse("run_not_found", `No run ${runId} on thread ${threadId}`);
  if (run.status !== "running") return refuse("not_running", `Run ${runId} already ended`);
  if (run.lockExpiresAt <= deps.now()) return refuse("lock_expired", `The lock of run ${runId} has expired`);

  const renew = async (ttlMs: number): Promise<"renewed" | "ended" | "missing"> => {
    try {
      return await deps.store.renewLock(projectId, threadId, runId, ttlMs, deps.now());
    } catch (err) {
      deps.log.error({ err, threadId, runId }, "Intelligence: renewing a 1.54.1 run's lock failed");
      return "renewed"; // try again on the next tick
    }
  };
  const keepalive = setInterval(() => {
    void renew(LEGACY_LOCK_TTL_MS).then((result) => {
      if (result !== "renewed") clearInterval(keepalive);
    });
  }, LEGACY_KEEPALIVE_MS);
  keepalive.unref();
  await renew(LEGACY_LOCK_TTL_MS);

  const onTerminate = (): void => {
    clearInterval(keepalive);
    // A rejoin on a new socket may already have taken over here: its keepalive holds the lock.
    if (fanOut.hasLocalRunner(projectId, runId)) return;
    if (finalizer?.isStopRequested(projectId, runId)) {
      // A stopped 1.54.1 runner pushes its closers after leaving the channel, so they never
      // arrive; nothing will come back for this run: close it now with RUN_FINISHED.
      void renew(0)
        .then(() => deps.store.getRun(projectId, runId))
        .then((current) => (current !== undefined ? finalizer.closeIfLapsed(current) : false))
        .catch((err: unknown) => deps.log.error({ err, threadId, runId }, "Intelligence: closing a stopped 1.54.1 run failed"));
      return;
    }
    void renew(LEGACY_LEAVE_GRACE_MS);
  };
  return { target: { projectId, threadId, runId }, onTerminate };
}

function refuse(reason: string, message: string): RunnerJoinRefusal {
  return { reason, message, retryable: false };
}
