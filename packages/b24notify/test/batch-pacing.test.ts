import { afterEach, describe, expect, test } from 'vitest';
import { nodeFetch, type BatchCommand, type BatchResult, type Client, type TimeBlock } from '../src/index.js';
import { Pacer, type SubCallTime } from '../src/pacing.js';
import { manualClock } from './support/clock.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

const PERSONAL = 'im.notify.personal.add';

/**
 * A portal whose operating budget a few batches exhaust: 60 s per method, and every personal
 * notification costs 0.5 s, so a batch of 50 costs 25 s and the pacer's 90 % (54 s) holds two.
 */
const BUDGET = 60;
const PORTAL = {
  portal: {
    plan: 'standard' as const,
    limits: { operating: { budgetSeconds: BUDGET } },
    processingSeconds: { [PERSONAL]: 0.5, '*': 0.02 },
  },
};

interface Logged {
  method: string;
  status: number;
}

function sends(count: number, label: string): BatchCommand[] {
  return Array.from({ length: count }, (_, i) => [PERSONAL, { USER_ID: 2, MESSAGE: `${label} ${i}` }]);
}

function codes(answers: readonly BatchResult[]): string[] {
  return answers.flatMap((a) => Object.values(a.errors).map((e) => e.code));
}

async function stored(p: TestPortal): Promise<number> {
  return (await p.control<{ total: number }>('GET', '/notifications?limit=1')).total;
}

async function requests(p: TestPortal, query = ''): Promise<Logged[]> {
  return (await p.control<{ requests: Logged[] }>('GET', `/requests?limit=1000${query}`)).requests;
}

describe.each(TRANSPORTS)('batch pacing over %s', (transport) => {
  let p: TestPortal;
  afterEach(() => p.close());

  /** A paced client that knows the portal's budget; retries off, so no refusal hides in a retry. */
  const paced = (extra: Parameters<TestPortal['webhookClient']>[0] = {}): Client =>
    p.webhookClient({ pacing: { plan: 'standard', operatingBudget: BUDGET }, retry: false, ...extra });

  test('batches whose sub-calls would exceed the operating budget wait instead of being refused', async () => {
    p = await startPortal(transport, PORTAL);
    const b24 = paced();
    // 300 sub-calls of 0.5 s are 150 s against a 60 s budget, all asked for at once.
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => b24.batch(sends(50, `b${i}`))));
    expect(codes(answers)).toEqual([]);
    for (const answer of answers) expect(Object.keys(answer.result)).toHaveLength(50);
    expect(await stored(p)).toBe(300);
    expect(await requests(p, '&errors=1')).toEqual([]);
    // Two batches fit a window: the other four waited out at least two windows.
    expect(p.clock.slept).toBeGreaterThan(2 * 540_000);
  });

  test('the same run also stays unrefused on a portal that charges batches to the method batch', async () => {
    // b24jssdk PR #539 measured a batch charged to `batch`; the docs say each command is charged
    // to its own method. The pacer must be safe under both (emulator setting batchOperating).
    p = await startPortal(transport, { portal: { ...PORTAL.portal, batchOperating: 'batch' } });
    const b24 = paced();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => b24.batch(sends(50, `b${i}`))));
    expect(codes(answers)).toEqual([]);
    expect(await stored(p)).toBe(300);
    expect(await requests(p, '&errors=1')).toEqual([]);
  });

  test('without pacing the same run is refused OPERATION_TIME_LIMIT inside its batches', async () => {
    p = await startPortal(transport, PORTAL);
    const b24 = p.webhookClient({ pacing: false, retry: false });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => b24.batch(sends(50, `b${i}`))));
    // Each batch answers 200; the refusals are its sub-calls' errors.
    expect(codes(answers)).toContain('OPERATION_TIME_LIMIT');
    expect(await stored(p)).toBeLessThan(300);
  });

  test('single calls and batches of one method share its budget', async () => {
    p = await startPortal(transport, PORTAL);
    const b24 = paced();
    // Four batches (100 s) and 40 single sends (20 s), interleaved: a 429 would reject a single.
    const runs = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => b24.batch(sends(50, `b${i}`))),
      ...Array.from({ length: 40 }, (_, i) => b24.notify.personal({ userId: 3, message: `s${i}` })),
    ]);
    expect(runs).toHaveLength(44);
    expect(codes(runs.slice(0, 4) as BatchResult[])).toEqual([]);
    expect(await stored(p)).toBe(240);
    expect(await requests(p, '&errors=1')).toEqual([]);
    expect(p.clock.slept).toBeGreaterThan(2 * 540_000);
  });

  test("a batch sent through call('batch') is paced by its commands' methods too", async () => {
    p = await startPortal(transport, PORTAL);
    const b24 = paced();
    const cmd = (label: string) =>
      Object.fromEntries(
        Array.from({ length: 50 }, (_, i) => [`k${i}`, `${PERSONAL}?USER_ID=2&MESSAGE=${label}${i}`]),
      );
    const answers = await Promise.all(
      ['x', 'y', 'z'].map((label) =>
        b24.call<{ result_error: unknown }>('batch', { halt: 0, cmd: cmd(label) }),
      ),
    );
    // An empty map comes back as [].
    for (const answer of answers) expect(answer.result.result_error).toEqual([]);
    expect(await stored(p)).toBe(150);
    expect(p.clock.slept).toBeGreaterThan(540_000);
  });

  test('sub-calls refused for operating time park the method until the window moves on', async () => {
    p = await startPortal(transport, PORTAL);
    // Another client on the same webhook, which this one cannot see, spends 50 s of the 60.
    const other = p.webhookClient({ pacing: false, retry: false });
    for (const label of ['o1', 'o2']) expect((await other.batch(sends(50, label))).errors).toEqual({});

    const b24 = paced();
    const first = await b24.batch(sends(50, 'first'));
    // The portal ran sub-calls while its sum was within budget (50 + 20 × 0.5), then refused.
    expect(Object.keys(first.result)).toHaveLength(21);
    expect(codes([first])).toEqual(Array.from({ length: 29 }, () => 'OPERATION_TIME_LIMIT'));
    expect(p.clock.slept).toBe(0);

    // By its ledger alone (10.5 s spent) the pacer would send at once and be refused again.
    const retry = await b24.batch(sends(29, 'again'));
    expect(retry.errors).toEqual({});
    expect(p.clock.slept).toBeGreaterThanOrEqual(540_000);
    expect(await stored(p)).toBe(150);
  });

  test('a single call refused for operating time parks its method too', async () => {
    p = await startPortal(transport, PORTAL);
    const other = p.webhookClient({ pacing: false, retry: false });
    // Another client spends the whole budget (60 s) unseen.
    for (const label of ['o1', 'o2', 'o3']) await other.batch(sends(50, label));
    expect(codes([await other.batch(sends(1, 'o4'))])).toEqual(['OPERATION_TIME_LIMIT']);

    const b24 = paced();
    await expect(b24.notify.personal({ userId: 2, message: 'refused' })).rejects.toMatchObject({
      code: 'OPERATION_TIME_LIMIT',
    });
    // The next call, single or in a batch, waits for the window instead of being refused again.
    const [single, batch] = await Promise.all([
      b24.notify.personal({ userId: 2, message: 'after the wait' }),
      b24.batch(sends(2, 'after')),
    ]);
    expect(single.result).toBeGreaterThan(0);
    expect(batch.errors).toEqual({});
    expect(p.clock.slept).toBeGreaterThanOrEqual(540_000);
    const refused = (await requests(p)).filter((r) => r.status === 429);
    expect(refused).toHaveLength(1);
  });

  test('a portal with a one-minute operating window: the pacer told so waits one window, not ten', async () => {
    p = await startPortal(transport, {
      portal: {
        ...PORTAL.portal,
        limits: { operating: { budgetSeconds: BUDGET, windowMinutes: 1 } },
      },
    });
    const b24 = paced({
      pacing: { plan: 'standard', operatingBudget: BUDGET, operatingWindowMinutes: 1 },
    });
    const start = p.clock.now();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => b24.batch(sends(50, `b${i}`))));
    expect(codes(answers)).toEqual([]);
    expect(await stored(p)).toBe(300);
    expect(await requests(p, '&errors=1')).toEqual([]);
    // Two batches fit a window: the other four waited out two one-minute windows (and the
    // pacer's margin each), far from the two ten-minute windows of the default. The lower
    // bound on the portal's clock, the upper on what the pacer slept: real time moves the
    // portal's clock too, so a loaded machine sleeps less, never more.
    expect(p.clock.now() - start).toBeGreaterThan(2 * 54_000);
    expect(p.clock.slept).toBeLessThan(3 * 62_000);
  });

  test('a batch whose answer was lost counts as run: the portal may have charged it', async () => {
    p = await startPortal(transport, PORTAL);
    // The second batch runs on the portal, but its answer is cut off halfway.
    await p.control('PUT', '/chaos', {
      rules: [{ method: 'batch', sequence: [null, { type: 'truncate' }] }],
    });
    const b24 = paced();
    expect((await b24.batch(sends(50, 'one'))).errors).toEqual({});
    const lost: unknown = await b24.batch(sends(50, 'two')).catch((e: unknown) => e);
    expect(lost).toMatchObject({ name: 'B24NetworkError', delivery: 'unknown' });
    expect(await stored(p)).toBe(100);

    const third = await b24.batch(sends(50, 'three'));
    expect(third.errors).toEqual({});
    expect(p.clock.slept).toBeGreaterThanOrEqual(540_000);
  });

  describe("a batch's reservation ends on every path", () => {
    // With the cost of a call unknown, a batch waits for the method's batches under way: a
    // reservation left behind would make every later batch of the method wait forever.

    test('a network error', async () => {
      p = await startPortal(transport, PORTAL);
      await p.control('PUT', '/chaos', { rules: [{ method: 'batch', sequence: [{ type: 'reset' }] }] });
      const b24 = paced();
      const failed: unknown = await b24.batch(sends(50, 'reset')).catch((e: unknown) => e);
      expect(failed).toMatchObject({ name: 'B24NetworkError' });
      expect((await b24.batch(sends(50, 'after'))).errors).toEqual({});
      expect(p.clock.slept).toBe(0);
    });

    test('an abort while waiting for its turn', async () => {
      p = await startPortal(transport, PORTAL);
      // The first batch stays under way long enough for the second to be waiting behind it.
      await p.control('PUT', '/chaos', {
        rules: [{ method: 'batch', sequence: [{ type: 'delay', ms: 300 }] }],
      });
      const b24 = paced();
      const first = b24.batch(sends(50, 'first'));
      const controller = new AbortController();
      const second = b24.batch(sends(50, 'second'), { signal: controller.signal });
      await new Promise((resolve) => setImmediate(resolve));
      controller.abort(new Error('stop'));
      await expect(second).rejects.toThrow('stop');
      expect((await first).errors).toEqual({});
      expect((await b24.batch(sends(50, 'third'))).errors).toEqual({});
      // The aborted batch was never sent.
      expect(await requests(p, '&method=batch')).toHaveLength(2);
    });

    test('an abort while under way', async () => {
      p = await startPortal(transport, PORTAL);
      const controller = new AbortController();
      // The real fetch, with the caller giving up as soon as the request has left.
      const aborting: typeof fetch = (input, init) => {
        const pending = nodeFetch(input, init);
        controller.abort(new Error('gave up'));
        return pending;
      };
      const b24 = paced({ fetch: aborting });
      await expect(b24.batch(sends(50, 'gone'), { signal: controller.signal })).rejects.toThrow('gave up');
      // The next batch of the method goes: the aborted one gave its reservation back.
      expect((await b24.batch(sends(10, 'next'))).errors).toEqual({});
    });
  });
});

/** A sub-call's time block as a batch answer has it: no operating figures. */
function subTime(processing: number): TimeBlock {
  return { start: 1, finish: 1, duration: 0, processing, date_start: '', date_finish: '' };
}

function ran(method: string, count: number, processing: number): SubCallTime[] {
  return Array.from({ length: count }, () => [method, subTime(processing)] as const);
}

/** Let pending promise chains and the manual clock's sleeps run. */
async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Pacer.acquireBatch', () => {
  // A budget of 100 s used in full, so the sums below are easy to follow.
  const options = { plan: 'enterprise' as const, operatingBudget: 100, operatingThreshold: 1 };

  test("an answer ends exactly its own batch's reservation, not the oldest of the method", async () => {
    const clock = manualClock();
    const pacer = new Pacer(options, clock);
    const probe = await pacer.acquireBatch(new Map([['a', 10]]));
    probe.observe(ran('a', 10, 2));
    // 20 s spent, 2 s a call: 30 calls (60 s) and 10 calls (20 s) go together.
    const big = await pacer.acquireBatch(new Map([['a', 30]]));
    const small = await pacer.acquireBatch(new Map([['a', 10]]));
    let waiting = false;
    const next = pacer.acquireBatch(new Map([['a', 20]])).then((t) => {
      waiting = true;
      return t;
    });
    await ticks();
    expect(waiting).toBe(false);
    // Ending the small batch gives back its 10 calls, not the 30 the big one holds; and a
    // ticket ends once, so ending it again gives back nothing more.
    small.settle();
    small.settle();
    small.saturate();
    await ticks();
    expect(waiting).toBe(false);
    big.settle();
    (await next).settle();
    expect(clock.at).toBe(1_000_000);
  });

  test('with the budget spent, a batch sleeps until the oldest charges leave the window', async () => {
    const clock = manualClock();
    const pacer = new Pacer(options, clock);
    const first = await pacer.acquireBatch(new Map([['a', 20]]));
    first.observe(ran('a', 20, 2));
    clock.at += 30_000;
    const second = await pacer.acquireBatch(new Map([['a', 20]]));
    second.observe(ran('a', 20, 2));
    // 80 s spent; 20 more calls need 40 s: the first batch's charges must go, ten minutes and
    // the clock margin after they were answered. The second's may stay.
    await pacer.acquireBatch(new Map([['a', 20]]));
    expect(clock.at).toBe(1_000_000 + 600_000 + 1_000);
  });

  test('operatingWindowMinutes sets how long a charge counts', async () => {
    const clock = manualClock();
    const pacer = new Pacer({ ...options, operatingWindowMinutes: 1 }, clock);
    const first = await pacer.acquireBatch(new Map([['a', 50]]));
    first.observe(ran('a', 50, 2));
    await pacer.acquireBatch(new Map([['a', 1]]));
    expect(clock.at).toBe(1_000_000 + 60_000 + 1_000);
  });

  test('charges a few seconds apart leave a one-minute window one by one, not as one group', async () => {
    const clock = manualClock();
    const pacer = new Pacer({ ...options, operatingWindowMinutes: 1 }, clock);
    (await pacer.acquireBatch(new Map([['a', 20]]))).observe(ran('a', 20, 2));
    clock.at += 2_000;
    (await pacer.acquireBatch(new Map([['a', 20]]))).observe(ran('a', 20, 2));
    // 80 s of 100 spent; 40 more need the first charge gone, a window and the margin after it,
    // not after the second (a ledger grouping 10 s would hold both until 63 s).
    await pacer.acquireBatch(new Map([['a', 20]]));
    expect(clock.at).toBe(1_000_000 + 61_000);
  });

  test('operatingWindowSeconds sets the window in seconds, for a portal with a short one', async () => {
    const clock = manualClock();
    const pacer = new Pacer({ ...options, operatingWindowSeconds: 10 }, clock);
    const first = await pacer.acquireBatch(new Map([['a', 50]]));
    first.observe(ran('a', 50, 2));
    await pacer.acquireBatch(new Map([['a', 1]]));
    expect(clock.at).toBe(1_000_000 + 10_000 + 1_000);
  });

  test('an operating window in seconds that is not positive, or given with minutes, is refused, naming the option', () => {
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => new Pacer({ ...options, operatingWindowSeconds: bad }, manualClock())).toThrow(
        /pacing\.operatingWindowSeconds: must be a positive number of seconds/,
      );
    }
    expect(
      () => new Pacer({ ...options, operatingWindowSeconds: 10, operatingWindowMinutes: 1 }, manualClock()),
    ).toThrow(/pacing\.operatingWindowSeconds: give it or operatingWindowMinutes, not both/);
  });

  test('an operating window that is not a positive number of minutes is refused, naming the option', () => {
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => new Pacer({ ...options, operatingWindowMinutes: bad }, manualClock())).toThrow(
        /pacing\.operatingWindowMinutes/,
      );
    }
  });

  test('single calls count what batches were charged', async () => {
    const clock = manualClock();
    const pacer = new Pacer(options, clock);
    const batch = await pacer.acquireBatch(new Map([['A', 50]]));
    batch.observe(ran('a', 50, 2));
    // 100 s spent by batches: a single call of the method (in any case) waits for the window.
    await pacer.acquire('A');
    expect(clock.at).toBe(1_000_000 + 601_000);
  });

  test('a refused sub-call parks its method (only it) until its oldest charge leaves', async () => {
    const clock = manualClock();
    const pacer = new Pacer(options, clock);
    const batch = await pacer.acquireBatch(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    batch.observe([...ran('a', 1, 1), ...ran('b', 1, 1)]);
    pacer.exhaust('a');
    clock.at += 5_000;
    (await pacer.acquireBatch(new Map([['b', 1]]))).settle();
    expect(clock.at).toBe(1_005_000);
    await pacer.acquireBatch(new Map([['a', 1]]));
    expect(clock.at).toBe(1_000_000 + 601_000);
  });

  test('an abort while waiting for a method gives back what the batch had reserved', async () => {
    const clock = manualClock();
    const pacer = new Pacer(options, clock);
    // b is under way with its cost unknown: the next batch of b waits for it.
    const b = await pacer.acquireBatch(new Map([['b', 5]]));
    const controller = new AbortController();
    const aborted = pacer.acquireBatch(
      new Map([
        ['b', 5],
        ['a', 5],
      ]),
      controller.signal,
    );
    await ticks();
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    // a (taken first, in name order) was given back: its next batch goes while b is still under way.
    (await pacer.acquireBatch(new Map([['a', 5]]))).settle();
    b.settle();
    (await pacer.acquireBatch(new Map([['b', 5]]))).settle();
  });

  test('an abort while waiting for a slot gives back the reservations', async () => {
    const clock = manualClock();
    const pacer = new Pacer({ ...options, plan: { drainPerSecond: 1, capacity: 1 }, headroom: 0 }, clock);
    const holder = await pacer.acquireBatch(new Map([['x', 1]]));
    const controller = new AbortController();
    const aborted = pacer.acquireBatch(new Map([['b', 5]]), controller.signal);
    await ticks();
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    holder.saturate();
    // b's 5 calls were given back: with its cost unknown they would hold its next batch forever.
    (await pacer.acquireBatch(new Map([['b', 5]]))).settle();
    // A full bucket drained before the slot was given.
    expect(clock.at).toBeGreaterThanOrEqual(1_001_000);
  });
});
