/**
 * The operating-time budget against the emulator: the pacer learns the cost of a call from the
 * answers and keeps every batch inside the budget, so the portal never refuses a command. The
 * worker shares the emulator's clock (`clientClock`), so windows of a minute pass at once.
 */
import { clientClock, type RunningEmulator } from '@b24notify/emulator';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startRedis, type RunningRedis } from './support/redis.js';
import {
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
  // 10 s of processing per method per minute, 0.1 s a call: 100 notifications per window.
  emu = await emulator({
    portal: {
      limits: { intensity: false, operating: { budgetSeconds: 10, windowMinutes: 1 } },
      processingSeconds: { '*': 0.1 },
    },
  });
});
afterEach(() => closer.closeAll());
afterAll(async () => {
  await emu?.close();
  await redis?.stop();
});

test('300 notifications over several windows: none refused, each sent once, the wait taken', async () => {
  const clock = clientClock(emu);
  const queue = queueOn(closer, redis.url, key);
  await queue.portals.set('acme', {
    webhookUrl: emu.webhookUrl,
    limits: { operating: { budgetSeconds: 10, windowSeconds: 60 } },
  });
  // All personal: one method, one budget.
  await queue.sendMany(
    'acme',
    notifications(300, 'op').map((n) => ({ ...n, kind: 'personal' as const })),
  );
  await workerOn(closer, redis.url, key, { clock, concurrency: 1 });
  await until(async () => (await queue.stats('acme')).sent === 300, '300 sent');

  const refused = (await requests(emu)).filter((r) => JSON.stringify(r).includes('OPERATION_TIME_LIMIT'));
  expect(refused).toEqual([]);
  expect(await queue.stats('acme')).toMatchObject({ refused: 0, failed: 0 });
  // 300 notifications at 100 per minute: at least two windows had to pass.
  expect(clock.slept).toBeGreaterThanOrEqual(120_000);
  const counts = tagCounts(emu);
  for (let i = 0; i < 300; i++) expect(counts.get(`op-${i}`)).toBe(1);
});
