/**
 * Crash safety in one process: notifications a dead tick had taken (in flight under its token,
 * no tick left to finish them) are found by the sweeper and sent again under their TAG.
 */
import type { RunningEmulator } from '@b24notify/emulator';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Keys } from '../src/keys.js';
import { defineScripts, run } from '../src/scripts.js';
import { startRedis, type RunningRedis } from './support/redis.js';
import {
  Closer,
  emulator,
  newKey,
  notifications,
  queueOn,
  tagCounts,
  until,
  workerOn,
} from './support/queue.js';

let redis: RunningRedis;
let emu: RunningEmulator;
const key = newKey();
const closer = new Closer();

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'always' });
  emu = await emulator();
});
afterEach(() => closer.closeAll());
afterAll(async () => {
  await emu?.close();
  await redis?.stop();
});

test('what a dead tick held goes again, once, under the same TAG', async () => {
  const queue = queueOn(closer, redis.url, key, { prefix: 'rec' });
  await queue.portals.set('acme', { webhookUrl: emu.webhookUrl, clientId: 'rec' });
  await queue.sendMany('acme', notifications(120, 'rec'));
  // A tick takes 50 and dies before recording them: they stay in flight under its token, and its
  // BullMQ job is gone.
  const conn = new Redis(redis.url);
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
    await redis.kill('SIGKILL');
    await redis.restart();
    expect(await conn.hlen(new Keys('rec').portal('acme', 'inflight'))).toBe(50);
  } finally {
    conn.disconnect();
  }
  expect((await queue.stats('acme')).sending).toBe(50);

  await workerOn(closer, redis.url, key, { prefix: 'rec' });
  await until(async () => (await queue.stats('acme')).sent === 120, 'all 120 sent');
  const counts = tagCounts(emu);
  for (let i = 0; i < 120; i++) expect(counts.get(`rec-${i}`)).toBe(1);
  expect(await queue.result('acme', 'rec-0')).toMatchObject({ state: 'sent', attempts: 2 });
});
