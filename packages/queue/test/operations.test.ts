/** Results, stats, events and requeueFailed, as operators see them. */
import { expect, test } from 'vitest';
import type { QueueEventMap } from '@b24notify/queue';
import { tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed();

async function chaos(rules: unknown[]): Promise<void> {
  const res = await fetch(`${bed.emu.url}/_emulator/api/chaos`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seed: 1, rules }),
  });
  expect(res.status).toBe(200);
}

test('failed ones say why and whether they may have arrived; requeueFailed sends them again', async () => {
  const queue = bed.queue({ prefix: 'ops' });
  const sent: QueueEventMap['sent'][] = [];
  const failed: QueueEventMap['failed'][] = [];
  const refused: QueueEventMap['refused'][] = [];
  queue.on('sent', (e) => sent.push(e));
  queue.on('failed', (e) => failed.push(e));
  queue.on('refused', (e) => refused.push(e));
  await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl, clientId: 'ops' });

  // The first batch is refused for the bucket (not an attempt), the second fails with a 500
  // (it may have been applied), then the portal answers normally.
  await chaos([
    {
      method: 'batch',
      sequence: [
        { type: 'error', code: 'QUERY_LIMIT_EXCEEDED' },
        { type: 'error', code: 'INTERNAL_SERVER_ERROR' },
      ],
    },
  ]);
  await queue.send('acme', { userId: 1, message: 'flaky' }, { key: 'flaky' });
  await queue.send('acme', { userId: 999, message: 'nobody' }, { key: 'nobody' });
  // One attempt each, so the 500 fails them for good.
  await bed.worker({ prefix: 'ops', maxAttempts: 1 });
  await until(async () => (await queue.stats('acme')).failed === 2, 'both failed');

  expect(await queue.result('acme', 'flaky')).toEqual({
    state: 'failed',
    attempts: 1,
    error: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR', delivery: 'unknown' }),
  });
  expect(await queue.stats('acme')).toMatchObject({ pending: 0, failed: 2, sent: 0, refused: 1 });
  await until(() => failed.length === 2 && refused.length === 1, 'the events');
  expect(refused[0]).toEqual({ portalId: 'acme', code: 'QUERY_LIMIT_EXCEEDED' });

  expect(await queue.requeueFailed('acme')).toBe(2);
  await until(
    async () => (await queue.stats('acme')).failed === 1,
    'the flaky one sent, the other failed again',
  );
  expect(await queue.result('acme', 'flaky')).toMatchObject({ state: 'sent', attempts: 1 });
  expect(await queue.result('acme', 'nobody')).toMatchObject({
    state: 'failed',
    error: { code: 'NOT_CREATED', delivery: 'not-delivered' },
  });
  await until(() => sent.length === 1, 'the sent event');
  expect(sent[0]).toMatchObject({ portalId: 'acme', key: 'flaky' });
  expect(tagCounts(bed.emu).get('flaky')).toBe(1);
  expect(await queue.result('acme', 'never-queued')).toBeUndefined();
  expect(await queue.stats()).toMatchObject({ sent: 1, failed: 1, refused: 1, batches: 1 });
});
