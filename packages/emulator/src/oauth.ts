import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Portal } from './portal/portal.js';
import { secretEquals } from './portal/portal.js';
import { maskSecrets } from './portal/request-log.js';
import { parseBody, parseQuery, type Params } from './wire/body.js';
import { readBody, sendJson } from './wire/http.js';
import { RestError } from './errors.js';
import { str } from './methods/params.js';

/** An answer of the authorization server. Its errors have no documented statuses: 400 and 401 as OAuth 2 has them. */
class OAuthError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status: number,
  ) {
    super(description);
  }
}

/**
 * `grant_type=refresh_token`: a new token pair; the old refresh token is spent. The answer
 * names the auth server as `domain`, as the real one does, and the portal in the endpoints.
 */
function refresh(portal: Portal, params: Params, baseUrl: string): Record<string, unknown> {
  const grant = str(params.grant_type);
  if (!grant) throw new OAuthError('invalid_request', 'No "grant_type" parameter found', 400);
  if (grant !== 'refresh_token')
    throw new OAuthError('unsupported_grant_type', 'Unsupported grant type', 400);
  // All four parameters are required (research §10): a missing one is a malformed request,
  // not a wrong client, whichever it is.
  for (const name of ['client_id', 'client_secret', 'refresh_token'] as const) {
    if (!str(params[name])) throw new OAuthError('invalid_request', `No "${name}" parameter found`, 400);
  }
  const clientId = str(params.client_id) ?? '';
  const app = portal.app(clientId);
  if (!app || !secretEquals(app.clientSecret, str(params.client_secret) ?? '')) {
    throw new OAuthError('invalid_client', 'Invalid client', 401);
  }
  const refreshToken = str(params.refresh_token) ?? '';
  const old = portal.store.byRefreshToken(refreshToken);
  if (!old || old.clientId !== clientId || old.refreshSpent || old.refreshExpiresAt <= portal.clock.now()) {
    throw new OAuthError('invalid_grant', 'Invalid grant', 400);
  }
  portal.store.spendRefresh(old);
  const next = portal.issueTokens(clientId, old.userId, old.scope);
  return {
    access_token: next.accessToken,
    client_endpoint: `${baseUrl}/rest/`,
    domain: new URL(baseUrl).host,
    expires: Math.floor(next.accessExpiresAt / 1000),
    expires_in: portal.config.accessTokenTtl,
    member_id: portal.config.memberId,
    refresh_token: next.refreshToken,
    scope: next.scope.join(','),
    server_endpoint: `${baseUrl}/rest/`,
    status: 'L',
    user_id: next.userId,
  };
}

/** Handle `/oauth/token/`, GET or POST (form or JSON). */
export async function handleOAuth(
  portal: Portal,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  baseUrl: string,
): Promise<void> {
  const started = performance.now();
  const at = portal.clock.now();
  let params: Params = {};
  let status = 200;
  let answer: unknown;
  let bodyBytes = 0;
  try {
    const body = await readBody(req, portal.config.maxBodyBytes);
    bodyBytes = body.length;
    params = {
      ...(url.search.length > 1 ? parseQuery(url.search.slice(1)) : {}),
      ...(body.length > 0 ? parseBody(req.headers['content-type'], body) : {}),
    };
    answer = refresh(portal, params, baseUrl);
  } catch (err) {
    if (err instanceof OAuthError || err instanceof RestError) {
      status = err.status;
      answer = { error: err instanceof OAuthError ? err.code : err.code, error_description: err.description };
    } else {
      status = 500;
      answer = { error: 'server_error', error_description: 'Internal server error' };
    }
  }
  const sent = sendJson(res, status, answer);
  const entry = {
    id: portal.log.nextId(),
    at,
    httpMethod: req.method ?? 'GET',
    path: url.pathname,
    method: 'oauth.token',
    transport: 'none' as const,
    params: maskSecrets(params),
    status,
    response: maskSecrets(answer),
    ...(status !== 200 && answer && typeof answer === 'object' && 'error' in answer
      ? { error: String(answer.error) }
      : {}),
    durationMs: performance.now() - started,
    notificationIds: [],
  };
  const stored = portal.log.add(entry, {
    requestBytes: (req.url ?? '').length + bodyBytes,
    responseBytes: sent.length,
  });
  if (portal.listenerCount('request') > 0) portal.emit('request', portal.log.show(stored));
}
