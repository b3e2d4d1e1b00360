/**
 * Crash safety in one process: notifications a dead tick had taken (in flight under its token,
 * no tick left to finish them) are found by the sweeper and sent again under their TAG.
 */
import { Redis } from 'ioredis';
import { expect, test } from 'vitest';
import { Keys } from '../src/keys.js';
import { defineScripts, run } from '../src/scripts.js';
import { notifications, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed({ redis: { appendfsync: 'always' } });

test('what a dead tick held goes again, once, under the same TAG', async () => {
  const queue = bed.queue({ prefix: 'rec' });
  await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl, clientId: 'rec' });
  await queue.sendMany('acme', notifications(120, 'rec'));
  // A tick takes 50 and dies before recording them: they stay in flight under its token, and its
  // BullMQ job is gone.
  const conn = new Redis(bed.redis.url);
  // Redis is killed below while this connection is open: its reconnect errors are expected.
  conn.on('error', () => {});
  try {
    defineScripts(conn);
    const taken = await run<string[]>(conn, 'b24qTake', [
      'rec',
      'acme',
      'dead-token',
      50,
      0,
      50,
      2,
      2,
      0,
      600_000,
      1,
      'x',
      'default',
      0.03,
      10_000,
    ]);
    expect(taken[0]).toBe('take');
    expect(await queue.bullQueue.remove('tick-acme')).toBe(1);
    // And Redis itself is killed and restarted on its AOF meanwhile.
    await bed.redis.kill('SIGKILL');
    await bed.redis.restart();
    expect(await conn.hlen(new Keys('rec').portal('acme', 'inflight'))).toBe(50);
  } finally {
    conn.disconnect();
  }
  expect((await queue.stats('acme')).sending).toBe(50);

  await bed.worker({ prefix: 'rec' });
  await until(async () => (await queue.stats('acme')).sent === 120, 'all 120 sent');
  const counts = tagCounts(bed.emu);
  for (let i = 0; i < 120; i++) expect(counts.get(`rec-${i}`)).toBe(1);
  expect(await queue.result('acme', 'rec-0')).toMatchObject({ state: 'sent', attempts: 2 });
});
