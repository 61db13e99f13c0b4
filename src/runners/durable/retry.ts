import { logger } from "../../logger.js";

/** How the durable write path retries a store error its store calls transient. */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The pause before the first retry; each next one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Up to 8 tries, pausing about 25, 50, 100, ... 1000 ms (each pause drawn from its upper half,
 * so processes that failed together do not retry together): about 2.6 s of pauses at most,
 * and never past the deadline (a live run's lease), whichever comes first.
 */
export const WRITE_RETRY: Readonly<RetryPolicy> = Object.freeze({ attempts: 8, baseDelayMs: 25, maxDelayMs: 1_000 });

export interface RetryOptions {
  /** The store's classifier: only errors it calls transient are retried. */
  isTransient: (error: unknown) => boolean;
  /** Epoch ms: no retry is started whose pause would end after it. */
  deadline: number;
  /** What is being written, for the log. */
  what: string;
  policy?: Readonly<RetryPolicy>;
  clock?: () => number;
}

/**
 * Runs `operation`, retrying it after a transient failure (a dropped connection, a
 * serialization failure, a busy database) with exponential backoff and jitter while the
 * attempts and the deadline allow. A permanent failure, or the last transient one, is thrown.
 * Only for operations a failed attempt leaves undone (one transaction or one statement).
 */
export async function retryTransient<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = options.policy ?? WRITE_RETRY;
  const clock = options.clock ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= policy.attempts || !options.isTransient(error)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      if (clock() + delay >= options.deadline) throw error;
      logger.warn({ err: error, attempt, attempts: policy.attempts, delayMs: Math.round(delay) }, `${options.what} failed (attempt ${attempt} of ${policy.attempts}); retrying in ${Math.round(delay)} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
