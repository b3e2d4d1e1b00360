/**
 * Start-up against a Redis that is not there, refuses the password or is not Redis: a
 * `QueueError` that says what happened and what to do, with the password masked, instead of a
 * wait without end. A Redis that comes up during start-up is waited for.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createQueue,
  QueueError,
  startWorker,
  type QueueErrorCode,
  type RedisConnection,
} from '@b24notify/queue';
import { redisAddress } from '../src/redis.js';
import { freePort, startRedis } from './support/redis.js';
import { until, workerOn } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

/** Its redis-server wants a password, `the-right-one`. */
const bed = useQueueTestbed({ redis: { args: ['--requirepass', 'the-right-one'] }, emulators: {} });
/** The password the tests give; it must never show in a message. */
const secret = `pw-${randomBytes(8).toString('hex')}`;
/**
 * For what only the deadline ends (nothing listens, nothing answers): short, so the test is
 * quick, yet long enough for a loopback refusal to arrive on a busy machine. Never asserted as a
 * duration.
 */
const SHORT = 2000;
/**
 * For answers that fail start-up at once (a refused password, not Redis): long, so that only
 * the answer can end the wait, however slow the machine.
 */
const LONG = 60_000;

let garbage: Server;
let silent: Server;
const sockets = new Set<Socket>();

/** A TCP server on a free loopback port that does `onSocket` with each connection. */
async function tcpServer(onSocket: (socket: Socket) => void): Promise<Server> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  // Another service on the port: it answers whatever comes with an HTTP error.
  garbage = await tcpServer((socket) =>
    socket.on('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n')),
  );
  // A port that accepts and never says anything.
  silent = await tcpServer(() => {});
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => garbage?.close(resolve));
  await new Promise((resolve) => silent?.close(resolve));
});

/**
 * Start-up of a worker, and the first command of a queue, both refused with `code` and a
 * message matching `what`; neither the error nor its inspection holds the password.
 */
async function refused(
  connection: RedisConnection,
  code: QueueErrorCode,
  what: RegExp,
  connectTimeoutMs: number,
): Promise<string> {
  const err = await startWorker({ connection, secretKey: bed.key, connectTimeoutMs }).then(
    (worker) => bed.closer.add(worker) && undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueueError);
  expect((err as QueueError).code).toBe(code);
  const message = (err as QueueError).message;
  expect(message).toMatch(what);
  expect(inspect(err, { depth: 5 })).not.toContain(secret);

  const queue = bed.closer.add(createQueue({ connection, secretKey: bed.key, connectTimeoutMs }));
  // Commands that arrive together share the one wait; the registry's too.
  const [first, ...others] = await Promise.allSettled([
    queue.stats(),
    queue.portals.list(),
    queue.send('acme', { userId: 1, message: 'hello' }),
  ]);
  expect(first).toMatchObject({ status: 'rejected', reason: { name: 'QueueError', code, message } });
  expect(inspect(first, { depth: 5 })).not.toContain(secret);
  for (const other of others) expect(other).toMatchObject({ status: 'rejected', reason: { code } });
  return message;
}

describe('start-up fails clearly', () => {
  test('nothing listens on the port: REDIS, the address with its password masked', async () => {
    const port = await freePort();
    const message = await refused(
      `redis://:${secret}@127.0.0.1:${port}/3`,
      'REDIS',
      /connection refused/,
      SHORT,
    );
    expect(message).toContain(`redis://:***@127.0.0.1:${port}/3`);
    expect(message).toMatch(/check the host and port/);
    // The same with ioredis options, a user name kept (it is no secret).
    const fromOptions = await refused(
      { host: '127.0.0.1', port, username: 'app', password: secret },
      'REDIS',
      /connection refused/,
      SHORT,
    );
    expect(fromOptions).toContain(`redis://app:***@127.0.0.1:${port}`);
  });

  test('a wrong password: REDIS_AUTH, said so, the password masked', async () => {
    const port = bed.redis.port;
    const message = await refused(
      `redis://:${secret}@127.0.0.1:${port}`,
      'REDIS_AUTH',
      /refused the password/,
      LONG,
    );
    expect(message).toContain(`redis://:***@127.0.0.1:${port}`);
  });

  test('no password for a Redis that requires one: REDIS_AUTH, with how to give it', async () => {
    await refused(bed.redis.url, 'REDIS_AUTH', /requires a password and none was given \(NOAUTH\)/, LONG);
  });

  test('the right password starts', async () => {
    const connection = `redis://:the-right-one@127.0.0.1:${bed.redis.port}`;
    await workerOn(bed.closer, connection, bed.key, { connectTimeoutMs: LONG });
    const queue = bed.closer.add(createQueue({ connection, secretKey: bed.key, connectTimeoutMs: LONG }));
    expect(await queue.stats()).toMatchObject({ pending: 0 });
  });

  test('another service on the port: REDIS, not Redis', async () => {
    await refused(`redis://127.0.0.1:${portOf(garbage)}`, 'REDIS', /is not Redis/, LONG);
  });

  test('a port that never answers: REDIS once connectTimeoutMs is over', async () => {
    await refused(`redis://:${secret}@127.0.0.1:${portOf(silent)}`, 'REDIS', /did not answer as Redis/, 500);
  });

  test('a bad connectTimeoutMs is refused by name, before any connection', async () => {
    await expect(
      workerOn(bed.closer, 'redis://127.0.0.1:1', bed.key, { connectTimeoutMs: -1 }),
    ).rejects.toThrow(/connectTimeoutMs/);
    expect(() => createQueue({ connection: 'redis://127.0.0.1:1', connectTimeoutMs: 1.5 })).toThrow(
      /connectTimeoutMs/,
    );
  });
});

describe('the address in messages', () => {
  test('shows where, never the password, in every form a connection takes', () => {
    const encoded = encodeURIComponent(`${secret}/+@`);
    const cases: [RedisConnection, string][] = [
      [`redis://:${secret}@10.0.0.5:6380/2`, 'redis://:***@10.0.0.5:6380/2'],
      [`rediss://app:${encoded}@redis.example.com`, 'rediss://app:***@redis.example.com:6379'],
      [`redis://10.0.0.5:6379/0?password=${secret}`, 'redis://:***@10.0.0.5:6379/0'],
      ['redis://10.0.0.5', 'redis://10.0.0.5:6379'],
      [{ host: '::1', port: 7000, password: secret, tls: {} }, 'rediss://:***@[::1]:7000'],
      [{ path: '/run/redis.sock', password: secret }, 'unix:/run/redis.sock (password ***)'],
      [
        { sentinels: [{ host: 's1', port: 26379 }, { host: 's2' }], name: 'main', password: secret },
        'sentinel master "main" via s1:26379,s2:26379 (password ***)',
      ],
    ];
    for (const [connection, shown] of cases) {
      expect(redisAddress(connection)).toBe(shown);
      expect(redisAddress(connection)).not.toContain(secret);
    }
  });
});

describe('a Redis that comes up during start-up', () => {
  test('is waited for; a queue whose first command gave up tries again on the next', async () => {
    const port = await freePort();
    const connection = `redis://127.0.0.1:${port}`;
    const queue = bed.closer.add(createQueue({ connection, secretKey: bed.key, connectTimeoutMs: SHORT }));
    await expect(queue.stats()).rejects.toMatchObject({ code: 'REDIS' });

    // Something that drops every connection, so we know the worker is already trying.
    let attempts = 0;
    const dropper = await new Promise<Server>((resolve) => {
      const s = createServer((socket) => {
        attempts++;
        socket.destroy();
      });
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
    // Bounded so that a broken run fails; the wait itself is for the state below.
    const starting = workerOn(bed.closer, connection, bed.key, { connectTimeoutMs: 120_000 });
    starting.catch(() => {});
    await until(() => attempts > 0, 'the worker to try the port');
    await new Promise((resolve) => dropper.close(resolve));

    const late = await startRedis({ port });
    try {
      await starting;
      expect(await queue.stats()).toMatchObject({ pending: 0 });
    } finally {
      await bed.closer.closeAll();
      await late.stop();
    }
  });
});
