import { describe, expect, it } from 'vitest';

import { LeakyBucket } from '../src/limits/leaky-bucket.js';
import { OperatingBudget } from '../src/limits/operating.js';
import { PRESETS, resolveLimits } from '../src/limits/presets.js';

// 2026-05-14T10:05:00Z: a whole clock minute, so minute boundaries in tests are easy to read.
const T0 = Date.UTC(2026, 4, 14, 10, 5, 0);

function fakeClock(start = T0): {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
} {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

describe('presets', () => {
  it('carries the documented plan numbers', () => {
    expect(PRESETS.standard.intensity).toEqual({ drainPerSecond: 2, capacity: 50 });
    expect(PRESETS.enterprise.intensity).toEqual({ drainPerSecond: 5, capacity: 250 });
    for (const preset of ['standard', 'enterprise'] as const) {
      expect(PRESETS[preset].operating).toMatchObject({ budgetSeconds: 480, windowMinutes: 10 });
    }
    expect(PRESETS.off).toEqual({ intensity: false, operating: false });
  });

  it('defaults to standard and merges overrides', () => {
    expect(resolveLimits()).toEqual({
      intensity: { drainPerSecond: 2, capacity: 50 },
      operating: { budgetSeconds: 480, windowMinutes: 10, alignment: 'clock' },
    });
    expect(resolveLimits('enterprise', { intensity: { capacity: 10 }, operating: false })).toEqual({
      intensity: { drainPerSecond: 5, capacity: 10 },
      operating: false,
    });
    expect(resolveLimits('off', { operating: { budgetSeconds: 5 } })).toEqual({
      intensity: false,
      operating: { budgetSeconds: 5, windowMinutes: 10, alignment: 'clock' },
    });
  });

  it('returns copies the caller may change', () => {
    const limits = resolveLimits('standard');
    if (limits.intensity === false) throw new Error('expected intensity');
    limits.intensity.capacity = 1;
    expect(PRESETS.standard.intensity).toEqual({ drainPerSecond: 2, capacity: 50 });
  });

  it('refuses bad numbers, naming the field', () => {
    expect(() => resolveLimits('standard', { intensity: { capacity: 0 } })).toThrow(/intensity\.capacity/);
    expect(() => resolveLimits('standard', { operating: { windowMinutes: 1.5 } })).toThrow(
      /operating\.windowMinutes/,
    );
    for (const windowSeconds of [0, 2.5, -1, '5', null]) {
      expect(() =>
        resolveLimits('standard', { operating: { windowSeconds: windowSeconds as number } }),
      ).toThrow(/^operating\.windowSeconds: must be a whole number of one-second buckets, at least 1/);
    }
    expect(resolveLimits('standard', { operating: { windowSeconds: 10 } })).toEqual({
      intensity: { drainPerSecond: 2, capacity: 50 },
      operating: { budgetSeconds: 480, windowMinutes: 10, windowSeconds: 10, alignment: 'clock' },
    });
    expect(() => resolveLimits('bogus' as 'off')).toThrow(/preset/);
  });
});

describe('LeakyBucket', () => {
  it('lets exactly capacity requests through a burst and refuses the next without counting it', () => {
    const clock = fakeClock();
    const standard = PRESETS.standard.intensity;
    if (standard === false) throw new Error('expected intensity');
    const bucket = new LeakyBucket(standard, clock.now);
    for (let i = 1; i <= 50; i++) expect(bucket.take('p|1.2.3.4')).toEqual({ ok: true, level: i });
    expect(bucket.take('p|1.2.3.4')).toEqual({ ok: false, level: 50, retryAfterMs: 500 });
    expect(bucket.take('p|1.2.3.4')).toMatchObject({ ok: false, level: 50 });
    expect(bucket.level('p|1.2.3.4')).toBe(50);
  });

  it('drains continuously: at 2/s one more request fits after 500 ms, not before', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ drainPerSecond: 2, capacity: 50 }, clock.now);
    for (let i = 0; i < 50; i++) bucket.take('k');
    clock.advance(499);
    expect(bucket.take('k')).toMatchObject({ ok: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(bucket.take('k')).toEqual({ ok: true, level: 50 });
    expect(bucket.take('k')).toMatchObject({ ok: false });
    clock.advance(10_000);
    expect(bucket.level('k')).toBe(30);
  });

  it('uses the enterprise numbers', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ drainPerSecond: 5, capacity: 250 }, clock.now);
    for (let i = 0; i < 250; i++) expect(bucket.take('k').ok).toBe(true);
    expect(bucket.take('k')).toEqual({ ok: false, level: 250, retryAfterMs: 200 });
    clock.advance(200);
    expect(bucket.take('k').ok).toBe(true);
    expect(bucket.take('k').ok).toBe(false);
  });

  it('keeps keys apart and never refuses a client at the drain rate', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ drainPerSecond: 2, capacity: 50 }, clock.now);
    for (let i = 0; i < 50; i++) bucket.take('a');
    expect(bucket.take('b').ok).toBe(true);
    for (let i = 0; i < 1000; i++) {
      clock.advance(500);
      expect(bucket.take('a').ok).toBe(true);
    }
  });

  it('forgets drained keys and resets', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ drainPerSecond: 2, capacity: 50 }, clock.now);
    for (let i = 0; i < 100; i++) bucket.take(`ip-${i}`);
    expect(bucket.size).toBe(100);
    clock.advance(60_000);
    bucket.take('fresh');
    expect(bucket.size).toBe(1);
    bucket.reset();
    expect(bucket.size).toBe(0);
    expect(bucket.level('fresh')).toBe(0);
  });

  it('refuses bad settings', () => {
    expect(() => new LeakyBucket({ drainPerSecond: 0, capacity: 50 }, Date.now)).toThrow(/drainPerSecond/);
  });
});

describe('OperatingBudget', () => {
  const settings = { budgetSeconds: 480, windowMinutes: 10 };

  it('lets the crossing call complete, refuses the next, and leaves other methods and callers alone', () => {
    const clock = fakeClock(T0 + 20_000); // 10:05:20
    const budget = new OperatingBudget(settings, clock.now);
    for (let i = 0; i < 24; i++) {
      expect(budget.check('app1', 'crm.item.list')).toEqual({ ok: true });
      budget.record('app1', 'crm.item.list', 20);
    }
    // 480 s is at the limit, not over it.
    expect(budget.check('app1', 'crm.item.list')).toEqual({ ok: true });
    budget.record('app1', 'crm.item.list', 20);
    expect(budget.check('app1', 'crm.item.list')).toEqual({
      ok: false,
      resetAt: (T0 + 20_000) / 1000 + 600,
      operating: 500,
    });
    expect(budget.check('app1', 'im.notify.system.add')).toEqual({ ok: true });
    expect(budget.check('app2', 'crm.item.list')).toEqual({ ok: true });
    expect(budget.check('app1', 'CRM.ITEM.LIST').ok).toBe(false);
  });

  it('reports operating and operating_reset_at from the oldest bucket', () => {
    const clock = fakeClock(T0);
    const budget = new OperatingBudget(settings, clock.now);
    expect(budget.status('app', 'm')).toEqual({ operating: 0, resetAt: T0 / 1000 + 600 });
    clock.set(T0 + 20_500); // 10:05:20.5: truncated to the second, as the docs' example
    budget.record('app', 'm', 1.25);
    clock.set(T0 + 50_000); // same clock minute
    budget.record('app', 'm', 0.5);
    clock.set(T0 + 70_000); // 10:06:10, next bucket
    budget.record('app', 'm', 2);
    expect(budget.status('app', 'm')).toEqual({ operating: 3.75, resetAt: T0 / 1000 + 20 + 600 });
    clock.set(T0 + 20_000 + 600_000); // 10:15:20: the first bucket drops out
    expect(budget.status('app', 'm')).toEqual({ operating: 2, resetAt: T0 / 1000 + 70 + 600 });
    clock.set(T0 + 70_000 + 600_000);
    expect(budget.status('app', 'm')).toEqual({ operating: 0, resetAt: T0 / 1000 + 670 + 600 });
  });

  it('re-allows the method once old buckets expire, possibly after several of them', () => {
    const clock = fakeClock(T0);
    const budget = new OperatingBudget({ budgetSeconds: 100, windowMinutes: 10 }, clock.now);
    budget.record('app', 'm', 30); // 10:05:00
    clock.advance(60_000);
    budget.record('app', 'm', 30); // 10:06:00
    clock.advance(60_000);
    budget.record('app', 'm', 60); // 10:07:00, sum 120
    // Dropping 10:05 leaves 90; the method is free again then.
    expect(budget.check('app', 'm')).toEqual({ ok: false, resetAt: T0 / 1000 + 600, operating: 120 });
    clock.set(T0 + 600_000 - 1);
    expect(budget.check('app', 'm').ok).toBe(false);
    clock.set(T0 + 600_000);
    expect(budget.check('app', 'm')).toEqual({ ok: true });

    budget.reset();
    clock.set(T0);
    budget.record('app', 'm', 10);
    clock.advance(60_000);
    budget.record('app', 'm', 10);
    clock.advance(60_000);
    budget.record('app', 'm', 100); // sum 120; dropping 10:05 leaves 110, 10:06 leaves 100
    expect(budget.check('app', 'm')).toMatchObject({ ok: false, resetAt: T0 / 1000 + 60 + 600 });
    expect(budget.status('app', 'm').resetAt).toBe(T0 / 1000 + 600);
  });

  it('cuts buckets by clock minute by default and by first call on request', () => {
    const clock = fakeClock(T0 + 50_000); // 10:05:50
    const byClock = new OperatingBudget(settings, clock.now);
    const byCall = new OperatingBudget({ ...settings, alignment: 'first-call' }, clock.now);
    for (const b of [byClock, byCall]) b.record('app', 'm', 1);
    clock.advance(20_000); // 10:06:10: a new clock minute, but within 60 s of the first call
    for (const b of [byClock, byCall]) b.record('app', 'm', 1);
    clock.set(T0 + 50_000 + 600_000);
    expect(byClock.status('app', 'm')).toEqual({ operating: 1, resetAt: T0 / 1000 + 70 + 600 });
    expect(byCall.status('app', 'm')).toEqual({ operating: 0, resetAt: T0 / 1000 + 650 + 600 });
  });

  it('with windowSeconds, shrinks the window to seconds in one-second buckets', () => {
    const clock = fakeClock(T0 + 300); // 10:05:00.300
    const budget = new OperatingBudget({ budgetSeconds: 1, windowMinutes: 10, windowSeconds: 5 }, clock.now);
    budget.record('app', 'm', 0.5);
    clock.advance(500); // 10:05:00.800, the same clock second: one bucket
    budget.record('app', 'm', 0.25);
    clock.advance(1_000); // 10:05:01.800, the next bucket
    budget.record('app', 'm', 0.5);
    expect(budget.check('app', 'm')).toEqual({ ok: false, resetAt: T0 / 1000 + 5, operating: 1.25 });
    // The first bucket's start is truncated to its second, so it leaves 5 s after 10:05:00.
    clock.set(T0 + 5_000 - 1);
    expect(budget.check('app', 'm').ok).toBe(false);
    clock.set(T0 + 5_000);
    expect(budget.check('app', 'm')).toEqual({ ok: true });
    expect(budget.status('app', 'm')).toEqual({ operating: 0.5, resetAt: T0 / 1000 + 1 + 5 });
    clock.set(T0 + 6_000);
    expect(budget.status('app', 'm')).toEqual({ operating: 0, resetAt: T0 / 1000 + 6 + 5 });
  });

  it('forgets idle pairs and refuses bad input', () => {
    const clock = fakeClock();
    const budget = new OperatingBudget(settings, clock.now);
    for (let i = 0; i < 50; i++) budget.record(`app${i}`, 'm', 1);
    expect(budget.size).toBe(50);
    clock.advance(600_000);
    budget.check('other', 'm');
    expect(budget.size).toBe(0);
    expect(() => budget.record('a', 'm', -1)).toThrow(/seconds/);
    expect(() => new OperatingBudget({ budgetSeconds: 480, windowMinutes: 0 }, clock.now)).toThrow(
      /windowMinutes/,
    );
  });
});
