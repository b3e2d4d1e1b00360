import { describe, expect, it } from 'vitest';

import {
  Chaos,
  DEFAULT_CHAOS_SEED,
  mulberry32,
  parseChaosSettings,
  type ChaosSettings,
} from '../src/chaos.js';

const boom = { type: 'error', code: 'INTERNAL_SERVER_ERROR' } as const;
const slow = { type: 'delay', ms: 1500 } as const;

function picks(chaos: Chaos, method: string, n: number): unknown[] {
  return Array.from({ length: n }, () => chaos.pick(method));
}

describe('mulberry32', () => {
  it('is deterministic and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(mulberry32(43)()).not.toBe(xs[0]);
  });
});

describe('Chaos', () => {
  const random: ChaosSettings = {
    seed: 7,
    rules: [{ method: 'im.notify.system.add', probability: 0.5, faults: [boom, slow, { type: 'reset' }] }],
  };

  it('passes everything without rules', () => {
    const chaos = new Chaos();
    expect(picks(chaos, 'im.notify', 10).every((f) => f === undefined)).toBe(true);
    expect(chaos.settings()).toEqual({ seed: DEFAULT_CHAOS_SEED, rules: [] });
  });

  it('replays the same faults for the same seed, and configure restarts the stream', () => {
    const first = picks(new Chaos(random), 'im.notify.system.add', 200);
    const second = new Chaos(random);
    expect(picks(second, 'im.notify.system.add', 200)).toEqual(first);
    second.configure(random);
    expect(picks(second, 'im.notify.system.add', 200)).toEqual(first);
    const other = picks(new Chaos({ ...random, seed: 8 }), 'im.notify.system.add', 200);
    expect(other).not.toEqual(first);
    // Roughly half fire, and every listed fault shows up.
    const fired = first.filter((f) => f !== undefined);
    expect(fired.length).toBeGreaterThan(60);
    expect(fired.length).toBeLessThan(140);
    expect(new Set(fired.map((f) => JSON.stringify(f))).size).toBe(3);
  });

  it('reports the seed in use so a run can be replayed from settings()', () => {
    const chaos = new Chaos({ rules: random.rules });
    expect(chaos.settings().seed).toBe(DEFAULT_CHAOS_SEED);
    const run = picks(chaos, 'im.notify.system.add', 50);
    expect(picks(new Chaos(chaos.settings()), 'im.notify.system.add', 50)).toEqual(run);
  });

  it('fires never at probability 0 and always at probability 1', () => {
    const never = new Chaos({ rules: [{ method: '*', probability: 0, faults: [boom] }] });
    expect(picks(never, 'x', 500).every((f) => f === undefined)).toBe(true);
    const always = new Chaos({ rules: [{ method: '*', probability: 1, faults: [boom] }] });
    expect(picks(always, 'x', 500).every((f) => JSON.stringify(f) === JSON.stringify(boom))).toBe(true);
    const implicit = new Chaos({ rules: [{ method: '*', faults: [slow] }] });
    expect(implicit.pick('x')).toEqual(slow);
  });

  it('plays a scripted sequence, then passes', () => {
    const chaos = new Chaos({
      rules: [{ method: 'im.notify.system.add', sequence: [null, boom, { type: 'truncate' }] }],
    });
    expect(picks(chaos, 'im.notify.system.add', 5)).toEqual([
      undefined,
      boom,
      { type: 'truncate' },
      undefined,
      undefined,
    ]);
    expect(chaos.pick('user.current')).toBeUndefined();
  });

  it('falls back to the random part after a sequence when both are given', () => {
    const chaos = new Chaos({ rules: [{ method: '*', sequence: [null], probability: 1, faults: [boom] }] });
    expect(picks(chaos, 'x', 3)).toEqual([undefined, boom, boom]);
  });

  it('applies the first matching rule only, counting per rule', () => {
    const chaos = new Chaos({
      rules: [
        { method: 'IM.NOTIFY', sequence: [boom] },
        { method: '*', sequence: [null, slow] },
      ],
    });
    expect(chaos.pick('im.notify')).toEqual(boom);
    expect(chaos.pick('im.notify')).toBeUndefined(); // rule 1 is exhausted; rule 2 is not consulted
    expect(chaos.pick('user.current')).toBeUndefined();
    expect(chaos.pick('user.current')).toEqual(slow);
  });

  it('hands out copies so callers cannot change the rules', () => {
    const chaos = new Chaos({ rules: [{ method: '*', faults: [{ type: 'delay', ms: 10 }] }] });
    const fault = chaos.pick('x');
    if (fault?.type !== 'delay') throw new Error('expected a delay');
    fault.ms = 99;
    expect(chaos.pick('x')).toEqual({ type: 'delay', ms: 10 });
    const settings = chaos.settings();
    settings.rules.length = 0;
    expect(chaos.settings().rules).toHaveLength(1);
  });

  it('validates settings, naming the bad field, and keeps the old rules on error', () => {
    const bad: [unknown, RegExp][] = [
      [null, /^settings: must be an object/],
      [{ rules: 'x' }, /^rules: must be an array/],
      [{ seed: 1.5, rules: [] }, /^seed:/],
      [{ seed: -1, rules: [] }, /^seed:/],
      [{ rules: [{ method: '', faults: [boom] }] }, /^rules\[0\]\.method:/],
      [{ rules: [{ method: '*', probability: 1.1, faults: [boom] }] }, /^rules\[0\]\.probability:/],
      [{ rules: [{ method: '*', probability: -0.1, faults: [boom] }] }, /^rules\[0\]\.probability:/],
      [{ rules: [{ method: '*', probability: Number.NaN, faults: [boom] }] }, /^rules\[0\]\.probability:/],
      [{ rules: [{ method: '*', probability: 0.5 }] }, /^rules\[0\]\.faults: required/],
      [{ rules: [{ method: '*', faults: [] }] }, /^rules\[0\]\.faults:/],
      [{ rules: [{ method: '*' }] }, /^rules\[0\]: needs faults or sequence/],
      [{ rules: [{ method: '*', faults: [{ type: 'explode' }] }] }, /^rules\[0\]\.faults\[0\]\.type:/],
      [
        { rules: [{ method: '*', faults: [{ type: 'delay', ms: 60_001 }] }] },
        /^rules\[0\]\.faults\[0\]\.ms:/,
      ],
      [{ rules: [{ method: '*', faults: [{ type: 'delay', ms: -1 }] }] }, /^rules\[0\]\.faults\[0\]\.ms:/],
      [{ rules: [{ method: '*', faults: [{ type: 'delay' }] }] }, /^rules\[0\]\.faults\[0\]\.ms:/],
      [{ rules: [{ method: '*', faults: [{ type: 'error' }] }] }, /^rules\[0\]\.faults\[0\]\.code:/],
      [
        { rules: [{ method: '*', faults: [{ type: 'error', code: 'X', status: 200 }] }] },
        /^rules\[0\]\.faults\[0\]\.status:/,
      ],
      [{ rules: [{ method: '*', sequence: [null, 'boom'] }] }, /^rules\[0\]\.sequence\[1\]:/],
      [
        { rules: [{ method: '*', probabilty: 0.5, faults: [boom] }] },
        /^rules\[0\]\.probabilty: unknown field/,
      ],
      [
        { rules: [{ method: '*', faults: [{ type: 'reset', ms: 5 }] }] },
        /^rules\[0\]\.faults\[0\]\.ms: unknown/,
      ],
    ];
    const chaos = new Chaos({ rules: [{ method: '*', faults: [boom] }] });
    for (const [input, message] of bad) {
      expect(() => parseChaosSettings(input), JSON.stringify(input)).toThrow(message);
      expect(() => chaos.configure(input as ChaosSettings)).toThrow(Error);
    }
    expect(chaos.pick('x')).toEqual(boom);
    expect(
      () => new Chaos({ rules: [{ method: '*', faults: [{ type: 'delay', ms: 60_000 }] }] }),
    ).not.toThrow();
    expect(
      parseChaosSettings({ rules: [{ method: '*', faults: [{ type: 'error', code: 'X', status: 503 }] }] }),
    ).toEqual({
      seed: DEFAULT_CHAOS_SEED,
      rules: [{ method: '*', faults: [{ type: 'error', code: 'X', status: 503 }] }],
    });
  });
});
