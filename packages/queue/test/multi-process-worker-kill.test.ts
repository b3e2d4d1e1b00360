/**
 * Done when (issue 9), second item: the 5,000 of the first test with a worker SIGKILLed at least
 * 10 times mid-run and restarted: 0 lost, 0 shown twice. A killed worker's tick keeps its lock
 * until it expires (lockDuration 3 s here); BullMQ then hands it to another worker, and the
 * items it held go out again under their TAG (a replacement, not a second notification).
 */
import { expect, test } from 'vitest';
import {
  addRange,
  checkDelivery,
  exactlyOnce,
  refusedAnswers,
  storedCounts,
  waitFor,
  type PortalSpec,
  useScenario,
} from './support/fleet.js';
import { stopAll, type WorkerProcess } from './support/processes.js';

const PER_PORTAL = 1000;
const KILLS = 10;
/**
 * Slower than the first test's, so the run lasts through ten kills and restarts: past the first
 * burst (9 batches a portal), 5 portals × 0.5 batches/s × 50 = 125 notifications a second.
 */
const BUCKET = { capacity: 10, drainPerSecond: 0.5 };
const PORTALS: PortalSpec[] = [
  { id: 'hook-a', auth: 'webhook', bucket: BUCKET },
  { id: 'oauth-b', auth: 'oauth', bucket: BUCKET },
  { id: 'hook-c', auth: 'webhook', bucket: BUCKET },
  { id: 'oauth-d', auth: 'oauth', bucket: BUCKET },
  { id: 'hook-e', auth: 'webhook', bucket: BUCKET },
];

const s = useScenario({ portals: PORTALS, workers: 3 });

async function total(): Promise<number> {
  return Object.values(await storedCounts(s.fleet)).reduce((a, b) => a + b, 0);
}

test(`a worker SIGKILLed ${KILLS} times mid-run and restarted: 0 lost, 0 shown twice`, async () => {
  const adding = Promise.all(PORTALS.map((p) => addRange(s.queue, p.id, 0, PER_PORTAL)));

  // Kill whenever a little more has been delivered since the last kill, a worker that is up
  // (round robin), and restart it in the background: the next kill waits for progress, not
  // for a slow start, and progress needs a worker up, so kills never outrun the run.
  const restarts: Promise<void>[] = [];
  const up = new Set<WorkerProcess>(s.workers);
  let kills = 0;
  let last = 0;
  while (kills < KILLS) {
    await waitFor(
      async () => (await total()) >= last + 50 && up.size >= 1,
      `progress since kill ${kills} (and a worker up)`,
      { describe: async () => ({ stored: await storedCounts(s.fleet), up: up.size, kills }) },
    );
    const stored = await total();
    // Mid-run: work must be left when the kill comes.
    expect(stored, `kill ${kills + 1} came after the run`).toBeLessThan(PER_PORTAL * PORTALS.length);
    last = stored;
    const victim = s.workers.find((w, i) => up.has(w) && i >= kills % s.workers.length) ?? [...up][0];
    if (!victim) continue;
    up.delete(victim);
    const exit = await victim.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    kills += 1;
    restarts.push(victim.restart().then(() => void up.add(victim)));
  }
  await Promise.all(restarts);
  const sent = await adding;

  await waitFor(
    async () => Object.values(await storedCounts(s.fleet)).every((n) => n >= PER_PORTAL),
    'every portal stores its 1,000 after the kills',
    { describe: () => storedCounts(s.fleet) },
  );
  await stopAll(s.workers, 'SIGTERM');

  expect(kills).toBeGreaterThanOrEqual(KILLS);
  expect(s.workers.reduce((n, w) => n + w.starts, 0)).toBe(3 + kills);
  for (const [i, p] of s.fleet.portals.entries()) {
    const check = await checkDelivery(p, sent[i] ?? []);
    expect(exactlyOnce(check), p.id).toEqual({ missing: [], twice: [], unexpected: [] });
    expect(check.stored, p.id).toBe(PER_PORTAL);
    expect(refusedAnswers(p.counts), `${p.id} ${JSON.stringify(p.counts.byStatus)}`).toBe(0);
    const stats = await s.queue.stats(p.id);
    expect(stats, p.id).toMatchObject({ pending: 0, sending: 0, failed: 0 });
  }
}, 300_000);
