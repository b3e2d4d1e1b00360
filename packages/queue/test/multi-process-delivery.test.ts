/**
 * Done when (issue 9), first item: 3 worker processes, 5 portals (webhook and OAuth), 5,000
 * notifications added one by one and in bulk: each appears exactly once in its portal's store,
 * and no portal answered 503 or 429.
 */
import { expect, test } from 'vitest';
import {
  addRange,
  checkDelivery,
  exactlyOnce,
  refusedAnswers,
  TEST_BUCKET,
  storedCounts,
  waitFor,
  type PortalSpec,
  useScenario,
} from './support/fleet.js';
import { stopAll } from './support/processes.js';

const PER_PORTAL = 1000;
const BUCKET = TEST_BUCKET;
const PORTALS: PortalSpec[] = [
  { id: 'hook-a', auth: 'webhook', bucket: BUCKET },
  { id: 'oauth-b', auth: 'oauth', bucket: BUCKET },
  { id: 'hook-c', auth: 'webhook', bucket: BUCKET },
  { id: 'oauth-d', auth: 'oauth', bucket: BUCKET },
  { id: 'hook-e', auth: 'webhook', bucket: BUCKET },
];

const s = useScenario({ portals: PORTALS, workers: 3 });

test('3 workers, 5 portals, 5,000 notifications by send and sendMany: each exactly once, 0 answers 503 or 429', async () => {
  // Every portal's adds run at once, the workers sending while the producer adds.
  const sent = await Promise.all(PORTALS.map((p) => addRange(s.queue, p.id, 0, PER_PORTAL)));
  expect(sent.flat()).toHaveLength(5000);

  await waitFor(
    async () => Object.values(await storedCounts(s.fleet)).every((n) => n >= PER_PORTAL),
    'every portal stores its 1,000',
    { describe: () => storedCounts(s.fleet) },
  );
  // A graceful stop first: nothing is under way when the stores are read.
  await stopAll(s.workers, 'SIGTERM');

  for (const [i, p] of s.fleet.portals.entries()) {
    const check = await checkDelivery(p, sent[i] ?? []);
    expect(exactlyOnce(check), p.id).toEqual({ missing: [], twice: [], unexpected: [] });
    expect(check.stored, p.id).toBe(PER_PORTAL);
    expect(refusedAnswers(p.counts), `${p.id} ${JSON.stringify(p.counts.byStatus)}`).toBe(0);
    // Batched per portal: far fewer requests than notifications.
    expect(p.counts.batches, p.id).toBeLessThan(PER_PORTAL / 10);
    const stats = await s.queue.stats(p.id);
    expect(stats, p.id).toMatchObject({ pending: 0, sending: 0, failed: 0, sent: PER_PORTAL });
  }
}, 240_000);
