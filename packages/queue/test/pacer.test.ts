/**
 * The shared pacer, in Lua against a real Redis: the bucket and the operating-time ledger are one
 * state for every client of a portal, whatever connection asks. Times are given explicitly (the
 * scripts' `now` argument), so the test controls the clock instead of waiting.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defineScripts, run } from '../src/scripts.js';
import { Keys } from '../src/keys.js';
import {
  correctionOf,
  headroomOf,
  LEDGER_MARGIN_MS,
  ledgerMarginMs,
  ledgerSliceMs,
  MARGIN_MS,
  TransitFloor,
} from '../src/pace.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed({ emulators: {} });
let a: Redis;
let b: Redis;

beforeAll(() => {
  a = new Redis(bed.redis.url);
  b = new Redis(bed.redis.url);
  defineScripts(a);
  defineScripts(b);
});
afterAll(() => {
  a?.disconnect();
  b?.disconnect();
});

const T = 1_700_000_000_000;

/** Queue `n` notifications of `method` for `portal` under prefix `p`. */
async function fill(p: string, portal: string, n: number, method = 'im.notify.personal.add'): Promise<void> {
  const keys = new Keys(p);
  for (let i = 0; i < n; i++) {
    await run(a, 'b24qAdd', [
      keys.portal(portal, 'ready'),
      keys.portal(portal, 'items'),
      keys.result(portal, `k${i}`),
      keys.active,
      keys.known,
      `k${i}`,
      JSON.stringify({ m: method, p: { USER_ID: 1, MESSAGE: 'x' } }),
      3600,
      portal,
      JSON.stringify({ state: 'pending', attempts: 0 }),
    ]);
  }
}

interface Limits {
  capacity: number;
  drain: number;
  headroom?: number;
  budget?: number;
  windowMs?: number;
  threshold?: number;
  cost?: number;
  max?: number;
  sliceMs?: number;
}

/** One tick's turn at time `now`, through connection `conn`: what the pacer answered. */
async function take(
  conn: Redis,
  p: string,
  portal: string,
  now: number,
  l: Limits,
  scope = '',
): Promise<string[]> {
  return run<string[]>(conn, 'b24qTake', [
    p,
    portal,
    'tok',
    l.max ?? 1,
    now,
    l.capacity,
    l.drain,
    l.headroom ?? 0,
    l.budget ?? 0,
    l.windowMs ?? 600_000,
    l.threshold ?? 1,
    'wh-test',
    'default',
    l.cost ?? 0.03,
    l.sliceMs ?? 10_000,
    scope,
  ]);
}

/** How many notifications a take answer holds (after the kind and the ledger slice). */
const count = (answer: string[]): number => (answer[0] === 'take' ? (answer.length - 2) / 4 : 0);

describe('pacer', () => {
  test('the bucket is shared: two clients together get its capacity, then one per drained slot', async () => {
    await fill('b1', 'acme', 20);
    const limits = { capacity: 5, drain: 1 };
    const answers: string[][] = [];
    for (let i = 0; i < 6; i++) answers.push(await take(i % 2 === 0 ? a : b, 'b1', 'acme', T, limits));
    expect(answers.slice(0, 5).map((x) => x[0])).toEqual(['take', 'take', 'take', 'take', 'take']);
    expect(answers[5]?.map(String)).toEqual(['wait', '1000']);
    // Half a slot later: still full; a whole slot: one more, for whichever client asks.
    expect((await take(b, 'b1', 'acme', T + 500, limits))[0]).toBe('wait');
    expect((await take(b, 'b1', 'acme', T + 1000, limits))[0]).toBe('take');
    expect((await take(a, 'b1', 'acme', T + 1000, limits))[0]).toBe('wait');
  });

  test('headroom keeps requests in hand below the capacity', async () => {
    await fill('b2', 'acme', 10);
    const limits = { capacity: 5, drain: 1, headroom: 2 };
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) kinds.push((await take(a, 'b2', 'acme', T, limits))[0] ?? '');
    expect(kinds).toEqual(['take', 'take', 'take', 'wait']);
  });

  test('a portal’s bucket is its own: a full one does not hold another portal back', async () => {
    await fill('b3', 'full', 5);
    await fill('b3', 'free', 5);
    const limits = { capacity: 1, drain: 1 };
    expect((await take(a, 'b3', 'full', T, limits))[0]).toBe('take');
    expect((await take(a, 'b3', 'full', T, limits))[0]).toBe('wait');
    expect((await take(b, 'b3', 'free', T, limits))[0]).toBe('take');
  });

  test('two portal ids that reach one Bitrix24 portal (one host) share its bucket', async () => {
    await fill('b4', 'hook', 5);
    await fill('b4', 'app', 5);
    const limits = { capacity: 2, drain: 1 };
    expect((await take(a, 'b4', 'hook', T, limits, 'acme.bitrix24.com'))[0]).toBe('take');
    expect((await take(b, 'b4', 'app', T, limits, 'acme.bitrix24.com'))[0]).toBe('take');
    expect((await take(a, 'b4', 'app', T, limits, 'acme.bitrix24.com'))[0]).toBe('wait');
    expect((await take(a, 'b4', 'app', T, limits, 'other.bitrix24.com'))[0]).toBe('take');
  });

  test('the operating ledger: a batch takes only what the budget has room for, shared by both clients', async () => {
    await fill('o1', 'acme', 100);
    const limits = { capacity: 1000, drain: 100, budget: 10, windowMs: 60_000, cost: 1, max: 50 };
    // 10 s of budget at 1 s a call: 6 for one client, then 4 for the other, then none.
    expect(count(await take(a, 'o1', 'acme', T, { ...limits, max: 6 }))).toBe(6);
    expect(count(await take(b, 'o1', 'acme', T + 1, limits))).toBe(4);
    const full = await take(a, 'o1', 'acme', T + 2, limits);
    expect(full[0]).toBe('wait');
    // The charges leave the window with their slice: T's slice starts at T - T % 10 s.
    const slice = T - (T % 10_000);
    expect(Number(full[1])).toBe(slice + 10_000 + 60_000 - (T + 2));
    expect(count(await take(b, 'o1', 'acme', slice + 70_000, limits))).toBe(10);
  });

  test('learnt costs and the portal’s own figures correct the ledger', async () => {
    await fill('o2', 'acme', 100);
    const limits = { capacity: 1000, drain: 100, budget: 10, windowMs: 60_000, cost: 1, max: 50 };
    expect(count(await take(a, 'o2', 'acme', T, limits))).toBe(10);
    // The portal said each call took 0.5 s: half the charge comes back, and the next batch is
    // priced at 0.5 s a call.
    await run(a, 'b24qLearn', [
      'o2',
      'acme',
      'wh-test',
      T,
      10_000,
      60_000,
      String(T - (T % 10_000)),
      0,
      'im.notify.personal.add',
      10,
      10,
      5,
      -1,
    ]);
    expect(count(await take(b, 'o2', 'acme', T + 1, limits))).toBe(10);
    // Another client of the same webhook spent budget: the portal's sum says more than ours.
    await fill('o3', 'acme', 100);
    expect(count(await take(a, 'o3', 'acme', T, { ...limits, max: 2 }))).toBe(2);
    await run(a, 'b24qLearn', [
      'o3',
      'acme',
      'wh-test',
      T,
      10_000,
      60_000,
      String(T - (T % 10_000)),
      0,
      'im.notify.personal.add',
      2,
      2,
      2,
      9,
    ]);
    expect(count(await take(b, 'o3', 'acme', T + 1, limits))).toBe(1);
  });

  describe('a short operating window', () => {
    const W = 10_000;
    const slice = ledgerSliceMs(W);
    const start = T - (T % slice);
    const limits = { capacity: 1000, drain: 100, budget: 10, windowMs: W, cost: 1, max: 50, sliceMs: slice };
    const okey = (p: string): string => `${p}:pace:o:acme:wh-test:im.notify.personal.add`;
    /**
     * What one batch of the personal method taught the pacer at `now`: by default a batch that got
     * no answer (the margin past `now`), else `ledgerMarginMs(true)` for one the portal answered.
     */
    const learn = (
      p: string,
      now: number,
      taken: string,
      calls: number,
      charged: number,
      actual: number,
      margin = LEDGER_MARGIN_MS,
    ) =>
      run(a, 'b24qLearn', [
        p,
        'acme',
        'wh-test',
        now,
        slice,
        W,
        taken,
        margin,
        'im.notify.personal.add',
        calls,
        charged,
        actual,
        -1,
      ]);

    test('the ledger slices are a sixtieth of the window, at most 10 s', () => {
      expect(ledgerSliceMs(600_000)).toBe(10_000);
      expect(ledgerSliceMs(3_600_000)).toBe(10_000);
      expect(ledgerSliceMs(60_000)).toBe(1000);
      expect(slice).toBe(166);
      expect(ledgerSliceMs(30)).toBe(1);
    });

    test('a charge leaves the ledger a slice after the window, not 10 s after it', async () => {
      await fill('s1', 'acme', 30);
      const first = await take(a, 's1', 'acme', T, limits);
      expect(count(first)).toBe(10);
      expect(first[1]).toBe(String(start));
      const full = await take(b, 's1', 'acme', T + 1, limits);
      expect(full.map(String)).toEqual(['wait', String(start + slice + W - (T + 1))]);
      expect((await take(b, 's1', 'acme', start + slice + W - 1, limits))[0]).toBe('wait');
      expect(count(await take(b, 's1', 'acme', start + slice + W, limits))).toBe(10);
    });

    test('a batch with no answer: its charge is held from when it failed, a window and the margin past it', async () => {
      await fill('s2', 'acme', 30);
      const taken = await take(a, 's2', 'acme', T, limits);
      expect(count(taken)).toBe(10);
      // The request timed out 3 s after the take: the portal may count it later still.
      const failedAt = T + 3000;
      await learn('s2', failedAt, taken[1] ?? '', 0, 10, -1, ledgerMarginMs(false));
      const later = failedAt + LEDGER_MARGIN_MS;
      const moved = later - (later % slice);
      expect(await a.hgetall(okey('s2'))).toEqual({ [String(moved)]: '10' });
      // When the take's own slice would have left, the portal still counts the calls.
      expect((await take(b, 's2', 'acme', start + slice + W, limits))[0]).toBe('wait');
      expect((await take(b, 's2', 'acme', failedAt + W + LEDGER_MARGIN_MS, limits))[0]).toBe('wait');
      expect(count(await take(b, 's2', 'acme', moved + slice + W, limits))).toBe(10);
    });

    test('an answered batch’s charge is held a window from its answer, no margin: it leaves within a slice of that', async () => {
      expect(ledgerMarginMs(true)).toBe(0);
      expect(ledgerMarginMs(false)).toBe(LEDGER_MARGIN_MS);
      await fill('s4', 'acme', 30);
      const taken = await take(a, 's4', 'acme', T, limits);
      expect(count(taken)).toBe(10);
      // The portal counted the calls at the latest when it answered, and drops them a window later.
      const answerAt = T + 3000;
      await learn('s4', answerAt, taken[1] ?? '', 0, 10, -1, ledgerMarginMs(true));
      const moved = answerAt - (answerAt % slice);
      expect(await a.hgetall(okey('s4'))).toEqual({ [String(moved)]: '10' });
      expect((await take(b, 's4', 'acme', answerAt + W - 1, limits))[0]).toBe('wait');
      const open = moved + slice + W;
      expect(open).toBeLessThanOrEqual(answerAt + W + slice);
      expect((await take(b, 's4', 'acme', open - 1, limits)).map(String)).toEqual(['wait', '1']);
      expect(count(await take(b, 's4', 'acme', open, limits))).toBe(10);
    });

    test('the moved charge is what the portal reported, and never leaves a negative slice', async () => {
      await fill('s3', 'acme', 30);
      const taken = await take(a, 's3', 'acme', T, limits);
      expect(count(taken)).toBe(10);
      await learn('s3', T + 500, taken[1] ?? '', 10, 10, 5);
      const at = (now: number): string => String(now + LEDGER_MARGIN_MS - ((now + LEDGER_MARGIN_MS) % slice));
      expect(await a.hgetall(okey('s3'))).toEqual({ [at(T + 500)]: '5' });
      // A batch slower than the window: its take's slice is gone; its charge still counts from the answer.
      await learn('s3', T + 20_000, String(start), 0, 3, -1);
      expect(await a.hgetall(okey('s3'))).toEqual({ [at(T + 500)]: '5', [at(T + 20_000)]: '3' });
      expect(await a.pttl(okey('s3'))).toBeGreaterThan(W);
    });
  });

  test('each method has its own budget: a spent one stops the batch at its first call', async () => {
    const keys = new Keys('o4');
    await fill('o4', 'acme', 3, 'im.notify.system.add');
    const limits = { capacity: 1000, drain: 100, budget: 3, windowMs: 60_000, cost: 1, max: 50 };
    expect(count(await take(a, 'o4', 'acme', T, limits))).toBe(3);
    // Settle them, then queue personal ones followed by a system one: the personal ones go.
    await a.rpush(keys.portal('acme', 'ready'), 'p1', 'p2', 's9');
    await a.hset(keys.portal('acme', 'items'), {
      p1: JSON.stringify({ m: 'im.notify.personal.add', p: {} }),
      p2: JSON.stringify({ m: 'im.notify.personal.add', p: {} }),
      s9: JSON.stringify({ m: 'im.notify.system.add', p: {} }),
    });
    const answer = await take(a, 'o4', 'acme', T + 1, limits);
    expect(answer.filter((_, i) => i > 1 && i % 4 === 2)).toEqual(['p1', 'p2']);
    expect((await take(b, 'o4', 'acme', T + 2, limits))[0]).toBe('wait');
  });

  test('a method the portal refused (429) waits for everyone until its block ends', async () => {
    await fill('o5', 'acme', 10);
    const limits = { capacity: 1000, drain: 100, budget: 100, windowMs: 60_000, cost: 1 };
    await run(a, 'b24qPenalty', [
      'o5',
      'acme',
      'default',
      1000,
      T,
      'wh-test',
      'im.notify.personal.add',
      60_000,
    ]);
    const answer = await take(b, 'o5', 'acme', T, limits);
    expect(answer[0]).toBe('wait');
    expect(Number(answer[1])).toBeGreaterThan(50_000);
  });

  test('a request that arrived late tops the bucket up: the next check sees the portal’s level', async () => {
    await fill('l1', 'acme', 10);
    const limits = { capacity: 3, drain: 2 };
    expect((await take(a, 'l1', 'acme', T, limits))[0]).toBe('take');
    expect((await take(a, 'l1', 'acme', T, limits))[0]).toBe('take');
    // Two in the bucket, one more fits. The second arrived late: the portal missed half a
    // request of drain, so one more does not fit until that has drained too.
    expect(await run(b, 'b24qLate', ['l1', 'acme', 'default', 3, 2, T, 0.5])).toBe('2.5');
    const answer = await take(b, 'l1', 'acme', T, limits);
    expect(answer.map(String)).toEqual(['wait', '250']);
    expect((await take(b, 'l1', 'acme', T + 250, limits))[0]).toBe('take');
    // Never above the capacity: the portal refuses rather than count past it.
    expect(await run(b, 'b24qLate', ['l1', 'acme', 'default', 3, 2, T + 250, 5])).toBe('3');
  });
});

describe('lateness', () => {
  const bucket = { capacity: 10, drainPerSecond: 2 };

  test('the headroom is the margin’s worth of drain, at least one request, never the whole bucket', () => {
    expect(headroomOf(bucket)).toBe((2 * MARGIN_MS) / 1000);
    expect(headroomOf({ capacity: 50, drainPerSecond: 0.5 })).toBe(1);
    expect(headroomOf({ capacity: 3, drainPerSecond: 5 })).toBe(2);
    expect(headroomOf({ capacity: 1, drainPerSecond: 2 })).toBe(0);
  });

  test('a delay within the margin costs nothing; beyond it, its drain, at most one request', () => {
    expect(correctionOf(bucket, { workerMs: 400, transitMs: MARGIN_MS - 400, extraRequests: 0 })).toBe(0);
    expect(correctionOf(bucket, { workerMs: MARGIN_MS, transitMs: 250, extraRequests: 0 })).toBe(0.5);
    expect(correctionOf(bucket, { workerMs: 60_000, transitMs: 0, extraRequests: 0 })).toBe(1);
    // A batch sent again after a refresh is a second request the pacer never counted.
    expect(correctionOf(bucket, { workerMs: 0, transitMs: 0, extraRequests: 1 })).toBe(1);
  });

  test('transit lateness is measured against the usual offset, whatever the portal’s clock says', () => {
    const floor = new TransitFloor();
    // The portal's clock is an hour ahead; requests usually take 5 ms to start there. Requests
    // 10 ms apart: the usual offset may rise with the clocks' drift, by 10 µs here.
    const ahead = 3_600_000;
    expect(floor.lateness('acme', T + ahead + 5, T, 20)).toBe(0);
    expect(floor.lateness('acme', T + 10 + ahead + 8, T + 10, 20)).toBeCloseTo(3, 1);
    // One that started 900 ms late, within a round trip of 1 s.
    expect(floor.lateness('acme', T + 20 + ahead + 905, T + 20, 1000)).toBeCloseTo(900, 0);
    // Never more than the round trip: the way there is part of it.
    expect(floor.lateness('acme', T + 30 + ahead + 905, T + 30, 100)).toBe(100);
    // A faster one lowers the usual offset; another scope has its own.
    expect(floor.lateness('acme', T + 40 + ahead + 1, T + 40, 20)).toBe(0);
    expect(floor.lateness('acme', T + 50 + ahead + 901, T + 50, 1000)).toBeCloseTo(900, 0);
    expect(floor.lateness('other', T + 40, T + 40, 20)).toBe(0);
    // Slow drift: after ten minutes without a faster request, 0.6 s of it is taken as usual.
    expect(floor.lateness('acme', T + 600_050 + ahead + 901, T + 600_050, 1000)).toBeCloseTo(300, 0);
    // The portal's clock was set back an hour: a new usual offset at once, no lateness.
    expect(floor.lateness('acme', T + 600_060 + 5, T + 600_060, 20)).toBe(0);
    // Set forward by an hour (beyond any real delay): taken as the new offset, not a stall.
    expect(floor.lateness('acme', T + 600_070 + ahead + 5, T + 600_070, 20)).toBe(0);
  });
});
