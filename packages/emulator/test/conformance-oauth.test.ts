/**
 * Conformance, spec §2 and research §10: the authorization server's `/oauth/token/` with
 * `grant_type=refresh_token`, by GET query string and by POST form, and what the portal
 * does with old and new tokens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

type Grant = Record<string, string>;

const ANSWER_FIELDS = [
  'access_token',
  'client_endpoint',
  'domain',
  'expires',
  'expires_in',
  'member_id',
  'refresh_token',
  'scope',
  'server_endpoint',
  'status',
  'user_id',
];

function expectOAuthError(answer: Answer, status: number, error: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json\b/);
  expect(Object.keys(answer.body).sort()).toEqual(['error', 'error_description']);
  expect(answer.body.error).toBe(error);
  expect(typeof answer.body.error_description).toBe('string');
  expect(answer.body.error_description).not.toBe('');
}

describe.each(TRANSPORTS)('OAuth token refresh over %s', (transport) => {
  let t: TestPortal;
  afterEach(async () => {
    await t.close();
  });

  const grant = (over: Grant = {}): Grant => ({
    grant_type: 'refresh_token',
    client_id: t.emu.tokens.clientId,
    client_secret: t.emu.tokens.clientSecret,
    refresh_token: t.emu.tokens.refreshToken,
    ...over,
  });
  const viaGet = (params: Grant): Promise<Answer> =>
    t.request(`/oauth/token/?${new URLSearchParams(params).toString()}`);
  const viaPost = (params: Grant): Promise<Answer> =>
    t.request('/oauth/token/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
  const VERBS = { 'GET query': viaGet, 'POST form': viaPost } as const;

  describe.each(Object.keys(VERBS) as (keyof typeof VERBS)[])('by %s', (verb) => {
    const send = (params: Grant): Promise<Answer> => VERBS[verb](params);

    it('answers a new pair with every documented field', async () => {
      t = await startTestPortal(transport);
      const before = (await t.control('GET', '/clock')).body.now as number;
      const a = await send(grant());
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toMatch(/^application\/json\b/);
      expect(Object.keys(a.body).sort()).toEqual(ANSWER_FIELDS);
      const b = a.body;
      expect(b.access_token).toMatch(/^[0-9a-f]{32,}$/);
      expect(b.refresh_token).toMatch(/^[0-9a-f]{32,}$/);
      expect(b.access_token).not.toBe(t.emu.tokens.accessToken);
      expect(b.refresh_token).not.toBe(t.emu.tokens.refreshToken);
      expect(b.access_token).not.toBe(b.refresh_token);
      expect(b.expires_in).toBe(3600);
      expect(Number.isInteger(b.expires)).toBe(true);
      expect(b.expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 3600);
      expect(b.expires).toBeLessThanOrEqual(Math.floor(before / 1000) + 3602);
      expect(b.client_endpoint).toBe(`${t.emu.url}/rest/`);
      // The authorization server, not the portal (settings/oauth/index.md).
      expect(b.server_endpoint).toBe('https://oauth.bitrix24.tech/rest/');
      expect(b.domain).toBe('oauth.bitrix24.tech');
      expect(b.member_id).toBe(t.emu.portal.config.memberId);
      expect(b.member_id).toMatch(/^[0-9a-f]{32}$/);
      expect(b.scope).toBe('im,user,profile');
      // L, a local application: both repositories' simple-way.md list it (their other codes differ).
      expect(b.status).toBe('L');
      expect(b.user_id).toBe(1);
    });

    it('names the authorization server set through PUT /portal; a value that is not a host is refused', async () => {
      t = await startTestPortal(transport);
      const set = await t.control('PUT', '/portal', { authServer: 'oauth.bitrix.info' });
      expect(set.status).toBe(200);
      expect(set.body.authServer).toBe('oauth.bitrix.info');
      const a = await send(grant());
      expect(a.status).toBe(200);
      expect(a.body.domain).toBe('oauth.bitrix.info');
      expect(a.body.server_endpoint).toBe('https://oauth.bitrix.info/rest/');
      for (const bad of ['', 'https://oauth.bitrix.info', 'oauth.bitrix.info/rest', 'a b', 5]) {
        const refused = await t.control('PUT', '/portal', { authServer: bad });
        expect(refused.status).toBe(400);
        expect(refused.body.error_description).toMatch(/^authServer: expected a/);
      }
      expect((await t.control('GET', '/portal')).body.authServer).toBe('oauth.bitrix.info');
    });

    it('the new access token works; the spent refresh token is invalid_grant', async () => {
      t = await startTestPortal(transport);
      const first = await send(grant());
      expect(first.status).toBe(200);
      const token = first.body.access_token as string;
      const sent = await t.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'after refresh' }, token);
      expect(sent.status).toBe(200);
      expect(typeof sent.body.result).toBe('number');
      expectOAuthError(await send(grant()), 400, 'invalid_grant');
      // The new refresh token is good for exactly one more refresh.
      const second = await send(grant({ refresh_token: first.body.refresh_token as string }));
      expect(second.status).toBe(200);
      expect(second.body.user_id).toBe(1);
      expectOAuthError(
        await send(grant({ refresh_token: first.body.refresh_token as string })),
        400,
        'invalid_grant',
      );
    });

    it('the old access token keeps working until it expires', async () => {
      t = await startTestPortal(transport);
      const old = t.emu.tokens.accessToken;
      const fresh = await send(grant());
      expect(fresh.status).toBe(200);
      expect((await t.oauth('profile', {}, old)).status).toBe(200);
      await t.control('PUT', '/clock', { advanceMs: 3_500_000 });
      expect((await t.oauth('profile', {}, old)).status).toBe(200);
      await t.control('PUT', '/clock', { advanceMs: 200_000 });
      const expired = await t.oauth('profile', {}, old);
      expect(expired.status).toBe(401);
      expect(expired.body.error).toBe('expired_token');
    });

    it('an expired refresh token is invalid_grant', async () => {
      t = await startTestPortal(transport, { portal: { refreshTokenTtl: 28 * 24 * 3600 } });
      await t.control('PUT', '/clock', { advanceMs: 28 * 24 * 3600 * 1000 - 5_000 });
      // Still within its life: works, and gives a pair of its own.
      const within = await send(grant());
      expect(within.status).toBe(200);
      await t.control('PUT', '/clock', { advanceMs: 28 * 24 * 3600 * 1000 + 1_000 });
      expectOAuthError(
        await send(grant({ refresh_token: within.body.refresh_token as string })),
        400,
        'invalid_grant',
      );
    });

    it('the default refresh token lives 180 days', async () => {
      t = await startTestPortal(transport);
      await t.control('PUT', '/clock', { advanceMs: 180 * 24 * 3600 * 1000 + 1_000 });
      expectOAuthError(await send(grant()), 400, 'invalid_grant');
    });

    it('a wrong client secret or client id is invalid_client, and spends nothing', async () => {
      t = await startTestPortal(transport);
      expectOAuthError(await send(grant({ client_secret: 'wrong' })), 401, 'invalid_client');
      expectOAuthError(await send(grant({ client_id: 'local.nosuchapp' })), 401, 'invalid_client');
      expect((await send(grant())).status).toBe(200);
    });

    it('a refresh token of another app is invalid_grant', async () => {
      t = await startTestPortal(transport, {
        portal: {
          apps: [
            { clientId: 'local.one', clientSecret: 'secret-one', scopes: ['im'] },
            { clientId: 'local.two', clientSecret: 'secret-two', scopes: ['im'] },
          ],
        },
      });
      expectOAuthError(
        await send(grant({ client_id: 'local.two', client_secret: 'secret-two' })),
        400,
        'invalid_grant',
      );
    });

    it.each(['grant_type', 'client_id', 'client_secret', 'refresh_token'])(
      'a missing %s is invalid_request',
      async (missing) => {
        t = await startTestPortal(transport);
        const params = Object.fromEntries(Object.entries(grant()).filter(([k]) => k !== missing));
        expectOAuthError(await send(params), 400, 'invalid_request');
        // Nothing was spent.
        expect((await send(grant())).status).toBe(200);
      },
    );
  });

  it('never logs the client secret, the refresh token or an access token in clear', async () => {
    t = await startTestPortal(transport);
    const secrets = [t.emu.tokens.clientSecret, t.emu.tokens.refreshToken, t.emu.tokens.accessToken];
    const byGet = await viaGet(grant());
    expect(byGet.status).toBe(200);
    const byPost = await viaPost(grant({ refresh_token: byGet.body.refresh_token as string }));
    expect(byPost.status).toBe(200);
    secrets.push(
      byGet.body.access_token as string,
      byGet.body.refresh_token as string,
      byPost.body.access_token as string,
      byPost.body.refresh_token as string,
    );
    // Failures and REST calls carry the same secrets in other places.
    await viaPost(grant({ refresh_token: byGet.body.refresh_token as string }));
    await viaGet(grant({ client_secret: `${t.emu.tokens.clientSecret}x` }));
    await t.request(`/rest/profile?auth=${byPost.body.access_token as string}`);
    await t.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'x' }, byPost.body.access_token as string);
    await t.request('/rest/im.notify.personal.add', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `USER_ID=2&MESSAGE=y&auth=${t.emu.tokens.accessToken}`,
    });
    await t.oauth(
      'batch',
      { cmd: { a: `profile?auth=${t.emu.tokens.accessToken}` } },
      t.emu.tokens.accessToken,
    );

    const log = await t.control('GET', '/requests?limit=1000');
    expect(log.status).toBe(200);
    const requests = log.body.requests as Record<string, unknown>[];
    expect(requests.length).toBe(8);
    expect(requests.filter((r) => r.method === 'oauth.token').length).toBe(4);
    const text = log.text;
    for (const secret of secrets) expect(text).not.toContain(secret);
    for (const r of requests) {
      const detail = await t.control('GET', `/requests/${r.id as number}`);
      for (const secret of secrets) expect(detail.text).not.toContain(secret);
    }
  });
});
