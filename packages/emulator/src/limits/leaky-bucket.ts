/**
 * The intensity limit (spec §4): a leaky bucket per key, where the caller builds the key
 * from the portal and the source IP so apps on one server share a bucket, as on the cloud.
 */

import { validateIntensity, type IntensitySettings } from './presets.js';

/** The injected clock: milliseconds since the epoch. */
export type Now = () => number;

/** The answer of {@link LeakyBucket.take}: admitted, or refused with the wait until one more fits. */
export type TakeResult = { ok: true; level: number } | { ok: false; level: number; retryAfterMs: number };

interface BucketState {
  level: number;
  at: number;
}

// Drained levels are floats (2/s over 333 ms is 0.666...); without a tolerance a request
// exactly at capacity could be refused over a rounding error in the last bit.
const EPSILON = 1e-9;
// How often idle keys are swept; a minute keeps the map bounded by the keys active recently.
const SWEEP_INTERVAL_MS = 60_000;

/**
 * A leaky bucket per string key. Each admitted request adds 1; a request that would lift
 * the counter above `capacity` is refused and adds nothing, so with capacity 50 exactly
 * 50 requests in a burst pass and the 51st is refused. The counter drains continuously
 * (not in whole-second steps) at `drainPerSecond`, so at 2/s one more request fits every
 * 500 ms. Keys whose counter has drained to zero are forgotten.
 */
export class LeakyBucket {
  readonly #settings: IntensitySettings;
  readonly #now: Now;
  readonly #buckets = new Map<string, BucketState>();
  #lastSweep: number;

  /**
   * @param settings the drain rate and capacity, e.g. `PRESETS.standard.intensity`
   * @param now the clock
   * @throws Error naming the field when a setting is out of range
   */
  constructor(settings: IntensitySettings, now: Now) {
    this.#settings = validateIntensity({ ...settings });
    this.#now = now;
    this.#lastSweep = now();
  }

  /**
   * Counts one request against `key`. The caller answers a refusal with 503
   * `QUERY_LIMIT_EXCEEDED`; `retryAfterMs` is for the emulator's own inspection only,
   * since Bitrix24 sends no `Retry-After`.
   */
  take(key: string): TakeResult {
    const now = this.#now();
    this.#maybeSweep(now);
    const level = this.#drained(key, now);
    const { capacity, drainPerSecond } = this.#settings;
    if (level + 1 > capacity + EPSILON) {
      const excess = level + 1 - capacity;
      // The tolerance keeps float noise (0.0020000000000007) from adding a whole millisecond.
      const retryAfterMs = Math.max(1, Math.ceil((excess / drainPerSecond) * 1000 - 1e-6));
      return { ok: false, level, retryAfterMs };
    }
    const next = level + 1;
    this.#buckets.set(key, { level: next, at: now });
    return { ok: true, level: next };
  }

  /** The counter of `key` now, after draining; 0 for a key never seen or long idle. */
  level(key: string): number {
    return this.#drained(key, this.#now());
  }

  /** Forgets every key, as if the portal had been idle for a long time. */
  reset(): void {
    this.#buckets.clear();
  }

  /** How many keys are held; lets tests check that idle keys are forgotten. */
  get size(): number {
    return this.#buckets.size;
  }

  #drained(key: string, now: number): number {
    const state = this.#buckets.get(key);
    if (state === undefined) return 0;
    // A clock that steps back (tests, NTP) must not refill the bucket.
    const elapsedMs = Math.max(0, now - state.at);
    const level = state.level - (elapsedMs / 1000) * this.#settings.drainPerSecond;
    return level > EPSILON ? level : 0;
  }

  #maybeSweep(now: number): void {
    // A clock stepped back would otherwise postpone the next sweep by the size of the step.
    if (now < this.#lastSweep) this.#lastSweep = now;
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return;
    this.#lastSweep = now;
    for (const key of [...this.#buckets.keys()]) {
      if (this.#drained(key, now) === 0) this.#buckets.delete(key);
    }
  }
}
