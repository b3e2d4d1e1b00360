/**
 * Portals do not hold each other up: a portal whose limits make it wait delays only its own
 * notifications, and a portal with a large backlog does not starve one with a few.
 */
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startRedis, type RunningRedis } from './support/redis.js';
import {
  Closer,
  emulator,
  newKey,
  notifications,
  queueOn,
  requests,
  until,
  workerOn,
} from './support/queue.js';

let redis: RunningRedis;
let slow: RunningEmulator;
let fast: RunningEmulator;
const key = newKey();
const closer = new Closer();

beforeAll(async () => {
  redis = await startRedis();
  // A bucket of 3 draining 1 a second: 1,000 notifications take about 18 s at the most.
  slow = await emulator({
    portal: { limits: { intensity: { capacity: 3, drainPerSecond: 1 }, operating: false } },
  });
  fast = await emulator();
});
afterEach(() => closer.closeAll());
afterAll(async () => {
  await slow?.close();
  await fast?.close();
  await redis?.stop();
});

test('a portal held by its limits does not delay another, and is never refused', async () => {
  const queue = queueOn(closer, redis.url, key, { prefix: 'iso' });
  await queue.portals.set('slow', {
    webhookUrl: slow.webhookUrl,
    limits: { bucket: { capacity: 3, drainPerSecond: 1 } },
  });
  await queue.portals.set('fast', { webhookUrl: fast.webhookUrl });
  await queue.sendMany('slow', notifications(1000, 'slow'));
  await workerOn(closer, redis.url, key, { prefix: 'iso', concurrency: 2 });
  await until(async () => (await queue.stats('slow')).sent >= 50, 'the slow portal has started');
  await queue.sendMany('fast', notifications(20, 'fast'));
  await until(async () => (await queue.stats('fast')).sent === 20, 'the fast portal is done');

  const slowStats = await queue.stats('slow');
  expect(slowStats.pending).toBeGreaterThan(0);
  expect(slowStats.refused).toBe(0);
  expect((await requests(slow)).filter((r) => r.status !== 200)).toEqual([]);
});

test('fair share: a portal with 10 is served while one with thousands is still sending', async () => {
  const queue = queueOn(closer, redis.url, key, { prefix: 'fair' });
  await queue.portals.set('big', { webhookUrl: fast.webhookUrl, clientId: 'big' });
  await queue.portals.set('small', { webhookUrl: fast.webhookUrl, clientId: 'small' });
  await queue.sendMany('big', notifications(3000, 'big'));
  // One batch at a time in the whole fleet: the order of ticks alone decides who goes.
  await workerOn(closer, redis.url, key, { prefix: 'fair', concurrency: 1 });
  await until(async () => (await queue.stats('big')).batches >= 1, 'the big portal has started');
  await queue.sendMany('small', notifications(10, 'small'));
  await until(async () => (await queue.stats('small')).sent === 10, 'the small portal is done');
  expect((await queue.stats('big')).pending).toBeGreaterThan(1000);
});
