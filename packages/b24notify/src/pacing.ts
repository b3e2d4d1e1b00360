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

/**
 * How the client paces its calls.
 *
 * Two limits are watched (spec §4). The intensity limit counts HTTP requests: a batch is one.
 * The operating-time limit counts each method's execution time, and inside a batch each
 * sub-call counts against its own method: so a batch waits until every method it holds has
 * room for all of its sub-calls of that method (at the cost the last answer reported per call),
 * counting the calls of that method already under way. A batch's answer reports what each
 * sub-call cost but not the portal's running sum, so the pacer keeps its own ledger of what
 * this client was charged in the ten-minute window and trusts the larger of that ledger and
 * the sum the portal last reported. A sub-call refused with `OPERATION_TIME_LIMIT` parks its
 * method until the window can have moved on.
 */
export interface PacingOptions {
  /** The portal's plan, or its numbers. @default 'standard' */
  plan?: keyof typeof PLANS | IntensityLimit;
  /**
   * Requests kept in hand below the portal's capacity, for other clients on the same address
   * and for timing differences between this process and the portal. @default 2
   */
  headroom?: number;
  /**
   * The portal's operating-time budget per method, in seconds (spec §4: 480 in the docs'
   * example). `Infinity` turns the operating watch off, e.g. for an on-premise portal without
   * the limit, where batch answers cannot tell that nothing is metered. @default 480
   */
  operatingBudget?: number;
  /**
   * Fraction of the budget a method may use, counting its calls still under way (a batch's
   * sub-calls included), before its next call or batch waits for old charges to leave the
   * window, so the portal never blocks it. @default 0.9
   */
  operatingThreshold?: number;
  /**
   * The portal's operating-time window in minutes: how long a charge counts against the
   * budget. Ten on a cloud portal (spec §4; bitrix-tools/b24-rest-docs `limits.md`); set it
   * for a portal configured otherwise, such as an emulator with a short window, or the pacer
   * holds charges for ten minutes where the portal has long dropped them. @default 10
   */
  operatingWindowMinutes?: number;
  /**
   * The same window in seconds, in place of `operatingWindowMinutes` (give one or the other):
   * for a portal whose window is not whole minutes, such as the emulator's
   * `limits.operating.windowSeconds` in tests and benchmarks. Real portals use 10 minutes.
   */
  operatingWindowSeconds?: number;
}

/**
 * Wait past a method's `operating_reset_at`: the portal reports it in whole seconds, and its
 * clock and ours are never quite the same.
 */
const RESET_MARGIN_MS = 1_000;

// Drained levels are floats; without a tolerance a slot exactly free could be missed by the last bit.
const EPSILON = 1e-9;

/** The portal's operating-time window unless told otherwise: ten one-minute buckets (spec §4). */
const DEFAULT_WINDOW_MINUTES = 10;

/**
 * How finely the ledger groups this client's charges, as a fraction of the window. The portal
 * drops a charge at most a window after it counted it (its bucket's first call may be earlier,
 * never later), and it counted it before the answer reached us: so a group dropped a window
 * after its *last* answer is never dropped before the portal drops it. Groups of a sixtieth of
 * the window (10 s of ten minutes, 1 s of one) hold a charge at most that much longer than the
 * portal does: with a fixed 10 s, a one-minute window would lose a sixth of its capacity.
 */
const LEDGER_SLICES_PER_WINDOW = 60;

/**
 * A request let through and not yet ended: it counts in full, as the portal may not have seen it
 * yet. It has no deadline of its own: the caller ends every request it was let through (the
 * client's call has a timeout), and a request may reach the portal any time before its end. A
 * slot that drained after a fixed real-time second let a loaded machine, whose requests took
 * longer than that to arrive, send more than the portal's bucket held and draw
 * QUERY_LIMIT_EXCEEDED.
 */
interface Slot {
  /** The method of a single call; undefined for a batch, which no single call's end may end. */
  method: string | undefined;
}

/** Operating seconds this client was charged for one method in a slice of the window. */
interface Charge {
  /** Our clock (ms) at the slice's first and last answer. */
  first: number;
  last: number;
  seconds: number;
}

/** What the pacer knows about one method's operating time. */
interface MethodWatch {
  /** Seconds of the budget the portal last reported spent; undefined until an answer says. */
  operating: number | undefined;
  /** The portal's `operating_reset_at` for that figure (unix seconds), to order answers. */
  portalResetAt: number;
  /** Our clock's time (ms) by which the oldest minute has surely dropped out. */
  resetAt: number;
  /** Seconds one call was charged, from the last answer's `processing`; undefined until one tells. */
  cost: number | undefined;
  /** False once an answer came without operating figures (on-premise, a proxy): nothing to watch. */
  metered: boolean;
  /** Calls of this method let through and not yet ended, a batch's sub-calls included. */
  inFlight: number;
  /** What this client was charged in the window, oldest first. */
  ledger: Charge[];
  /** Our clock (ms) before which the portal refused the method: nothing of it goes. */
  blockedUntil: number;
  /** Calls of this method wait for their turn one at a time, so only one sleeps on the clock. */
  queue: Promise<void>;
}

/** A sub-call of an answered batch: its method, and its time block when the answer has one. */
export type SubCallTime = readonly [method: string, time: TimeBlock | undefined];

/**
 * A batch let through by {@link Pacer.acquireBatch}: its slot in the bucket and its sub-calls'
 * reservations. Ended exactly once, by one of its methods; later calls are ignored, so an end
 * never ends another batch or call.
 */
export interface BatchTicket {
  /**
   * The batch was answered: charge each sub-call that ran to its method, at its time block's
   * `processing` (a sub-call without one, say one that failed, at the method's last known
   * cost), then end the batch. Sub-calls that never ran (after a `halt`, or refused) are left
   * out.
   */
  observe(subCalls: Iterable<SubCallTime>): void;
  /**
   * The batch failed without an answer. When it may have run anyway (a timeout or a reset
   * after sending), its sub-calls are charged at their methods' last known cost: the portal
   * counted them if it ran them.
   */
  settle(mayHaveRun?: boolean): void;
  /** The portal refused the batch with QUERY_LIMIT_EXCEEDED: the bucket is full; ends the batch. */
  saturate(): void;
}

/**
 * Client-side pacing for one portal: a leaky bucket mirroring the portal's, so a well-behaved
 * client never receives QUERY_LIMIT_EXCEEDED, and a per-method watch on operating time, so
 * a method slows down before the portal blocks it rather than after. Belongs to a client
 * instance: each portal has its own limits.
 *
 * A request counts in full from the moment it is let through until it ends (an answer through
 * {@link Pacer.observe}, a failure through {@link Pacer.settle}), and only then starts to drain:
 * the portal counts it on arrival, which may be any time before its answer, so this is the
 * count the portal cannot exceed however slow the network.
 *
 * A method's spent budget is the larger of the portal's last reported `operating` (until its
 * window moves on) and a ledger of the `processing` seconds this client was charged in the
 * window: single calls report the former, batches only the latter. Both count the same
 * charges, so they are compared, never added.
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #drain: number;
  readonly #capacity: number;
  readonly #budget: number;
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #sliceMs: number;
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
    const windowMinutes = options.operatingWindowMinutes ?? DEFAULT_WINDOW_MINUTES;
    if (!(windowMinutes > 0) || !Number.isFinite(windowMinutes)) {
      throw new RangeError(
        'pacing.operatingWindowMinutes: must be a positive number of minutes (10 on a cloud portal)',
      );
    }
    const windowSeconds = options.operatingWindowSeconds;
    if (windowSeconds !== undefined) {
      if (options.operatingWindowMinutes !== undefined) {
        throw new RangeError(
          'pacing.operatingWindowSeconds: give it or operatingWindowMinutes, not both (they set the same window)',
        );
      }
      if (!(windowSeconds > 0) || !Number.isFinite(windowSeconds)) {
        throw new RangeError(
          'pacing.operatingWindowSeconds: must be a positive number of seconds (600 on a cloud portal)',
        );
      }
    }
    this.#windowMs = windowSeconds !== undefined ? windowSeconds * 1000 : windowMinutes * 60_000;
    this.#sliceMs = this.#windowMs / LEDGER_SLICES_PER_WINDOW;
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
    const operating = watch.queue.then(() => this.#waitOperating(watch, 1, true, signal));
    watch.queue = operating.catch(() => undefined);
    return operating.then(() => {
      const slot = this.#queue.then(() => this.#waitSlot(method, signal));
      // A failed (aborted) turn must not block the calls queued behind it.
      this.#queue = slot.then(
        () => undefined,
        () => undefined,
      );
      return slot.then(
        () => undefined,
        (err: unknown) => {
          watch.inFlight -= 1;
          this.#notify();
          throw err;
        },
      );
    });
  }

  /**
   * Wait until every method of a batch has operating time for all of its sub-calls, reserve
   * them, then take one slot in the bucket: the batch is one request, but each sub-call
   * counts against its own method (spec §4). `counts` gives the sub-calls per method. The
   * methods are taken in name order, so two batches never each hold what the other waits for.
   *
   * @returns the batch's ticket, which the caller must end with its answer or its failure.
   */
  async acquireBatch(counts: ReadonlyMap<string, number>, signal?: AbortSignal): Promise<BatchTicket> {
    const wanted = new Map<string, number>();
    for (const [method, n] of counts) {
      if (!(n > 0)) continue;
      const key = method.toLowerCase();
      wanted.set(key, (wanted.get(key) ?? 0) + n);
    }
    const order = [...wanted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const held: [MethodWatch, number][] = [];
    const release = (): void => {
      for (const [watch, n] of held) watch.inFlight = Math.max(0, watch.inFlight - n);
      held.length = 0;
      this.#notify();
    };
    let slot: Slot;
    try {
      for (const [method, n] of order) {
        signal?.throwIfAborted();
        const watch = this.#watch(method);
        const turn = watch.queue.then(() => this.#waitOperating(watch, n, false, signal));
        watch.queue = turn.catch(() => undefined);
        await turn;
        held.push([watch, n]);
      }
      signal?.throwIfAborted();
      const taken = this.#queue.then(() => this.#waitSlot(undefined, signal));
      // As for single calls: a failed turn must not block the calls queued behind it.
      this.#queue = taken.then(
        () => undefined,
        () => undefined,
      );
      slot = await taken;
    } catch (err) {
      release();
      throw err;
    }

    let ended = false;
    const end = (full: boolean): void => {
      ended = true;
      const index = this.#inFlight.indexOf(slot);
      if (index >= 0) {
        this.#inFlight.splice(index, 1);
        this.#end(slot);
      }
      if (full) {
        this.#levelNow();
        this.#level = Math.max(this.#level, this.#capacity);
      }
      release();
    };
    return {
      observe: (subCalls) => {
        if (ended) return;
        const now = this.#clock.now();
        const costs = new Map<MethodWatch, number>();
        for (const [method, time] of subCalls) {
          const watch = this.#watch(method);
          if (time && typeof time.processing === 'number' && time.processing >= 0) {
            // The portal leaves the running sum out of a batch's time blocks; if one ever
            // carries it, it is as good as a single call's.
            if (hasFigures(time)) this.#learn(watch, time);
            this.#charge(watch, time.processing, now);
            // The dearest sub-call sets the cost: an estimate that errs towards waiting.
            costs.set(watch, Math.max(costs.get(watch) ?? 0, time.processing));
          } else {
            // A failed sub-call reports no time; the docs do not say it is free.
            this.#charge(watch, watch.cost ?? 0, now);
          }
        }
        for (const [watch, cost] of costs) watch.cost = cost;
        end(false);
      },
      settle: (mayHaveRun = false) => {
        if (ended) return;
        if (mayHaveRun) {
          const now = this.#clock.now();
          for (const [watch, n] of held) this.#charge(watch, n * (watch.cost ?? 0), now);
        }
        end(false);
      },
      saturate: () => {
        if (!ended) end(true);
      },
    };
  }

  /** Learn from an answer's time block how much of the method's budget is spent, and end its call. */
  observe(method: string, time: TimeBlock | undefined): void {
    const watch = this.#watch(method);
    if (hasFigures(time)) {
      this.#learn(watch, time);
      if (typeof time.processing === 'number') this.#charge(watch, time.processing, this.#clock.now());
    } else if (time) {
      watch.metered = false;
    }
    this.settle(method);
  }

  /**
   * The portal refused a call of `method` with OPERATION_TIME_LIMIT (in a batch, where no
   * `operating_reset_at` comes with it): its budget is spent, so nothing of the method goes
   * until the window can have moved on — the portal's reported reset when it is current, else
   * when the oldest charge in the ledger drops out, else a whole window from now.
   */
  exhaust(method: string): void {
    const watch = this.#watch(method);
    const now = this.#clock.now();
    watch.metered = true;
    this.#spentByLedger(watch, now);
    const oldest = watch.ledger[0];
    const until =
      watch.operating !== undefined && now < watch.resetAt
        ? watch.resetAt
        : oldest
          ? this.#chargeExpiry(oldest)
          : now + this.#windowMs + RESET_MARGIN_MS;
    watch.blockedUntil = Math.max(watch.blockedUntil, until);
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
    const watch = this.#methods.get(method.toLowerCase());
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
    // The portal resolves method names case-insensitively, and sums them so.
    const key = method.toLowerCase();
    let watch = this.#methods.get(key);
    if (!watch) {
      watch = {
        operating: undefined,
        portalResetAt: 0,
        resetAt: 0,
        cost: undefined,
        metered: true,
        inFlight: 0,
        ledger: [],
        blockedUntil: 0,
        queue: Promise.resolve(),
      };
      this.#methods.set(key, watch);
    }
    return watch;
  }

  /** Take the portal's figures from an answer's time block. */
  #learn(watch: MethodWatch, time: TimeBlock & { operating: number; operating_reset_at: number }): void {
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
  }

  /** Enter seconds the portal charged (or may have) into the method's ledger, as of `now`. */
  #charge(watch: MethodWatch, seconds: number, now: number): void {
    if (!(seconds > 0)) return;
    this.#spentByLedger(watch, now);
    const last = watch.ledger.at(-1);
    if (last && now >= last.first && now - last.first < this.#sliceMs) {
      last.seconds += seconds;
      last.last = Math.max(last.last, now);
    } else {
      watch.ledger.push({ first: now, last: now, seconds });
    }
  }

  /** The ledger's sum at `now`, after dropping the charges the portal has surely dropped. */
  #spentByLedger(watch: MethodWatch, now: number): number {
    if (watch.ledger.some((c) => this.#chargeExpiry(c) <= now)) {
      watch.ledger = watch.ledger.filter((c) => this.#chargeExpiry(c) > now);
    }
    let sum = 0;
    for (const c of watch.ledger) sum += c.seconds;
    return sum;
  }

  #levelNow(): number {
    const now = this.#clock.now();
    this.#level = Math.max(0, this.#level - ((now - this.#updated) / 1000) * this.#drain);
    this.#updated = now;
    return this.#level;
  }

  async #waitSlot(method: string | undefined, signal: AbortSignal | undefined): Promise<Slot> {
    for (;;) {
      const level = this.#levelNow();
      // Requests under way count in full: draining cannot make room they hold.
      const room = this.#capacity - this.#inFlight.length;
      if (level + 1 <= room + EPSILON) break;
      if (room >= 1) await this.#clock.sleep(((level + 1 - room) / this.#drain) * 1000, signal);
      else await this.#nextChange(signal);
    }
    const slot: Slot = { method };
    this.#inFlight.push(slot);
    return slot;
  }

  async #waitOperating(
    watch: MethodWatch,
    n: number,
    single: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (;;) {
      const step = this.#operatingStep(watch, n, single);
      if (step === 'go') break;
      if (step === 'wait') await this.#nextChange(signal);
      else await this.#clock.sleep(step, signal);
    }
    watch.inFlight += n;
  }

  /**
   * Whether `n` more calls of the method may go now, must wait for calls under way, or must
   * sleep (ms). `single`: one call whose answer will report the portal's sum.
   */
  #operatingStep(watch: MethodWatch, n: number, single: boolean): 'go' | 'wait' | number {
    if (!watch.metered) return 'go';
    const now = this.#clock.now();
    if (now < watch.blockedUntil) return watch.blockedUntil - now;
    const fresh = watch.operating !== undefined && now < watch.resetAt;
    const spent = Math.max(fresh ? (watch.operating ?? 0) : 0, this.#spentByLedger(watch, now));
    // Nothing known of what a call costs or, for a single call, of the portal's sum since the
    // window moved on: one at a time until an answer tells. A batch's answer would not tell
    // the sum, so batches go by the ledger once they know the cost.
    if ((watch.cost === undefined || (single && !fresh)) && watch.inFlight > 0) return 'wait';
    const limit = this.#budget * this.#threshold;
    // The portal checks the sum before each call; calls under way may be added to it first.
    const need = (watch.inFlight + n) * (watch.cost ?? 0);
    if (spent + need <= limit + EPSILON) return 'go';
    if (watch.inFlight > 0) return 'wait';
    // More than the whole allowance at once (a big batch of a slow method) goes alone into an
    // empty window, where the portal runs sub-calls while its sum is under budget: waiting
    // longer would not make it fit.
    if (spent <= EPSILON) return 'go';
    // At least a millisecond, so a float at the edge cannot spin.
    return Math.max(1, this.#freeAt(watch, limit - need, fresh, now) - now);
  }

  /**
   * When the method's spent budget falls to `allowance`: once the portal's figure has reset
   * (it is then unknown, so only the ledger counts) and enough of the oldest charges are gone.
   */
  #freeAt(watch: MethodWatch, allowance: number, fresh: boolean, now: number): number {
    let at = now;
    if (fresh && (watch.operating ?? 0) > allowance + EPSILON) at = watch.resetAt;
    let left = this.#spentByLedger(watch, now);
    for (const charge of watch.ledger) {
      if (left <= allowance + EPSILON) break;
      left -= charge.seconds;
      at = Math.max(at, this.#chargeExpiry(charge));
    }
    return at;
  }

  /** When the portal has surely dropped a ledger slice: a window after its last answer, plus the margin. */
  #chargeExpiry(charge: Charge): number {
    return charge.last + this.#windowMs + RESET_MARGIN_MS;
  }

  #end(slot: Slot): void {
    // The portal counted it at the latest now; from here it drains like the portal's.
    this.#levelNow();
    this.#level += 1;
    // A batch's reservations are its ticket's to end: its slot only leaves the bucket.
    const watch = slot.method === undefined ? undefined : this.#methods.get(slot.method.toLowerCase());
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

/** Whether a time block carries the portal's running sum (single calls on a cloud portal). */
function hasFigures(
  time: TimeBlock | undefined,
): time is TimeBlock & { operating: number; operating_reset_at: number } {
  return !!time && typeof time.operating === 'number' && typeof time.operating_reset_at === 'number';
}
