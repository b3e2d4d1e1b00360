import { B24Error, where, type Delivery } from './b24-error.js';

/**
 * The request failed below HTTP: the connection was refused or reset, the name did not
 * resolve, TLS failed, or the answer was cut off or not JSON. `delivery` tells whether the
 * portal may have applied it: a refused connection certainly not, a reset mid-answer maybe.
 */
export class B24NetworkError extends B24Error {
  override name = 'B24NetworkError';
  /** The system error code when there is one (`ECONNREFUSED`, `ECONNRESET`, …). */
  readonly code: string | undefined;
  /** What to do about it, when the code says (check the port, trust the emulator's CA, …). */
  readonly hint: string | undefined;

  constructor(
    reason: string,
    options: {
      code?: string;
      method?: string;
      host?: string;
      delivery: Delivery;
      cause?: unknown;
      hint?: string;
    },
  ) {
    super(`${reason}${where(options.method, options.host)}`, options);
    this.code = options.code;
    this.hint = options.hint;
  }
}

/** True when `error` is a {@link B24NetworkError} (also one from another copy of the package: by name). */
export function isB24NetworkError(error: unknown): error is B24NetworkError {
  return error instanceof B24NetworkError || (error instanceof Error && error.name === 'B24NetworkError');
}
