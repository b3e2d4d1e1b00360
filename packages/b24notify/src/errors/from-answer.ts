import { B24ApiError } from './api-error.js';
import { B24AuthError } from './auth-error.js';
import { errorCodeInfo } from './codes.js';
import { B24RateLimitError } from './rate-limit-error.js';

/** Turn an error answer into the error class its code belongs to. */
export function errorFromAnswer(
  status: number,
  code: string,
  description: string,
  context: { method?: string; host?: string; retryAt?: number },
): B24ApiError {
  const details = {
    code,
    description,
    status,
    ...(context.method ? { method: context.method } : {}),
    ...(context.host ? { host: context.host } : {}),
  };
  const kind = errorCodeInfo(code)?.kind;
  if (kind === 'rate-limit') {
    return new B24RateLimitError({ ...details, ...(context.retryAt ? { retryAt: context.retryAt } : {}) });
  }
  if (kind === 'auth') return new B24AuthError(details);
  return new B24ApiError(details);
}
