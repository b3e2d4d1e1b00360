/**
 * OAuth across processes: exactly one refresh at a time per portal, whatever the number of
 * workers. A Redis lock says who refreshes; the token generation fences the store, so a pair is
 * stored only over the one it was refreshed from, before any worker is told to use it.
 */
import { randomUUID } from 'node:crypto';
import { B24AuthError, B24NetworkError, DEFAULT_TOKEN_URL, nodeFetch, type OAuthTokens } from 'b24notify';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import type { Registry } from './portals.js';
import { run } from './scripts.js';
import type { OAuthPortal } from './types.js';

/** How long a refresh may hold the lock: the token request's own timeout, and some. */
const LOCK_MS = 45_000;
const REQUEST_MS = 30_000;
/** How often a worker waiting for another's refresh looks again. */
const POLL_MS = 50;

/**
 * The application credentials and the pair in use; `issuedAt` (ms, the worker's clock) when the
 * pair came from a refresh or `reauthorize`, so its lifetime is known.
 */
export type OAuthCreds = OAuthPortal['oauth'] & { issuedAt?: number };

/** A pair as a refresh returns it, with when it was received. */
export type IssuedTokens = OAuthTokens & { issuedAt: number };

/** The most a token is renewed before it expires: Bitrix24's hour-long tokens, a minute early. */
const RENEW_MARGIN_MS = 60_000;

/**
 * How long before its expiry an access token is renewed, rather than have a batch refused: a
 * minute, or a tenth of the token's lifetime when that is shorter — otherwise a token living less
 * than the margin would be renewed by every tick. A pair whose lifetime is unknown (supplied
 * with the config) gets the full minute; its first renewal makes the lifetime known.
 */
export function renewMarginMs(creds: { expiresAt?: number; issuedAt?: number }): number {
  const { expiresAt, issuedAt } = creds;
  if (!expiresAt || !issuedAt || expiresAt <= issuedAt) return RENEW_MARGIN_MS;
  return Math.min(RENEW_MARGIN_MS, (expiresAt - issuedAt) / 10);
}

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  expires?: unknown;
  expires_in?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** Renews tokens for the workers of one process, coordinated with every other through Redis. */
export class TokenKeeper {
  /** Pairs this process refreshed, by portal, with the generation they were stored as. */
  readonly #fresh = new Map<string, { gen: number; tokens: IssuedTokens }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly registry: Registry,
    private readonly fetchImpl: typeof fetch = nodeFetch,
    private readonly onTokens?: (portalId: string, tokens: OAuthTokens) => void | Promise<void>,
  ) {}

  /**
   * The newest pair: one this process stored (when no one stored another since), else the
   * registry's tokens slot, else the config's own.
   */
  async current(portalId: string, config: OAuthCreds): Promise<OAuthCreds> {
    const gen = await this.registry.generation(portalId);
    const mine = this.#fresh.get(portalId);
    if (mine && mine.gen === gen) return { ...config, ...mine.tokens };
    const stored = await this.registry.tokens(portalId);
    return stored ? { ...config, ...stored } : config;
  }

  /**
   * Renew the pair whose access token was `used`, or wait for the worker that renews it. Throws
   * a `B24AuthError` when the authorization server refuses (`invalid_grant`: the portal must be
   * re-authorised), a `B24NetworkError` when it cannot be reached (try later).
   */
  async refresh(portalId: string, config: OAuthCreds, used: string): Promise<OAuthCreds> {
    const deadline = Date.now() + LOCK_MS + REQUEST_MS;
    for (;;) {
      const gen = await this.registry.generation(portalId);
      const now = await this.current(portalId, config);
      // Someone renewed it since the caller read it: use theirs.
      if (now.accessToken !== used) return now;
      const lock = this.keys.refreshLock(portalId);
      const mine = randomUUID();
      if ((await this.redis.set(lock, mine, 'PX', LOCK_MS, 'NX')) === 'OK') {
        try {
          // Re-read under the lock: a refresh may have finished between our read and the lock.
          if ((await this.registry.generation(portalId)) !== gen) continue;
          const tokens = await this.#request(now);
          const stored = await run<number>(this.redis, 'b24qStoreTokens', [
            this.keys.tokens,
            this.keys.tokgen,
            lock,
            portalId,
            gen,
            this.registry.sealTokens(portalId, tokens),
            mine,
          ]);
          if (stored >= 0) {
            this.#fresh.set(portalId, { gen: stored, tokens });
            const { issuedAt: _issued, ...pair } = tokens;
            await this.onTokens?.(portalId, pair);
          }
          return { ...now, ...tokens };
        } finally {
          await run(this.redis, 'b24qUnlock', [lock, mine]);
        }
      }
      // Another worker refreshes: wait for its pair (the generation moves) or its lock to go.
      while ((await this.registry.generation(portalId)) === gen && (await this.redis.exists(lock)) === 1) {
        if (Date.now() > deadline) {
          throw new B24NetworkError(
            'Another worker has been refreshing this portal\u2019s token for too long',
            {
              method: 'oauth/token',
              delivery: 'not-delivered',
            },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  }

  async #request(creds: OAuthCreds): Promise<IssuedTokens> {
    const url = new URL(creds.tokenUrl ?? DEFAULT_TOKEN_URL);
    // POST with a form body keeps the secrets out of access logs.
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: creds.clientId,
      client_secret: creds.clientSecret,
      refresh_token: creds.refreshToken,
    });
    let res: Response;
    let answer: TokenAnswer;
    try {
      res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(REQUEST_MS),
      });
      answer = (await res.json()) as TokenAnswer;
    } catch {
      // The cause is not kept: it could quote the request, secrets included.
      throw new B24NetworkError('Could not reach the OAuth server to refresh the token', {
        method: 'oauth/token',
        host: url.host,
        delivery: 'not-delivered',
      });
    }
    if (typeof answer.error === 'string' || typeof answer.access_token !== 'string') {
      throw new B24AuthError({
        code: typeof answer.error === 'string' ? answer.error : 'invalid_grant',
        description: typeof answer.error_description === 'string' ? answer.error_description : '',
        status: res.ok ? 400 : res.status,
        method: 'oauth/token',
        host: url.host,
      });
    }
    const issuedAt = Date.now();
    return {
      issuedAt,
      accessToken: answer.access_token,
      refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : creds.refreshToken,
      expiresAt:
        typeof answer.expires === 'number'
          ? answer.expires * 1000
          : issuedAt + (typeof answer.expires_in === 'number' ? answer.expires_in : 3600) * 1000,
    };
  }
}
