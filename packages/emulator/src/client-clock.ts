import type { Portal } from './portal/portal.js';

/**
 * A clock for a b24notify client (its `clock` option) that shares the emulator's time. Sleeping
 * on it moves the portal's clock forward at once instead of waiting, so a test of pacing over
 * ten-minute operating windows runs in milliseconds while the portal sees the same minutes
 * pass, drains its bucket by them and expires its windows.
 */
export interface SharedClock {
  /** The portal's time, ms since the epoch. */
  now(): number;
  /** Advance the portal's clock by `ms` and resolve on the next turn of the event loop. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Milliseconds slept in all, to assert that the client waited. */
  readonly slept: number;
}

/**
 * The {@link SharedClock} of an emulator (or of its `portal`).
 *
 * @example
 * const emu = await startEmulator({ portal: { plan: 'standard' } });
 * const clock = clientClock(emu);
 * const b24 = createClient({ webhookUrl: emu.webhookUrl, clock });
 * // … many calls later: clock.slept says how long the client held back.
 */
export function clientClock(emulator: { portal: Portal } | Portal): SharedClock {
  const portal = 'portal' in emulator ? emulator.portal : emulator;
  let slept = 0;
  return {
    now: () => portal.clock.now(),
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      if (ms > 0) {
        slept += ms;
        portal.clock.advance(ms);
      }
      // Yield, so concurrent calls interleave as they would while really waiting.
      return new Promise((resolve) => setImmediate(resolve));
    },
    get slept() {
      return slept;
    },
  };
}
