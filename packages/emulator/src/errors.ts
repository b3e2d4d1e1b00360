/**
 * Bitrix24's error answers: `{"error": CODE, "error_description": TEXT}` with an HTTP status.
 * The table holds the system errors of spec §3; method errors are raised with their own
 * status (400 unless the docs say otherwise).
 */

/** A documented system error: its HTTP status and the portal's own description. */
export interface SystemErrorInfo {
  readonly status: number;
  readonly description: string;
  /** Where the older edition of the docs' table differs. */
  readonly legacy?: { readonly status: number; readonly description?: string };
}

/** Which edition of the docs' system error table a portal follows. */
export type ErrorTable = 'current' | 'legacy';

/**
 * Every system error a portal can answer for any method. The current edition of the docs moved
 * most auth and access errors to 401; the older one (the spec's §3) is kept as `legacy`.
 */
export const SYSTEM_ERRORS = {
  INTERNAL_SERVER_ERROR: { status: 500, description: 'Internal server error' },
  ERROR_UNEXPECTED_ANSWER: { status: 500, description: 'Server returned an unexpected response' },
  QUERY_LIMIT_EXCEEDED: { status: 503, description: 'Too many requests' },
  OPERATION_TIME_LIMIT: { status: 429, description: 'Method is blocked due to operation time limit' },
  ERROR_BATCH_METHOD_NOT_ALLOWED: { status: 405, description: 'Method is not allowed for batch usage' },
  ERROR_BATCH_LENGTH_EXCEEDED: { status: 400, description: 'Max batch length exceeded' },
  NO_AUTH_FOUND: { status: 401, description: 'Wrong authorization data' },
  INVALID_REQUEST: { status: 401, description: 'Https required', legacy: { status: 400 } },
  OVERLOAD_LIMIT: {
    status: 401,
    description: 'REST API is blocked due to overload',
    legacy: { status: 503 },
  },
  ACCESS_DENIED: {
    status: 401,
    description: 'REST is available only on commercial plans',
    legacy: { status: 403, description: 'REST API is available only on commercial plans' },
  },
  INVALID_CREDENTIALS: { status: 401, description: 'Invalid request credentials', legacy: { status: 403 } },
  ERROR_MANIFEST_IS_NOT_AVAILABLE: { status: 404, description: 'Manifest is not available' },
  insufficient_scope: {
    status: 401,
    description: 'The request requires higher privileges than provided by the webhook token',
    legacy: { status: 403 },
  },
  expired_token: { status: 401, description: 'The access token provided has expired' },
  invalid_token: { status: 401, description: 'The access token provided is invalid' },
  user_access_error: {
    status: 401,
    description: 'The user does not have access to the application',
    legacy: { status: 403 },
  },
  PORTAL_DELETED: { status: 403, description: 'Portal was deleted', legacy: { status: 500 } },
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
