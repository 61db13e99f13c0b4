import type { RequestContext } from "./context.js";
import { HTTP_ERRORS, errorResponse } from "../errors.js";
import type { RouteName } from "./router.js";

/**
 * How many event streams may be open at once. A stream holds a socket, a subscription and its
 * buffers for as long as the client keeps it, so an unbounded number lets one client (or a
 * burst) exhaust the process; past a limit the caller gets a 429 with `Retry-After`.
 */
export interface StreamLimitOptions {
  /**
   * Most event streams open at once through this handler (`copilot-runtime serve` has one
   * handler per process). Default 10,000; `0` means no limit.
   */
  maxStreams?: number;
  /**
   * Most event streams one user may have open at once, the user being the id `identifyUser`
   * returns. Default 64; `0` means no limit. Without `identifyUser` every caller is the same
   * anonymous owner, so this limit is not applied then (only `maxStreams` is); a request whose
   * `identifyUser` fails is refused by the route itself as before.
   */
  maxStreamsPerUser?: number;
  /** The `Retry-After` of the 429, in seconds. Default 5. */
  retryAfterSeconds?: number;
}

export const DEFAULT_STREAM_LIMITS: Readonly<Required<StreamLimitOptions>> = {
  maxStreams: 10_000,
  maxStreamsPerUser: 64,
  retryAfterSeconds: 5,
};

/** The routes answered with an event stream, directly or through the single-route envelope. */
export const STREAM_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>(["run", "connect", "suggest"]);

/**
 * Counts open event streams, in total and per user, and refuses new ones past the limits.
 *
 * @example
 * ```ts
 * const limiter = new StreamLimiter({ maxStreams: 1000, maxStreamsPerUser: 10 });
 * const release = limiter.acquire("user-1"); // throws a 429 Response when full
 * // ... the stream ends:
 * release();
 * ```
 */
export class StreamLimiter {
  private open = 0;
  private readonly perUser = new Map<string, number>();
  readonly maxStreams: number;
  readonly maxStreamsPerUser: number;
  private readonly retryAfter: string;

  constructor(options: StreamLimitOptions = {}) {
    this.maxStreams = checkLimit("maxStreams", options.maxStreams ?? DEFAULT_STREAM_LIMITS.maxStreams);
    this.maxStreamsPerUser = checkLimit("maxStreamsPerUser", options.maxStreamsPerUser ?? DEFAULT_STREAM_LIMITS.maxStreamsPerUser);
    const retryAfter = options.retryAfterSeconds ?? DEFAULT_STREAM_LIMITS.retryAfterSeconds;
    if (!Number.isInteger(retryAfter) || retryAfter < 0) {
      throw new TypeError(`limits.retryAfterSeconds must be a whole number of seconds (0 or more), got ${String(retryAfter)}`);
    }
    this.retryAfter = String(retryAfter);
  }

  /** Streams open now, in total. */
  get openStreams(): number {
    return this.open;
  }

  /** Streams `user` has open now. */
  openStreamsOf(user: string): number {
    return this.perUser.get(user) ?? 0;
  }

  /**
   * Takes a slot for a stream of `user` (`undefined`: counted against `maxStreams` only).
   * Returns the release, which may be called any number of times; throws the 429 `Response`
   * when a limit is reached.
   */
  acquire(user: string | undefined): () => void {
    if (this.maxStreams !== 0 && this.open >= this.maxStreams) throw this.refusal(this.maxStreams, "process");
    const userCount = user === undefined ? 0 : (this.perUser.get(user) ?? 0);
    if (user !== undefined && this.maxStreamsPerUser !== 0 && userCount >= this.maxStreamsPerUser) {
      throw this.refusal(this.maxStreamsPerUser, "user");
    }
    this.open++;
    if (user !== undefined) this.perUser.set(user, userCount + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      if (user === undefined) return;
      const left = (this.perUser.get(user) ?? 1) - 1;
      if (left <= 0) this.perUser.delete(user);
      else this.perUser.set(user, left);
    };
  }

  private refusal(limit: number, scope: "process" | "user"): Response {
    const message =
      scope === "process"
        ? `The server has ${limit} event streams open, its limit. Retry later.`
        : `You have ${limit} event streams open, the limit per user. Close one (another tab?) or retry later.`;
    return errorResponse(HTTP_ERRORS.tooManyStreams, message, { "Retry-After": this.retryAfter }, { limit, scope });
  }
}

function checkLimit(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`limits.${name} must be a whole number (0 for no limit), got ${String(value)}`);
  return value;
}

/**
 * Runs a stream route holding a slot of `limiter`: refused with a 429 before the route does
 * anything (no run is started for a stream that would be refused), released when the stream
 * ends (the client left or the source finished) or at once when the route answers otherwise.
 */
export async function withStreamSlot(limiter: StreamLimiter, ctx: RequestContext, route: () => Promise<Response>): Promise<Response> {
  // Cheap refusal first: a full process answers without asking who the caller is.
  if (limiter.maxStreams !== 0 && limiter.openStreams >= limiter.maxStreams) limiter.acquire(undefined);
  const user = limiter.maxStreamsPerUser === 0 ? undefined : await streamOwner(ctx);
  const release = limiter.acquire(user);
  ctx.onStreamClose = release;
  let response: Response;
  try {
    response = await route();
  } catch (error) {
    release();
    throw error;
  }
  if (!ctx.streamed) release();
  return response;
}

/** The caller's id for the per-user count; undefined for anonymous callers or when identification fails (the route answers that). */
async function streamOwner(ctx: RequestContext): Promise<string | undefined> {
  if (ctx.runtime.identifyUser === undefined) return undefined;
  try {
    return await ctx.ownerId();
  } catch {
    return undefined;
  }
}
