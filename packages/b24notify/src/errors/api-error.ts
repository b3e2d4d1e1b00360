import { B24Error, where, type Delivery } from './b24-error.js';
import { errorCodeInfo } from './codes.js';

/** The details of an error answer. */
export interface ApiErrorDetails {
  code: string;
  description: string;
  status: number;
  method?: string;
  host?: string;
  delivery?: Delivery;
}

/**
 * The portal answered with an error (`{"error", "error_description"}`). Carries the code, the
 * portal's description and the HTTP status; `hint` says what to do when the code is known.
 */
export class B24ApiError extends B24Error {
  override name = 'B24ApiError';
  /** Bitrix24's error code, e.g. `USER_ID_EMPTY`. */
  readonly code: string;
  /** The portal's `error_description`. */
  readonly description: string;
  readonly status: number;
  /** What the caller can do, for documented codes. */
  readonly hint: string | undefined;
  /** Whether repeating the same call later may succeed. */
  readonly retryable: boolean;

  constructor(details: ApiErrorDetails) {
    const info = errorCodeInfo(details.code);
    const text = details.description || info?.description || 'no description';
    super(`${details.code}: ${text}${where(details.method, details.host)}`, {
      // An error answer means the portal decided; only server errors may have applied it. A
      // documented code says which it is (a legacy portal answers PORTAL_DELETED with 500, yet
      // nothing ran); an unknown one is judged by its status.
      delivery:
        details.delivery ?? ((info ? info.applied : details.status >= 500) ? 'unknown' : 'not-delivered'),
      ...(details.method ? { method: details.method } : {}),
      ...(details.host ? { host: details.host } : {}),
    });
    this.code = details.code;
    this.description = details.description;
    this.status = details.status;
    this.hint =
      info && (!info.hintFor || !details.description || info.hintFor.test(details.description))
        ? info.hint
        : undefined;
    this.retryable = info?.retryable ?? details.status >= 500;
  }
}

/** The names of B24ApiError and its subclasses, for errors from another copy of the package. */
const API_ERROR_NAMES = new Set(['B24ApiError', 'B24AuthError', 'B24RateLimitError']);

/** True when `error` is a {@link B24ApiError} (including auth and rate-limit errors). */
export function isB24ApiError(error: unknown): error is B24ApiError {
  return error instanceof B24ApiError || (error instanceof Error && API_ERROR_NAMES.has(error.name));
}
