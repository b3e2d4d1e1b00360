import { B24Error, where } from './b24-error.js';

/**
 * No answer within the timeout. The request may have reached the portal and been applied, so
 * delivery is `unknown`: an untagged notification is not re-sent automatically.
 */
export class B24TimeoutError extends B24Error {
  override name = 'B24TimeoutError';
  /** The timeout that ran out, in milliseconds. */
  readonly timeout: number;

  constructor(timeout: number, options: { method?: string; host?: string; cause?: unknown }) {
    super(`No answer within ${timeout} ms${where(options.method, options.host)}`, {
      ...options,
      delivery: 'unknown',
    });
    this.timeout = timeout;
  }
}

/** True when `error` is a {@link B24TimeoutError} (also one from another copy of the package: by name). */
export function isB24TimeoutError(error: unknown): error is B24TimeoutError {
  return error instanceof B24TimeoutError || (error instanceof Error && error.name === 'B24TimeoutError');
}
