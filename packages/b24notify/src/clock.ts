/**
 * Time as the client's pacing and retries see it. Real time by default; tests substitute a
 * clock that moves the emulator's time instead of waiting, so minutes of pacing run in
 * milliseconds against a portal that sees the same minutes pass.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolve after `ms`, or reject with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay one timer holds; Node fires a longer one after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      // A wait past the timer's range (a long rate-limit wait under a generous policy) is
      // taken in steps rather than cut to 1 ms.
      const wait = (left: number): void => {
        timer = setTimeout(
          () => {
            if (left > MAX_TIMER_MS) return wait(left - MAX_TIMER_MS);
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          Math.min(left, MAX_TIMER_MS),
        );
      };
      wait(ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
