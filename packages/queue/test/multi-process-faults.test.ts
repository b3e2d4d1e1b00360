/**
 * Done when (issue 9), fourth item: 20% injected faults of every kind on one portal, and the
 * other portals' delivery is unaffected. "Unaffected" is measured as: each other portal stores
 * every one of its notifications exactly once, answers every request it gets with 200 (no
 * refusal, no error: nothing of the faulty portal's trouble reaches it), and the queue counts
 * none of its notifications failed, while the faulty portal is still being retried. The faulty
 * portal is held to "never shown twice" (and nothing it was not sent), whatever it has stored
 * by then: its injected OPERATION_TIME_LIMIT answers park it for a minute each, by design.
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

const PER_PORTAL = 300;
const BUCKET = TEST_BUCKET;
const FAULTY = 'hook-faulty';
/** Every fault the emulator can inject, one picked for 20% of the requests (seeded). */
const CHAOS = {
  seed: 9,
  rules: [
    {
      method: '*',
      probability: 0.2,
      faults: [
        { type: 'error' as const, code: 'INTERNAL_SERVER_ERROR' },
        { type: 'error' as const, code: 'QUERY_LIMIT_EXCEEDED' },
        { type: 'error' as const, code: 'OPERATION_TIME_LIMIT' },
        { type: 'reset' as const },
        { type: 'delay' as const, ms: 1500 },
        { type: 'truncate' as const },
      ],
    },
  ],
};
const PORTALS: PortalSpec[] = [
  { id: FAULTY, auth: 'webhook', bucket: BUCKET, chaos: CHAOS },
  { id: 'oauth-b', auth: 'oauth', bucket: BUCKET },
  { id: 'hook-c', auth: 'webhook', bucket: BUCKET },
  { id: 'oauth-d', auth: 'oauth', bucket: BUCKET },
  { id: 'hook-e', auth: 'webhook', bucket: BUCKET },
];
const OTHERS = PORTALS.filter((p) => p.id !== FAULTY).map((p) => p.id);

const s = useScenario({ portals: PORTALS, workers: 3 });

test('20% faults of every kind on one portal: the others deliver each exactly once with only 200 answers', async () => {
  const sent = await Promise.all(PORTALS.map((p) => addRange(s.queue, p.id, 0, PER_PORTAL)));
  await waitFor(
    async () => {
      const counts = await storedCounts(s.fleet);
      return OTHERS.every((id) => (counts[id] ?? 0) >= PER_PORTAL);
    },
    'every other portal stores its notifications',
    { describe: () => storedCounts(s.fleet) },
  );
  await stopAll(s.workers, 'SIGTERM');

  const faulty = s.fleet.portal(FAULTY);
  // The faults did happen, on the faulty portal only.
  expect(faulty.counts.faults).toBeGreaterThan(0);
  for (const [i, p] of s.fleet.portals.entries()) {
    const check = await checkDelivery(p, sent[i] ?? []);
    if (p.id === FAULTY) {
      expect(check.twice, 'faulty portal: shown twice').toEqual([]);
      expect(check.unexpected, 'faulty portal: never sent').toEqual([]);
      continue;
    }
    expect(exactlyOnce(check), p.id).toEqual({ missing: [], twice: [], unexpected: [] });
    expect(check.stored, p.id).toBe(PER_PORTAL);
    expect(p.counts.faults, p.id).toBe(0);
    expect(refusedAnswers(p.counts), p.id).toBe(0);
    expect(Object.keys(p.counts.byStatus), `${p.id} answered only 200`).toEqual(['200']);
    expect(p.counts.bySubError, p.id).toEqual({});
    const stats = await s.queue.stats(p.id);
    expect(stats, p.id).toMatchObject({ pending: 0, sending: 0, failed: 0, sent: PER_PORTAL });
  }
}, 240_000);
