/**
 * Portals do not hold each other up: a portal whose limits make it wait delays only its own
 * notifications, and a portal with a large backlog does not starve one with a few.
 */
import { expect, test } from 'vitest';
import { notifications, requests, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed({
  emulators: {
    // A bucket of 3 draining 1 a second: 1,000 notifications take about 18 s at the most.
    slow: { portal: { limits: { intensity: { capacity: 3, drainPerSecond: 1 }, operating: false } } },
    fast: {},
  },
});

test('a portal held by its limits does not delay another, and is never refused', async () => {
  const queue = bed.queue({ prefix: 'iso' });
  await queue.portals.set('slow', {
    webhookUrl: bed.emulators.slow.webhookUrl,
    limits: { bucket: { capacity: 3, drainPerSecond: 1 } },
  });
  await queue.portals.set('fast', { webhookUrl: bed.emulators.fast.webhookUrl });
  await queue.sendMany('slow', notifications(1000, 'slow'));
  await bed.worker({ prefix: 'iso', concurrency: 2 });
  await until(async () => (await queue.stats('slow')).sent >= 50, 'the slow portal has started');
  await queue.sendMany('fast', notifications(20, 'fast'));
  await until(async () => (await queue.stats('fast')).sent === 20, 'the fast portal is done');

  const slowStats = await queue.stats('slow');
  expect(slowStats.pending).toBeGreaterThan(0);
  expect(slowStats.refused).toBe(0);
  expect((await requests(bed.emulators.slow)).filter((r) => r.status !== 200)).toEqual([]);
});

test('fair share: a portal with 10 is served while one with thousands is still sending', async () => {
  const queue = bed.queue({ prefix: 'fair' });
  await queue.portals.set('big', { webhookUrl: bed.emulators.fast.webhookUrl, clientId: 'big' });
  await queue.portals.set('small', { webhookUrl: bed.emulators.fast.webhookUrl, clientId: 'small' });
  await queue.sendMany('big', notifications(3000, 'big'));
  // One batch at a time in the whole fleet: the order of ticks alone decides who goes.
  await bed.worker({ prefix: 'fair', concurrency: 1 });
  await until(async () => (await queue.stats('big')).batches >= 1, 'the big portal has started');
  await queue.sendMany('small', notifications(10, 'small'));
  await until(async () => (await queue.stats('small')).sent === 10, 'the small portal is done');
  expect((await queue.stats('big')).pending).toBeGreaterThan(1000);
});
