/**
 * The operating-time budget against the emulator: the pacer learns the cost of a call from the
 * answers and keeps every batch inside the budget, so the portal never refuses a command. The
 * worker shares the emulator's clock (`clientClock`), so windows of a minute pass at once.
 */
import { clientClock } from '@b24notify/emulator';
import { Redis } from 'ioredis';
import { expect, test } from 'vitest';
import { ledgerSliceMs } from '../src/pace.js';
import { emulator, notifications, requests, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed({
  emulators: {
    // 10 s of processing per method per minute, 0.1 s a call: 100 notifications per window.
    emu: {
      portal: {
        limits: { intensity: false, operating: { budgetSeconds: 10, windowMinutes: 1 } },
        processingSeconds: { '*': 0.1 },
      },
    },
  },
});

test('300 notifications over several windows: none refused, each sent once, the wait taken', async () => {
  const clock = clientClock(bed.emu);
  const queue = bed.queue();
  await queue.portals.set('acme', {
    webhookUrl: bed.emu.webhookUrl,
    limits: { operating: { budgetSeconds: 10, windowSeconds: 60 } },
  });
  // All personal: one method, one budget.
  await queue.sendMany(
    'acme',
    notifications(300, 'op').map((n) => ({ ...n, kind: 'personal' as const })),
  );
  await bed.worker({ clock, concurrency: 1 });
  await until(async () => (await queue.stats('acme')).sent === 300, '300 sent');

  const refused = (await requests(bed.emu)).filter((r) => JSON.stringify(r).includes('OPERATION_TIME_LIMIT'));
  expect(refused).toEqual([]);
  expect(await queue.stats('acme')).toMatchObject({ refused: 0, failed: 0 });
  // 300 notifications at 100 per minute: at least two windows had to pass.
  expect(clock.slept).toBeGreaterThanOrEqual(120_000);
  const counts = tagCounts(bed.emu);
  for (let i = 0; i < 300; i++) expect(counts.get(`op-${i}`)).toBe(1);
});

test('a 10 s window, two portal ids on one webhook, answers late at random: none refused, each sent once', async () => {
  // Real time: the window has to pass for the budget to free. 3 s of processing per 10 s at
  // 0.1 s a call binds at about 28 calls a window, so 60 notifications need three windows.
  const short = bed.closer.add(
    await emulator({
      portal: {
        limits: { intensity: false, operating: { budgetSeconds: 3, windowMinutes: 1, windowSeconds: 10 } },
        processingSeconds: { '*': 0.1 },
      },
    }),
  );
  // Some batches reach the portal seconds after the ledger let them go (a loaded machine): the
  // portal counts them then, so a charge stamped at the take alone would leave the ledger early.
  const res = await fetch(`${short.url}/_emulator/api/chaos`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      seed: 7,
      rules: [{ method: 'batch', probability: 0.5, faults: [{ type: 'delay', ms: 3000 }] }],
    }),
  });
  expect(res.status).toBe(200);
  const queue = bed.queue({ prefix: 'short' });
  const limits = { operating: { budgetSeconds: 3, windowSeconds: 10 } };
  // Two ids, one webhook: one budget, and their ticks run at once.
  for (const id of ['one', 'two']) {
    await queue.portals.set(id, { webhookUrl: short.webhookUrl, limits });
    await queue.sendMany(
      id,
      notifications(30, id).map((n) => ({ ...n, kind: 'personal' as const })),
    );
  }
  for (let i = 0; i < 2; i++) {
    await bed.worker({ prefix: 'short', concurrency: 2, costPerNotification: 0.1 });
  }
  const sent = async (): Promise<number> => (await queue.stats('one')).sent + (await queue.stats('two')).sent;
  await until(async () => (await sent()) === 60, '60 sent', 300_000);

  const refused = (await requests(short)).filter((r) => JSON.stringify(r).includes('OPERATION_TIME_LIMIT'));
  expect(refused).toEqual([]);
  for (const id of ['one', 'two']) expect(await queue.stats(id)).toMatchObject({ refused: 0, failed: 0 });
  const counts = tagCounts(short);
  for (const id of ['one', 'two']) {
    for (let i = 0; i < 30; i++) expect(counts.get(`${id}-${i}`)).toBe(1);
  }
}, 330_000);

test('an answered batch’s charge is stamped at its answer, without the margin kept for a lost answer', async () => {
  // A worker clock that stands still: the tick's take and its learning from the answer both run
  // at T, so the ledger's slice shows which margin the charge was moved by.
  const T = 1_700_000_000_500;
  const still = { now: () => T, sleep: () => new Promise<void>((resolve) => setImmediate(resolve)) };
  const queue = bed.queue({ prefix: 'answered' });
  const W = 60_000;
  await queue.portals.set('acme', {
    webhookUrl: bed.emu.webhookUrl,
    limits: { operating: { budgetSeconds: 10, windowSeconds: W / 1000 } },
  });
  await queue.sendMany(
    'acme',
    notifications(10, 'answered').map((n) => ({ ...n, kind: 'personal' as const })),
  );
  await bed.worker({ prefix: 'answered', clock: still, concurrency: 1 });
  await until(async () => (await queue.stats('acme')).sent === 10, '10 sent');

  const probe = new Redis(bed.redis.url);
  try {
    const ledgers = await probe.keys('answered:pace:o:*');
    expect(ledgers).toHaveLength(1);
    const ledger = await probe.hgetall(ledgers[0] ?? '');
    const slice = ledgerSliceMs(W);
    // Held from the answer's own slice (T), not from the slice a second later.
    expect(Object.keys(ledger)).toEqual([String(T - (T % slice))]);
    expect(Number(ledger[String(T - (T % slice))])).toBeCloseTo(1, 6);
  } finally {
    probe.disconnect();
  }
  expect(await queue.stats('acme')).toMatchObject({ refused: 0, failed: 0 });
  const counts = tagCounts(bed.emu);
  for (let i = 0; i < 10; i++) expect(counts.get(`answered-${i}`)).toBe(1);
});
