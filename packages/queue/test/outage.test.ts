/**
 * A Redis that goes away after start-up: commands wait for it (nothing is dropped), and the
 * producer's `connection` event and the worker's `onConnection` say it was lost and came back,
 * instead of a silence that looks like an idle queue.
 */
import type { ConnectionEvent } from '@b24notify/queue';
import { expect, test } from 'vitest';
import { connect } from '../src/redis.js';
import { notifications, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

/**
 * AOF on every write: what was queued before the kill is there after the restart. `slow` keeps
 * the documented standard limits, so a backlog takes a while to send.
 */
const bed = useQueueTestbed({
  redis: { appendfsync: 'always' },
  emulators: { emu: {}, slow: { portal: { plan: 'standard' } } },
});

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

/** The worker's sweep, short here so that sweeps run during the outage. */
const SWEEP_MS = 100;

test('a worker and a producer told to stop while Redis is down both stop', async () => {
  const queue = bed.queue({ prefix: 'out2' });
  await queue.portals.set('p', { webhookUrl: bed.emu.webhookUrl, clientId: 'out2' });
  await queue.sendMany('p', notifications(10, 'out2'));
  const lost: ConnectionEvent[] = [];
  const worker = await bed.worker({
    prefix: 'out2',
    sweepInterval: SWEEP_MS,
    onConnection: (e) => lost.push(e),
  });
  await until(async () => (await queue.stats('p')).sent === 10, 'the 10 sent');
  await bed.redis.kill('SIGKILL');
  try {
    await until(() => lost.length === 1, 'the loss seen');
    // BullMQ's close waited for its ticks' commands, which wait for Redis: for ever.
    await worker.close();
    await queue.close();
  } finally {
    await bed.redis.restart();
  }
});

test('a worker stopped while Redis is down in the middle of a backlog: once Redis is back, another worker sends the rest, each notification once', async () => {
  const queue = bed.queue({ prefix: 'out3' });
  // Paced by the portal's limits, so the backlog is still being sent when Redis goes.
  await queue.portals.set('p', { webhookUrl: bed.emulators.slow.webhookUrl, clientId: 'out3' });
  await queue.sendMany('p', notifications(400, 'out3'));
  // Short locks, so the tick the stopped worker held is taken again soon after Redis returns.
  const fast = { prefix: 'out3', sweepInterval: SWEEP_MS, lockDuration: 2000, stalledInterval: 1000 };
  const lost: ConnectionEvent[] = [];
  const first = await bed.worker({ ...fast, onConnection: (e) => lost.push(e) });
  await until(() => bed.emulators.slow.portal.store.size >= 50, 'the first batch stored');
  await bed.redis.kill('SIGKILL');
  try {
    await until(() => lost.length === 1, 'the loss seen');
    await first.close();
  } finally {
    await bed.redis.restart();
  }
  await bed.worker(fast);
  await until(async () => (await queue.stats('p')).sent === 400, 'all 400 sent');
  const counts = tagCounts(bed.emulators.slow);
  for (let i = 0; i < 400; i++) expect(counts.get(`out3-${i}`)).toBe(1);
});

test('a connection closed after Redis is back but before it is ready fails the command it had in flight', async () => {
  const redis = connect(`redis://127.0.0.1:${bed.redis.port}`, 'out4');
  // As the event reader and BullMQ make their blocking connections.
  const copy = redis.duplicate();
  copy.on('error', () => {});
  await copy.ping();
  let outcome: string | undefined;
  void copy.blpop('out4:nothing', 0).then(
    () => (outcome = 'answered'),
    (err: Error) => (outcome = err.message),
  );
  await until(
    async () => String(await redis.client('LIST')).includes('cmd=blpop'),
    'the BLPOP held by Redis',
  );
  await bed.redis.kill('SIGKILL');
  // The moment the new connection is made, before its handshake: the BLPOP sent on the old one
  // waits to be sent again once ready, which a closed client never is.
  copy.once('connect', () => copy.disconnect());
  await bed.redis.restart();
  await until(() => outcome !== undefined, 'the BLPOP settled');
  expect(outcome).toBe('Connection is closed.');
  await until(() => copy.status === 'end', 'the copy ended');
  redis.disconnect();
});
