import type { Clock } from './clock.js';
import type { TimeBlock } from './time.js';

/** The portal's intensity limit: the bucket drains `drainPerSecond`; at most `capacity` in it. */
export interface IntensityLimit {
  drainPerSecond: number;
  capacity: number;
}

/** Pacing presets mirroring the portal plans (spec §4). */
export const PLANS = {
  standard: { drainPerSecond: 2, capacity: 50 },
  enterprise: { drainPerSecond: 5, capacity: 250 },
} as const satisfies Record<string, IntensityLimit>;

/** How the client paces its calls. */
export interface PacingOptions {
  /** The portal's plan, or its numbers. @default 'standard' */
  plan?: keyof typeof PLANS | IntensityLimit;
  /**
   * Requests kept in hand below the portal's capacity, for other clients on the same address
   * and for timing differences between this process and the portal. @default 2
   */
  headroom?: number;
  /** The portal's operating-time budget per method, in seconds (spec §4: 480 in the docs' example). @default 480 */
  operatingBudget?: number;
  /**
   * Fraction of the budget at which calls of a method wait for the window to reset, so the
   * portal never blocks it. @default 0.9
   */
  operatingThreshold?: number;
}

/**
 * Client-side pacing for one portal: a leaky bucket mirroring the portal's, so a well-behaved
 * client never receives QUERY_LIMIT_EXCEEDED, and a per-method watch on `time.operating`, so
 * a method slows down before the portal blocks it rather than after. Belongs to a client
 * instance: each portal has its own limits.
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #drain: number;
  readonly #capacity: number;
  readonly #budget: number;
  readonly #threshold: number;
  #level = 0;
  #updated = 0;
  /** Calls granted a slot but not yet sent, in order: a FIFO so waiting calls keep their turn. */
  #queue: Promise<void> = Promise.resolve();
  readonly #operating = new Map<string, { operating: number; resetAt: number }>();

  constructor(options: PacingOptions, clock: Clock) {
    const plan = options.plan ?? 'standard';
    const limit = typeof plan === 'string' ? PLANS[plan] : plan;
    if (!(limit.drainPerSecond > 0) || !(limit.capacity >= 1)) {
      throw new RangeError('pacing.plan: drainPerSecond must be > 0 and capacity >= 1');
    }
    this.#clock = clock;
    this.#drain = limit.drainPerSecond;
    this.#capacity = Math.max(1, limit.capacity - (options.headroom ?? 2));
    this.#budget = options.operatingBudget ?? 480;
    this.#threshold = options.operatingThreshold ?? 0.9;
  }

  #levelNow(): number {
    const now = this.#clock.now();
    this.#level = Math.max(0, this.#level - ((now - this.#updated) / 1000) * this.#drain);
    this.#updated = now;
    return this.#level;
  }

  /** Wait for a slot in the bucket and for the method's operating window, then take the slot. */
  acquire(method: string, signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(async () => {
      for (;;) {
        const level = this.#levelNow();
        if (level + 1 <= this.#capacity) break;
        await this.#clock.sleep(((level + 1 - this.#capacity) / this.#drain) * 1000, signal);
      }
      this.#level += 1;
    });
    // A failed (aborted) turn must not block the calls queued behind it.
    this.#queue = turn.catch(() => undefined);
    return turn.then(() => this.#waitOperating(method, signal));
  }

  async #waitOperating(method: string, signal?: AbortSignal): Promise<void> {
    const seen = this.#operating.get(method);
    if (!seen || seen.operating < this.#budget * this.#threshold) return;
    const wait = seen.resetAt - this.#clock.now();
    if (wait > 0) await this.#clock.sleep(wait, signal);
    this.#operating.delete(method);
  }

  /** Learn from an answer's time block how much of the method's budget is spent. */
  observe(method: string, time: TimeBlock | undefined): void {
    if (!time || typeof time.operating !== 'number' || typeof time.operating_reset_at !== 'number') return;
    this.#operating.set(method, { operating: time.operating, resetAt: time.operating_reset_at * 1000 });
  }

  /** When the method's operating window last reported its reset, in ms; undefined if unknown. */
  resetAt(method: string): number | undefined {
    return this.#operating.get(method)?.resetAt;
  }

  /** The portal said the bucket is full: believe it, and let the bucket drain from full. */
  saturate(): void {
    this.#levelNow();
    this.#level = Math.max(this.#level, this.#capacity);
  }

  /** Milliseconds until one request drains out of a full bucket: the natural back-off for a 503. */
  get slotMs(): number {
    return 1000 / this.#drain;
  }
}
