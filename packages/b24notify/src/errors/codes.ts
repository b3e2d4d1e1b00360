/** The kind of an error code: which error class it becomes and how a caller should react. */
export type ErrorKind = 'auth' | 'rate-limit' | 'api' | 'server';

/** What b24notify knows about one Bitrix24 error code. */
export interface ErrorCodeInfo {
  /** HTTP status(es) the portal answers it with (the current docs first, then older ones). */
  readonly status: readonly number[];
  readonly kind: ErrorKind;
  /** The portal's own description. */
  readonly description: string;
  /** What the caller can do about it. */
  readonly hint: string;
  /**
   * Whether the same call may succeed if repeated unchanged (after waiting). It says nothing
   * about duplicates: whether a retry is safe depends on {@link ErrorCodeInfo.applied}.
   */
  readonly retryable: boolean;
  /** Whether the portal may have applied the call before answering this (only server errors). */
  readonly applied: boolean;
  /**
   * The hint holds only for answers whose description matches this: a portal (and our
   * emulator) reuses some codes for other faults than the documented one.
   */
  readonly hintFor?: RegExp;
}

const code = (
  status: readonly number[],
  kind: ErrorKind,
  description: string,
  hint: string,
  retryable = false,
  applied = false,
): ErrorCodeInfo => ({ status, kind, description, hint, retryable, applied });

/**
 * Every documented error code of spec §3 (system errors, both editions of the docs) and §5
 * (the notification methods), plus the OAuth server's.
 */
export const ERROR_CODES = {
  // System errors (any method).
  INTERNAL_SERVER_ERROR: code(
    [500],
    'server',
    'Internal server error',
    'Retry later; a tagged notification can be re-sent safely.',
    true,
    true,
  ),
  ERROR_UNEXPECTED_ANSWER: code(
    [500],
    'server',
    'Server returned an unexpected response',
    'Retry later; a tagged notification can be re-sent safely.',
    true,
    true,
  ),
  QUERY_LIMIT_EXCEEDED: code(
    [503],
    'rate-limit',
    'Too many requests',
    'Slow down: the portal allows 2 requests/s with bursts of 50 (enterprise: 5/s, 250).',
    true,
  ),
  OPERATION_TIME_LIMIT: code(
    [429],
    'rate-limit',
    'Method is blocked due to operation time limit',
    'Pause this method until `operating_reset_at`; other methods still work.',
    true,
  ),
  OVERLOAD_LIMIT: code(
    [401, 503],
    'rate-limit',
    'REST API is blocked due to overload',
    'The portal blocked REST by hand; contact Bitrix24 support.',
  ),
  ERROR_BATCH_METHOD_NOT_ALLOWED: code(
    [405],
    'api',
    'Method is not allowed for batch usage',
    'Call this method on its own, not inside batch.',
  ),
  ERROR_BATCH_LENGTH_EXCEEDED: code(
    [400],
    'api',
    'Max batch length exceeded',
    'Send at most 50 commands per batch.',
  ),
  NO_AUTH_FOUND: code([401], 'auth', 'Wrong authorization data', 'Pass a webhook URL or an access token.'),
  // Documented only as "Https required"; the same code also comes back for a malformed request
  // (the emulator's missing Host or bad request target), where "use https" would mislead.
  INVALID_REQUEST: {
    ...code([401, 400], 'api', 'Https required', 'Call the portal over https://.'),
    hintFor: /https/i,
  },
  ACCESS_DENIED: code(
    [401, 403],
    'auth',
    'REST is available only on commercial plans',
    'The portal plan or the application lacks access.',
  ),
  INVALID_CREDENTIALS: code(
    [401, 403],
    'auth',
    'Invalid request credentials',
    'Check the webhook URL (user id and code) or the user’s rights.',
  ),
  ERROR_MANIFEST_IS_NOT_AVAILABLE: code(
    [404],
    'api',
    'Manifest is not available',
    'The manifest is not available on this portal.',
  ),
  insufficient_scope: code(
    [401, 403],
    'auth',
    'The request requires higher privileges than provided by the webhook token',
    'Grant the webhook or app the `im` scope.',
  ),
  expired_token: code(
    [401],
    'auth',
    'The access token provided has expired',
    'Refresh the token (b24notify does this itself with OAuth credentials).',
  ),
  invalid_token: code(
    [401],
    'auth',
    'The access token provided is invalid',
    'Check the access token; get a new one if it was revoked.',
  ),
  user_access_error: code(
    [401, 403],
    'auth',
    'The user does not have access to the application',
    'Give this user access to the application in the portal.',
  ),
  PORTAL_DELETED: code(
    [403, 500],
    'api',
    'Portal was deleted',
    'The portal is gone or its public part is closed.',
  ),
  ERROR_METHOD_NOT_FOUND: code(
    [404],
    'api',
    'Method not found',
    'Check the method name, and that the webhook or app has its scope.',
  ),
  // Notification methods (spec §5).
  WRONG_AUTH_TYPE: code(
    [403],
    'auth',
    'Access for this method not allowed by session authorization',
    'Call through a webhook or an application token.',
  ),
  USER_ID_EMPTY: code([400], 'api', "User ID can't be empty", 'Pass a positive user id.'),
  MESSAGE_EMPTY: code([400], 'api', "Message can't be empty", 'Pass a non-empty message.'),
  ATTACH_OVERSIZE: code(
    [400],
    'api',
    'You have exceeded the maximum allowable size of attach',
    'Keep the serialized ATTACH under 60,000 characters (30 KB on older portals).',
  ),
  ATTACH_ERROR: code(
    [400],
    'api',
    'Incorrect attach params',
    'Fix the ATTACH structure: one key per block, required LINK/NAME/DISPLAY.',
  ),
  PARAMS_ERROR: code(
    [400],
    'api',
    'Incorrect params',
    'Pass exactly one of id, tag or subTag (ids as a list for readList).',
  ),
  LAST_ID_AND_LAST_TYPE: code(
    [400],
    'api',
    'Parameters LAST_ID and LAST_TYPE should be used together.',
    'Pass lastId and lastType together.',
  ),
  LAST_ID_STRING: code([400], 'api', "Last notification ID can't be string", 'Pass lastId as a number.'),
  SEARCH_TEXT_ERROR: code(
    [400],
    'api',
    "SEARCH_TEXT can't be less then 3 symbols",
    'Search for at least 3 characters, or filter by type, author or date.',
  ),
  ID_ERROR: code([400], 'api', "Notification ID can't be empty", 'Pass the notification id.'),
  ANSWER_TEXT_ERROR: code([400], 'api', "ANSWER_TEXT can't be empty", 'Pass a non-empty answer text.'),
  NOTIFY_VALUE_ERROR: code(
    [400],
    'api',
    "Notification Value can't be empty",
    'Pass the value of the chosen button.',
  ),
  // The OAuth server.
  invalid_request: code(
    [400],
    'auth',
    'Invalid request',
    'The token request lacks a parameter: check the client id, secret and refresh token.',
  ),
  invalid_grant: code(
    [400],
    'auth',
    'Invalid grant',
    'The refresh token is spent or expired: authorize the application again.',
  ),
  invalid_client: code([400, 401], 'auth', 'Invalid client', 'Check the client id and secret.'),
  invalid_scope: code([400], 'auth', 'Invalid scope', 'Request no more scopes than the application has.'),
  PAYMENT_REQUIRED: code(
    [402, 400],
    'auth',
    'Payment required',
    'The application’s paid period is over, or it was removed from the portal.',
  ),
} as const satisfies Record<string, ErrorCodeInfo>;

/** A documented error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** What is known about `code`, or undefined for a code the docs do not list. */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
}
