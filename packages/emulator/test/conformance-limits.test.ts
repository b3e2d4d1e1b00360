/**
 * Conformance, spec §4 and research §13: the intensity limit (leaky bucket per portal and
 * source IP) and the operating-time limit (per method and app or webhook, ten one-minute
 * buckets).
 *
 * `Date` and `performance` (whichever the portal clock reads) are frozen for these tests, so
 * the portal's clock moves only through the control API (`PUT /clock`): the bucket does not
 * drain while requests are in flight, and the expected numbers are exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EmulatorOptions } from '../src/index.js';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

const TOO_MANY = { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' };
const BLOCKED = {
  error: 'OPERATION_TIME_LIMIT',
  error_description: 'Method is blocked due to operation time limit',
};
const SEND = { USER_ID: 2, MESSAGE: 'hello' };

function expectRefused(answer: Answer, status: number, body: Record<string, string>): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json\b/);
  expect(answer.json).toEqual(body);
  // Bitrix24 sends no Retry-After.
  expect(answer.headers['retry-after']).toBeUndefined();
}

/** The numeric fields of a `time` block. */
interface Time {
  start: number;
  finish: number;
  processing: number;
  operating: number;
  operating_reset_at: number;
}

/** The parts of a batch answer these tests read. */
interface BatchResult {
  result: Record<string, unknown>;
  result_error: Record<string, unknown>;
  result_time: Record<string, unknown>;
}

function timeOf(answer: Answer): Time {
  expect(answer.status).toBe(200);
  return answer.body.time as Time;
}

describe.each(TRANSPORTS)('limits over %s', (transport) => {
  let t: TestPortal;
  let now: number;

  beforeEach(() => {
    // A whole second a little into a minute, so bucket and reset times are easy to state.
    now = Math.floor(Date.now() / 60_000) * 60_000 + 20_000;
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now });
  });
  afterEach(async () => {
    await t.close();
    vi.useRealTimers();
  });

  // Calls charged 100 s reach the 480 s budget in a few requests; a real portal cuts any
  // request at 60 s (tested in conformance-request-time.test.ts), so the cut is moved out of the way.
  const start = (portal: EmulatorOptions['portal']): Promise<TestPortal> =>
    startTestPortal(transport, { portal: { requestTimeLimitSeconds: 3600, ...portal } });
  const advance = async (ms: number): Promise<void> => {
    expect((await t.control('PUT', '/clock', { advanceMs: ms })).status).toBe(200);
  };
  const statuses = async (n: number, call: () => Promise<Answer>): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await call()).status);
    return out;
  };

  describe('intensity', () => {
    it('standard: 50 immediate requests pass, the 51st gets 503; 500 ms later one more passes', async () => {
      t = await start({ plan: 'standard' });
      expect(await statuses(50, () => t.hook('profile'))).toEqual(Array(50).fill(200));
      expectRefused(await t.hook('im.notify.personal.add', SEND), 503, TOO_MANY);
      // A refused request adds nothing: still refused, not deeper in debt.
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
      expect((await t.control('GET', '/notifications')).body.total).toBe(0);
      await advance(499);
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
      await advance(1);
      expect((await t.hook('profile')).status).toBe(200);
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
      // Drained at 2/s: 5 s later ten more fit.
      await advance(5_000);
      expect(await statuses(10, () => t.hook('profile'))).toEqual(Array(10).fill(200));
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
    });

    it('one bucket per portal and IP: webhook and app calls fill it together', async () => {
      t = await start({ plan: 'standard' });
      expect(await statuses(25, () => t.hook('profile'))).toEqual(Array(25).fill(200));
      expect(await statuses(25, () => t.oauth('profile'))).toEqual(Array(25).fill(200));
      expectRefused(await t.oauth('profile'), 503, TOO_MANY);
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
      // Failed authentication is a request too.
      await advance(500);
      expect((await t.oauth('profile', {}, 'bogus')).status).toBe(401);
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
    });

    it('enterprise: 250 pass, the 251st gets 503; 200 ms later one more passes', async () => {
      t = await start({ plan: 'enterprise' });
      expect(await statuses(250, () => t.hook('profile'))).toEqual(Array(250).fill(200));
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
      await advance(200);
      expect((await t.hook('profile')).status).toBe(200);
      expectRefused(await t.hook('profile'), 503, TOO_MANY);
    });

    it('a batch counts as one request, whatever it holds', async () => {
      t = await start({ plan: 'standard' });
      const cmd = Object.fromEntries(
        Array.from({ length: 50 }, (_, i) => [`n${i}`, `im.notify.personal.add?USER_ID=2&MESSAGE=m${i}`]),
      );
      const batch = await t.hook('batch', { cmd });
      expect(batch.status).toBe(200);
      expect(Object.keys((batch.body.result as BatchResult).result)).toHaveLength(50);
      expect(await statuses(49, () => t.hook('profile'))).toEqual(Array(49).fill(200));
      // Full now: a whole batch is refused as one request, and runs none of its commands.
      expectRefused(
        await t.hook('batch', { cmd: { a: 'im.notify.personal.add?USER_ID=2&MESSAGE=late' } }),
        503,
        TOO_MANY,
      );
      expect((await t.control('GET', '/notifications')).body.total).toBe(50);
    });

    it('plan off never limits', async () => {
      t = await start({ plan: 'off', processingSeconds: { '*': 100 } });
      expect(await statuses(300, () => t.hook('profile'))).toEqual(Array(300).fill(200));
      const last = await t.hook('profile');
      expect(timeOf(last).operating).toBe(0);
    });
  });

  describe('operating time', () => {
    it('the crossing call completes, the next call of that method by that webhook gets 429', async () => {
      t = await start({ plan: 'standard', processingSeconds: { '*': 100 } });
      const resetAt = Math.floor(now / 1000) + 600;
      for (let i = 1; i <= 5; i++) {
        const a = await t.hook('im.notify.personal.add', SEND);
        const time = timeOf(a);
        expect(typeof a.body.result).toBe('number');
        expect(time.processing).toBe(100);
        expect(time.operating).toBe(i * 100);
        expect(time.operating_reset_at).toBe(resetAt);
      }
      expectRefused(await t.hook('im.notify.personal.add', SEND), 429, BLOCKED);
      expectRefused(await t.hook('IM.NOTIFY.PERSONAL.ADD', SEND), 429, BLOCKED);
      expect((await t.control('GET', '/notifications')).body.total).toBe(5);

      // Another method of the same webhook keeps its own sum.
      const other = timeOf(await t.hook('im.notify.system.add', SEND));
      expect(other.operating).toBe(100);
      expect(other.operating_reset_at).toBe(resetAt);
      // Another caller (the OAuth app) keeps its own sum for the same method.
      const app = timeOf(await t.oauth('im.notify.personal.add', SEND));
      expect(app.operating).toBe(100);

      // Still blocked a second before the bucket drops out; free at the reset time.
      await advance(599_000);
      expectRefused(await t.hook('im.notify.personal.add', SEND), 429, BLOCKED);
      await advance(1_000);
      const again = timeOf(await t.hook('im.notify.personal.add', SEND));
      expect(again.operating).toBe(100);
      expect(again.operating_reset_at).toBe(Math.floor(now / 1000) + 1200);
    });

    it('a sum exactly at the limit is not over it', async () => {
      t = await start({ plan: 'standard', processingSeconds: { '*': 120 } });
      expect(await statuses(4, () => t.hook('profile'))).toEqual([200, 200, 200, 200]);
      // 480 s: the fifth call still runs and crosses; the sixth is blocked.
      expect(timeOf(await t.hook('profile')).operating).toBe(600);
      expectRefused(await t.hook('profile'), 429, BLOCKED);
    });

    it('only the oldest one-minute bucket drops out at operating_reset_at', async () => {
      t = await start({ plan: 'standard', processingSeconds: { '*': 100 } });
      for (let i = 0; i < 3; i++) await t.hook('im.notify.personal.add', SEND);
      await advance(120_000);
      const fourth = timeOf(await t.hook('im.notify.personal.add', SEND));
      expect(fourth.operating).toBe(400);
      const crossing = timeOf(await t.hook('im.notify.personal.add', SEND));
      expect(crossing.operating).toBe(500);
      // The oldest bucket, from the first call, decides the reset time.
      expect(crossing.operating_reset_at).toBe(Math.floor(now / 1000) + 600);
      expectRefused(await t.hook('im.notify.personal.add', SEND), 429, BLOCKED);
      await advance(480_000);
      // 300 s dropped out with the first bucket: 200 s left, under the limit.
      const after = timeOf(await t.hook('im.notify.personal.add', SEND));
      expect(after.operating).toBe(300);
      expect(after.operating_reset_at).toBe(Math.floor(now / 1000) + 120 + 600);
    });

    it('windowSeconds (emulator only) shrinks the window to seconds, in one-second buckets', async () => {
      t = await start({
        plan: 'standard',
        limits: { operating: { budgetSeconds: 1, windowSeconds: 5 } },
        processingSeconds: { '*': 0.5 },
      });
      expect((await t.control('GET', '/limits')).body.operating).toEqual({
        budgetSeconds: 1,
        windowMinutes: 10,
        windowSeconds: 5,
        alignment: 'clock',
      });
      const resetAt = Math.floor(now / 1000) + 5;
      for (const operating of [0.5, 1, 1.5]) {
        const time = timeOf(await t.hook('im.notify.personal.add', SEND));
        expect(time.operating).toBe(operating);
        expect(time.operating_reset_at).toBe(resetAt);
      }
      expectRefused(await t.hook('im.notify.personal.add', SEND), 429, BLOCKED);
      await advance(4_999);
      expectRefused(await t.hook('im.notify.personal.add', SEND), 429, BLOCKED);
      await advance(1);
      const again = timeOf(await t.hook('im.notify.personal.add', SEND));
      expect(again.operating).toBe(0.5);
      expect(again.operating_reset_at).toBe(Math.floor(now / 1000) + 10);
    });

    it('PUT /limits refuses a windowSeconds that is not a whole number of seconds, naming the field', async () => {
      t = await start({ plan: 'standard' });
      for (const windowSeconds of [0, 1.5, '10']) {
        const a = await t.control('PUT', '/limits', { plan: 'standard', operating: { windowSeconds } });
        expect(a.status).toBe(400);
        expect(JSON.stringify(a.body)).toContain(
          'operating.windowSeconds: must be a whole number of one-second buckets',
        );
      }
      const ok = await t.control('PUT', '/limits', { plan: 'standard', operating: { windowSeconds: 30 } });
      expect(ok.status).toBe(200);
      expect(ok.body.operating).toMatchObject({ budgetSeconds: 480, windowSeconds: 30 });
    });

    it('inside a batch each sub-call counts against its own method; a blocked one lands in result_error', async () => {
      t = await start({ plan: 'standard', processingSeconds: { '*': 100 } });
      const cmd: Record<string, string> = {};
      for (let i = 0; i < 6; i++) cmd[`p${i}`] = `im.notify.personal.add?USER_ID=2&MESSAGE=p${i}`;
      cmd.s = 'im.notify.system.add?USER_ID=2&MESSAGE=s';
      const batch = await t.hook('batch', { cmd });
      expect(batch.status).toBe(200);
      const result = batch.body.result as BatchResult;
      expect(Object.keys(result.result)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 's']);
      expect(result.result_error).toEqual({ p5: BLOCKED });
      expect(Object.keys(result.result_time)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 's']);
      // The batch itself is not counted: another batch runs, and the plain calls see the sums.
      const second = await t.hook('batch', {
        cmd: { me: 'profile', late: 'im.notify.personal.add?USER_ID=2&MESSAGE=x' },
      });
      expect(second.status).toBe(200);
      expect((second.body.result as Record<string, unknown>).result_error).toEqual({ late: BLOCKED });
      expectRefused(await t.hook('im.notify.personal.add', SEND), 429, BLOCKED);
      expect(timeOf(await t.hook('im.notify.system.add', SEND)).operating).toBe(200);
      expect(timeOf(await t.hook('profile')).operating).toBe(200);
    });

    it('under batchOperating batch, a batch is charged as the method batch and refused whole with 429', async () => {
      t = await start({ plan: 'standard', processingSeconds: { '*': 100 }, batchOperating: 'batch' });
      const resetAt = Math.floor(now / 1000) + 600;
      const cmd = (n: number): Record<string, string> =>
        Object.fromEntries(
          Array.from({ length: n }, (_, i) => [`p${i}`, `im.notify.personal.add?USER_ID=2&MESSAGE=p${i}`]),
        );
      // Six sub-calls of 100 s: none is refused inside, the batch's sum crosses 480 s.
      const first = await t.hook('batch', { cmd: cmd(6) });
      expect(first.status).toBe(200);
      const result = first.body.result as BatchResult;
      expect(result.result_error).toEqual([]);
      expect(Object.keys(result.result)).toHaveLength(6);
      expect(timeOf(first)).toMatchObject({ processing: 600, operating: 600, operating_reset_at: resetAt });
      // The next batch is refused before it runs: HTTP 429, nothing stored.
      expectRefused(await t.hook('batch', { cmd: cmd(1) }), 429, BLOCKED);
      expect((await t.control('GET', '/notifications')).body.total).toBe(6);
      // The sub-calls' own methods were not charged: a plain call still runs.
      expect(timeOf(await t.hook('im.notify.personal.add', SEND)).operating).toBe(100);
      // The batch's bucket drops out at its reset time.
      await advance(600_000);
      expect((await t.hook('batch', { cmd: cmd(1) })).status).toBe(200);
    });
  });
});
