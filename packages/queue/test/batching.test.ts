/** Per-portal batching: notifications added one by one leave 50 to a batch when there is a backlog. */
import { expect, test } from 'vitest';
import { batchSizes, notifications, requests, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

// The standard plan's limits, on: the batches stay within them.
const bed = useQueueTestbed({ emulators: { emu: { portal: { plan: 'standard' } } } });

test('500 notifications added one by one leave in 10 batches of exactly 50', async () => {
  const queue = bed.queue();
  await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl, clientId: 'batching' });
  for (const n of notifications(500, 'one')) {
    const { key: k, ...notification } = n;
    await queue.send('acme', notification, { key: k });
  }
  await bed.worker({ concurrency: 4 });
  await until(async () => (await queue.stats('acme')).sent === 500, '500 sent');

  expect(await batchSizes(bed.emu)).toEqual(Array(10).fill(50));
  expect((await requests(bed.emu)).filter((r) => r.status !== 200)).toEqual([]);
  const counts = tagCounts(bed.emu);
  for (let i = 0; i < 500; i++) expect(counts.get(`one-${i}`)).toBe(1);
  expect(await queue.stats('acme')).toMatchObject({
    pending: 0,
    sending: 0,
    sent: 500,
    refused: 0,
    batches: 10,
  });
});
