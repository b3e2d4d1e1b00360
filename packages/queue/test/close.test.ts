/**
 * A graceful stop: the batches under way finish and are recorded, nothing is left mid-send, and
 * the next worker carries on with nothing lost and nothing sent twice.
 */
import { expect, test } from 'vitest';
import { batchSizes, notifications, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed();

test('close() while batches are in flight: they finish, and a new worker sends the rest once', async () => {
  const queue = bed.queue();
  const portals = ['p1', 'p2', 'p3'];
  for (const id of portals) {
    await queue.portals.set(id, { webhookUrl: bed.emu.webhookUrl, clientId: id });
    await queue.sendMany(id, notifications(150, id));
  }
  // Every batch answers slowly, so the stop comes while all three portals have one in flight.
  await fetch(`${bed.emu.url}/_emulator/api/chaos`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [{ method: 'batch', faults: [{ type: 'delay', ms: 300 }] }] }),
  });
  const first = await bed.worker({ concurrency: 3 });
  await until(async () => (await queue.stats()).sending === 150, 'three batches in flight');
  await first.close();

  const after = await queue.stats();
  expect(after.sending).toBe(0);
  expect(after.sent + after.pending).toBe(450);
  expect(after.sent).toBeGreaterThanOrEqual(150);
  for (const id of portals) {
    for (let i = 0; i < 150; i++) expect((await queue.result(id, `${id}-${i}`))?.state).not.toBe('sending');
  }

  await fetch(`${bed.emu.url}/_emulator/api/chaos`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [] }),
  });
  await bed.worker({ concurrency: 3 });
  await until(async () => (await queue.stats()).sent === 450, 'all 450 sent');
  // Each notification was sent in exactly one batch command: none again, none lost.
  expect((await batchSizes(bed.emu)).reduce((a, b) => a + b, 0)).toBe(450);
  const counts = tagCounts(bed.emu);
  for (const id of portals) for (let i = 0; i < 150; i++) expect(counts.get(`${id}-${i}`)).toBe(1);
});
