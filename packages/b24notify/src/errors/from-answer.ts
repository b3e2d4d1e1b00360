import { B24ApiError } from './api-error.js';
import { B24AuthError } from './auth-error.js';
import { errorCodeInfo } from './codes.js';
import { B24RateLimitError } from './rate-limit-error.js';
import { maskSecrets } from '../secrets.js';

/**
 * Turn an error answer into the error class its code belongs to. The server's words are masked
 * first: a portal or an OAuth server may quote the request it refused (the webhook URL, the
 * token, the form with the client secret), and the message, `toString`, the stack,
 * `util.inspect` and JSON all repeat them.
 */
export function errorFromAnswer(
  status: number,
  code: string,
  description: string,
  context: { method?: string; host?: string; retryAt?: number; secrets?: readonly string[] },
): B24ApiError {
  const secrets = context.secrets ?? [];
  const details = {
    code: maskSecrets(code, secrets),
    description: maskSecrets(description, secrets),
    status,
    ...(context.method ? { method: context.method } : {}),
    ...(context.host ? { host: context.host } : {}),
  };
  const kind = errorCodeInfo(details.code)?.kind;
  if (kind === 'rate-limit') {
    return new B24RateLimitError({ ...details, ...(context.retryAt ? { retryAt: context.retryAt } : {}) });
  }
  if (kind === 'auth') return new B24AuthError(details);
  return new B24ApiError(details);
}
