/**
 * Bitrix24's error answers: `{"error": CODE, "error_description": TEXT}` with an HTTP status.
 * The table holds the system errors of spec §3; method errors are raised with their own
 * status (400 unless the docs say otherwise).
 */

/** A documented system error: its HTTP status and the portal's own description. */
export interface SystemErrorInfo {
  readonly status: number;
  readonly description: string;
  /** Where the `legacy` reading differs. */
  readonly legacy?: { readonly status: number; readonly description?: string };
}

/**
 * Which reading of the docs a portal follows for the one case they disagree on, a wrong
 * webhook: `current` answers 401 `INVALID_CREDENTIALS`, as the method pages and live portals
 * do; `legacy` answers 401 `NO_AUTH_FOUND`, as the system table alone says. Both answer every
 * other system error with the table's status.
 */
export type ErrorTable = 'current' | 'legacy';

/**
 * Every system error a portal can answer for any method, with the status and text of the
 * system table, the same in both repositories and in its whole history
 * (`_includes/system-errors.md` in `bitrix-tools/b24-rest-docs` and `bitrix24/b24restdocs`).
 * `ERROR_METHOD_NOT_FOUND` is not in the table: its 404 is from `api-reference/rest-v3.md`, its
 * text from live portals (`bitrix24/b24pysdk` PR #3 quotes "Method not found!").
 */
export const SYSTEM_ERRORS = {
  INTERNAL_SERVER_ERROR: { status: 500, description: 'Internal server error' },
  ERROR_UNEXPECTED_ANSWER: { status: 500, description: 'Server returned an unexpected response' },
  QUERY_LIMIT_EXCEEDED: { status: 503, description: 'Too many requests' },
  OPERATION_TIME_LIMIT: { status: 429, description: 'Method is blocked due to operation time limit' },
  ERROR_BATCH_METHOD_NOT_ALLOWED: { status: 405, description: 'Method is not allowed for batch usage' },
  ERROR_BATCH_LENGTH_EXCEEDED: { status: 400, description: 'Max batch length exceeded' },
  NO_AUTH_FOUND: { status: 401, description: 'Wrong authorization data' },
  INVALID_REQUEST: { status: 400, description: 'Https required' },
  OVERLOAD_LIMIT: { status: 503, description: 'REST API is blocked due to overload' },
  ACCESS_DENIED: { status: 403, description: 'REST API is available only on commercial plans' },
  INVALID_CREDENTIALS: { status: 403, description: 'Invalid request credentials' },
  ERROR_MANIFEST_IS_NOT_AVAILABLE: { status: 404, description: 'Manifest is not available' },
  insufficient_scope: {
    status: 403,
    description: 'The request requires higher privileges than provided by the webhook token',
  },
  expired_token: { status: 401, description: 'The access token provided has expired' },
  user_access_error: { status: 403, description: 'The user does not have access to the application' },
  PORTAL_DELETED: { status: 500, description: 'Portal was deleted' },
  ERROR_METHOD_NOT_FOUND: {
    status: 404,
    description: 'Method not found!',
    legacy: { status: 404, description: 'Method not found' },
  },
} as const satisfies Record<string, SystemErrorInfo>;

/** The code of a documented system error. */
export type SystemErrorCode = keyof typeof SYSTEM_ERRORS;

/** True when `code` names a documented system error. */
export function isSystemErrorCode(code: string): code is SystemErrorCode {
  return Object.hasOwn(SYSTEM_ERRORS, code);
}

/**
 * An error answer a handler raises; the server turns it into the JSON error body.
 * Thrown rather than returned so that a method handler reads top to bottom like the
 * portal's PHP does: check, throw, go on.
 */
export class RestError extends Error {
  override name = 'RestError';

  constructor(
    /** Bitrix24's error code, e.g. `USER_ID_EMPTY`. */
    readonly code: string,
    /** Bitrix24's `error_description`. */
    readonly description: string,
    /** HTTP status of the answer. */
    readonly status = 400,
  ) {
    super(`${code}: ${description}`);
  }

  /** A system error with its documented status and text, from the chosen edition of the table. */
  static system(code: SystemErrorCode, table: ErrorTable = 'current', description?: string): RestError {
    const info: SystemErrorInfo = SYSTEM_ERRORS[code];
    const legacy = table === 'legacy' ? info.legacy : undefined;
    return new RestError(
      code,
      description ?? legacy?.description ?? info.description,
      legacy?.status ?? info.status,
    );
  }
}
