/** The portal registry: encrypted at rest, a clear error without a key, or a resolver instead. */
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { createQueue, QueueError } from '@b24notify/queue';
import { newKey, queueOn, until, workerOn } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed();

/** Every key's value in Redis, whatever its type, as one string. */
async function dumpAll(url: string): Promise<string> {
  const r = new Redis(url);
  try {
    const out: string[] = [];
    for (const k of await r.keys('*')) {
      const type = await r.type(k);
      out.push(k);
      if (type === 'string') out.push((await r.get(k)) ?? '');
      else if (type === 'hash') out.push(JSON.stringify(await r.hgetall(k)));
      else if (type === 'list') out.push(JSON.stringify(await r.lrange(k, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await r.smembers(k)));
      else if (type === 'zset') out.push(JSON.stringify(await r.zrange(k, '0', '-1')));
      else if (type === 'stream') out.push(JSON.stringify(await r.xrange(k, '-', '+')));
    }
    // The persisted form too: what a dump or a replica would carry.
    await r.save();
    return out.join('\n');
  } finally {
    r.disconnect();
  }
}

describe('registry', () => {
  test('no secret is readable in Redis: webhook code, tokens and client secret are sealed', async () => {
    const queue = bed.queue({ prefix: 'enc' });
    const code = new URL(bed.emu.webhookUrl).pathname.split('/')[3] ?? '';
    expect(code.length).toBeGreaterThan(5);
    await queue.portals.set('hook', { webhookUrl: bed.emu.webhookUrl, clientId: 'app' });
    await queue.portals.set('app', {
      portal: bed.emu.url,
      oauth: {
        clientId: bed.emu.tokens.clientId,
        clientSecret: bed.emu.tokens.clientSecret,
        accessToken: bed.emu.tokens.accessToken,
        refreshToken: bed.emu.tokens.refreshToken,
        tokenUrl: `${bed.emu.url}/oauth/token/`,
      },
    });
    await queue.send('hook', { userId: 1, message: 'sealed' }, { key: 's1' });
    await bed.worker({ prefix: 'enc' });
    await until(async () => (await queue.result('hook', 's1'))?.state === 'sent', 'sent');

    const dump = await dumpAll(bed.redis.url);
    for (const secret of [
      code,
      bed.emu.tokens.clientSecret,
      bed.emu.tokens.accessToken,
      bed.emu.tokens.refreshToken,
    ]) {
      expect(dump).not.toContain(secret);
    }
    expect(dump).toContain('enc:portals');
    expect(await queue.portals.get('hook')).toEqual({ webhookUrl: bed.emu.webhookUrl, clientId: 'app' });
    expect(await queue.portals.list()).toEqual([
      { id: 'app', host: new URL(bed.emu.url).host, auth: 'oauth', parked: false },
      { id: 'hook', host: new URL(bed.emu.url).host, auth: 'webhook', parked: false },
    ]);

    // Another key cannot read them, and says so without a stack of internals.
    const other = queueOn(bed.closer, bed.redis.url, newKey(), { prefix: 'enc' });
    await expect(other.portals.get('hook')).rejects.toMatchObject({ name: 'QueueError', code: 'DECRYPT' });
    expect(await queue.portals.remove('hook')).toBe(true);
    expect(await queue.portals.get('hook')).toBeUndefined();
  });

  test('without a key, the registry names the variable to set; sending still works', async () => {
    const saved = process.env.B24NOTIFY_QUEUE_KEY;
    delete process.env.B24NOTIFY_QUEUE_KEY;
    try {
      const queue = bed.closer.add(createQueue({ connection: bed.redis.url, prefix: 'nokey' }));
      const err = await queue.portals.set('x', { webhookUrl: bed.emu.webhookUrl }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueError);
      expect((err as Error).message).toMatch(/B24NOTIFY_QUEUE_KEY/);
      expect((await queue.send('x', { userId: 1, message: 'queued' })).duplicate).toBe(false);
      const bad = bed.closer.add(
        createQueue({ connection: bed.redis.url, secretKey: 'short', prefix: 'nokey' }),
      );
      await expect(bad.portals.list()).rejects.toThrow(/secretKey option is not 32 bytes/);
    } finally {
      if (saved !== undefined) process.env.B24NOTIFY_QUEUE_KEY = saved;
    }
  });

  test('a bad config is refused with its field named', async () => {
    const queue = bed.queue({ prefix: 'bad' });
    await expect(queue.portals.set('x', { webhookUrl: 'not a url' })).rejects.toThrow(/webhookUrl/);
    await expect(
      queue.portals.set('x', {
        webhookUrl: bed.emu.webhookUrl,
        limits: { bucket: { capacity: 0, drainPerSecond: 1 } },
      }),
    ).rejects.toThrow(/limits\.bucket\.capacity/);
    await expect(
      queue.portals.set('x', {
        portal: bed.emu.url,
        oauth: { clientId: 'a', clientSecret: '', accessToken: 'b', refreshToken: 'c' },
      }),
    ).rejects.toThrow(/oauth\.clientSecret/);
  });

  test('a resolver supplies portals from the caller’s own store; the registry is not needed', async () => {
    const queue = bed.queue({ prefix: 'res' });
    const asked: string[] = [];
    await bed.worker({
      prefix: 'res',
      secretKey: undefined,
      resolvePortal: (id) => {
        asked.push(id);
        return id === 'mine' ? { webhookUrl: bed.emu.webhookUrl, clientId: 'own-store' } : undefined;
      },
    });
    await queue.send('mine', { userId: 2, message: 'from the resolver' }, { key: 'r1' });
    await until(async () => (await queue.result('mine', 'r1'))?.state === 'sent', 'sent');
    expect(asked).toContain('mine');
    expect(bed.emu.portal.store.all().filter((x) => x.tag === 'r1')).toHaveLength(1);
    // One the resolver does not know waits, parked, instead of failing.
    await queue.send('unknown', { userId: 2, message: 'nobody' }, { key: 'r2' });
    await until(async () => (await queue.result('unknown', 'r2'))?.state === 'parked', 'parked');
  });
});

describe('a worker with the wrong key', () => {
  test('reports it through onError and parks nothing; a worker with the right key delivers', async () => {
    const queue = bed.queue({ prefix: 'wrong' });
    await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl, clientId: 'wrong' });
    await queue.send('acme', { userId: 1, message: 'needs the right key' }, { key: 'w1' });
    const errors: { message: string; portalId: string }[] = [];
    const wrong = await workerOn(bed.closer, bed.redis.url, newKey(), {
      prefix: 'wrong',
      onError: (err, portalId) => errors.push({ message: err.message, portalId }),
    });
    await until(() => errors.length > 0, 'the error reported');
    expect(errors[0]).toMatchObject({ portalId: 'acme' });
    expect(errors[0]?.message).toMatch(/cannot be decrypted/);
    await wrong.close();
    expect(await queue.portals.list()).toEqual([expect.objectContaining({ id: 'acme', parked: false })]);
    await bed.worker({ prefix: 'wrong' });
    await until(async () => (await queue.result('acme', 'w1'))?.state === 'sent', 'sent with the right key');
  });
});
