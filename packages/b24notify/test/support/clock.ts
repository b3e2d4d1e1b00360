import type { Clock } from '../../src/clock.js';

/** A clock that moves only when slept on: for the pacer alone, with no portal to share time with. */
export function manualClock(): Clock & { at: number } {
  const clock = {
    at: 1_000_000,
    now: () => clock.at,
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      clock.at += Math.max(0, ms);
      return new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
  return clock;
}
