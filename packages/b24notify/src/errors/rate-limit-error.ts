import { B24ApiError, type ApiErrorDetails } from './api-error.js';

/**
 * The portal refused the call for its limits: QUERY_LIMIT_EXCEEDED (503, too many requests),
 * OPERATION_TIME_LIMIT (429, this method's time budget is spent) or OVERLOAD_LIMIT. Never
 * delivered. Thrown once retries are exhausted; `retryAt` says when to try again, when known.
 */
export class B24RateLimitError extends B24ApiError {
  override name = 'B24RateLimitError';
  /** Milliseconds since the epoch when the limit should have lifted, when the portal said. */
  readonly retryAt: number | undefined;

  constructor(details: ApiErrorDetails & { retryAt?: number }) {
    super({ ...details, delivery: 'not-delivered' });
    this.retryAt = details.retryAt;
  }
}

/** True when `error` is a {@link B24RateLimitError} (also one from another copy of the package: by name). */
export function isB24RateLimitError(error: unknown): error is B24RateLimitError {
  return error instanceof B24RateLimitError || (error instanceof Error && error.name === 'B24RateLimitError');
}
