/**
 * The portal's clock: real time plus an offset that the control API can move, so token
 * expiry and limit windows are testable without waiting.
 */
export class Clock {
  #offsetMs = 0;
  /** Set on a deterministic portal: time stands here (plus the offset) instead of running. */
  #frozenAt: number | undefined;

  /** Milliseconds since the epoch, as the portal sees it. */
  now(): number {
    if (this.#frozenAt !== undefined) return this.#frozenAt + this.#offsetMs;
    // Sub-millisecond precision, as the portal's microsecond timestamps in `time` have.
    return performance.timeOrigin + performance.now() + this.#offsetMs;
  }

  /**
   * Stop the clock at `at` (ms since the epoch), so timestamps are the same on every run;
   * `advance` and `setOffset` still move it.
   */
  freeze(at: number): void {
    this.#frozenAt = at;
  }

  /** How far the portal's clock is ahead of real time, in milliseconds. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Set the offset (may be negative); returns the new portal time. */
  setOffset(offsetMs: number): number {
    this.#offsetMs = offsetMs;
    return this.now();
  }

  /** Move the clock forward by `ms` (never backward: time going back would corrupt limit windows). */
  advance(ms: number): number {
    this.#offsetMs += Math.max(0, ms);
    return this.now();
  }
}
