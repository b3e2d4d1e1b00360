/**
 * The operating-time ("resource consumption") limit of spec §4: per method and per app or
 * webhook, execution seconds are summed in one-minute buckets over a window of N minutes.
 *
 * Bucket rules, from the newer docs (bitrix-tools/b24-rest-docs, limits.md): a bucket holds
 * "the sum of the method's execution time for the corresponding minute", and it drops out
 * of the sum 10 minutes after "the first counted call of the method in that minute"
 * (first call at 10:05:20 gives `operating_reset_at` 10:15:20). So by default buckets are
 * clock minutes while their expiry runs from their own first call; the `first-call`
 * alignment setting instead starts a bucket's minute at its first call. The docs show
 * `operating_reset_at` as whole unix seconds, so a bucket's first-call time is truncated
 * to the second and it expires exactly at the `resetAt` it reports.
 *
 * The emulator-only `windowSeconds` setting shrinks the model in time: one-second buckets over a
 * window of that many seconds, with the same alignment and whole-second truncation, so a test
 * meets the limit in seconds rather than minutes.
 */

import type { Now } from './leaky-bucket.js';
import { validateOperating, type BucketAlignment, type OperatingSettings } from './presets.js';

/** The answer of {@link OperatingBudget.check}. */
export type OperatingCheck =
  | { ok: true }
  | {
      ok: false;
      /** Unix seconds at which enough buckets have dropped out for the method to run again. */
      resetAt: number;
      /** The sum in the window now, float seconds. */
      operating: number;
    };

/** The figures a portal reports in an answer's `time` object. */
export interface OperatingStatus {
  /** The method's accumulated execution time in the window, float seconds (`time.operating`). */
  operating: number;
  /**
   * Unix seconds at which the oldest bucket drops out (`time.operating_reset_at`): its first
   * call plus the window; with no bucket, now plus the window.
   */
  resetAt: number;
}

interface Bucket {
  /** First call in the bucket, ms, truncated to the whole second. */
  start: number;
  /** The clock minute (ms / 60 000), or second with `windowSeconds`, the bucket stands for under `clock` alignment. */
  slot: number;
  seconds: number;
}

const MINUTE_MS = 60_000;
// A sweep a minute keeps memory bounded by the (caller, method) pairs used in the window.
const SWEEP_INTERVAL_MS = MINUTE_MS;

/**
 * The operating-time budget of one portal. Checked before each call and fed after it:
 * once a (caller, method) sum is over the budget, further calls of that method by that
 * caller are refused (the caller answers 429 `OPERATION_TIME_LIMIT`) until old buckets
 * drop out; the call that crossed the budget has already run. Other methods and callers
 * keep their own sums. A sum exactly at the budget is not over it.
 */
export class OperatingBudget {
  readonly #budgetSeconds: number;
  readonly #windowMs: number;
  /** A bucket's span: a minute, or a second with `windowSeconds`. */
  readonly #bucketMs: number;
  readonly #alignment: BucketAlignment;
  readonly #now: Now;
  readonly #sums = new Map<string, Bucket[]>();
  #lastSweep: number;

  /**
   * @param settings budget and window, e.g. `PRESETS.standard.operating`
   * @param now the clock
   * @throws Error naming the field when a setting is out of range
   */
  constructor(settings: OperatingSettings, now: Now) {
    const valid = validateOperating({ ...settings });
    this.#budgetSeconds = valid.budgetSeconds;
    this.#bucketMs = valid.windowSeconds === undefined ? MINUTE_MS : 1000;
    this.#windowMs =
      valid.windowSeconds === undefined ? valid.windowMinutes * MINUTE_MS : valid.windowSeconds * 1000;
    this.#alignment = valid.alignment ?? 'clock';
    this.#now = now;
    this.#lastSweep = now();
  }

  /** Whether `caller` may call `method` now; `caller` is an app or webhook id. */
  check(caller: string, method: string): OperatingCheck {
    const now = this.#now();
    this.#maybeSweep(now);
    const buckets = this.#live(keyOf(caller, method), now);
    const operating = total(buckets);
    if (operating <= this.#budgetSeconds) return { ok: true };
    // Re-summing the rest instead of subtracting keeps float drift out of the comparison.
    for (let i = 0; i < buckets.length; i++) {
      if (total(buckets.slice(i + 1)) <= this.#budgetSeconds) {
        return { ok: false, resetAt: this.#expiry(buckets[i] as Bucket) / 1000, operating };
      }
    }
    // Unreachable: with every bucket gone the sum is 0, which no positive budget is under.
    return { ok: false, resetAt: Math.floor(now / 1000) + this.#windowMs / 1000, operating };
  }

  /**
   * Adds a finished call's execution time.
   *
   * @param seconds execution time, float seconds
   * @param at when the call is counted, ms; now when absent. A time already outside the
   *   window is ignored.
   * @throws Error when `seconds` is negative or not finite
   */
  record(caller: string, method: string, seconds: number, at: number = this.#now()): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new Error(`seconds: must be a non-negative finite number, got ${String(seconds)}`);
    }
    const now = this.#now();
    this.#maybeSweep(now);
    const key = keyOf(caller, method);
    const buckets = this.#live(key, now);
    const start = Math.floor(at / 1000) * 1000;
    if (start + this.#windowMs <= now) return;
    const slot = Math.floor(at / this.#bucketMs);
    const existing =
      this.#alignment === 'clock'
        ? buckets.find((b) => b.slot === slot)
        : buckets.findLast((b) => b.start <= at && at < b.start + this.#bucketMs);
    if (existing !== undefined) {
      existing.seconds += seconds;
      // A call recorded out of order (a slow call finishing after a quick later one) may be the earlier first call.
      existing.start = Math.min(existing.start, start);
    } else {
      buckets.push({ start, slot, seconds });
    }
    buckets.sort((a, b) => a.start - b.start);
    this.#sums.set(key, buckets);
  }

  /** The `operating` and `operating_reset_at` figures for an answer to `caller` calling `method`. */
  status(caller: string, method: string): OperatingStatus {
    const now = this.#now();
    const buckets = this.#live(keyOf(caller, method), now);
    const oldest = buckets[0];
    return {
      operating: total(buckets),
      resetAt:
        oldest === undefined ? Math.floor(now / 1000) + this.#windowMs / 1000 : this.#expiry(oldest) / 1000,
    };
  }

  /** Forgets every sum. */
  reset(): void {
    this.#sums.clear();
  }

  /** How many (caller, method) pairs are held; lets tests check that idle pairs are forgotten. */
  get size(): number {
    return this.#sums.size;
  }

  #expiry(bucket: Bucket): number {
    return bucket.start + this.#windowMs;
  }

  // The buckets of `key` still in the window, oldest first; drops the expired ones.
  #live(key: string, now: number): Bucket[] {
    const buckets = this.#sums.get(key);
    if (buckets === undefined) return [];
    const live = buckets.filter((b) => this.#expiry(b) > now);
    if (live.length === 0) this.#sums.delete(key);
    else if (live.length !== buckets.length) this.#sums.set(key, live);
    return live;
  }

  #maybeSweep(now: number): void {
    if (now < this.#lastSweep) this.#lastSweep = now;
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return;
    this.#lastSweep = now;
    for (const key of [...this.#sums.keys()]) this.#live(key, now);
  }
}

// JSON of the pair cannot collide whatever characters the ids hold; method names are
// case-insensitive on a portal, so `IM.NOTIFY` and `im.notify` share one sum.
function keyOf(caller: string, method: string): string {
  return JSON.stringify([caller, method.toLowerCase()]);
}

function total(buckets: readonly Bucket[]): number {
  let sum = 0;
  for (const b of buckets) sum += b.seconds;
  return sum;
}
