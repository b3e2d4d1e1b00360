import { inspect } from 'node:util';
import type { RequestLogEntry } from '@b24notify/emulator';
import { afterEach, describe, expect, test } from 'vitest';
import {
  B24AuthError,
  B24NetworkError,
  B24ValidationError,
  createClient,
  type ClientOptions,
  type OAuthTokens,
} from '../src/index.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

/** What a promise rejected with; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

/** The error createClient throws for `options`; fails the test if it throws none. */
function creationError(options: ClientOptions): unknown {
  try {
    createClient(options);
  } catch (err) {
    return err;
  }
  throw new Error('expected createClient to throw');
}

/** A fetch that records the `auth` field of every REST call's JSON body, in order. */
function recordingFetch(seen: string[]): typeof fetch {
  return (input, init) => {
    if (typeof init?.body === 'string') {
      const auth = (JSON.parse(init.body) as { auth?: unknown }).auth;
      if (typeof auth === 'string') seen.push(auth);
    }
    return fetch(input, init);
  };
}

/** A client of `p` as the portal helper makes them (no pacing, the shared clock), with any credentials. */
function clientOf(p: TestPortal, options: ClientOptions): ReturnType<typeof createClient> {
  return createClient({ pacing: false, clock: p.clock, ...options });
}

/** A token lifetime and then some: every access token issued at start is expired after it. */
const PAST_EXPIRY_MS = 3_700_000;

/** Parts of a webhook URL that must never show in an error: it is the credential. */
const CODE = 'SECRETCODE123abc';

describe('invalid options give a validation error naming the field, never the webhook code', () => {
  const cases: [string, ClientOptions, string][] = [
    ['user id not a number', { webhookUrl: `https://b24.example.com/rest/abc/${CODE}/` }, 'webhookUrl'],
    ['no /rest/ path', { webhookUrl: `https://b24.example.com/${CODE}/` }, 'webhookUrl'],
    ['not a URL', { webhookUrl: `b24.example.com rest 1 ${CODE}` }, 'webhookUrl'],
    ['plain http to a remote host', { webhookUrl: `http://b24.example.com/rest/1/${CODE}/` }, 'webhookUrl'],
    ['another scheme', { webhookUrl: `ftp://b24.example.com/rest/1/${CODE}/` }, 'webhookUrl'],
    ['extra path segments', { webhookUrl: `https://b24.example.com/rest/1/${CODE}/a/b/` }, 'webhookUrl'],
    ['not a string', { webhookUrl: 42 as unknown as string }, 'webhookUrl'],
    ['no credentials', {}, 'options'],
    [
      'two kinds of credentials',
      { webhookUrl: `https://b24.example.com/rest/1/${CODE}/`, accessToken: CODE },
      'options',
    ],
    ['a token without a portal', { accessToken: CODE }, 'portal'],
    ['an empty token', { portal: 'b24.example.com', accessToken: '' }, 'accessToken'],
    [
      'a token that is not a string',
      { portal: 'b24.example.com', accessToken: 7 as unknown as string },
      'accessToken',
    ],
    ['an empty portal', { portal: ' ', accessToken: CODE }, 'portal'],
    ['plain http portal', { portal: 'http://b24.example.com', accessToken: CODE }, 'portal'],
    [
      'an empty client secret',
      {
        portal: 'b24.example.com',
        oauth: { clientId: 'app', clientSecret: '', accessToken: CODE, refreshToken: CODE },
      },
      'oauth.clientSecret',
    ],
    [
      'a token URL that is not one',
      {
        portal: 'b24.example.com',
        oauth: {
          clientId: 'app',
          clientSecret: CODE,
          accessToken: CODE,
          refreshToken: CODE,
          tokenUrl: 'nope',
        },
      },
      'oauth.tokenUrl',
    ],
    [
      'a plain http token URL',
      {
        portal: 'b24.example.com',
        oauth: {
          clientId: 'app',
          clientSecret: CODE,
          accessToken: CODE,
          refreshToken: CODE,
          tokenUrl: 'http://oauth.example.com/oauth/token/',
        },
      },
      'oauth.tokenUrl',
    ],
    [
      // The emulator's OAuth app with the default token URL would refresh against Bitrix24's
      // server on the internet.
      'a portal on this machine without a token URL',
      {
        portal: 'http://127.0.0.1:24024',
        oauth: { clientId: 'app', clientSecret: CODE, accessToken: CODE, refreshToken: CODE },
      },
      'oauth.tokenUrl',
    ],
  ];
  test('a portal on this machine without a token URL: the message says which URL to pass', () => {
    const err = creationError({
      portal: 'localhost:24024',
      oauth: { clientId: 'app', clientSecret: CODE, accessToken: CODE, refreshToken: CODE },
    }) as B24ValidationError;
    expect(err.message).toContain('the portal localhost:24024 is on this machine, but no token URL is set');
    expect(err.message).toContain('https://oauth.bitrix24.tech/oauth/token/');
    expect(err.message).toContain('for the b24notify emulator "https://localhost:24024/oauth/token/"');
  });
  test.each(cases)('%s', (_name, options, field) => {
    const err = creationError(options);
    expect(err).toBeInstanceOf(B24ValidationError);
    const v = err as B24ValidationError;
    expect(v.field).toBe(field);
    expect(v.delivery).toBe('not-delivered');
    expect(v.message).not.toContain(CODE);
    expect(inspect(v, { depth: 5 })).not.toContain(CODE);
  });

  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])('timeout %s', (timeout) => {
    const err = creationError({ webhookUrl: `https://b24.example.com/rest/1/${CODE}/`, timeout });
    expect(err).toBeInstanceOf(B24ValidationError);
    expect((err as B24ValidationError).field).toBe('timeout');
  });
});

describe('scheme rules', () => {
  test('plain http to a remote host only when the caller opts in', () => {
    const webhook = createClient({ webhookUrl: `http://b24.example.com/rest/1/${CODE}/`, allowHttp: true });
    expect(webhook.host).toBe('b24.example.com');
    const token = createClient({ portal: 'http://b24.example.com', accessToken: CODE, allowHttp: true });
    expect(token.host).toBe('b24.example.com');
  });

  test.each([
    'http://localhost:1/rest/1/x1/',
    'http://127.0.0.1:1/rest/1/x1/',
    'http://127.8.9.10/rest/1/x1/',
    'http://[::1]:1/rest/1/x1/',
  ])('loopback %s may use plain http', (webhookUrl) => {
    expect(() => createClient({ webhookUrl })).not.toThrow();
  });

  test.each(['http://127.0.0.1.example.com/rest/1/x1/', 'http://localhost.example.com/rest/1/x1/'])(
    'a remote host dressed as loopback (%s) may not',
    (webhookUrl) => {
      expect(creationError({ webhookUrl })).toBeInstanceOf(B24ValidationError);
    },
  );
});

describe.each(TRANSPORTS)('auth over %s', (transport) => {
  let p: TestPortal;
  afterEach(() => p.close());

  const requests = async (method: string): Promise<RequestLogEntry[]> =>
    (await p.control<{ requests: RequestLogEntry[] }>('GET', `/requests?limit=1000&method=${method}`))
      .requests;

  test('a webhook URL with or without the trailing slash, or with a method after it', async () => {
    p = await startPortal(transport);
    const base = p.emu.webhookUrl;
    const other = transport === 'https' ? 'http' : 'https';
    for (const webhookUrl of [base, base.slice(0, -1), `${base}profile.json`, `${base}im.notify.get`]) {
      const client = clientOf(p, { webhookUrl });
      expect(client.host).toBe(new URL(p.emu.url).host);
      // Whatever method the pasted URL named, the call goes to the one asked for.
      const { result } = await client.call<{ ID: unknown }>('profile');
      expect(Number(result.ID)).toBe(1);
    }
    // The scheme is kept as given: the other one reaches nothing on this port.
    const wrong = clientOf(p, { webhookUrl: base.replace(`${transport}:`, `${other}:`), retry: false });
    const err = await rejection(wrong.call('profile'));
    expect(err).toBeInstanceOf(B24NetworkError);
  });

  test('a portal plus an access token (OPI form): bare domains get https', async () => {
    p = await startPortal(transport);
    const viaUrl = await p.tokenClient().call<{ ID: unknown }>('profile');
    expect(Number(viaUrl.result.ID)).toBe(1);
    const bare = clientOf(p, { portal: p.emu.domain, accessToken: p.emu.tokens.accessToken, retry: false });
    if (transport === 'https') {
      expect(Number((await bare.call<{ ID: unknown }>('profile')).result.ID)).toBe(1);
    } else {
      // https to a plain-http port: the handshake fails before the request, so nothing was sent.
      const err = await rejection(bare.call('profile'));
      expect(err).toBeInstanceOf(B24NetworkError);
      expect((err as B24NetworkError).delivery).toBe('not-delivered');
      expect(await requests('profile')).toHaveLength(1);
    }
  });

  test('OAuth credentials call without refreshing while the token is fresh', async () => {
    p = await startPortal(transport);
    const onTokens: OAuthTokens[] = [];
    const client = p.oauthClient({ onTokens: (t) => void onTokens.push(t) });
    expect(Number((await client.call<{ ID: unknown }>('profile')).result.ID)).toBe(1);
    expect(onTokens).toEqual([]);
    expect(await requests('oauth.token')).toEqual([]);
  });

  test('50 calls on an expired token: one refresh, all succeed, onTokens once, the new token after', async () => {
    p = await startPortal(transport);
    const renewed: OAuthTokens[] = [];
    const sent: string[] = [];
    const client = p.oauthClient({
      onTokens: (t) => void renewed.push(t),
      fetch: recordingFetch(sent),
    });
    await p.control('PUT', '/clock', { advanceMs: PAST_EXPIRY_MS });

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => client.call<{ ID: unknown }>('profile')),
    );
    expect(answers.map((a) => Number(a.result.ID))).toEqual(Array(50).fill(1));

    const refreshes = await requests('oauth.token');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.status).toBe(200);
    expect(renewed).toHaveLength(1);
    const tokens = renewed[0] as OAuthTokens;
    expect(tokens.accessToken).not.toBe(p.emu.tokens.accessToken);
    expect(tokens.refreshToken).not.toBe(p.emu.tokens.refreshToken);
    expect(tokens.clientEndpoint).toBe(`${p.emu.url}/rest/`);
    expect(tokens.expiresAt).toBeGreaterThan(p.clock.now());

    await client.call('profile');
    // Each call went once with the old token and, after the refresh, once with the new one.
    expect(sent.filter((t) => t === p.emu.tokens.accessToken)).toHaveLength(50);
    expect(sent.filter((t) => t === tokens.accessToken)).toHaveLength(51);
    expect(sent).toHaveLength(101);
    expect(await requests('oauth.token')).toHaveLength(1);
  });

  test("a caller's abort leaves the shared refresh running for the others", async () => {
    p = await startPortal(transport);
    let entered!: () => void;
    const inOnTokens = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const client = p.oauthClient({
      onTokens: () => {
        entered();
        return gate;
      },
    });
    await p.control('PUT', '/clock', { advanceMs: PAST_EXPIRY_MS });

    const controller = new AbortController();
    const waiting = rejection(client.call('profile', {}, { signal: controller.signal }));
    await inOnTokens;
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await waiting).toBe(reason);

    // The token was renewed before onTokens: a call now goes through with it.
    await expect(client.call('profile')).resolves.toMatchObject({ result: { ID: expect.anything() } });
    release();
    await client.call('profile');
    expect(await requests('oauth.token')).toHaveLength(1);
  });

  test('a spent refresh token fails with invalid_grant once per call, without looping', async () => {
    p = await startPortal(transport);
    // Two processes with the same stored tokens: the first to refresh spends the refresh token.
    const first = p.oauthClient();
    const second = p.oauthClient();
    await p.control('PUT', '/clock', { advanceMs: PAST_EXPIRY_MS });
    await first.call('profile');

    const errors = await Promise.all(Array.from({ length: 10 }, () => rejection(second.call('profile'))));
    for (const err of errors) {
      expect(err).toBeInstanceOf(B24AuthError);
      expect((err as B24AuthError).code).toBe('invalid_grant');
      expect((err as B24AuthError).delivery).toBe('not-delivered');
    }
    const refreshes = await requests('oauth.token');
    expect(refreshes.map((r) => r.status)).toEqual([400, 200]);
    // The other client is unaffected.
    await first.call('profile');
  });

  test('a wrong client secret fails with invalid_client', async () => {
    p = await startPortal(transport);
    const { clientId, accessToken, refreshToken } = p.emu.tokens;
    const tokenUrl = `${p.emu.url}/oauth/token/`;
    const client = clientOf(p, {
      portal: p.emu.url,
      oauth: { clientId, clientSecret: 'not-the-secret', accessToken, refreshToken, tokenUrl },
    });
    await p.control('PUT', '/clock', { advanceMs: PAST_EXPIRY_MS });
    const err = await rejection(client.call('profile'));
    expect(err).toBeInstanceOf(B24AuthError);
    expect((err as B24AuthError).code).toBe('invalid_client');
    expect(await requests('oauth.token')).toHaveLength(1);
  });

  test('a fixed token that expired is an expired_token auth error, not refreshed or retried', async () => {
    p = await startPortal(transport);
    const pair = await p.control<{ accessToken: string }>('POST', '/tokens', { expired: true });
    const client = clientOf(p, { portal: p.emu.url, accessToken: pair.accessToken });
    const err = await rejection(client.call('profile'));
    expect(err).toBeInstanceOf(B24AuthError);
    expect((err as B24AuthError).code).toBe('expired_token');
    expect((err as B24AuthError).status).toBe(401);
    expect((err as B24AuthError).delivery).toBe('not-delivered');
    expect(await requests('profile')).toHaveLength(1);
    expect(await requests('oauth.token')).toEqual([]);
  });

  test('a wrong webhook code is an auth error', async () => {
    p = await startPortal(transport);
    const webhookUrl = p.emu.webhookUrl.replace(/\/rest\/(\d+)\/[^/]+\//, `/rest/$1/${CODE}/`);
    const err = await rejection(clientOf(p, { webhookUrl }).call('profile'));
    expect(err).toBeInstanceOf(B24AuthError);
    expect((err as B24AuthError).code).toBe('INVALID_CREDENTIALS');
    expect(String(err)).not.toContain(CODE);
  });
});
