/**
 * Run-mode delivery cursors, per join token and run: the highest seq already pushed. The
 * browser rejoins after a socket blip with the same run-mode params, and replaying from
 * `RUN_STARTED` again would fail its `verifyEvents`, so a rejoin resumes after this seq.
 * Kept in process memory until the token expires (a rejoin landing on another instance
 * replays from the start: see the README's multi-instance notes).
 */
export class RunDeliveryCursors {
  readonly #entries = new Map<string, { seq: number; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  get(tokenId: string, runId: string): number {
    const entry = this.#entries.get(`${tokenId}\u0000${runId}`);
    return entry === undefined || entry.expiresAt <= this.#now() ? 0 : entry.seq;
  }

  set(tokenId: string, runId: string, seq: number, expiresAt: number): void {
    if (this.#entries.size >= 10_000) this.#prune();
    this.#entries.set(`${tokenId}\u0000${runId}`, { seq, expiresAt });
  }

  get size(): number {
    return this.#entries.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}
