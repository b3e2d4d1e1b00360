import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient } from '../src/client.js';
import {
  B24ApiError,
  B24AuthError,
  B24Error,
  B24NetworkError,
  B24RateLimitError,
  B24TimeoutError,
  B24ValidationError,
  ERROR_CODES,
  errorCodeInfo,
  isB24ApiError,
  isB24AuthError,
  isB24Error,
  isB24NetworkError,
  isB24RateLimitError,
  isB24TimeoutError,
  isB24ValidationError,
  type ErrorCode,
} from '../src/errors/index.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

const PERSONAL = 'im.notify.personal.add';

/** The codes of spec §3 (system errors) and §5 (the notification methods), as the spec lists them. */
const SPEC_CODES = [
  'INTERNAL_SERVER_ERROR',
  'ERROR_UNEXPECTED_ANSWER',
  'QUERY_LIMIT_EXCEEDED',
  'OPERATION_TIME_LIMIT',
  'ERROR_BATCH_METHOD_NOT_ALLOWED',
  'ERROR_BATCH_LENGTH_EXCEEDED',
  'NO_AUTH_FOUND',
  'INVALID_REQUEST',
  'OVERLOAD_LIMIT',
  'ACCESS_DENIED',
  'INVALID_CREDENTIALS',
  'ERROR_MANIFEST_IS_NOT_AVAILABLE',
  'insufficient_scope',
  'expired_token',
  'user_access_error',
  'PORTAL_DELETED',
  'ERROR_METHOD_NOT_FOUND',
  'WRONG_AUTH_TYPE',
  'USER_ID_EMPTY',
  'MESSAGE_EMPTY',
  'ATTACH_OVERSIZE',
  'ATTACH_ERROR',
  'PARAMS_ERROR',
  'LAST_ID_AND_LAST_TYPE',
  'LAST_ID_STRING',
  'SEARCH_TEXT_ERROR',
  'ID_ERROR',
  'ANSWER_TEXT_ERROR',
  'NOTIFY_VALUE_ERROR',
];
/** The OAuth server's, spec §2. */
const OAUTH_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'invalid_scope',
  'PAYMENT_REQUIRED',
];

const CLASS_OF_KIND = {
  auth: B24AuthError,
  'rate-limit': B24RateLimitError,
  api: B24ApiError,
  server: B24ApiError,
} as const;

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ERROR_CODES', () => {
  test('knows every code of spec §2, §3 and §5', () => {
    for (const code of [...SPEC_CODES, ...OAUTH_CODES]) expect(errorCodeInfo(code), code).toBeDefined();
    expect(errorCodeInfo('SOMETHING_NEW')).toBeUndefined();
    // Not fooled by the prototype.
    expect(errorCodeInfo('toString')).toBeUndefined();
  });

  test.each(codes)('%s has its status, kind, description, hint and retry facts', (code) => {
    const info = ERROR_CODES[code];
    expect(info.status.length).toBeGreaterThan(0);
    for (const status of info.status) {
      expect(Number.isInteger(status) && status >= 400 && status < 600).toBe(true);
    }
    expect(Object.keys(CLASS_OF_KIND)).toContain(info.kind);
    expect(info.description).not.toBe('');
    expect(info.hint).not.toBe('');
    // Only server errors may have been applied, and only they and rate limits are worth repeating.
    expect(info.applied).toBe(info.kind === 'server');
    expect(info.retryable).toBe(
      info.kind === 'server' || code === 'QUERY_LIMIT_EXCEEDED' || code === 'OPERATION_TIME_LIMIT',
    );
  });

  test('the spec’s statuses are among each code’s', () => {
    const spec: Record<string, number> = {
      INTERNAL_SERVER_ERROR: 500,
      ERROR_UNEXPECTED_ANSWER: 500,
      QUERY_LIMIT_EXCEEDED: 503,
      OPERATION_TIME_LIMIT: 429,
      ERROR_BATCH_METHOD_NOT_ALLOWED: 405,
      ERROR_BATCH_LENGTH_EXCEEDED: 400,
      NO_AUTH_FOUND: 401,
      INVALID_REQUEST: 400,
      OVERLOAD_LIMIT: 503,
      ACCESS_DENIED: 403,
      INVALID_CREDENTIALS: 403,
      ERROR_MANIFEST_IS_NOT_AVAILABLE: 404,
      insufficient_scope: 403,
      expired_token: 401,
      user_access_error: 403,
      PORTAL_DELETED: 500,
      ERROR_METHOD_NOT_FOUND: 404,
    };
    for (const [code, status] of Object.entries(spec)) {
      expect(errorCodeInfo(code)?.status, code).toContain(status);
    }
  });
});

describe('error answers built without a portal', () => {
  test('a documented code decides delivery, whatever the status', () => {
    // A legacy portal answers PORTAL_DELETED with 500; nothing ran.
    const deleted = new B24ApiError({
      code: 'PORTAL_DELETED',
      description: 'Portal was deleted',
      status: 500,
    });
    expect(deleted.delivery).toBe('not-delivered');
    expect(deleted.retryable).toBe(false);
    const server = new B24ApiError({ code: 'INTERNAL_SERVER_ERROR', description: '', status: 500 });
    expect(server.delivery).toBe('unknown');
    expect(server.message).toBe('INTERNAL_SERVER_ERROR: Internal server error');
  });

  test('a hint is given only for the fault it is about', () => {
    const https = new B24ApiError({ code: 'INVALID_REQUEST', description: 'Https required', status: 400 });
    expect(https.hint).toMatch(/https:\/\//);
    const bare = new B24ApiError({ code: 'INVALID_REQUEST', description: '', status: 400 });
    expect(bare.hint).toMatch(/https:\/\//);
    // The same code for another fault (the emulator's answer to a malformed request target).
    const other = new B24ApiError({
      code: 'INVALID_REQUEST',
      description: 'Malformed request target',
      status: 400,
    });
    expect(other.hint).toBeUndefined();
    expect(other.message).toContain('Malformed request target');
  });

  test('an unknown code is judged by its status and has no hint', () => {
    const five = new B24ApiError({
      code: 'NEW_THING',
      description: 'x',
      status: 502,
      method: 'm',
      host: 'h',
    });
    expect([five.delivery, five.retryable, five.hint]).toEqual(['unknown', true, undefined]);
    expect(five.message).toBe('NEW_THING: x (m on h)');
    const four = new B24ApiError({ code: 'NEW_THING', description: '', status: 400 });
    expect([four.delivery, four.retryable, four.message]).toEqual([
      'not-delivered',
      false,
      'NEW_THING: no description',
    ]);
  });

  test('a validation error names the field and was never sent', () => {
    const error = new B24ValidationError('attach.blocks[0]', 'expected one key', PERSONAL);
    expect([error.name, error.field, error.delivery, error.method]).toEqual([
      'B24ValidationError',
      'attach.blocks[0]',
      'not-delivered',
      PERSONAL,
    ]);
    expect(error.message).toBe('attach.blocks[0]: expected one key');
  });

  test('guards also recognise errors from another copy of the package by name', () => {
    const foreign = Object.assign(new Error('x'), { name: 'B24ValidationError' });
    expect(isB24ValidationError(foreign)).toBe(true);
    expect(isB24Error(foreign)).toBe(true);
    expect(isB24Error(new Error('x'))).toBe(false);
    expect(isB24Error('B24Error')).toBe(false);
    // Every guard: a CLI bundling its own copy hands such errors to the outbox, which uses these.
    const named = (name: string): Error => Object.assign(new Error('x'), { name });
    expect(isB24AuthError(named('B24AuthError'))).toBe(true);
    expect(isB24RateLimitError(named('B24RateLimitError'))).toBe(true);
    expect(isB24NetworkError(named('B24NetworkError'))).toBe(true);
    expect(isB24TimeoutError(named('B24TimeoutError'))).toBe(true);
    for (const name of ['B24ApiError', 'B24AuthError', 'B24RateLimitError']) {
      expect(isB24ApiError(named(name))).toBe(true);
    }
    expect(isB24ApiError(named('B24NetworkError'))).toBe(false);
    expect(isB24AuthError(named('B24ApiError'))).toBe(false);
    expect(isB24TimeoutError({ name: 'B24TimeoutError' })).toBe(false);
  });
});

interface LogEntry {
  status: number;
  response?: { error?: string; error_description?: string };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The error a call fails with; the call must fail. */
async function failure(run: () => Promise<unknown>): Promise<B24Error> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(B24Error);
    return err as B24Error;
  }
  throw new Error('expected the call to fail');
}

describe.each(TRANSPORTS)('errors produced by the portal over %s', (transport) => {
  let p: TestPortal;
  let host: string;
  let webhookCode: string;
  beforeAll(async () => {
    p = await startPortal(transport);
    host = new URL(p.emu.url).host;
    webhookCode = p.emu.webhookUrl.split('/').filter(Boolean).at(-1) as string;
  });
  afterAll(() => p.close());

  const send = (options = {}) =>
    failure(() => p.webhookClient({ retry: false, ...options }).notify.personal({ userId: 2, message: 'x' }));

  test('every documented code comes back as its class, with status, delivery, retryable and hint', async () => {
    await p.control('POST', '/reset');
    await p.control('PUT', '/chaos', {
      rules: [
        {
          method: PERSONAL,
          // Method codes have no system status on the portal: inject them with their documented one.
          sequence: codes.map((code) => ({ type: 'error', code, status: ERROR_CODES[code].status[0] })),
        },
      ],
    });
    for (const code of codes) {
      const info = ERROR_CODES[code];
      const error = await send();
      const { requests } = await p.control<{ requests: LogEntry[] }>('GET', '/requests?limit=1');
      const answer = requests[0] as LogEntry;

      expect(error, code).toBeInstanceOf(CLASS_OF_KIND[info.kind]);
      expect(error).toBeInstanceOf(B24ApiError);
      expect(isB24ApiError(error)).toBe(true);
      expect(isB24AuthError(error)).toBe(info.kind === 'auth');
      expect(isB24RateLimitError(error)).toBe(info.kind === 'rate-limit');
      const api = error as B24ApiError;
      expect(api.name).toBe(CLASS_OF_KIND[info.kind].name);
      expect(api.code).toBe(code);
      expect(api.status).toBe(answer.status);
      expect(info.status, code).toContain(api.status);
      expect(api.description).toBe(answer.response?.error_description);
      expect(api.delivery, code).toBe(info.applied ? 'unknown' : 'not-delivered');
      expect(api.retryable).toBe(info.retryable);
      expect(api.hint).toBe(info.hint);
      expect(api.method).toBe(PERSONAL);
      expect(api.host).toBe(host);
      expect(api.message).toBe(`${code}: ${api.description} (${PERSONAL} on ${host})`);
      expect(api.message).not.toContain(webhookCode);
    }
  });

  test('a reset connection is a network error with delivery unknown', async () => {
    await p.control('PUT', '/chaos', { rules: [{ method: PERSONAL, sequence: [{ type: 'reset' }] }] });
    const error = await send();
    expect(error).toBeInstanceOf(B24NetworkError);
    expect(isB24NetworkError(error)).toBe(true);
    expect(error.name).toBe('B24NetworkError');
    expect((error as B24NetworkError).code).toMatch(/^(ECONNRESET|UND_ERR_SOCKET|EPIPE)$/);
    expect(error.delivery).toBe('unknown');
    expect(error.message).toMatch(new RegExp(`\\(${PERSONAL.replaceAll('.', '\\.')} on ${host}\\)$`));
    expect(error.cause).toBeDefined();
  });

  test('a cut-off answer is a network error with delivery unknown', async () => {
    await p.control('PUT', '/chaos', { rules: [{ method: PERSONAL, sequence: [{ type: 'truncate' }] }] });
    const error = await send();
    expect(error).toBeInstanceOf(B24NetworkError);
    expect(error.delivery).toBe('unknown');
  });

  test('a refused connection is a network error that was not delivered', async () => {
    const port = await closedPort();
    const client = createClient({
      webhookUrl: `${transport}://127.0.0.1:${port}/rest/1/code/`,
      pacing: false,
      retry: false,
    });
    const error = await failure(() => client.notify.personal({ userId: 2, message: 'x' }));
    expect(error).toBeInstanceOf(B24NetworkError);
    expect((error as B24NetworkError).code).toBe('ECONNREFUSED');
    expect(error.delivery).toBe('not-delivered');
    expect(error.message).toBe(
      `Nothing answers at 127.0.0.1:${port}: the portal refused the connection (ECONNREFUSED) ` +
        `(${PERSONAL} on 127.0.0.1:${port})`,
    );
    expect((error as B24NetworkError).hint).toContain('is it running, and on the port its banner printed?');
  });

  test('no answer in time is a timeout with delivery unknown', async () => {
    await p.control('PUT', '/chaos', {
      rules: [{ method: PERSONAL, sequence: [{ type: 'delay', ms: 200 }] }],
    });
    const error = await send({ timeout: 50 });
    expect(error).toBeInstanceOf(B24TimeoutError);
    expect(isB24TimeoutError(error)).toBe(true);
    expect(error.name).toBe('B24TimeoutError');
    expect((error as B24TimeoutError).timeout).toBe(50);
    expect(error.delivery).toBe('unknown');
    expect(error.message).toBe(`No answer within 50 ms (${PERSONAL} on ${host})`);
  });

  test('bad input is a validation error, and nothing is sent', async () => {
    await p.control('POST', '/reset');
    const error = await failure(async () => p.webhookClient().notify.personal({ userId: 0, message: 'x' }));
    expect(error).toBeInstanceOf(B24ValidationError);
    expect(isB24ValidationError(error)).toBe(true);
    expect((error as B24ValidationError).field).toBe('userId');
    expect(error.delivery).toBe('not-delivered');
    const { requests } = await p.control<{ requests: LogEntry[] }>('GET', '/requests');
    expect(requests).toEqual([]);
  });

  test('a refused webhook is an auth error that names no secret', async () => {
    const wrong = p.emu.webhookUrl.replace(webhookCode, 'wrongcode123');
    const client = createClient({ webhookUrl: wrong, pacing: false, retry: false });
    const error = await failure(() => client.notify.personal({ userId: 2, message: 'x' }));
    expect(error).toBeInstanceOf(B24AuthError);
    expect((error as B24AuthError).code).toBe('INVALID_CREDENTIALS');
    expect(error.delivery).toBe('not-delivered');
    expect(error.message).not.toContain('wrongcode123');
  });

  test('every failure says whether it may have been delivered', async () => {
    // The caller's one question, answerable from the base class alone.
    await p.control('PUT', '/chaos', {
      rules: [
        {
          method: PERSONAL,
          sequence: [{ type: 'reset' }, { type: 'error', code: 'USER_ID_EMPTY', status: 400 }],
        },
      ],
    });
    const unknown = await send();
    const refused = await send();
    expect([unknown.delivery, refused.delivery]).toEqual(['unknown', 'not-delivered']);
  });
});

describe('connection errors say what happened and what to do', () => {
  const quiet = { pacing: false, retry: false } as const;

  test("the emulator's address as printed without a scheme, against its plain http: use http://", async () => {
    const p = await startPortal('http');
    try {
      const client = createClient({ ...quiet, portal: p.emu.domain, accessToken: p.emu.tokens.accessToken });
      const error = (await failure(() => client.call('profile'))) as B24NetworkError;
      expect(error).toBeInstanceOf(B24NetworkError);
      expect(error.delivery).toBe('not-delivered');
      expect(error.message).toContain(`${p.emu.domain} does not speak HTTPS (${error.code as string})`);
      expect(error.hint).toContain(`give the address with its scheme: http://${p.emu.domain}`);
      // As the hint says, it works.
      const fixed = createClient({
        ...quiet,
        portal: `http://${p.emu.domain}`,
        accessToken: p.emu.tokens.accessToken,
      });
      await expect(fixed.call('profile')).resolves.toHaveProperty('result');
    } finally {
      await p.close();
    }
  });

  test('an HTTPS emulator whose CA is not trusted: the hint names NODE_EXTRA_CA_CERTS', async () => {
    // A CA of its own, in a fresh folder: not the one the test setup trusts.
    const tlsDir = mkdtempSync(join(tmpdir(), 'b24notify-untrusted-'));
    const emu = await startEmulator({ https: true, tlsDir });
    try {
      const error = (await failure(() =>
        createClient({ ...quiet, webhookUrl: emu.webhookUrl }).call('profile'),
      )) as B24NetworkError;
      expect(error).toBeInstanceOf(B24NetworkError);
      expect(error.message).toContain(`The certificate of ${emu.domain} is not trusted`);
      expect(error.hint).toContain('export NODE_EXTRA_CA_CERTS=');
      expect(error.delivery).toBe('not-delivered');
    } finally {
      await emu.close();
      rmSync(tlsDir, { recursive: true, force: true });
    }
  });

  test('a name that does not resolve, and an unreachable OAuth server', async () => {
    // The lookup fails as node:dns reports it; no query leaves the machine.
    const unresolved: typeof fetch = () =>
      Promise.reject(
        Object.assign(new Error('getaddrinfo ENOTFOUND portal.example.invalid'), { code: 'ENOTFOUND' }),
      );
    const error = (await failure(() =>
      createClient({
        ...quiet,
        fetch: unresolved,
        webhookUrl: 'https://portal.example.invalid/rest/1/abcd/',
      }).call('profile'),
    )) as B24NetworkError;
    expect(error.message).toBe(
      'The name portal.example.invalid does not resolve (ENOTFOUND) (profile on portal.example.invalid)',
    );
    expect(error.hint).toContain('Check the domain for typos');

    const p = await startPortal('http');
    try {
      const fresh = await p.control<{ accessToken: string; refreshToken: string }>('POST', '/tokens', {
        expired: true,
      });
      const port = await closedPort();
      const client = createClient({
        ...quiet,
        portal: p.emu.url,
        oauth: {
          clientId: p.emu.tokens.clientId,
          clientSecret: p.emu.tokens.clientSecret,
          ...fresh,
          tokenUrl: `http://127.0.0.1:${port}/oauth/token/`,
        },
      });
      const refresh = (await failure(() => client.call('profile'))) as B24NetworkError;
      expect(refresh.message).toContain(
        `Could not reach the OAuth server to refresh the token: Nothing answers at 127.0.0.1:${port}`,
      );
      expect(refresh.code).toBe('ECONNREFUSED');
      expect(refresh.hint).toContain('The token URL is oauth.tokenUrl.');
    } finally {
      await p.close();
    }
  });
});
