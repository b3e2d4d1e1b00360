import { B24ApiError } from './api-error.js';

/**
 * The portal or its OAuth server refused the credentials: wrong webhook, expired or invalid
 * token, missing scope, spent refresh token. Never delivered; retrying unchanged cannot help
 * (b24notify already refreshed an expired token once where it could).
 */
export class B24AuthError extends B24ApiError {
  override name = 'B24AuthError';
}

/** True when `error` is a {@link B24AuthError} (also one from another copy of the package: by name). */
export function isB24AuthError(error: unknown): error is B24AuthError {
  return error instanceof B24AuthError || (error instanceof Error && error.name === 'B24AuthError');
}
