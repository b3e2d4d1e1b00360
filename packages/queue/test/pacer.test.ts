/**
 * The shared pacer, in Lua against a real Redis: the bucket and the operating-time ledger are one
 * state for every client of a portal, whatever connection asks. Times are given explicitly (the
 * scripts' `now` argument), so the test controls the clock instead of waiting.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defineScripts, run } from '../src/scripts.js';
import { Keys } from '../src/keys.js';
import { startRedis, type RunningRedis } from './support/redis.js';

let redis: RunningRedis;
let a: Redis;
let b: Redis;

beforeAll(async () => {
  redis = await startRedis();
  a = new Redis(redis.url);
  b = new Redis(redis.url);
  defineScripts(a);
  defineScripts(b);
});
afterAll(async () => {
  a?.disconnect();
  b?.disconnect();
  await redis?.stop();
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
    10_000,
    scope,
  ]);
}

/** How many notifications a take answer holds. */
const count = (answer: string[]): number => (answer[0] === 'take' ? (answer.length - 1) / 4 : 0);

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
      'im.notify.personal.add',
      2,
      2,
      2,
      9,
    ]);
    expect(count(await take(b, 'o3', 'acme', T + 1, limits))).toBe(1);
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
    expect(answer.filter((_, i) => i % 4 === 1)).toEqual(['p1', 'p2']);
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
});
