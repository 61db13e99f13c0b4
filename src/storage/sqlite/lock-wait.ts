/**
 * Waiting for another process's lock on a SQLite file without freezing the event loop.
 *
 * `better-sqlite3` is synchronous, and SQLite's own busy handler sleeps inside the call: with a
 * long `busy_timeout`, a process holding the write lock would stall every request of every
 * other process on the file. So the connection keeps a busy timeout of a few milliseconds (it
 * absorbs another process's ordinary commit), and a longer wait is spent here, between
 * attempts, on timers: the loop keeps serving while a write waits its turn.
 */

import { performance } from "node:perf_hooks";

/** How long one attempt may block in SQLite's busy handler (its sleeps are 1, 2, 5... ms). */
export const BLOCKING_BUSY_MS = 3;
const FIRST_DELAY_MS = 2;
const MAX_DELAY_MS = 50;

/**
 * The database stayed locked by another connection for longer than `busyTimeoutMs`. Keeps
 * SQLite's `code` (`SQLITE_BUSY`...), so it is still recognisably a lock conflict.
 */
export class SqliteBusyError extends Error {
  readonly code: string;
  constructor(budgetMs: number, cause: unknown) {
    super(
      `the SQLite database stayed locked by another connection for more than ${budgetMs} ms (busyTimeoutMs); ` +
        `several processes writing one file take turns, see "When to choose PostgreSQL instead of SQLite" in the README`,
      { cause },
    );
    this.name = "SqliteBusyError";
    this.code = sqliteCode(cause) ?? "SQLITE_BUSY";
  }
}

/**
 * True for an error that says the database was locked by another connection
 * (`SQLITE_BUSY*`, `SQLITE_LOCKED*`, or `SqliteBusyError` once the wait was given up):
 * the same operation may succeed later. Constraint violations, I/O errors and the like are not.
 */
export function isTransientStoreError(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
}

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

interface QueuedWrite {
  op: () => unknown;
  deadline: number;
  tried: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs synchronous SQLite operations, retrying those refused for a lock with backoff and
 * jitter on timers until `budgetMs` after each was issued. Every operation must be atomic
 * (one statement or one transaction, which `better-sqlite3` rolls back when it throws), so
 * a retry never writes anything twice.
 *
 * Writes leave in the order they were issued: while one waits for the lock, later writes queue
 * behind it (and only the first polls the file). With nothing waiting, a write runs at once,
 * inside the call, exactly as without this class.
 */
export class SqliteLockWait {
  private readonly writes: QueuedWrite[] = [];

  constructor(private readonly budgetMs: number) {}

  read<T>(op: () => T): Promise<T> {
    return this.retry(op, performance.now() + this.budgetMs);
  }

  write<T>(op: () => T): Promise<T> {
    const deadline = performance.now() + this.budgetMs;
    let tried = false;
    if (this.writes.length === 0) {
      try {
        return Promise.resolve(op());
      } catch (error) {
        if (!isTransientStoreError(error)) return Promise.reject(error);
        tried = true;
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.writes.push({ op, deadline, tried, resolve: resolve as (value: unknown) => void, reject });
      if (this.writes.length === 1) void this.drainWrites();
    });
  }

  private async drainWrites(): Promise<void> {
    let delay = FIRST_DELAY_MS;
    while (this.writes.length > 0) {
      const head = this.writes[0];
      if (head.tried) {
        await sleep(backoff(delay, head.deadline));
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
      try {
        const value = head.op();
        this.writes.shift();
        head.resolve(value);
        delay = FIRST_DELAY_MS;
      } catch (error) {
        if (isTransientStoreError(error) && performance.now() < head.deadline) {
          head.tried = true;
          continue;
        }
        this.writes.shift();
        head.reject(isTransientStoreError(error) ? new SqliteBusyError(this.budgetMs, error) : error);
      }
    }
  }

  private async retry<T>(op: () => T, deadline: number): Promise<T> {
    for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
      try {
        return op();
      } catch (error) {
        if (!isTransientStoreError(error)) throw error;
        if (performance.now() >= deadline) throw new SqliteBusyError(this.budgetMs, error);
      }
      await sleep(backoff(delay, deadline));
    }
  }
}

/** Half the delay plus up to half again at random (processes polling one lock spread out), never past the deadline. */
function backoff(delay: number, deadline: number): number {
  return Math.max(0, Math.min(delay / 2 + Math.random() * (delay / 2), deadline - performance.now()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
