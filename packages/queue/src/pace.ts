/**
 * How the shared bucket allows for the gap between its check and the request's arrival.
 *
 * The pacer (`TAKE` in `scripts.ts`) counts a request when it checks it; the portal counts it
 * when it arrives (each incoming request raises the counter: `bitrix-tools/b24-rest-docs`
 * `settings/performance/limits.md`). A request that arrives `d` ms late has drained `d × Y` less
 * on the portal than in the pacer. Two defences, one for each way that gap can hurt:
 *
 * - a **time margin**: the pacer never fills the last {@link MARGIN_MS} worth of drain, so a
 *   request still in flight when another worker checks may arrive that much late unrefused;
 * - a **correction**: after the answer, the tick tells the bucket how late its request really
 *   was, beyond the margin, and the bucket is topped up by that much drain (`b24qLate`). One
 *   portal's batches leave one at a time (its single tick), so the next check already counts the
 *   stall, however long it was.
 *
 * Shifting every request by the same delay changes nothing on the portal; only a request later
 * than the others can meet a fuller bucket there. So the correction needs the delay beyond the
 * usual one, not the absolute delay: the worker's own part is measured on its monotonic clock,
 * the network's and the portal's part from the answer's `time.start` against the lowest offset
 * seen (the portal's clock need not agree with ours).
 */

/** The delay between check and arrival the bucket absorbs without a correction. */
export const MARGIN_MS = 1000;

/** A bucket's size and drain. */
export interface BucketLimits {
  capacity: number;
  drainPerSecond: number;
}

/**
 * Requests kept free below the capacity: {@link MARGIN_MS} of drain, at least one (a check and
 * an arrival a slot apart can swap order), and never the whole bucket (one request always fits).
 */
export function headroomOf(bucket: BucketLimits): number {
  if (bucket.capacity < 2) return 0;
  return Math.min(bucket.capacity - 1, Math.max(1, (bucket.drainPerSecond * MARGIN_MS) / 1000));
}

/** What a tick measured about its request, all durations in ms. */
export interface Lateness {
  /** From just before the pacer's check to just before the request left (worker clock). */
  workerMs: number;
  /** How much later than usual the portal began the request; 0 when unknown. */
  transitMs: number;
  /** Requests sent beyond the one the pacer counted (a batch sent again after a refresh). */
  extraRequests: number;
}

/**
 * How much to add to the bucket after an answer: the drain the portal missed beyond the margin,
 * at most one request (moving one request later can raise the level by no more than itself),
 * plus any request the pacer did not count.
 */
export function correctionOf(bucket: BucketLimits, late: Lateness): number {
  const margin = (headroomOf(bucket) * 1000) / bucket.drainPerSecond;
  const beyond = Math.max(0, late.workerMs + late.transitMs - margin);
  return Math.min(1, (beyond * bucket.drainPerSecond) / 1000) + late.extraRequests;
}

/** Beyond this, a change in the clocks' offset is a clock that was set, not a slow request. */
const CLOCK_STEP_MS = 60_000;
/** How fast the remembered lowest offset may rise: clocks drift, slowly. */
const DRIFT_PER_MS = 0.001;

/**
 * The lowest offset seen between a portal's `time.start` and our send time, per pacing scope:
 * what an undelayed request looks like, so that a sample above it is lateness. Kept by each
 * worker process (its clock is its own).
 */
export class TransitFloor {
  readonly #floors = new Map<string, { floor: number; at: number }>();

  /**
   * Record a sample and return how late the request was, in ms, never more than the whole round
   * trip (`roundTripMs`) nor less than 0.
   *
   * @param scope the pacing scope
   * @param portalStartMs the answer's `time.start`, ms on the portal's clock
   * @param sentAtMs when the request left, ms on this process's clock
   * @param roundTripMs from sending to the answer
   */
  lateness(scope: string, portalStartMs: number, sentAtMs: number, roundTripMs: number): number {
    const offset = portalStartMs - sentAtMs;
    const known = this.#floors.get(scope);
    let floor = offset;
    if (known) {
      const risen = known.floor + Math.max(0, sentAtMs - known.at) * DRIFT_PER_MS;
      floor = offset - risen > CLOCK_STEP_MS ? offset : Math.min(offset, risen);
    }
    this.#floors.set(scope, { floor, at: sentAtMs });
    return Math.min(Math.max(0, roundTripMs), Math.max(0, offset - floor));
  }
}

/**
 * How finely the operating ledger (`TAKE`/`LEARN` in `scripts.ts`) groups charges: a sixtieth of
 * the window, at most 10 s (as the library's pacer groups them: 10 s of ten minutes). A group is
 * dropped a slice after the window has passed its start, so a charge is held at most a slice
 * longer than the portal holds it; a fixed 10 s held a 10 s window's charges up to twice as long.
 */
export function ledgerSliceMs(windowMs: number): number {
  return Math.max(1, Math.min(10_000, Math.floor(windowMs / 60)));
}

/**
 * How long past the moment a batch's charge is stamped it stays in the ledger beyond the window,
 * when the portal's answer never came (a timeout, a cut connection): the request may still reach
 * the portal after we gave up on it, and be counted then (the library's `RESET_MARGIN_MS`).
 *
 * A batch the portal answered needs no margin. The portal counts each call when it runs, before
 * its answer leaves, and drops it at most a window later: a minute's sum leaves the window ten
 * minutes after the first call counted in it (`bitrix-tools/b24-rest-docs`
 * `settings/performance/limits.md`, as the emulator models it in `limits/operating.ts`), and the
 * docs' example answers show `operating_reset_at` as the start's whole second (truncated) plus
 * 600, so no later than the window after any of its calls. The ledger stamps the charge with Redis's clock after the answer came
 * back and drops it by that same clock, so the hold lasts at least the window in real time past
 * every call of the batch, however far the portal's clock is from Redis's. A margin there would
 * only add its length to every wait for the window (a second of 9 s at a 10 s window).
 */
export const LEDGER_MARGIN_MS = 1000;

/** The margin of {@link LEDGER_MARGIN_MS} for a batch: none once the portal has answered it. */
export function ledgerMarginMs(answered: boolean): number {
  return answered ? 0 : LEDGER_MARGIN_MS;
}
