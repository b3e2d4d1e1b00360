import { createServer } from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createClient } from '../src/client.js';
import {
  B24ApiError,
  B24AuthError,
  B24Error,
  B24NetworkError,
  B24RateLimitError,
  B24TimeoutError,
  B24ValidationError,
} from '../src/errors/index.js';
import { DEFAULT_RETRY, retryDelay, type RetryContext, type RetryPolicy } from '../src/retry.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

const PERSONAL = 'im.notify.personal.add';
const ctx = { method: PERSONAL, host: 'portal.example' };

const errors = {
  refused: () => new B24NetworkError('refused', { ...ctx, code: 'ECONNREFUSED', delivery: 'not-delivered' }),
  reset: () => new B24NetworkError('reset', { ...ctx, code: 'ECONNRESET', delivery: 'unknown' }),
  timeout: () => new B24TimeoutError(100, ctx),
  server: () => new B24ApiError({ ...ctx, code: 'INTERNAL_SERVER_ERROR', description: '', status: 500 }),
  badInput: () => new B24ApiError({ ...ctx, code: 'USER_ID_EMPTY', description: '', status: 400 }),
  auth: () => new B24AuthError({ ...ctx, code: 'INVALID_CREDENTIALS', description: '', status: 401 }),
  validation: () => new B24ValidationError('userId', 'expected a positive integer', PERSONAL),
  queryLimit: () =>
    new B24RateLimitError({ ...ctx, code: 'QUERY_LIMIT_EXCEEDED', description: '', status: 503 }),
  operating: (retryAt?: number) =>
    new B24RateLimitError({
      ...ctx,
      code: 'OPERATION_TIME_LIMIT',
      description: '',
      status: 429,
      ...(retryAt === undefined ? {} : { retryAt }),
    }),
  overload: () => new B24RateLimitError({ ...ctx, code: 'OVERLOAD_LIMIT', description: '', status: 503 }),
};

const NOW = 1_700_000_000_000;
const exact: RetryPolicy = { ...DEFAULT_RETRY, jitter: false };
const context = (over: Partial<RetryContext> = {}): RetryContext => ({
  attempt: 1,
  idempotent: false,
  now: NOW,
  slotMs: 500,
  random: () => 0.5,
  ...over,
});

describe('retryDelay, in its documented order', () => {
  test('1. the limit comes first: past it nothing retries, and shouldRetry is not asked', () => {
    const shouldRetry = vi.fn(() => true);
    const policy = { ...exact, limit: 2, shouldRetry };
    expect(retryDelay(errors.queryLimit(), policy, context({ attempt: 2 }))).toBe(1000);
    expect(retryDelay(errors.queryLimit(), policy, context({ attempt: 3 }))).toBeUndefined();
    expect(retryDelay(errors.refused(), { ...exact, limit: 0 }, context())).toBeUndefined();
    expect(shouldRetry).toHaveBeenCalledTimes(1);
  });

  test('2. bad input and refused credentials never retry, whatever shouldRetry says', () => {
    const shouldRetry = vi.fn(() => true);
    for (const error of [errors.validation(), errors.auth()]) {
      expect(retryDelay(error, { ...exact, shouldRetry }, context({ idempotent: true }))).toBeUndefined();
    }
    expect(shouldRetry).not.toHaveBeenCalled();
  });

  test('3. rate limits retry after the wait they demand, even for an untagged send', () => {
    // QUERY_LIMIT_EXCEEDED: at least one slot of the bucket, growing exponentially.
    expect(retryDelay(errors.queryLimit(), exact, context())).toBe(500);
    expect(retryDelay(errors.queryLimit(), exact, context({ slotMs: 200 }))).toBe(500);
    expect(retryDelay(errors.queryLimit(), exact, context({ attempt: 3 }))).toBe(2000);
    expect(retryDelay(errors.queryLimit(), exact, context({ slotMs: 5000 }))).toBe(5000);
    // OPERATION_TIME_LIMIT: until the window resets, if that is not too far off.
    expect(retryDelay(errors.operating(NOW + 90_000), exact, context())).toBe(90_000);
    expect(retryDelay(errors.operating(NOW - 5), exact, context())).toBe(0);
    expect(retryDelay(errors.operating(NOW + 700_000), exact, context())).toBeUndefined();
    expect(retryDelay(errors.operating(NOW + 700_000), { ...exact, maxLimitWait: 800_000 }, context())).toBe(
      700_000,
    );
    // No reset time known: a minute.
    expect(retryDelay(errors.operating(), exact, context())).toBe(60_000);
    // OVERLOAD_LIMIT is a block by hand: waiting does not lift it.
    expect(retryDelay(errors.overload(), exact, context({ idempotent: true }))).toBeUndefined();
  });

  test('4. a failure that certainly did not reach the portal retries, even untagged', () => {
    expect(retryDelay(errors.refused(), exact, context())).toBe(500);
    expect(retryDelay(errors.refused(), exact, context({ attempt: 2 }))).toBe(1000);
  });

  test('5. a failure that may have been applied retries only when the call is idempotent', () => {
    for (const error of [errors.reset(), errors.timeout(), errors.server()]) {
      expect(error.delivery).toBe('unknown');
      expect(retryDelay(error, exact, context())).toBeUndefined();
      expect(retryDelay(error, exact, context({ idempotent: true }))).toBe(500);
    }
  });

  test('6. other error answers do not retry: the portal decided', () => {
    expect(retryDelay(errors.badInput(), exact, context({ idempotent: true }))).toBeUndefined();
  });

  test('back-off doubles up to maxDelay', () => {
    const policy = { ...exact, delay: 100, maxDelay: 1000, limit: 10 };
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) =>
      retryDelay(errors.refused(), policy, context({ attempt })),
    );
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  test('jitter stays within its bounds', () => {
    const jittered = { ...DEFAULT_RETRY, maxDelay: 3000 };
    for (const r of [0, 0.25, 0.999999]) {
      const random = () => r;
      for (const attempt of [1, 2, 3, 4]) {
        const exp = Math.min(3000, 500 * 2 ** (attempt - 1));
        // Full jitter below the exponential delay.
        const plain = retryDelay(errors.refused(), jittered, context({ attempt, random })) as number;
        expect(plain).toBeGreaterThanOrEqual(0);
        expect(plain).toBeLessThan(exp);
        // Never sooner than a slot after a 503, never past maxDelay.
        const limited = retryDelay(errors.queryLimit(), jittered, context({ attempt, random })) as number;
        expect(limited).toBeGreaterThanOrEqual(500);
        expect(limited).toBeLessThanOrEqual(3000);
      }
      // After the operating reset, spread over at most a second.
      const operating = retryDelay(errors.operating(NOW + 10_000), jittered, context({ random })) as number;
      expect(operating).toBeGreaterThanOrEqual(10_000);
      expect(operating).toBeLessThan(11_000);
    }
  });

  test('shouldRetry has the last word on steps 3 to 6, told whether a retry is safe', () => {
    const seen: [string, number, boolean][] = [];
    const record =
      (verdict: boolean | undefined) =>
      (error: B24Error, attempt: number, safe: boolean): boolean | undefined => {
        seen.push([error.name, attempt, safe]);
        return verdict;
      };
    // A veto stops even a rate-limit retry.
    expect(
      retryDelay(errors.queryLimit(), { ...exact, shouldRetry: record(false) }, context()),
    ).toBeUndefined();
    // Forcing an untagged 500 retries it, with the ordinary back-off.
    expect(
      retryDelay(errors.server(), { ...exact, shouldRetry: record(true) }, context({ attempt: 2 })),
    ).toBe(1000);
    // Undefined keeps b24notify's decision.
    expect(
      retryDelay(errors.reset(), { ...exact, shouldRetry: record(undefined) }, context()),
    ).toBeUndefined();
    expect(retryDelay(errors.refused(), { ...exact, shouldRetry: record(undefined) }, context())).toBe(500);
    expect(seen).toEqual([
      ['B24RateLimitError', 1, true],
      ['B24ApiError', 2, false],
      ['B24NetworkError', 1, false],
      ['B24NetworkError', 1, true],
    ]);
  });
});

interface LogEntry {
  status: number;
  fault?: string;
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

/** Whatever a promise settles with, thrown or not. */
async function outcome<T>(run: () => Promise<T>): Promise<T | B24Error> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof B24Error) return err;
    throw err;
  }
}

describe.each(TRANSPORTS)('retries against the portal over %s', (transport) => {
  let p: TestPortal;
  afterEach(() => p.close());

  async function attempts(): Promise<LogEntry[]> {
    const { requests } = await p.control<{ requests: LogEntry[] }>('GET', `/requests?method=${PERSONAL}`);
    return requests.reverse();
  }
  async function stored(tag?: string): Promise<number> {
    const query = tag ? `?tag=${tag}` : '';
    return (await p.control<{ total: number }>('GET', `/notifications${query}`)).total;
  }
  async function fault(...sequence: unknown[]): Promise<void> {
    await p.control('PUT', '/chaos', { rules: [{ method: PERSONAL, sequence }] });
  }
  const send = (tag?: string) =>
    outcome(() =>
      p.webhookClient().notify.personal({ userId: 2, message: 'Invoice paid', ...(tag ? { tag } : {}) }),
    );

  test.each([
    ['a reset connection', { type: 'reset' }, 'B24NetworkError'],
    ['a 500', { type: 'error', code: 'INTERNAL_SERVER_ERROR' }, 'B24ApiError'],
    ['a cut-off answer', { type: 'truncate' }, 'B24NetworkError'],
  ])('%s may have been applied: untagged it fails as delivery unknown, sent once', async (_, f, name) => {
    p = await startPortal(transport);
    await fault(f, null);
    const error = await send();
    expect(error).toBeInstanceOf(B24Error);
    expect((error as B24Error).name).toBe(name);
    expect((error as B24Error).delivery).toBe('unknown');
    expect(await attempts()).toHaveLength(1);
    // A cut-off answer was applied; the others were not. Never two.
    expect(await stored()).toBe(f.type === 'truncate' ? 1 : 0);
  });

  test.each([
    ['a reset connection', { type: 'reset' }],
    ['a 500', { type: 'error', code: 'INTERNAL_SERVER_ERROR' }],
    ['a cut-off answer', { type: 'truncate' }],
  ])('%s with a TAG is retried, and exactly one notification remains', async (_, f) => {
    p = await startPortal(transport);
    await fault(f, null);
    const answer = await send('invoice-42');
    expect(answer).not.toBeInstanceOf(Error);
    expect((await attempts()).map((e) => e.status)).toEqual([
      f.type === 'reset' ? 0 : expect.any(Number),
      200,
    ]);
    expect(await stored()).toBe(1);
    expect(await stored('invoice-42')).toBe(1);
  });

  test.each([undefined, 'invoice-43'])(
    'QUERY_LIMIT_EXCEEDED is retried (tag %s): never applied',
    async (tag) => {
      p = await startPortal(transport);
      await fault(
        { type: 'error', code: 'QUERY_LIMIT_EXCEEDED' },
        { type: 'error', code: 'QUERY_LIMIT_EXCEEDED' },
        null,
      );
      const answer = await send(tag);
      expect(answer).not.toBeInstanceOf(Error);
      expect((await attempts()).map((e) => e.status)).toEqual([503, 503, 200]);
      expect(await stored()).toBe(1);
      // The back-off was at least a slot of the bucket each time.
      expect(p.clock.slept).toBeGreaterThanOrEqual(1000);
    },
  );

  test('a refused connection is retried up to the limit and fails as not delivered', async () => {
    p = await startPortal(transport);
    let calls = 0;
    const client = createClient({
      webhookUrl: `${transport}://127.0.0.1:${await closedPort()}/rest/1/code/`,
      pacing: false,
      clock: p.clock,
      retry: { limit: 2 },
      fetch: (input, init) => {
        calls += 1;
        return fetch(input, init);
      },
    });
    const error = await outcome(() => client.notify.personal({ userId: 2, message: 'x' }));
    expect(error).toBeInstanceOf(B24NetworkError);
    expect((error as B24NetworkError).code).toBe('ECONNREFUSED');
    expect((error as B24NetworkError).delivery).toBe('not-delivered');
    expect(calls).toBe(3);
  });

  test('the limit, retry: false and shouldRetry are honoured', async () => {
    p = await startPortal(transport);
    const server = { type: 'error', code: 'INTERNAL_SERVER_ERROR' };
    await fault(server, server, server, server);
    const limited = await outcome(() =>
      p.webhookClient({ retry: { limit: 2 } }).notify.personal({ userId: 2, message: 'x', tag: 't' }),
    );
    expect(limited).toBeInstanceOf(B24ApiError);
    expect((limited as B24ApiError).code).toBe('INTERNAL_SERVER_ERROR');
    expect(await attempts()).toHaveLength(3);

    await p.control('POST', '/reset');
    await fault({ type: 'error', code: 'QUERY_LIMIT_EXCEEDED' }, null);
    const none = await outcome(() =>
      p.webhookClient({ retry: false }).notify.personal({ userId: 2, message: 'x' }),
    );
    expect(none).toBeInstanceOf(B24RateLimitError);
    expect((none as B24RateLimitError).delivery).toBe('not-delivered');
    expect(await attempts()).toHaveLength(1);

    await p.control('POST', '/reset');
    await fault({ type: 'error', code: 'QUERY_LIMIT_EXCEEDED' }, null);
    const vetoed = await outcome(() =>
      p.webhookClient({ retry: { shouldRetry: () => false } }).notify.personal({ userId: 2, message: 'x' }),
    );
    expect(vetoed).toBeInstanceOf(B24RateLimitError);
    expect(await attempts()).toHaveLength(1);
    expect(await stored()).toBe(0);
  });

  test('a caller who knows a send is safe can say so per call', async () => {
    p = await startPortal(transport);
    await fault({ type: 'error', code: 'INTERNAL_SERVER_ERROR' }, null);
    const answer = await p.webhookClient().notify.personal({ userId: 2, message: 'x' }, { idempotent: true });
    expect(answer.result).toBe(1);
    expect(await attempts()).toHaveLength(2);
  });
});

describe('a timeout after sending', () => {
  // Real time: the portal holds the first answer for 3 s, the client gives up after 1 s; the
  // retry's own answer has that second to come back, which a busy machine still allows.
  let p: TestPortal;
  afterEach(() => p.close());

  /** Wait until the portal has handled `count` calls, the late one included. */
  async function handled(count: number): Promise<void> {
    await expect
      .poll(
        async () =>
          (await p.control<{ requests: LogEntry[] }>('GET', `/requests?method=${PERSONAL}`)).requests.length,
        { timeout: 60_000, interval: 50 },
      )
      .toBeGreaterThanOrEqual(count);
  }

  test.each([undefined, 'invoice-44'])('is delivery unknown, and never ends in two (tag %s)', async (tag) => {
    p = await startPortal('https');
    await p.control('PUT', '/chaos', {
      rules: [{ method: PERSONAL, sequence: [{ type: 'delay', ms: 3_000 }] }],
    });
    const client = p.webhookClient({ timeout: 1_000 });
    const result = await outcome(() =>
      client.notify.personal({ userId: 2, message: 'x', ...(tag ? { tag } : {}) }),
    );
    if (tag) {
      expect(result).not.toBeInstanceOf(Error);
    } else {
      expect(result).toBeInstanceOf(B24TimeoutError);
      expect((result as B24TimeoutError).delivery).toBe('unknown');
      expect((result as B24TimeoutError).timeout).toBe(1_000);
    }
    await handled(tag ? 2 : 1);
    const { total } = await p.control<{ total: number }>('GET', '/notifications');
    // The late original was applied too; its TAG replaced the retry's copy.
    expect(total).toBe(1);
  });
});
