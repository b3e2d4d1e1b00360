/**
 * The portal's clock: real time plus an offset that the control API can move, so token
 * expiry and limit windows are testable without waiting.
 */
export class Clock {
  #offsetMs = 0;

  /** Milliseconds since the epoch, as the portal sees it. */
  now(): number {
    // Sub-millisecond precision, as the portal's microsecond timestamps in `time` have.
    return performance.timeOrigin + performance.now() + this.#offsetMs;
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
