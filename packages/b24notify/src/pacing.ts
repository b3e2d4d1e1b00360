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
   * Fraction of the budget a method may use, counting its calls still under way, before its
   * next call waits for the window to reset, so the portal never blocks it. @default 0.9
   */
  operatingThreshold?: number;
}

/**
 * How long a request may stay unreported before the pacer assumes it has reached the portal
 * (which counts it on arrival) and lets it drain: a safety net for a caller that does not report
 * a failed call with {@link Pacer.settle}. A request reaches the portal well within a second;
 * a slow answer after that only delays what the pacer learns from it. Real milliseconds, not
 * the pacing clock's: a request travels in real time whatever clock paces the calls.
 */
const UNSETTLED_MS = 1_000;

/**
 * Wait past a method's `operating_reset_at`: the portal reports it in whole seconds, and its
 * clock and ours are never quite the same.
 */
const RESET_MARGIN_MS = 1_000;

// Drained levels are floats; without a tolerance a slot exactly free could be missed by the last bit.
const EPSILON = 1e-9;

/** A request let through and not yet ended: it counts in full, as the portal may not have seen it yet. */
interface Slot {
  method: string;
  timer: ReturnType<typeof setTimeout>;
}

/** What the pacer knows about one method's operating time. */
interface MethodWatch {
  /** Seconds of the budget the portal last reported spent; undefined until an answer says. */
  operating: number | undefined;
  /** The portal's `operating_reset_at` for that figure (unix seconds), to order answers. */
  portalResetAt: number;
  /** Our clock's time (ms) by which the oldest minute has surely dropped out. */
  resetAt: number;
  /** Seconds one call was charged, from the last answer's `processing`. */
  cost: number;
  /** False once an answer came without operating figures (on-premise, a proxy): nothing to watch. */
  metered: boolean;
  /** Calls of this method let through and not yet ended. */
  inFlight: number;
  /** Calls of this method wait for their turn one at a time, so only one sleeps on the clock. */
  queue: Promise<void>;
}

/**
 * Client-side pacing for one portal: a leaky bucket mirroring the portal's, so a well-behaved
 * client never receives QUERY_LIMIT_EXCEEDED, and a per-method watch on `time.operating`, so
 * a method slows down before the portal blocks it rather than after. Belongs to a client
 * instance: each portal has its own limits.
 *
 * A request counts in full from the moment it is let through until it ends (an answer through
 * {@link Pacer.observe}, a failure through {@link Pacer.settle}), and only then starts to drain:
 * the portal counts it on arrival, which may be any time before its answer, so this is the
 * count the portal cannot exceed however slow the network.
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #drain: number;
  readonly #capacity: number;
  readonly #budget: number;
  readonly #threshold: number;
  /** The bucket's level from ended requests, as of `#updated`. */
  #level = 0;
  #updated = 0;
  /** Requests under way, oldest first. */
  readonly #inFlight: Slot[] = [];
  /** Calls waiting for a slot, in order: a FIFO so waiting calls keep their turn. */
  #queue: Promise<void> = Promise.resolve();
  readonly #methods = new Map<string, MethodWatch>();
  /** Resolved, and replaced, whenever a request ends: what waits on requests under way waits on this. */
  #changed: { promise: Promise<void>; resolve: () => void } | undefined;

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

  /**
   * Wait until the method's operating time allows one more call, then for a slot in the
   * bucket, and take it. The caller must end it: {@link Pacer.observe} with the answer, or
   * {@link Pacer.settle} when the call failed.
   */
  acquire(method: string, signal?: AbortSignal): Promise<void> {
    const watch = this.#watch(method);
    // The operating wait comes first and holds no slot: a call parked for minutes must not
    // keep a slot it would spend long after the bucket had drained.
    const operating = watch.queue.then(() => this.#waitOperating(watch, signal));
    watch.queue = operating.catch(() => undefined);
    return operating.then(() => {
      const slot = this.#queue.then(() => this.#waitSlot(method, signal));
      // A failed (aborted) turn must not block the calls queued behind it.
      this.#queue = slot.catch(() => undefined);
      return slot.catch((err: unknown) => {
        watch.inFlight -= 1;
        this.#notify();
        throw err;
      });
    });
  }

  /** Learn from an answer's time block how much of the method's budget is spent, and end its call. */
  observe(method: string, time: TimeBlock | undefined): void {
    const watch = this.#watch(method);
    if (time && typeof time.operating === 'number' && typeof time.operating_reset_at === 'number') {
      watch.metered = true;
      if (typeof time.processing === 'number' && time.processing >= 0) watch.cost = time.processing;
      // Answers can arrive out of order; within one window the sum only grows.
      if (time.operating_reset_at > watch.portalResetAt || watch.operating === undefined) {
        watch.portalResetAt = time.operating_reset_at;
        watch.operating = time.operating;
        // Measured from the call's start on the portal's clock, so a skewed clock here does
        // not matter; the call's duration only makes the wait longer.
        const ahead =
          typeof time.start === 'number'
            ? time.operating_reset_at * 1000 - time.start * 1000
            : time.operating_reset_at * 1000 - this.#clock.now();
        watch.resetAt = this.#clock.now() + Math.max(0, ahead) + RESET_MARGIN_MS;
      } else if (time.operating_reset_at === watch.portalResetAt) {
        watch.operating = Math.max(watch.operating, time.operating);
      }
    } else if (time) {
      watch.metered = false;
    }
    this.settle(method);
  }

  /**
   * A call of `method` ended without an answer to learn from (an error, a timeout): its slot
   * starts to drain now. Ends the oldest call of the method still under way.
   */
  settle(method: string): void {
    const index = this.#inFlight.findIndex((s) => s.method === method);
    if (index < 0) return;
    const [slot] = this.#inFlight.splice(index, 1);
    if (slot) this.#end(slot);
  }

  /** When the method's operating window resets, in ms of the pacing clock; undefined if unknown. */
  resetAt(method: string): number | undefined {
    const watch = this.#methods.get(method);
    return watch?.operating === undefined ? undefined : watch.resetAt;
  }

  /**
   * The portal refused a call of `method` with QUERY_LIMIT_EXCEEDED: the bucket is full, so
   * believe it and let it drain from full. Ends that call (without `method`, the oldest call
   * under way), so do not also {@link Pacer.settle} it.
   */
  saturate(method?: string): void {
    const index = this.#inFlight.findIndex((s) => method === undefined || s.method === method);
    const [slot] = index < 0 ? [] : this.#inFlight.splice(index, 1);
    if (slot) this.#end(slot);
    this.#levelNow();
    this.#level = Math.max(this.#level, this.#capacity);
  }

  /** Milliseconds until one request drains out of a full bucket: the natural back-off for a 503. */
  get slotMs(): number {
    return 1000 / this.#drain;
  }

  #watch(method: string): MethodWatch {
    let watch = this.#methods.get(method);
    if (!watch) {
      watch = {
        operating: undefined,
        portalResetAt: 0,
        resetAt: 0,
        cost: 0,
        metered: true,
        inFlight: 0,
        queue: Promise.resolve(),
      };
      this.#methods.set(method, watch);
    }
    return watch;
  }

  #levelNow(): number {
    const now = this.#clock.now();
    this.#level = Math.max(0, this.#level - ((now - this.#updated) / 1000) * this.#drain);
    this.#updated = now;
    return this.#level;
  }

  async #waitSlot(method: string, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      const level = this.#levelNow();
      // Requests under way count in full: draining cannot make room they hold.
      const room = this.#capacity - this.#inFlight.length;
      if (level + 1 <= room + EPSILON) break;
      if (room >= 1) await this.#clock.sleep(((level + 1 - room) / this.#drain) * 1000, signal);
      else await this.#nextChange(signal);
    }
    const slot: Slot = { method, timer: setTimeout(() => this.#expire(slot), UNSETTLED_MS) };
    // The safety net must not keep a process alive that has nothing else to do.
    slot.timer.unref();
    this.#inFlight.push(slot);
  }

  async #waitOperating(watch: MethodWatch, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      const step = this.#operatingStep(watch);
      if (step === 'go') break;
      if (step === 'wait') await this.#nextChange(signal);
      else await this.#clock.sleep(step, signal);
    }
    watch.inFlight += 1;
  }

  /** Whether a call of the method may go now, must wait for calls under way, or must sleep (ms). */
  #operatingStep(watch: MethodWatch): 'go' | 'wait' | number {
    if (!watch.metered) return 'go';
    const now = this.#clock.now();
    if (watch.operating === undefined || now >= watch.resetAt) {
      // Nothing known, or the window moved on: one call at a time until an answer tells.
      return watch.inFlight === 0 ? 'go' : 'wait';
    }
    // The portal checks the sum before each call; calls under way may be added to it first.
    if (watch.operating + (watch.inFlight + 1) * watch.cost <= this.#budget * this.#threshold) return 'go';
    if (watch.inFlight > 0) return 'wait';
    return watch.resetAt - now;
  }

  #expire(slot: Slot): void {
    const index = this.#inFlight.indexOf(slot);
    if (index < 0) return;
    this.#inFlight.splice(index, 1);
    this.#end(slot);
  }

  #end(slot: Slot): void {
    clearTimeout(slot.timer);
    // The portal counted it at the latest now; from here it drains like the portal's.
    this.#levelNow();
    this.#level += 1;
    const watch = this.#methods.get(slot.method);
    if (watch && watch.inFlight > 0) watch.inFlight -= 1;
    this.#notify();
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = undefined;
    changed?.resolve();
  }

  /** Resolve when a request next ends; reject if the signal aborts first. */
  #nextChange(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (!this.#changed) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#changed = { promise, resolve };
    }
    const changed = this.#changed.promise;
    if (!signal) return changed;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      void changed.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
