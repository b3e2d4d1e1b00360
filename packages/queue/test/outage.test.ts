/**
 * A Redis that goes away after start-up: commands wait for it (nothing is dropped), and the
 * producer's `connection` event and the worker's `onConnection` say it was lost and came back,
 * instead of a silence that looks like an idle queue.
 */
import type { ConnectionEvent } from '@b24notify/queue';
import { expect, test } from 'vitest';
import { notifications, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

/** AOF on every write: what was queued before the kill is there after the restart. */
const bed = useQueueTestbed({ redis: { appendfsync: 'always' } });

test('Redis killed and restarted: the producer and the worker each report lost, then restored; every notification is sent once', async () => {
  const queue = bed.queue({ prefix: 'out1' });
  const fromQueue: ConnectionEvent[] = [];
  const fromWorker: ConnectionEvent[] = [];
  queue.on('connection', (e) => fromQueue.push(e));
  await queue.portals.set('p', { webhookUrl: bed.emu.webhookUrl, clientId: 'out1' });
  await queue.sendMany('p', notifications(20, 'out1a'));
  await bed.worker({ prefix: 'out1', onConnection: (e) => fromWorker.push(e) });
  await until(async () => (await queue.stats('p')).sent === 20, 'the first 20 sent');
  expect(fromQueue).toEqual([]);
  expect(fromWorker).toEqual([]);

  await bed.redis.kill('SIGKILL');
  await until(() => fromQueue.length === 1 && fromWorker.length === 1, 'both told of the loss');
  const address = `redis://127.0.0.1:${bed.redis.port}`;
  for (const e of [...fromQueue, ...fromWorker]) {
    expect(e).toEqual({ state: 'lost', address, reason: expect.any(String) });
  }
  // A send while Redis is down waits for it rather than failing.
  const waiting = queue.sendMany('p', notifications(20, 'out1b'));

  await bed.redis.restart();
  await until(() => fromQueue.length === 2 && fromWorker.length === 2, 'both told it is back');
  expect(fromQueue[1]).toEqual({ state: 'restored', address });
  expect(fromWorker[1]).toEqual({ state: 'restored', address });
  await waiting;
  await until(async () => (await queue.stats('p')).sent === 40, 'all 40 sent');
  const counts = tagCounts(bed.emu);
  for (let i = 0; i < 20; i++) {
    expect(counts.get(`out1a-${i}`)).toBe(1);
    expect(counts.get(`out1b-${i}`)).toBe(1);
  }
  // Closing on purpose is no loss.
  await queue.close();
  expect(fromQueue).toHaveLength(2);
});
