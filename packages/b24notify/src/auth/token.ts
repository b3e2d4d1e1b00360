import { B24ValidationError } from '../errors/validation-error.js';
import { portalBase } from './endpoint.js';
import type { Auth } from './types.js';

/**
 * Calls with a fixed access token (OPI's form: a portal domain plus a token), sent as `auth`
 * in the JSON body. It cannot refresh: an expired token surfaces as an auth error.
 */
export function tokenAuth(portal: string, accessToken: string, allowHttp: boolean): Auth {
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new B24ValidationError('accessToken', 'expected a non-empty access token');
  }
  const base = portalBase(portal, 'portal', allowHttp);
  return {
    host: base.host,
    url: (method) => `${base.href}${method}`,
    credentials: () => Promise.resolve({ body: { auth: accessToken }, used: accessToken }),
    secrets: () => [accessToken],
    refresh: () => Promise.resolve(false),
  };
}
