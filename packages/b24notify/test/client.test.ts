import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo, type Server } from 'node:net';
import type { RequestLogEntry, UserConfig } from '@b24notify/emulator';
import { afterEach, describe, expect, test } from 'vitest';
import {
  B24ApiError,
  B24NetworkError,
  B24TimeoutError,
  B24ValidationError,
  createClient,
  systemClock,
  type Clock,
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

/** A clock whose sleeps return at once, for retries against a server that is not there. */
const noWait: Clock = { now: () => Date.now(), sleep: () => Promise.resolve() };

/** Listen on a free loopback port. */
async function listen<S extends Server | HttpServer>(server: S): Promise<S & { port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/**
 * A TCP relay in front of the emulator that counts the connections clients open through it:
 * evidence of keep-alive from the wire itself, whatever the client's HTTP stack does inside.
 * TLS passes through untouched (the certificate names 127.0.0.1, whatever the port).
 */
async function relay(
  targetPort: number,
): Promise<{ port: number; connections: () => number; close(): void }> {
  let connections = 0;
  const server = await listen(
    createTcpServer((socket) => {
      connections++;
      const upstream = connect(targetPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    }),
  );
  return {
    port: server.port,
    connections: () => connections,
    close: () => {
      server.close();
    },
  };
}

const sixtyUsers: UserConfig[] = Array.from({ length: 60 }, (_, i) => ({ ID: i + 1, NAME: `User ${i + 1}` }));

describe.each(TRANSPORTS)('client over %s', (transport) => {
  let p: TestPortal;
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    await p.close();
  });

  const requests = async (method: string): Promise<RequestLogEntry[]> =>
    (await p.control<{ requests: RequestLogEntry[] }>('GET', `/requests?limit=1000&method=${method}`))
      .requests;
  const stored = async (): Promise<number> =>
    (await p.control<{ total: number }>('GET', '/notifications')).total;
  const chaos = (method: string, rule: Record<string, unknown>): Promise<unknown> =>
    p.control('PUT', '/chaos', { rules: [{ method, ...rule }] });

  test('call() reaches any method, with total and next on list answers', async () => {
    p = await startPortal(transport, { portal: { users: sixtyUsers } });
    const client = p.webhookClient();
    const profile = await client.call<{ ID: unknown; NAME: string }>('profile');
    expect(Number(profile.result.ID)).toBe(1);
    expect(profile.time?.duration).toBeTypeOf('number');

    const first = await client.call<unknown[]>('user.get');
    expect(first.result).toHaveLength(50);
    expect(first.total).toBe(60);
    expect(first.next).toBe(50);
    const last = await client.call<unknown[]>('user.get', { start: first.next });
    expect(last.result).toHaveLength(10);
    expect(last.total).toBe(60);
    expect(last.next).toBeUndefined();

    // Nested parameters travel as JSON.
    const some = await client.call<{ ID: unknown }[]>('user.get', { FILTER: { '@ID': [2, 3] } });
    expect(some.result.map((u) => Number(u.ID))).toEqual([2, 3]);

    const err = await rejection(client.call('no.such.method'));
    expect(err).toBeInstanceOf(B24ApiError);
    expect(err).toMatchObject({ code: 'ERROR_METHOD_NOT_FOUND', status: 404, delivery: 'not-delivered' });
  });

  test('a timeout is delivery unknown, and an untagged send is not repeated', async () => {
    p = await startPortal(transport);
    await chaos('im.notify.personal.add', { faults: [{ type: 'delay', ms: 800 }] });
    const err = await rejection(
      p.webhookClient({ timeout: 200 }).notify.personal({ userId: 2, message: 'hi' }),
    );
    expect(err).toBeInstanceOf(B24TimeoutError);
    expect(err).toMatchObject({ timeout: 200, delivery: 'unknown', method: 'im.notify.personal.add' });
    // "Unknown" was the honest answer: the portal finishes the call after the client gave up.
    await expect.poll(stored).toBe(1);
    await expect.poll(async () => (await requests('im.notify.personal.add')).length).toBe(1);
  });

  test('a call that can be repeated safely is retried after a timeout; per-call timeouts win', async () => {
    p = await startPortal(transport);
    // The retry's answer has the 1 s timeout to come back, which a busy machine still allows.
    await chaos('profile', { sequence: [{ type: 'delay', ms: 3_000 }] });
    const client = p.webhookClient({ timeout: 60_000 });
    const answer = await client.call<{ ID: unknown }>('profile', {}, { timeout: 1_000 });
    expect(Number(answer.result.ID)).toBe(1);
    // The abandoned first attempt is logged when the portal finishes it, 3 s in.
    await expect.poll(async () => (await requests('profile')).length, { timeout: 60_000 }).toBe(2);
  });

  test('timeouts out of the timer range are refused instead of firing at once', async () => {
    p = await startPortal(transport);
    await chaos('profile', { faults: [{ type: 'delay', ms: 100 }] });
    expect(() => p.webhookClient({ timeout: 3_000_000_000 })).toThrow(B24ValidationError);
    const client = p.webhookClient();
    for (const timeout of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32]) {
      const err = await rejection(client.call('profile', {}, { timeout }));
      expect(err).toBeInstanceOf(B24ValidationError);
      expect(err).toMatchObject({ field: 'timeout', method: 'profile' });
    }
    expect(await requests('profile')).toEqual([]);
    // The longest timeout a timer holds still waits for the answer.
    const answer = await client.call<{ ID: unknown }>('profile', {}, { timeout: 2 ** 31 - 1 });
    expect(Number(answer.result.ID)).toBe(1);
  });

  test('aborting mid-call rejects with the signal reason', async () => {
    p = await startPortal(transport);
    await chaos('profile', { faults: [{ type: 'delay', ms: 1500 }] });
    const controller = new AbortController();
    const reason = new Error('user navigated away');
    const pending = rejection(p.webhookClient().call('profile', {}, { signal: controller.signal }));
    setTimeout(() => controller.abort(reason), 100);
    expect(await pending).toBe(reason);
  });

  test('an already-aborted signal rejects before anything is sent', async () => {
    p = await startPortal(transport);
    const reason = new Error('too late');
    const err = await rejection(
      p.webhookClient().notify.personal({ userId: 2, message: 'hi' }, { signal: AbortSignal.abort(reason) }),
    );
    expect(err).toBe(reason);
    expect(await requests('im.notify.personal.add')).toEqual([]);
  });

  test('a refused connection was not delivered, and is retried', async () => {
    p = await startPortal(transport);
    // A port that was just free: an emulator that listened there and stopped. (Port 1 will not
    // do: fetch refuses "bad ports" itself, without connecting.)
    const gone = await startPortal(transport);
    const webhookUrl = gone.emu.webhookUrl;
    await gone.close();
    const once = createClient({ webhookUrl, retry: false, pacing: false });
    const err = await rejection(once.notify.personal({ userId: 2, message: 'hi' }));
    expect(err).toBeInstanceOf(B24NetworkError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', delivery: 'not-delivered' });

    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const retrying = createClient({ webhookUrl, pacing: false, clock: noWait, fetch: counting });
    const again = await rejection(retrying.notify.personal({ userId: 2, message: 'hi' }));
    expect(again).toMatchObject({ code: 'ECONNREFUSED', delivery: 'not-delivered' });
    expect(attempts).toBe(5);
  });

  test('a reset on an untagged send is delivery unknown and not retried', async () => {
    p = await startPortal(transport);
    await chaos('im.notify.personal.add', { faults: [{ type: 'reset' }] });
    const err = await rejection(p.webhookClient().notify.personal({ userId: 2, message: 'hi' }));
    expect(err).toBeInstanceOf(B24NetworkError);
    expect(err).toMatchObject({ delivery: 'unknown', method: 'im.notify.personal.add' });
    const log = await requests('im.notify.personal.add');
    expect(log.map((r) => r.fault)).toEqual(['reset']);
    expect(await stored()).toBeLessThanOrEqual(1);
  });

  test('a reset on a tagged send is retried: the tag makes it safe', async () => {
    p = await startPortal(transport);
    await chaos('im.notify.personal.add', { sequence: [{ type: 'reset' }] });
    const client = p.webhookClient({ clientId: 'b24notify-test' });
    const answer = await client.notify.personal({ userId: 2, message: 'hi', tag: 'invoice-7' });
    expect(answer.result).toBeTypeOf('number');
    expect(await requests('im.notify.personal.add')).toHaveLength(2);
    expect(await stored()).toBe(1);
  });

  test('a truncated answer is delivery unknown: the portal did apply it', async () => {
    p = await startPortal(transport);
    await chaos('im.notify.personal.add', { faults: [{ type: 'truncate' }] });
    const err = await rejection(p.webhookClient().notify.personal({ userId: 2, message: 'hi' }));
    expect(err).toBeInstanceOf(B24NetworkError);
    expect(err).toMatchObject({ delivery: 'unknown' });
    expect((err as Error).message).toContain('cut off');
    expect(await requests('im.notify.personal.add')).toHaveLength(1);
    expect(await stored()).toBe(1);
  });

  test('parameters that cannot be JSON are a validation error, and nothing is sent', async () => {
    p = await startPortal(transport);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const params of [{ ID: 10n }, { FILTER: cyclic }]) {
      const err = await rejection(p.webhookClient().call('user.get', params));
      expect(err).toBeInstanceOf(B24ValidationError);
      expect(err).toMatchObject({ field: 'params', delivery: 'not-delivered' });
    }
    expect(await requests('user.get')).toEqual([]);
  });

  test('sequential calls reuse one connection (keep-alive)', async () => {
    p = await startPortal(transport);
    const r = await relay(Number(new URL(p.emu.url).port));
    cleanups.push(() => r.close());
    const webhookUrl = p.emu.webhookUrl.replace(/:\d+\//, `:${r.port}/`);
    const client = createClient({ webhookUrl, pacing: false });
    for (let i = 0; i < 20; i++) await client.call('profile');
    expect(await requests('profile')).toHaveLength(20);
    // One connection, or two when undici starts the next request before the first socket is
    // back in its pool; without keep-alive it would be twenty.
    expect(r.connections()).toBeLessThanOrEqual(2);
  });
});

describe('redirects', () => {
  let servers: HttpServer[] = [];
  afterEach(() => {
    for (const s of servers) s.closeAllConnections();
    for (const s of servers) s.close();
    servers = [];
  });

  test('are not followed: the credentials would go wherever they point', async () => {
    const reached: string[] = [];
    const target = await listen(
      createHttpServer((req, res) => {
        reached.push(req.url ?? '');
        res.end('{"result":true}');
      }),
    );
    const code = 'webhookcode1234';
    const portal = await listen(
      createHttpServer((req, res) => {
        req.resume();
        res.writeHead(308, { location: `http://127.0.0.1:${target.port}${req.url ?? '/'}` }).end();
      }),
    );
    servers = [target, portal];
    const client = createClient({
      webhookUrl: `http://127.0.0.1:${portal.port}/rest/1/${code}/`,
      pacing: false,
      clock: noWait,
    });
    const err = await rejection(client.call('profile'));
    expect(err).toBeInstanceOf(B24NetworkError);
    expect(err).toMatchObject({ delivery: 'not-delivered' });
    expect((err as Error).message).toContain(`http://127.0.0.1:${target.port}`);
    expect((err as Error).message).not.toContain(code);
    expect(reached).toEqual([]);
  });
});

describe('the system clock', () => {
  test('a sleep longer than a timer holds does not end early', async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(2 ** 31 + 1000, controller.signal).then(
      () => 'woke',
      () => 'aborted',
    );
    const first = await Promise.race([sleeping, new Promise((r) => setTimeout(() => r('still asleep'), 50))]);
    expect(first).toBe('still asleep');
    controller.abort();
    expect(await sleeping).toBe('aborted');
  });
});
