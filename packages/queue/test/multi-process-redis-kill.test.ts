/**
 * Done when (issue 9), third item: Redis SIGKILLed and restarted mid-run, with AOF and
 * `appendfsync always`: 0 lost of what `send` acknowledged, 0 shown twice. Producers keep
 * sending one by one through the outage (a send waits for Redis to come back); a send that
 * resolved, as added or as a duplicate of its key, is acknowledged and must be delivered.
 */
import { expect, test } from 'vitest';
import {
  checkDelivery,
  notificationOf,
  refusedAnswers,
  TEST_BUCKET,
  storedCounts,
  waitFor,
  type PortalSpec,
  useScenario,
} from './support/fleet.js';
import { stopAll } from './support/processes.js';

const PER_PORTAL = 400;
const BUCKET = TEST_BUCKET;
const PORTALS: PortalSpec[] = [
  { id: 'hook-a', auth: 'webhook', bucket: BUCKET },
  { id: 'oauth-b', auth: 'oauth', bucket: BUCKET },
  { id: 'hook-c', auth: 'webhook', bucket: BUCKET },
];

const s = useScenario({ portals: PORTALS, workers: 3, redis: { appendfsync: 'always' } });

test('Redis SIGKILLed and restarted mid-run (AOF, appendfsync always): 0 lost of what send acknowledged, 0 shown twice', async () => {
  const acknowledged = PORTALS.map(() => new Set<string>());
  const attempted = PORTALS.map(() => new Set<string>());
  const errors: string[] = [];
  const producers = PORTALS.map(async (p, pi) => {
    for (let i = 0; i < PER_PORTAL; i++) {
      const { key, ...notification } = notificationOf(p.id, i);
      attempted[pi]?.add(notification.message);
      try {
        await s.queue.send(p.id, notification, { key });
        acknowledged[pi]?.add(notification.message);
      } catch (err) {
        // Not acknowledged: it may or may not be delivered, never twice.
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  });
  const ackedCount = (): number => acknowledged.reduce((n, set) => n + set.size, 0);

  // Mid-run: a third acknowledged and some delivered, the producers still going.
  await waitFor(
    async () =>
      ackedCount() >= (PER_PORTAL * PORTALS.length) / 3 &&
      Object.values(await storedCounts(s.fleet)).some((n) => n > 0),
    'a third acknowledged and deliveries under way',
    { describe: async () => ({ acked: ackedCount(), stored: await storedCounts(s.fleet) }) },
  );
  const ackedAtKill = ackedCount();
  await s.redis.kill('SIGKILL');
  await s.redis.restart();
  await Promise.all(producers);
  expect(ackedAtKill).toBeLessThan(PER_PORTAL * PORTALS.length);

  // Every acknowledged notification arrives (a notification sent but not acknowledged may too).
  await waitFor(
    async () => {
      const counts = await storedCounts(s.fleet);
      return PORTALS.every((p, pi) => (counts[p.id] ?? 0) >= (acknowledged[pi]?.size ?? 0));
    },
    'every acknowledged notification stored',
    {
      describe: async () => ({ acked: acknowledged.map((a) => a.size), stored: await storedCounts(s.fleet) }),
    },
  );
  // Stop gracefully so nothing is under way, then check the stores.
  await stopAll(s.workers, 'SIGTERM');
  for (const [pi, p] of s.fleet.portals.entries()) {
    const check = await checkDelivery(p, acknowledged[pi] ?? []);
    expect(check.missing, `${p.id}: acknowledged and lost`).toEqual([]);
    expect(check.twice, `${p.id}: shown twice`).toEqual([]);
    // Beyond the acknowledged, only what was sent and not acknowledged (the outage's sends).
    const foreign = check.unexpected.filter((m) => !attempted[pi]?.has(m));
    expect(foreign, p.id).toEqual([]);
    expect(refusedAnswers(p.counts), `${p.id} ${JSON.stringify(p.counts.byStatus)}`).toBe(0);
  }
  // The producers went on after the restart: sends were acknowledged by the restarted Redis.
  expect(ackedCount(), errors.slice(0, 3).join('; ')).toBeGreaterThan(ackedAtKill);
}, 240_000);
