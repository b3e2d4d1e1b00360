/** `b24notify queue worker|status|resume`: the built binary against a real redis-server and the emulator. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { RunningEmulator } from '@b24notify/emulator';
import { createQueue, startWorker, type NotificationQueue, type PortalConfig } from '@b24notify/queue';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, startRedis, type RunningRedis } from '../../queue/test/support/redis.js';
import { BIN, emulator, json, run, sandbox, webhookCode } from './support.js';

let redis: RunningRedis;
let emu: RunningEmulator;
let queue: NotificationQueue;
const key = randomBytes(32).toString('hex');
const box = sandbox();

beforeAll(async () => {
  redis = await startRedis();
  emu = await emulator();
  queue = createQueue({ connection: redis.url, secretKey: key });
});
afterAll(async () => {
  await queue?.close();
  await emu?.close();
  await redis?.stop();
});

/** Wait for a state, polled; bounded so a broken run fails instead of hanging. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('b24notify queue', () => {
  test('worker sends what is queued and stops gracefully on SIGTERM; status shows it', async () => {
    await queue.portals.set('acme', { webhookUrl: emu.webhookUrl, clientId: 'cli' });
    await queue.sendMany(
      'acme',
      Array.from({ length: 120 }, (_, i) => ({ key: `cli-${i}`, userId: 1, message: `from the cli ${i}` })),
    );
    const child = spawn(
      process.execPath,
      [BIN, 'queue', 'worker', '--redis', redis.url, '--concurrency', '2'],
      {
        env: { PATH: process.env.PATH ?? '', ...box.env, B24NOTIFY_QUEUE_KEY: key },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until(() => stderr.includes('running'), 'the worker to start');
      await until(async () => (await queue.stats('acme')).sent === 120, '120 sent');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('queue worker: stopped');
    expect(stdout + stderr).not.toContain(key);
    expect(stdout + stderr).not.toContain(webhookCode(emu));

    const all = await run(['queue', 'status', '--redis', redis.url, '--json'], { env: box.env });
    expect(all.code, all.stderr).toBe(0);
    expect(json(all)).toMatchObject({ portals: { acme: { sent: 120, pending: 0 } }, total: { sent: 120 } });
    const one = await run(['queue', 'status', '--redis', redis.url, '--portal', 'acme', '--json'], {
      env: box.env,
    });
    expect(json(one)).toMatchObject({ pending: 0, sending: 0, sent: 120, failed: 0, refused: 0, parked: 0 });
  });

  test('resume: a portal parked for a refused webhook goes again once the store is fixed; no key needed', async () => {
    const prefix = 'cliresume';
    const producer = createQueue({ connection: redis.url, prefix });
    const store: Record<string, PortalConfig> = {
      broken: {
        webhookUrl: emu.webhookUrl.replace(/\/rest\/(\d+)\/[^/]+\//, '/rest/$1/not-the-code/'),
        clientId: 'cli-resume',
      },
    };
    const worker = await startWorker({
      connection: redis.url,
      prefix,
      sweepInterval: 500,
      resolvePortal: (id) => store[id],
    });
    const env = { ...box.env };
    try {
      await producer.sendMany(
        'broken',
        Array.from({ length: 5 }, (_, i) => ({ key: `cli-resume-${i}`, userId: 1, message: `resume ${i}` })),
      );
      await until(async () => (await producer.stats('broken')).parked === 5, '5 parked');
      store.broken = { webhookUrl: emu.webhookUrl, clientId: 'cli-resume' };

      const r = await run(['queue', 'resume', 'broken', '--redis', redis.url, '--prefix', prefix], { env });
      expect(r.code, r.all).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stdout).toMatch(/^portal broken resumed: 5 waiting go again \(it was parked for .+\)\n$/);
      expect(r.all).not.toContain('not-the-code');
      expect(r.all).not.toContain(webhookCode(emu));
      await until(async () => (await producer.stats('broken')).sent === 5, '5 sent after resume');

      const again = await run(['queue', 'resume', 'broken', '--redis', redis.url, '--prefix', prefix], {
        env,
      });
      expect(again.code, again.all).toBe(0);
      expect(again.stdout).toBe('portal broken is not parked: nothing to do (0 waiting)\n');
      const asJson = await run(
        ['queue', 'resume', '--portal', 'broken', '--redis', redis.url, '--prefix', prefix, '--json'],
        { env },
      );
      expect(json(asJson)).toEqual({ portal: 'broken', resumed: false, waiting: 0 });

      const unknown = await run(['queue', 'resume', 'brokn', '--redis', redis.url, '--prefix', prefix], {
        env,
      });
      expect(unknown.code).toBe(2);
      expect(unknown.stdout).toBe('');
      expect(unknown.stderr).toMatch(/^b24notify queue: portalId "brokn": no such portal/);
      expect(unknown.stderr).not.toMatch(/\n\s+at /);
      const none = await run(['queue', 'resume', '--redis', redis.url], { env });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('resume PORTAL');
    } finally {
      await worker.close();
      await producer.close();
    }
  });

  test('usage errors name what to fix', async () => {
    const noRedis = await run(['queue', 'status'], { env: box.env });
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toContain('--redis URL');
    const noKey = await run(['queue', 'worker', '--redis', redis.url], { env: box.env });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('B24NOTIFY_QUEUE_KEY');
    const badAction = await run(['queue', 'drain', '--redis', redis.url], { env: box.env });
    expect(badAction.stderr).toContain('expected worker, status, resume');
    const badPortal = await run(['queue', 'status', '--redis', redis.url, '--portal', 'no way!'], {
      env: box.env,
    });
    expect(badPortal.code).not.toBe(0);
    expect(badPortal.stderr).toContain('portalId');
  });
});

describe('b24notify queue, when Redis cannot be used', () => {
  const secret = `pw-${randomBytes(8).toString('hex')}`;
  let guarded: RunningRedis;
  let other: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    guarded = await startRedis({ args: ['--requirepass', 'the-right-one'] });
    // Another service on the port: it answers with an HTTP error.
    other = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => other?.close(resolve));
    await guarded?.stop();
  });

  /**
   * `queue status` and `queue worker` both: one line on stderr, `code`, no password, no stack.
   * `timeoutMs`: short where only the deadline ends the wait (long enough for a loopback refusal
   * on a busy machine), long where the answer fails start-up at once. Never asserted as a time.
   */
  async function refused(url: string, code: number, what: RegExp, timeoutMs: number): Promise<string> {
    const lines: string[] = [];
    for (const action of ['status', 'worker']) {
      const r = await run(['queue', action, '--redis', url, '--connect-timeout', String(timeoutMs)], {
        env: { ...box.env, B24NOTIFY_QUEUE_KEY: key },
      });
      expect(r.code, r.all).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^b24notify queue: /);
      expect(r.stderr).toMatch(what);
      expect(r.all).not.toContain(secret);
      expect(r.all).not.toContain(key);
      expect(r.all).not.toMatch(/\n\s+at /);
      lines.push(r.stderr);
    }
    expect(lines[1]).toBe(lines[0]);
    return lines[0] ?? '';
  }

  test('nothing listens on the port: exit 6, the address with its password masked', async () => {
    const port = await freePort();
    const line = await refused(`redis://:${secret}@127.0.0.1:${port}/1`, 6, /connection refused/, 2000);
    expect(line).toContain(`redis://:***@127.0.0.1:${port}/1`);
    expect(line).toContain('--connect-timeout');
  });

  test('a wrong password: exit 4, said so', async () => {
    const line = await refused(
      `redis://:${secret}@127.0.0.1:${guarded.port}`,
      4,
      /refused the password/,
      60_000,
    );
    expect(line).toContain(`redis://:***@127.0.0.1:${guarded.port}`);
  });

  test('no password for a Redis that requires one: exit 4, with how to give it', async () => {
    await refused(guarded.url, 4, /requires a password/, 60_000);
  });

  test('another service on the port: exit 6, not Redis', async () => {
    const address = other.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await refused(`redis://:${secret}@127.0.0.1:${port}`, 6, /is not Redis/, 60_000);
  });

  test('a bad --connect-timeout is a usage error', async () => {
    const r = await run(['queue', 'status', '--redis', redis.url, '--connect-timeout', 'soon'], {
      env: box.env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--connect-timeout');
  });
});

describe('b24notify queue worker while Redis goes away', () => {
  const secret = `pw-${randomBytes(8).toString('hex')}`;
  let flaky: RunningRedis;

  beforeAll(async () => {
    flaky = await startRedis({ args: ['--requirepass', secret], appendfsync: 'always' });
  });
  afterAll(async () => {
    await flaky?.stop();
  });

  test(
    'says when it loses Redis and when Redis answers again, the password masked',
    { timeout: 150_000 },
    async () => {
      const url = `redis://:${secret}@127.0.0.1:${flaky.port}`;
      const child = spawn(process.execPath, [BIN, 'queue', 'worker', '--redis', url], {
        env: { PATH: process.env.PATH ?? '', ...box.env, B24NOTIFY_QUEUE_KEY: key },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
      child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        await until(() => output.includes('running'), 'the worker to start');
        await flaky.kill('SIGKILL');
        await until(() => output.includes('lost Redis'), 'the loss reported');
        await flaky.restart();
        await until(() => output.includes('answers again'), 'the return reported');
      } finally {
        child.kill('SIGTERM');
      }
      // Before the fix in packages/queue/src/redis.ts, a stop in the seconds after Redis came back
      // could wait for ever (BullMQ's blocking connection never ended).
      expect(await exited).toBe(0);
      const address = `redis://:***@127.0.0.1:${flaky.port}`;
      expect(output).toContain(`queue worker: lost Redis at ${address} (`);
      expect(output).toContain(`queue worker: Redis at ${address} answers again; sending resumes`);
      expect(output).not.toContain(secret);
      expect(output).not.toMatch(/\n\s+at /);
    },
  );
});
