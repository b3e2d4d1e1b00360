/** Per-portal batching: notifications added one by one leave 50 to a batch when there is a backlog. */
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startRedis, type RunningRedis } from './support/redis.js';
import {
  batchSizes,
  Closer,
  emulator,
  newKey,
  notifications,
  queueOn,
  requests,
  tagCounts,
  until,
  workerOn,
} from './support/queue.js';

let redis: RunningRedis;
let emu: RunningEmulator;
const key = newKey();
const closer = new Closer();

beforeAll(async () => {
  redis = await startRedis();
  // The standard plan's limits, on: the batches stay within them.
  emu = await emulator({ portal: { plan: 'standard' } });
});
afterEach(() => closer.closeAll());
afterAll(async () => {
  await emu?.close();
  await redis?.stop();
});

test('500 notifications added one by one leave in 10 batches of exactly 50', async () => {
  const queue = queueOn(closer, redis.url, key);
  await queue.portals.set('acme', { webhookUrl: emu.webhookUrl, clientId: 'batching' });
  for (const n of notifications(500, 'one')) {
    const { key: k, ...notification } = n;
    await queue.send('acme', notification, { key: k });
  }
  await workerOn(closer, redis.url, key, { concurrency: 4 });
  await until(async () => (await queue.stats('acme')).sent === 500, '500 sent');

  expect(await batchSizes(emu)).toEqual(Array(10).fill(50));
  expect((await requests(emu)).filter((r) => r.status !== 200)).toEqual([]);
  const counts = tagCounts(emu);
  for (let i = 0; i < 500; i++) expect(counts.get(`one-${i}`)).toBe(1);
  expect(await queue.stats('acme')).toMatchObject({
    pending: 0,
    sending: 0,
    sent: 500,
    refused: 0,
    batches: 10,
  });
});
