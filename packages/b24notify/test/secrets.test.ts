import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  B24ApiError,
  B24AuthError,
  B24NetworkError,
  B24RateLimitError,
  B24TimeoutError,
  B24ValidationError,
  createClient,
  type Client,
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

/** What a synchronous step threw; fails the test if it threw nothing. */
function thrown(step: () => unknown): unknown {
  try {
    step();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** `JSON.stringify`, or a note when the value cannot be serialized (a cycle in a cause). */
function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch (err) {
    return `not serializable: ${String(err)}`;
  }
}

/** Every way an error gets printed or logged: itself, then each cause down the chain. */
function renderings(err: unknown): string[] {
  const out = [
    String(err),
    inspect(err, { depth: 5 }),
    inspect(err, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    json(err),
  ];
  let e: unknown = err;
  for (let i = 0; e instanceof Error && i < 10; i++, e = e.cause) {
    out.push(e.message, e.stack ?? '', String(e), json(e));
  }
  if (e !== undefined) out.push(String(e), json(e));
  return out;
}

/** Fails naming the error and where a secret showed (the secrets are the test's own). */
function expectClean(value: unknown, secrets: readonly string[], label: string): void {
  for (const text of renderings(value)) {
    for (const secret of secrets) expect(text, `${label} shows a secret`).not.toContain(secret);
  }
}

/** The code of a webhook URL: `/rest/USER_ID/CODE/`. */
function webhookCode(url: string): string {
  return (/\/rest\/\d+\/([^/]+)\//.exec(url) as RegExpExecArray)[1] as string;
}

/**
 * A fetch that fails the way node-fetch does, quoting the whole URL, and then some: the body,
 * and a Request object holding the URL. Token requests fail; REST calls go through when
 * `restWorks`, so a refresh can be reached.
 */
function leakyFetch(restWorks: boolean): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (restWorks && !url.includes('/oauth/token')) return fetch(input, init);
    const body = init?.body === undefined || init.body === null ? '' : String(init.body);
    const cause = Object.assign(
      new Error(`request to ${url} failed, reason: connect ECONNREFUSED; ${body}`),
      {
        code: 'ECONNREFUSED',
        url,
        body,
        request: new Request(url),
        address: new URL(url),
      },
    );
    return Promise.reject(new TypeError('fetch failed', { cause }));
  };
}

describe.each(TRANSPORTS)('no secret in errors or clients over %s', (transport) => {
  let p: TestPortal;
  let secrets: string[];
  beforeEach(async () => {
    p = await startPortal(transport);
    const { accessToken, refreshToken, clientSecret } = p.emu.tokens;
    secrets = [webhookCode(p.emu.webhookUrl), accessToken, refreshToken, clientSecret];
  });
  afterEach(() => p.close());

  const chaos = (method: string, fault: Record<string, unknown>): Promise<unknown> =>
    p.control('PUT', '/chaos', { rules: [{ method, faults: [fault] }] });
  const clientOf = (options: ClientOptions): Client =>
    createClient({ pacing: false, clock: p.clock, retry: false, ...options });
  const tokenUrl = (): string => `${p.emu.url}/oauth/token/`;

  /** The errors every kind of client can meet on a call: answers, limits, time and the wire. */
  async function callErrors(client: Client): Promise<unknown[]> {
    const errors: unknown[] = [];
    errors.push(await rejection(client.call('im.notify.personal.add', { USER_ID: 0, MESSAGE: 'x' })));
    errors.push(await rejection(client.call('no.such.method')));
    await chaos('profile', { type: 'error', code: 'QUERY_LIMIT_EXCEEDED' });
    errors.push(await rejection(client.call('profile')));
    await chaos('profile', { type: 'error', code: 'INTERNAL_SERVER_ERROR' });
    errors.push(await rejection(client.call('profile')));
    await chaos('profile', { type: 'delay', ms: 300 });
    errors.push(await rejection(client.call('profile', {}, { timeout: 50 })));
    await chaos('profile', { type: 'reset' });
    errors.push(await rejection(client.call('profile')));
    await chaos('profile', { type: 'truncate' });
    errors.push(await rejection(client.call('profile')));
    await p.control('PUT', '/chaos', { rules: [] });
    errors.push(await rejection(client.call('profile', {}, { timeout: -1 })));
    errors.push(await rejection(client.call('user.get', { ID: 1n })));
    errors.push(await rejection(client.notify.personal({ userId: -1, message: '' })));
    return errors;
  }

  /** A URL on a port where nothing listens any more. */
  async function deadUrl(): Promise<string> {
    const gone = await startPortal(transport);
    await gone.close();
    return gone.emu.url;
  }

  test('webhook client: every kind of error', async () => {
    const client = clientOf({ webhookUrl: p.emu.webhookUrl });
    const errors = await callErrors(client);

    const wrongCode = 'wrongcode123456';
    secrets.push(wrongCode);
    const wrong = p.emu.webhookUrl.replace(/\/rest\/(\d+)\/[^/]+\//, `/rest/$1/${wrongCode}/`);
    errors.push(await rejection(clientOf({ webhookUrl: wrong }).call('profile')));

    const dead = `${await deadUrl()}/rest/1/${secrets[0] as string}/`;
    errors.push(await rejection(clientOf({ webhookUrl: dead }).call('profile')));
    const leaky = clientOf({ webhookUrl: p.emu.webhookUrl, fetch: leakyFetch(false) });
    const quoted = await rejection(leaky.call('profile'));
    // The masked cause still tells what happened.
    expect(quoted).toMatchObject({ code: 'ECONNREFUSED', delivery: 'not-delivered' });
    errors.push(quoted);

    const code = secrets[0] as string;
    for (const webhookUrl of [
      `http://b24.example.com/rest/1/${code}/`,
      `https://b24.example.com/rest/x/${code}/`,
      `https://b24.example.com/rest/1/${code}/a/b/c`,
      `ftp://b24.example.com/rest/1/${code}/`,
      `https://b24.example.com:99999/rest/1/${code}/`,
    ]) {
      errors.push(thrown(() => createClient({ webhookUrl })));
    }

    expect(new Set(errors.map((e) => (e as Error).constructor))).toEqual(
      new Set([
        B24ApiError,
        B24AuthError,
        B24RateLimitError,
        B24TimeoutError,
        B24NetworkError,
        B24ValidationError,
      ]),
    );
    errors.forEach((err, i) => expectClean(err, secrets, `error ${i} (${String(err)})`));
    expectClean(client, secrets, 'the client');
    expectClean(leaky, secrets, 'the client with its own fetch');
  });

  test('OAuth and token clients: every kind of error', async () => {
    const renewed: OAuthTokens[] = [];
    const client = p.oauthClient({ retry: false, onTokens: (t) => void renewed.push(t) });
    const errors = await callErrors(client);

    // Renew, then meet the errors again with the renewed tokens in use.
    await p.control('PUT', '/clock', { advanceMs: 3_700_000 });
    await client.call('profile');
    expect(renewed).toHaveLength(1);
    secrets.push((renewed[0] as OAuthTokens).accessToken, (renewed[0] as OAuthTokens).refreshToken);
    errors.push(...(await callErrors(client)));

    const { clientId, accessToken, refreshToken, clientSecret } = p.emu.tokens;
    // The refresh token is spent now: a second process holding it is refused.
    const stale = clientOf({ portal: p.emu.url, oauth: { ...p.emu.tokens, tokenUrl: tokenUrl() } });
    errors.push(await rejection(stale.call('profile')));
    const wrongSecret = 'wrong-secret-0123456789';
    secrets.push(wrongSecret);
    const fresh = await p.control<{ accessToken: string; refreshToken: string }>('POST', '/tokens', {
      expired: true,
    });
    secrets.push(fresh.accessToken, fresh.refreshToken);
    const badClient = clientOf({
      portal: p.emu.url,
      oauth: { clientId, clientSecret: wrongSecret, ...fresh, tokenUrl: tokenUrl() },
    });
    errors.push(await rejection(badClient.call('profile')));
    errors.push(
      await rejection(clientOf({ portal: p.emu.url, accessToken: fresh.accessToken }).call('profile')),
    );

    // The authorization server is down, or its fetch quotes the form with the secret.
    const second = await p.control<{ accessToken: string; refreshToken: string }>('POST', '/tokens', {
      expired: true,
    });
    secrets.push(second.accessToken, second.refreshToken);
    const unreachable = clientOf({
      portal: p.emu.url,
      oauth: { clientId, clientSecret, ...second, tokenUrl: `${await deadUrl()}/oauth/token/` },
    });
    errors.push(await rejection(unreachable.call('profile')));
    const leakyRefresh = clientOf({
      portal: p.emu.url,
      fetch: leakyFetch(true),
      oauth: { clientId, clientSecret, ...second, tokenUrl: tokenUrl() },
    });
    errors.push(await rejection(leakyRefresh.call('profile')));
    const leakyCall = clientOf({
      portal: p.emu.url,
      fetch: leakyFetch(false),
      oauth: { clientId, clientSecret, accessToken, refreshToken, tokenUrl: tokenUrl() },
    });
    errors.push(await rejection(leakyCall.call('profile')));
    errors.push(
      thrown(() =>
        createClient({
          portal: `http://b24.example.com/${clientSecret}`,
          oauth: { clientId, clientSecret, accessToken, refreshToken },
        }),
      ),
      thrown(() =>
        createClient({
          portal: 'b24.example.com',
          oauth: { clientId, clientSecret, accessToken, refreshToken: '' },
        }),
      ),
    );

    const codes = errors.map((e) => (e as { code?: unknown }).code);
    expect(codes).toEqual(expect.arrayContaining(['invalid_grant', 'invalid_client', 'expired_token']));
    expect(new Set(errors.map((e) => (e as Error).constructor))).toEqual(
      new Set([
        B24ApiError,
        B24AuthError,
        B24RateLimitError,
        B24TimeoutError,
        B24NetworkError,
        B24ValidationError,
      ]),
    );
    errors.forEach((err, i) => expectClean(err, secrets, `error ${i} (${String(err)})`));
    for (const c of [client, stale, badClient, unreachable, leakyRefresh, leakyCall]) {
      expectClean(c, secrets, `client on ${c.host}`);
    }
  });
});

/**
 * A server that quotes what it refuses, as some portals and proxies do: every answer is an
 * error whose `error_description` repeats the request line and body (the webhook's code, the
 * `auth` token, the token request's form with the client secret and refresh token). Real HTTP
 * on loopback: the library's own transport carries it.
 */
async function quotingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const quote = `refused ${req.method ?? ''} ${req.url ?? ''} with ${body}`;
      let status = 401;
      let answer: Record<string, unknown>;
      if (req.url?.startsWith('/oauth/token')) {
        status = 400;
        answer = { error: 'invalid_grant', error_description: quote };
      } else if (req.url?.endsWith('/batch')) {
        status = 200;
        answer = {
          result: {
            result: {},
            result_error: { a: { error: 'INVALID_CREDENTIALS', error_description: quote } },
          },
        };
      } else if (body.includes('"auth"')) {
        // An access token: expired, so an OAuth client goes on to the token server.
        answer = { error: 'expired_token', error_description: quote };
      } else {
        answer = { error: 'INVALID_CREDENTIALS', error_description: quote };
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('no secret a server quotes reaches an error', () => {
  const code = 'quotedWebhookCode123';
  const accessToken = 'quoted-access-token-456';
  const refreshToken = 'quoted/refresh+token=789';
  const clientSecret = 'quoted-client-secret-0ab';
  const secrets = [code, accessToken, refreshToken, encodeURIComponent(refreshToken), clientSecret];
  let server: Awaited<ReturnType<typeof quotingServer>>;
  beforeEach(async () => {
    server = await quotingServer();
  });
  afterEach(() => server.close());
  const options = { pacing: false, retry: false } as const;

  test('webhook, token and OAuth clients: message, toString, stack, inspect and JSON', async () => {
    const webhook = createClient({ ...options, webhookUrl: `${server.url}/rest/1/${code}/` });
    const token = createClient({ ...options, portal: server.url, accessToken });
    const oauth = createClient({
      ...options,
      portal: server.url,
      oauth: {
        clientId: 'local.app',
        clientSecret,
        accessToken,
        refreshToken,
        tokenUrl: `${server.url}/oauth/token/`,
      },
    });
    const errors = [
      await rejection(webhook.call('profile')),
      await rejection(webhook.notify.personal({ userId: 1, message: 'x' })),
      await rejection(token.call('profile')),
      await rejection(oauth.call('profile')),
    ];
    const batch = await webhook.batch({ a: ['profile', {}] });
    errors.push(batch.errors.a);

    // The server did quote them: the errors say what it said, with the secrets masked.
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'expired_token',
      'invalid_grant',
      'INVALID_CREDENTIALS',
    ]);
    expect((errors[0] as B24ApiError).description).toBe('refused POST /rest/1/***/profile with {}');
    expect((errors[3] as B24ApiError).description).toContain('client_secret=***');
    expect((errors[3] as B24ApiError).description).toContain('refresh_token=***');
    errors.forEach((err, i) => {
      expect(err).toBeInstanceOf(B24ApiError);
      expectClean(err, secrets, `error ${i} (${String(err)})`);
    });
  });
});
