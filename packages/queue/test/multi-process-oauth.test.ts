/**
 * Done when (issue 9), fifth item: OAuth tokens expiring mid-run with 3 workers: exactly one
 * refresh per expiry, counted by the emulator (its token endpoint's answers), and 0
 * `invalid_grant`. The access tokens expire when the test moves each portal's clock past their
 * lifetime (one hour and some), so the number of expiries is exact: three per portal, each
 * while the three workers are sending to it.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  addRange,
  checkDelivery,
  control,
  exactlyOnce,
  refusedAnswers,
  startScenario,
  storedCounts,
  waitFor,
  type PortalSpec,
  type Scenario,
} from './support/fleet.js';
import { stopAll } from './support/processes.js';

const EXPIRIES = 3;
const PER_WAVE = 150;
const TTL_SECONDS = 3600;
const BUCKET = { capacity: 10, drainPerSecond: 2 };
const PORTALS: PortalSpec[] = ['oauth-a', 'oauth-b', 'oauth-c'].map((id) => ({
  id,
  auth: 'oauth' as const,
  bucket: BUCKET,
  accessTokenTtl: TTL_SECONDS,
}));

let s: Scenario;
beforeAll(async () => {
  s = await startScenario({ portals: PORTALS, workers: 3 });
}, 120_000);
afterAll(() => s?.close(), 120_000);

test(`tokens expiring ${EXPIRIES} times mid-run with 3 workers: one refresh per expiry, 0 invalid_grant`, async () => {
  const sent: string[][] = PORTALS.map(() => []);
  const addWave = async (w: number): Promise<void> => {
    const added = await Promise.all(
      PORTALS.map((p) => addRange(s.queue, p.id, w * PER_WAVE, (w + 1) * PER_WAVE)),
    );
    added.forEach((messages, i) => sent[i]?.push(...messages));
  };

  await addWave(0);
  for (let e = 1; e <= EXPIRIES; e++) {
    // Mid-run: part of the current wave delivered, with every portal still on its old token.
    await waitFor(
      async () => {
        const counts = await storedCounts(s.fleet);
        return PORTALS.every((p) => (counts[p.id] ?? 0) >= (e - 1) * PER_WAVE + 50);
      },
      `wave ${e - 1} under way`,
      { describe: () => storedCounts(s.fleet) },
    );
    // The access token in use expires on every portal at once.
    for (const p of s.fleet.portals) {
      await control(p, 'PUT', '/clock', { advanceMs: (TTL_SECONDS + 100) * 1000 });
    }
    // More work, so the next batches meet the expired token with all three workers.
    await addWave(e);
    await waitFor(
      () => s.fleet.portals.every((p) => p.counts.refreshes >= e),
      `a refresh after expiry ${e}`,
      { describe: () => s.fleet.portals.map((p) => [p.id, p.counts.refreshes, p.counts.byError]) },
    );
  }
  await waitFor(
    async () => Object.values(await storedCounts(s.fleet)).every((n) => n >= (EXPIRIES + 1) * PER_WAVE),
    'every notification stored',
    { describe: () => storedCounts(s.fleet) },
  );
  await stopAll(s.workers, 'SIGTERM');

  for (const [i, p] of s.fleet.portals.entries()) {
    expect(p.counts.refreshes, `${p.id}: refreshes`).toBe(EXPIRIES);
    expect(p.counts.invalidGrant, `${p.id}: invalid_grant`).toBe(0);
    // Each expiry was met by requests with the old token (answered expired_token), not
    // refreshed ahead of time, and each such request went again with the new one.
    expect(p.counts.byError.expired_token ?? 0, `${p.id}: expired_token answers`).toBeGreaterThanOrEqual(
      EXPIRIES,
    );
    // The hook heard of each new pair once, in whichever worker refreshed.
    const told = s.workers.reduce((n, w) => n + (w.tokens.get(p.id) ?? 0), 0);
    expect(told, `${p.id}: onTokens calls`).toBe(EXPIRIES);
    const check = await checkDelivery(p, sent[i] ?? []);
    expect(exactlyOnce(check), p.id).toEqual({ missing: [], twice: [], unexpected: [] });
    expect(refusedAnswers(p.counts), p.id).toBe(0);
  }
}, 240_000);
