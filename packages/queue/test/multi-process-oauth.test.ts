/**
 * Done when (issue 9), fifth item: OAuth tokens expiring mid-run with 3 workers: exactly one
 * refresh per expiry, counted by the emulator (its token endpoint's answers), and 0
 * `invalid_grant`. Two ways: the test moves each portal's clock past the tokens' lifetime (one
 * hour and some), so the number of expiries is exact (three per portal, each while the three
 * workers are sending to it); and short-lived tokens that fall due again and again during a
 * run, where no renewal may be refused invalid_grant (refresh tokens are single-use, so a second
 * worker renewing the same token would be).
 */
import { afterEach, expect, test } from 'vitest';
import {
  addRange,
  checkDelivery,
  control,
  exactlyOnce,
  refusedAnswers,
  startScenario,
  TEST_BUCKET,
  storedCounts,
  waitFor,
  type PortalSpec,
  type Scenario,
} from './support/fleet.js';
import { stopAll } from './support/processes.js';

const EXPIRIES = 3;
const PER_WAVE = 150;
const TTL_SECONDS = 3600;
const BUCKET = TEST_BUCKET;
const PORTALS: PortalSpec[] = ['oauth-a', 'oauth-b', 'oauth-c'].map((id) => ({
  id,
  auth: 'oauth' as const,
  bucket: BUCKET,
  accessTokenTtl: TTL_SECONDS,
}));

let s: Scenario | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
}, 120_000);

test(`tokens expiring ${EXPIRIES} times mid-run with 3 workers: one refresh per expiry, 0 invalid_grant`, async () => {
  const sc = await startScenario({ portals: PORTALS, workers: 3 });
  s = sc;
  const sent: string[][] = PORTALS.map(() => []);
  const addWave = async (w: number): Promise<void> => {
    const added = await Promise.all(
      PORTALS.map((p) => addRange(sc.queue, p.id, w * PER_WAVE, (w + 1) * PER_WAVE)),
    );
    added.forEach((messages, i) => sent[i]?.push(...messages));
  };

  await addWave(0);
  for (let e = 1; e <= EXPIRIES; e++) {
    // Mid-run: part of the current wave delivered, with every portal still on its old token.
    await waitFor(
      async () => {
        const counts = await storedCounts(sc.fleet);
        return PORTALS.every((p) => (counts[p.id] ?? 0) >= (e - 1) * PER_WAVE + 50);
      },
      `wave ${e - 1} under way`,
      { describe: () => storedCounts(sc.fleet) },
    );
    // The access token in use expires on every portal at once.
    for (const p of sc.fleet.portals) {
      await control(p, 'PUT', '/clock', { advanceMs: (TTL_SECONDS + 100) * 1000 });
    }
    // More work, so the next batches meet the expired token with all three workers.
    await addWave(e);
    await waitFor(
      () => sc.fleet.portals.every((p) => p.counts.refreshes >= e),
      `a refresh after expiry ${e}`,
      { describe: () => sc.fleet.portals.map((p) => [p.id, p.counts.refreshes, p.counts.byError]) },
    );
  }
  await waitFor(
    async () => Object.values(await storedCounts(sc.fleet)).every((n) => n >= (EXPIRIES + 1) * PER_WAVE),
    'every notification stored',
    { describe: () => storedCounts(sc.fleet) },
  );
  await stopAll(sc.workers, 'SIGTERM');

  for (const [i, p] of sc.fleet.portals.entries()) {
    expect(p.counts.refreshes, `${p.id}: refreshes`).toBe(EXPIRIES);
    expect(p.counts.invalidGrant, `${p.id}: invalid_grant`).toBe(0);
    // Each expiry was met by requests with the old token (answered expired_token), not
    // refreshed ahead of time, and each such request went again with the new one.
    expect(p.counts.byError.expired_token ?? 0, `${p.id}: expired_token answers`).toBeGreaterThanOrEqual(
      EXPIRIES,
    );
    // The hook heard of each new pair once, in whichever worker refreshed.
    const told = sc.workers.reduce((n, w) => n + (w.tokens.get(p.id) ?? 0), 0);
    expect(told, `${p.id}: onTokens calls`).toBe(EXPIRIES);
    const check = await checkDelivery(p, sent[i] ?? []);
    expect(exactlyOnce(check), p.id).toEqual({ missing: [], twice: [], unexpected: [] });
    expect(refusedAnswers(p.counts), p.id).toBe(0);
  }
}, 240_000);

/**
 * Tokens that live 30 s: the queue renews a token a tenth of its lifetime before its end (3 s)
 * once it knows that lifetime, and a supplied pair with under a minute left at once; so each
 * portal's pair is renewed on its first tick and again mid-run. Refresh tokens are single-use on
 * the portal, so two workers renewing the same token would show as invalid_grant.
 */
const SHORT_TTL_SECONDS = 30;
const SHORT_LIVED: PortalSpec[] = ['short-a', 'short-b', 'short-c'].map((id) => ({
  id,
  auth: 'oauth' as const,
  // Slow enough that a run outlives its first renewed token: 20 batches a portal, one every 2 s
  // after the first burst (smaller ones at first, while the producer still adds one by one).
  bucket: { capacity: 10, drainPerSecond: 0.5 },
  accessTokenTtl: SHORT_TTL_SECONDS,
}));
const SHORT_PER_PORTAL = 1000;

test('short-lived tokens due mid-run again and again: each renewed by one worker, 0 invalid_grant', async () => {
  const sc = await startScenario({ portals: SHORT_LIVED, workers: 3 });
  s = sc;
  const sent = await Promise.all(SHORT_LIVED.map((p) => addRange(sc.queue, p.id, 0, SHORT_PER_PORTAL)));
  await waitFor(
    async () => Object.values(await storedCounts(sc.fleet)).every((n) => n >= SHORT_PER_PORTAL),
    'every notification stored',
    { describe: () => storedCounts(sc.fleet) },
  );
  await stopAll(sc.workers, 'SIGTERM');

  for (const [i, p] of sc.fleet.portals.entries()) {
    // The run outlived its first tokens: they were renewed mid-run, more than once.
    expect(p.counts.refreshes, `${p.id}: refreshes`).toBeGreaterThanOrEqual(2);
    expect(p.counts.invalidGrant, `${p.id}: invalid_grant`).toBe(0);
    // Renewed ahead of expiry: no request met an expired token.
    expect(p.counts.byError.expired_token ?? 0, `${p.id}: expired_token answers`).toBe(0);
    const told = sc.workers.reduce((n, w) => n + (w.tokens.get(p.id) ?? 0), 0);
    expect(told, `${p.id}: onTokens calls`).toBe(p.counts.refreshes);
    const check = await checkDelivery(p, sent[i] ?? []);
    expect(exactlyOnce(check), p.id).toEqual({ missing: [], twice: [], unexpected: [] });
    expect(refusedAnswers(p.counts), p.id).toBe(0);
  }
}, 240_000);
