/**
 * The pure parts of the controls view's limits and portal panels, in Node: reading typed
 * numbers, the limits in words, the form filled from the portal's limits (which must give the
 * same limits back through the server's own resolver), and the changes the portal form sends.
 */
import { describe, expect, test } from 'vitest';
import { PRESETS, resolveLimits, type LimitSettings } from '../src/limits/presets.js';
import { parseNumber } from '../ui/format.js';
import {
  describeIntensity,
  describeOperating,
  describePlan,
  formFromLimits,
  limitsRequest,
  matchPlan,
  planLabel,
  presetValue,
  type LimitsForm,
} from '../ui/limits-form.js';
import { describePortal, portalChanges, portalForm, type PortalSettings } from '../ui/portal-form.js';

const limits = (intensity: LimitSettings['intensity'], operating: LimitSettings['operating']) => ({
  intensity,
  operating,
});
const op = (budgetSeconds: number, windowMinutes = 10) => ({
  budgetSeconds,
  windowMinutes,
  alignment: 'clock' as const,
});
const empty = { capacity: '', drainPerSecond: '', budgetSeconds: '', windowMinutes: '' };

describe('typed numbers', () => {
  test('empty keeps the setting, numbers as typed, a decimal comma, anything else is null', () => {
    expect(parseNumber('')).toBeUndefined();
    expect(parseNumber('   ')).toBeUndefined();
    expect(parseNumber(' 250 ')).toBe(250);
    expect(parseNumber('0.5')).toBe(0.5);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('1,5')).toBe(1.5);
    expect(parseNumber('1e3')).toBe(1000);
    // Out of range is the API's to say, with the field's name.
    expect(parseNumber('0')).toBe(0);
    expect(parseNumber('-5')).toBe(-5);
    for (const bad of ['lots', '1.2.3', '1,000,000', '5/s', '0x10', 'Infinity', '1e999', 'NaN']) {
      expect(parseNumber(bad), bad).toBeNull();
    }
  });
});

describe('limits panel', () => {
  test('the limits in words, and the plan they match', () => {
    expect(describeIntensity(PRESETS.standard)).toBe('capacity 50, drains 2 per second');
    expect(describeOperating(PRESETS.standard)).toBe('480 s per method in a 10-minute window');
    expect(describeIntensity(PRESETS.off)).toBe('off');
    expect(describeOperating(PRESETS.off)).toBe('off');
    expect(describeOperating(limits(false, { ...op(60, 5), alignment: 'first-call' }))).toBe(
      '60 s per method in a 5-minute window (buckets from the first call)',
    );
    expect(matchPlan(PRESETS.standard)).toBe('standard');
    expect(matchPlan(PRESETS.enterprise)).toBe('enterprise');
    expect(matchPlan(PRESETS.off)).toBe('off');
    expect(matchPlan(limits({ drainPerSecond: 5, capacity: 100 }, op(480)))).toBe('custom');
    expect(matchPlan(limits({ drainPerSecond: 2, capacity: 50 }, false))).toBe('custom');
    expect(
      matchPlan(limits({ drainPerSecond: 2, capacity: 50 }, { ...op(480), alignment: 'first-call' })),
    ).toBe('custom');
    expect(describePlan(limits({ drainPerSecond: 5, capacity: 100 }, op(480)))).toBe(
      'enterprise, with changes',
    );
    expect(planLabel('standard')).toBe('standard: 50, 2/s');
    expect(planLabel('enterprise')).toBe('enterprise: 250, 5/s');
    expect(planLabel('off')).toBe('off: no limits');
    expect(presetValue('enterprise', 'capacity')).toBe(250);
    expect(presetValue('standard', 'windowMinutes')).toBe(10);
    expect(presetValue('off', 'budgetSeconds')).toBeUndefined();
  });

  test('the form is the closest preset with the numbers that differ', () => {
    expect(formFromLimits(PRESETS.enterprise)).toEqual({ plan: 'enterprise', fields: empty });
    expect(formFromLimits(limits({ drainPerSecond: 5, capacity: 100 }, op(480)))).toEqual({
      plan: 'enterprise',
      fields: { ...empty, capacity: '100' },
    });
    expect(formFromLimits(limits({ drainPerSecond: 2, capacity: 50 }, op(30)))).toEqual({
      plan: 'standard',
      fields: { ...empty, budgetSeconds: '30' },
    });
    // One limit on: `off` with that limit's numbers, which turn it on.
    expect(formFromLimits(limits({ drainPerSecond: 2, capacity: 50 }, false))).toEqual({
      plan: 'off',
      fields: { ...empty, capacity: '50', drainPerSecond: '2' },
    });
    // Both numbers of the bucket changed: as close to standard as to enterprise, so the plan
    // last applied from the page decides, if it can say these limits.
    const both = limits({ drainPerSecond: 0.001, capacity: 3 }, op(480));
    const changed = { ...empty, capacity: '3', drainPerSecond: '0.001' };
    expect(formFromLimits(both)).toEqual({ plan: 'standard', fields: changed });
    expect(formFromLimits(both, 'enterprise')).toEqual({ plan: 'enterprise', fields: changed });
    expect(describePlan(both, 'enterprise')).toBe('enterprise, with changes');
    expect(formFromLimits(both, 'off')).toEqual({
      plan: 'off',
      fields: { capacity: '3', drainPerSecond: '0.001', budgetSeconds: '480', windowMinutes: '10' },
    });
    expect(formFromLimits(limits({ drainPerSecond: 2, capacity: 50 }, false), 'enterprise').plan).toBe('off');
    expect(formFromLimits(PRESETS.standard, 'enterprise').plan).toBe('standard');
    expect(formFromLimits(limits(false, op(5, 1)))).toEqual({
      plan: 'off',
      fields: { ...empty, budgetSeconds: '5', windowMinutes: '1' },
    });
  });

  test('applying the form filled from the limits gives the same limits back', () => {
    const cases: LimitSettings[] = [
      PRESETS.standard,
      PRESETS.enterprise,
      PRESETS.off,
      limits({ drainPerSecond: 5, capacity: 3 }, op(480)),
      limits({ drainPerSecond: 0.001, capacity: 1 }, op(1, 1)),
      limits({ drainPerSecond: 2, capacity: 50 }, false),
      limits({ drainPerSecond: 7, capacity: 9 }, false),
      limits(false, op(480)),
      limits(false, op(12, 3)),
    ];
    for (const want of cases) {
      for (const preferred of [undefined, 'standard', 'enterprise', 'off'] as const) {
        const request = limitsRequest(formFromLimits(want, preferred));
        if ('error' in request) throw new Error(request.error);
        expect(
          resolveLimits(request.body.plan, request.body),
          `${JSON.stringify(want)} ${preferred}`,
        ).toEqual(want);
      }
    }
  });

  test('the PUT /limits body: the plan, and only the numbers typed', () => {
    const form = (plan: LimitsForm['plan'], fields: Partial<LimitsForm['fields']>): LimitsForm => ({
      plan,
      fields: { ...empty, ...fields },
    });
    expect(limitsRequest(form('enterprise', {}))).toEqual({ body: { plan: 'enterprise' } });
    expect(limitsRequest(form('enterprise', { capacity: ' 100 ' }))).toEqual({
      body: { plan: 'enterprise', intensity: { capacity: 100 } },
    });
    expect(
      limitsRequest(form('off', { drainPerSecond: '0,5', budgetSeconds: '30', windowMinutes: '2' })),
    ).toEqual({
      body: {
        plan: 'off',
        intensity: { drainPerSecond: 0.5 },
        operating: { budgetSeconds: 30, windowMinutes: 2 },
      },
    });
    // Out of range goes to the API as typed; what is not a number never leaves the page.
    expect(limitsRequest(form('standard', { capacity: '-5' }))).toEqual({
      body: { plan: 'standard', intensity: { capacity: -5 } },
    });
    expect(limitsRequest(form('standard', { budgetSeconds: ' lots ' }))).toEqual({
      error: 'Operating budget, s: "lots" is not a number',
    });
  });
});

describe('portal panel', () => {
  const settings: PortalSettings = {
    domain: 'localhost',
    timezone: '+00:00',
    state: 'active',
    requireHttps: false,
    attachMaxLength: 60000,
    errorTable: 'current',
    batchOverflow: 'per-command',
    messageOutDefault: 'empty',
    processingSeconds: { '*': 0.02, 'im.notify.personal.add': 0.5 },
  };

  test('the settings in words, and the form showing them', () => {
    expect(describePortal(settings)).toBe(
      'active · error table current · batch overflow per-command · MESSAGE_OUT default empty · ' +
        'ATTACH up to 60000 characters · plain HTTP allowed · processing * 0.02 s, im.notify.personal.add 0.5 s',
    );
    expect(portalForm(settings)).toEqual({
      state: 'active',
      errorTable: 'current',
      batchOverflow: 'per-command',
      messageOutDefault: 'empty',
      requireHttps: false,
      attachMaxLength: '60000',
      processingSeconds: '0.02',
    });
    expect(portalForm({ ...settings, processingSeconds: {} }).processingSeconds).toBe('');
  });

  test('only what changed is sent, numbers first; what is not a number never leaves the page', () => {
    const form = portalForm(settings);
    expect(portalChanges(settings, form)).toEqual({ changes: {} });
    expect(portalChanges(settings, { ...form, state: 'overloaded', errorTable: 'legacy' })).toEqual({
      changes: { state: 'overloaded', errorTable: 'legacy' },
    });
    const both = portalChanges(settings, {
      ...form,
      state: 'deleted',
      requireHttps: true,
      attachMaxLength: '0',
      processingSeconds: '2',
    });
    expect(both).toEqual({
      changes: {
        attachMaxLength: 0,
        processingSeconds: { '*': 2 },
        state: 'deleted',
        requireHttps: true,
      },
    });
    // The API stops at the first setting it refuses: the numbers go before the choices.
    expect('changes' in both && Object.keys(both.changes)).toEqual([
      'attachMaxLength',
      'processingSeconds',
      'state',
      'requireHttps',
    ]);
    expect(portalChanges(settings, { ...form, attachMaxLength: '', processingSeconds: '' })).toEqual({
      changes: {},
    });
    expect(portalChanges(settings, { ...form, state: 'deleted', attachMaxLength: '60k' })).toEqual({
      error: 'ATTACH max length: "60k" is not a number',
    });
  });
});
