import { B24ApiError } from './errors/api-error.js';
import { B24AuthError } from './errors/auth-error.js';
import type { B24Error } from './errors/b24-error.js';
import { B24NetworkError } from './errors/network-error.js';
import { B24RateLimitError } from './errors/rate-limit-error.js';
import { B24ValidationError } from './errors/validation-error.js';

/** System errors of a connection that failed before carrying the request, and may work next time. */
const TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Retry policy: data, so a caller can read it, change a number, or replace the decision. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 4 */
  limit: number;
  /** First back-off in milliseconds; doubles each retry. @default 500 */
  delay: number;
  /** Longest single back-off in milliseconds. @default 30000 */
  maxDelay: number;
  /**
   * Longest wait for a rate limit to lift (OPERATION_TIME_LIMIT until `operating_reset_at`)
   * before giving up with the error. @default 660000 (the ten-minute operating window, plus
   * a minute for the difference between the portal's clock and ours)
   */
  maxLimitWait: number;
  /** Randomize back-offs (full jitter) so many clients do not retry in step. @default true */
  jitter: boolean;
  /**
   * Last word on a retry: return true or false to decide, undefined to keep b24notify's
   * decision. Called only for errors b24notify would consider; `safe` says whether a retry
   * cannot duplicate the call.
   */
  shouldRetry?: (error: B24Error, attempt: number, safe: boolean) => boolean | undefined;
}

/** The default retry policy. */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  limit: 4,
  delay: 500,
  maxDelay: 30_000,
  maxLimitWait: 660_000,
  jitter: true,
});

/** What the decision needs to know about the call besides the error. */
export interface RetryContext {
  /** 1 for the first retry. */
  attempt: number;
  /** Whether repeating the call cannot duplicate its effect (a tagged send, a read, a delete). */
  idempotent: boolean;
  now: number;
  /** The pacer's time for one request to drain, the natural wait after a 503. */
  slotMs: number;
  /** A source of uniform numbers in [0, 1), for jitter (tests pass a fixed one). */
  random: () => number;
}

function backoff(policy: RetryPolicy, ctx: RetryContext, floor = 0): number {
  const exp = Math.min(policy.maxDelay, policy.delay * 2 ** (ctx.attempt - 1));
  if (!policy.jitter) return Math.max(floor, exp);
  // Full jitter, but never sooner than the limit demands, nor (the floor aside) longer than maxDelay.
  return Math.min(Math.max(policy.maxDelay, floor), floor + ctx.random() * Math.max(exp, floor * 0.5));
}

/**
 * Decide whether to retry a failed call, and after how long. Checks, in order:
 * 1. the retry limit;
 * 2. bad input and refused credentials never retry (a refresh is handled before this);
 * 3. rate limits retry after the wait the limit demands — they were not applied — except
 *    OVERLOAD_LIMIT, a block set by hand that no wait lifts;
 * 4. failures that certainly did not reach the portal retry when the connection may come up
 *    again (refused, DNS, unreachable), not for redirects, HTML pages or bad certificates;
 * 5. failures that may have been applied (timeout, reset, 500) retry only when the call is
 *    idempotent — an untagged notification is never sent twice;
 * 6. other error answers (the portal decided) do not retry.
 * The policy's `shouldRetry` may overrule steps 3–6.
 * Returns the delay in milliseconds, or undefined to give up.
 */
export function retryDelay(error: B24Error, policy: RetryPolicy, ctx: RetryContext): number | undefined {
  if (ctx.attempt > policy.limit) return undefined;
  if (error instanceof B24ValidationError || error instanceof B24AuthError) return undefined;

  let delay: number | undefined;
  let safe: boolean;
  if (error instanceof B24RateLimitError) {
    safe = true;
    if (error.code === 'OVERLOAD_LIMIT') delay = undefined;
    else if (error.code === 'OPERATION_TIME_LIMIT') {
      const wait = (error.retryAt ?? ctx.now + 60_000) - ctx.now;
      delay =
        wait <= policy.maxLimitWait
          ? Math.max(0, wait) + (policy.jitter ? ctx.random() * 1000 : 0)
          : undefined;
    } else delay = backoff(policy, ctx, ctx.slotMs);
  } else if (error.delivery === 'not-delivered' && !(error instanceof B24ApiError)) {
    safe = true;
    // Only a connection that may come up again is worth waiting for: a redirect, an HTML
    // error page or a bad certificate will be the same on the next try.
    delay =
      error instanceof B24NetworkError && error.code && TRANSIENT.has(error.code)
        ? backoff(policy, ctx)
        : undefined;
  } else if (error.delivery === 'unknown') {
    safe = ctx.idempotent;
    delay = safe ? backoff(policy, ctx) : undefined;
  } else {
    safe = true;
    delay = undefined;
  }
  const verdict = policy.shouldRetry?.(error, ctx.attempt, safe);
  if (verdict === false) return undefined;
  if (verdict === true) return delay ?? backoff(policy, ctx);
  return delay;
}
