import { B24AuthError } from '../errors/auth-error.js';
import { errorFromAnswer } from '../errors/from-answer.js';
import { B24NetworkError } from '../errors/network-error.js';
import { B24ValidationError } from '../errors/validation-error.js';
import { explainNetworkCode } from '../errors/network-reasons.js';
import { scrubSecrets, systemCode } from '../transport.js';
import { checkScheme, isLoopback, portalBase } from './endpoint.js';
import type { Auth, OAuthTokens } from './types.js';

/** The current Bitrix24 authorization server (older: oauth.bitrix.info). */
export const DEFAULT_TOKEN_URL = 'https://oauth.bitrix24.tech/oauth/token/';

const REFRESH_TIMEOUT_MS = 30_000;

/** `promise`, or the signal's reason if it aborts first. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** OAuth credentials of an application, and where to persist renewed tokens. */
export interface OAuthOptions {
  clientId: string;
  clientSecret: string;
  accessToken: string;
  refreshToken: string;
  /**
   * The authorization server's token endpoint. Default: Bitrix24's,
   * `https://oauth.bitrix24.tech/oauth/token/`. Set it for the b24notify emulator
   * (`http://127.0.0.1:24024/oauth/token/`, its banner's "Token endpoint"): a portal on this
   * machine without it is refused, rather than sending its refresh token to the internet.
   */
  tokenUrl?: string;
  /**
   * Called with every renewed token pair, before the call that needed it is retried. Persist
   * them here: the old refresh token is spent once renewed.
   */
  onTokens?: (tokens: OAuthTokens) => void | Promise<void>;
}

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  expires?: unknown;
  expires_in?: unknown;
  client_endpoint?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/**
 * Calls with an application's access token, renewed with its refresh token when the portal
 * answers `expired_token`. However many calls fail at once, one refresh is in flight: the
 * others wait for it and retry with the new token.
 */
export function oauthAuth(
  portal: string,
  options: OAuthOptions,
  allowHttp: boolean,
  fetchImpl: typeof fetch,
): Auth {
  for (const key of ['clientId', 'clientSecret', 'accessToken', 'refreshToken'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') {
      throw new B24ValidationError(`oauth.${key}`, 'expected a non-empty string');
    }
  }
  let base = portalBase(portal, 'portal', allowHttp);
  if (options.tokenUrl === undefined && isLoopback(base.hostname)) {
    // A portal on this machine is the emulator (or a tunnel to a test portal): its tokens mean
    // nothing to Bitrix24's server, and a refresh would send the client secret and the refresh
    // token over the internet for nothing.
    throw new B24ValidationError(
      'oauth.tokenUrl',
      `the portal ${base.host} is on this machine, but no token URL is set, so a refresh would go to ` +
        `Bitrix24's own OAuth server (${DEFAULT_TOKEN_URL}): pass oauth.tokenUrl, for the b24notify ` +
        `emulator "${base.origin}/oauth/token/" (its banner prints it as "Token endpoint")`,
    );
  }
  let tokenUrl: URL;
  try {
    tokenUrl = new URL(options.tokenUrl ?? DEFAULT_TOKEN_URL);
  } catch {
    throw new B24ValidationError(
      'oauth.tokenUrl',
      'expected a URL like https://oauth.bitrix24.tech/oauth/token/',
    );
  }
  checkScheme(tokenUrl, 'oauth.tokenUrl', allowHttp);
  let access = options.accessToken;
  let refreshToken = options.refreshToken;
  let inFlight: Promise<boolean> | undefined;
  // The authorization server's last refusal and the refresh token it refused.
  let refusal: { refreshToken: string; error: unknown } | undefined;

  async function renew(): Promise<boolean> {
    // POST with a form body keeps the secret out of access logs, as current SDKs do.
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: options.clientId,
      client_secret: options.clientSecret,
      refresh_token: refreshToken,
    });
    let res: Response;
    try {
      res = await fetchImpl(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        // Shared by every waiting call, so no one caller's signal may cancel it.
        signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = scrubSecrets(err, [access, refreshToken, options.clientSecret]);
      const code = systemCode(cause);
      const explained = code ? explainNetworkCode(code, tokenUrl, 'the OAuth server') : undefined;
      throw new B24NetworkError(
        `Could not reach the OAuth server to refresh the token${explained ? `: ${explained.reason}` : code ? ` (${code})` : ''}`,
        {
          method: 'oauth/token',
          host: tokenUrl.host,
          delivery: 'not-delivered',
          cause,
          ...(code ? { code } : {}),
          ...(explained ? { hint: `${explained.hint} The token URL is oauth.tokenUrl.` } : {}),
        },
      );
    }
    let answer: TokenAnswer;
    try {
      answer = (await res.json()) as TokenAnswer;
    } catch (err) {
      throw new B24NetworkError(`The OAuth server answered ${res.status} with no JSON`, {
        method: 'oauth/token',
        host: tokenUrl.host,
        delivery: 'not-delivered',
        cause: scrubSecrets(err, [access, refreshToken, options.clientSecret]),
      });
    }
    if (typeof answer.error === 'string' || typeof answer.access_token !== 'string') {
      throw errorFromAnswer(
        res.ok ? 400 : res.status,
        typeof answer.error === 'string' ? answer.error : 'invalid_grant',
        typeof answer.error_description === 'string' ? answer.error_description : '',
        { method: 'oauth/token', host: tokenUrl.host, secrets: [access, refreshToken, options.clientSecret] },
      );
    }
    access = answer.access_token;
    if (typeof answer.refresh_token === 'string') refreshToken = answer.refresh_token;
    const expiresAt =
      typeof answer.expires === 'number'
        ? answer.expires * 1000
        : Date.now() + (typeof answer.expires_in === 'number' ? answer.expires_in : 3600) * 1000;
    const tokens: OAuthTokens = { accessToken: access, refreshToken, expiresAt };
    if (typeof answer.client_endpoint === 'string') {
      tokens.clientEndpoint = answer.client_endpoint;
      // The answer names the portal's REST base; follow it if the portal moved.
      try {
        const endpoint = new URL(answer.client_endpoint);
        checkScheme(endpoint, 'client_endpoint', allowHttp);
        // Method names are appended to the base, so it must end in a slash.
        if (!endpoint.pathname.endsWith('/')) endpoint.pathname += '/';
        endpoint.search = '';
        endpoint.hash = '';
        base = endpoint;
      } catch {
        // An endpoint we cannot use is ignored: the configured portal still answers.
      }
    }
    await options.onTokens?.(tokens);
    return true;
  }

  return {
    get host() {
      return base.host;
    },
    url: (method) => `${base.href}${method}`,
    credentials: () => Promise.resolve({ body: { auth: access }, used: access }),
    secrets: () => [access, refreshToken, options.clientSecret],
    refresh(used, signal) {
      // Someone already renewed the token this call used: just retry with the new one.
      if (used !== access) return Promise.resolve(true);
      // A refused refresh token stays refused: calls whose 401 arrives after the refusal get it
      // too, instead of each asking the server again (50 calls, 50 doomed requests).
      if (refusal?.refreshToken === refreshToken) return Promise.reject(refusal.error as Error);
      inFlight ??= renew()
        .catch((err: unknown) => {
          if (err instanceof B24AuthError) refusal = { refreshToken, error: err };
          throw err;
        })
        .finally(() => {
          inFlight = undefined;
        });
      return raceAbort(inFlight, signal);
    },
  };
}
