import { afterEach, describe, expect, test, vi } from 'vitest';
import { Pacer, PLANS } from '../src/pacing.js';
import { manualClock } from './support/clock.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

interface LogEntry {
  method: string;
  status: number;
  error?: string;
  response?: { time?: { operating?: number } };
}

const PERSONAL = 'im.notify.personal.add';

/** The request log, all of it (the emulator keeps the latest `requestLogSize` entries). */
async function requests(p: TestPortal, query = ''): Promise<LogEntry[]> {
  const { requests } = await p.control<{ requests: LogEntry[] }>('GET', `/requests?limit=1000${query}`);
  return requests;
}

async function stored(p: TestPortal): Promise<number> {
  return (await p.control<{ total: number }>('GET', '/notifications?limit=1')).total;
}

function burst(p: TestPortal, plan: 'standard' | 'enterprise', count: number) {
  const client = p.webhookClient({ pacing: { plan }, retry: false });
  return Promise.all(
    Array.from({ length: count }, (_, i) => client.notify.personal({ userId: 2, message: `burst ${i}` })),
  );
}

describe.each(TRANSPORTS)('pacing over %s', (transport) => {
  let p: TestPortal;
  afterEach(() => p.close());

  // Enterprise once: its burst is the same code path, and 500 calls take a while.
  const plans = transport === 'https' ? (['standard', 'enterprise'] as const) : (['standard'] as const);
  test.each(plans)(
    'a burst of 500 with the %s preset draws not one QUERY_LIMIT_EXCEEDED',
    async (plan) => {
      p = await startPortal(transport, { portal: { plan } });
      const start = p.clock.now();
      // With retries off, a single 503 would fail the burst instead of hiding in a retry.
      const answers = await burst(p, plan, 500);
      expect(new Set(answers.map((a) => a.result)).size).toBe(500);
      expect(await requests(p, '&errors=1')).toEqual([]);
      expect(await requests(p, `&method=${PERSONAL}`)).toHaveLength(500);
      expect(await stored(p)).toBe(500);
      // The pacer waited for the portal's bucket to drain, (500 - capacity) / rate seconds of the
      // portal's time, instead of letting the portal refuse. Its time, not what the pacer slept:
      // real time drains the bucket too, and a loaded machine takes more of it, so sleeps less.
      const { drainPerSecond, capacity } = PLANS[plan];
      expect(p.clock.now() - start).toBeGreaterThanOrEqual(((500 - capacity) / drainPerSecond) * 1000 - 1);
      // 500 calls, up to 248 at once over TLS, are seconds of CPU and many more on a busy machine
      // (27 s seen at a load of 20): the limit is there to catch a hang, not to time the burst.
    },
    180_000,
  );

  test('custom numbers mirror a portal with custom limits', async () => {
    const intensity = { drainPerSecond: 1, capacity: 10 };
    p = await startPortal(transport, { portal: { plan: 'standard', limits: { intensity } } });
    const client = p.webhookClient({ pacing: { plan: intensity, headroom: 0 }, retry: false });
    const start = p.clock.now();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.notify.personal({ userId: 2, message: `c${i}` })),
    );
    expect(await requests(p, '&errors=1')).toEqual([]);
    // 30 of the 40 waited for the bucket to drain, one a second of the portal's time (real time
    // included: a loaded machine sleeps less).
    expect(p.clock.now() - start).toBeGreaterThanOrEqual(30_000 - 1);
  });

  test('operating time: a paced method waits for operating_reset_at and never gets 429', async () => {
    p = await startPortal(transport, { portal: { plan: 'standard', processingSeconds: { [PERSONAL]: 10 } } });
    const answers = await burst(p, 'standard', 120);
    expect(answers).toHaveLength(120);
    const log = await requests(p);
    expect(log.filter((e) => e.status !== 200)).toEqual([]);
    // 120 calls of 10 s are 1200 s: the 480 s budget forced at least two waits of a window.
    expect(p.clock.slept).toBeGreaterThan(2 * 540_000);
    for (const entry of log) expect(entry.response?.time?.operating).toBeLessThanOrEqual(480);
  });

  test('operating time: a blocked method does not slow the others', async () => {
    p = await startPortal(transport, { portal: { plan: 'standard', processingSeconds: { [PERSONAL]: 10 } } });
    const client = p.webhookClient({ pacing: { plan: 'standard' }, retry: false });
    // The pacer lets 43 calls of 10 s through (430 s, under 90 % of 480 s), then parks the method.
    const first = await client.notify.personal({ userId: 1, message: 'probe' });
    expect(first.time?.operating).toBe(10);
    await Promise.all(
      Array.from({ length: 42 }, (_, i) => client.notify.personal({ userId: 1, message: `m${i}` })),
    );
    expect(p.clock.slept).toBe(0);

    const list = await client.notify.get();
    expect(list.result.total_count).toBe(43);
    expect(p.clock.slept).toBe(0);

    const after = await client.notify.personal({ userId: 2, message: 'after the reset' });
    // It waited out the window instead of being refused: the old minute dropped out.
    expect(p.clock.slept).toBeGreaterThanOrEqual(540_000);
    expect(after.time?.operating).toBe(10);
    expect(await requests(p, '&errors=1')).toEqual([]);
  });

  test('a 503 that still comes is believed: the client backs off at least one slot and retries', async () => {
    p = await startPortal(transport, { portal: { plan: 'standard' } });
    await p.control('PUT', '/chaos', {
      rules: [{ method: PERSONAL, sequence: [{ type: 'error', code: 'QUERY_LIMIT_EXCEEDED' }, null] }],
    });
    const client = p.webhookClient({ pacing: { plan: 'standard' } });
    const answer = await client.notify.personal({ userId: 2, message: 'after a 503' });
    expect(answer.result).toBe(1);
    expect(p.clock.slept).toBeGreaterThanOrEqual(500);
    expect((await requests(p, `&method=${PERSONAL}`)).map((e) => e.status)).toEqual([200, 503]);
  });

  test('a 429 that still comes is waited out until operating_reset_at', async () => {
    p = await startPortal(transport, { portal: { plan: 'standard' } });
    await p.control('PUT', '/chaos', {
      rules: [{ method: PERSONAL, sequence: [null, { type: 'error', code: 'OPERATION_TIME_LIMIT' }, null] }],
    });
    const client = p.webhookClient({ pacing: { plan: 'standard' } });
    const start = p.clock.now();
    await client.notify.personal({ userId: 2, message: 'learns the window' });
    const answer = await client.notify.personal({ userId: 2, message: 'blocked, then sent' });
    expect(answer.result).toBe(2);
    // The window reported by the first answer is ten minutes long, from its first call's whole
    // second; measured on the portal's clock, which real time moves too.
    expect(p.clock.now() - start).toBeGreaterThanOrEqual(599_000);
    expect((await requests(p, `&method=${PERSONAL}`)).map((e) => e.status)).toEqual([200, 429, 200]);
  });
});

describe('Pacer', () => {
  test('rejects impossible numbers', () => {
    expect(() => new Pacer({ plan: { drainPerSecond: 0, capacity: 10 } }, manualClock())).toThrow(RangeError);
    expect(() => new Pacer({ plan: { drainPerSecond: 1, capacity: 0 } }, manualClock())).toThrow(RangeError);
  });

  test('a request under way holds its slot until it ends, however much time passes', async () => {
    const clock = manualClock();
    const pacer = new Pacer({ plan: { drainPerSecond: 1, capacity: 3 }, headroom: 0 }, clock);
    // Different methods, so the per-method probe does not serialize them.
    await Promise.all(['a', 'b', 'c'].map((m) => pacer.acquire(m)));
    let fourth = false;
    const waiting = pacer.acquire('d').then(() => (fourth = true));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(fourth).toBe(false);
    // Sleeping does not help: only an end does.
    expect(clock.at).toBe(1_000_000);
    pacer.settle('a');
    await waiting;
    // It then drained one request's worth before going.
    expect(clock.at).toBe(1_001_000);
  });

  test('a request slow to reach the portal keeps its slot past any real-time deadline', async () => {
    // On a loaded machine a request can take seconds to arrive, and the portal counts it only
    // then: a slot that drained after a fixed real second let a burst overfill the bucket.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const clock = manualClock();
      const pacer = new Pacer({ plan: { drainPerSecond: 1, capacity: 2 }, headroom: 0 }, clock);
      await Promise.all(['a', 'b'].map((m) => pacer.acquire(m)));
      let third = false;
      const waiting = pacer.acquire('c').then(() => (third = true));
      vi.advanceTimersByTime(60_000);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(third).toBe(false);
      pacer.observe('b', undefined);
      await waiting;
      expect(clock.at).toBe(1_001_000);
    } finally {
      vi.useRealTimers();
    }
  });

  test('an aborted wait gives its turn to the next call', async () => {
    const clock = manualClock();
    const pacer = new Pacer({ plan: { drainPerSecond: 1, capacity: 1 }, headroom: 0 }, clock);
    await pacer.acquire('a');
    const controller = new AbortController();
    const aborted = pacer.acquire('b', controller.signal);
    const next = pacer.acquire('c');
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    pacer.observe('a', undefined);
    await next;
    expect(clock.at).toBeGreaterThanOrEqual(1_001_000);
  });

  test('an answer without operating figures turns the watch off for that method', async () => {
    const clock = manualClock();
    const pacer = new Pacer({ plan: 'enterprise' }, clock);
    await pacer.acquire('profile');
    pacer.observe('profile', {
      start: 1,
      finish: 1,
      duration: 0,
      processing: 0,
      date_start: '',
      date_finish: '',
    });
    // Unmetered calls do not wait for one another's answers.
    await Promise.all(Array.from({ length: 20 }, () => pacer.acquire('profile')));
    expect(pacer.resetAt('profile')).toBeUndefined();
  });
});
