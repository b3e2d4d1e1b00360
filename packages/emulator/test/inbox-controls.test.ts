/**
 * The pure parts of the controls view's limits and portal panels, in Node: reading typed
 * numbers, the limits in words, the form filled from the portal's limits (which must give the
 * same limits back through the server's own resolver, bucket alignment included), a field for
 * every setting the server shows, and the changes the portal form sends.
 */
import { describe, expect, test } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { PORTAL_SETTINGS, getPortal } from '../src/control/settings.js';
import type { ControlRequest } from '../src/control/types.js';
import { PRESETS, resolveLimits, type LimitSettings } from '../src/limits/presets.js';
import { parseNumber } from '../ui/format.js';
import {
  describeIntensity,
  describeOperating,
  describePlan,
  formFromLimits,
  limitsRequest,
  matchPlan,
  placeholderFor,
  planLabel,
  presetValue,
  type LimitsForm,
} from '../ui/limits-form.js';
import {
  AUTH_SERVER_FIELD,
  PORTAL_CHOICES,
  PORTAL_NUMBERS,
  PROCESSING_FIELD,
  describePortal,
  portalChanges,
  portalForm,
  type PortalSettings,
} from '../ui/portal-form.js';

const limits = (intensity: LimitSettings['intensity'], operating: LimitSettings['operating']) => ({
  intensity,
  operating,
});
const op = (budgetSeconds: number, windowMinutes = 10) => ({
  budgetSeconds,
  windowMinutes,
  alignment: 'clock' as const,
});
const empty = { capacity: '', drainPerSecond: '', budgetSeconds: '', windowMinutes: '', windowSeconds: '' };

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
    expect(formFromLimits(PRESETS.enterprise)).toEqual({
      plan: 'enterprise',
      fields: empty,
      alignment: 'clock',
    });
    expect(formFromLimits(limits({ drainPerSecond: 5, capacity: 100 }, op(480)))).toEqual({
      plan: 'enterprise',
      fields: { ...empty, capacity: '100' },
      alignment: 'clock',
    });
    expect(formFromLimits(limits({ drainPerSecond: 2, capacity: 50 }, op(30)))).toEqual({
      plan: 'standard',
      fields: { ...empty, budgetSeconds: '30' },
      alignment: 'clock',
    });
    // One limit on: `off` with that limit's numbers, which turn it on.
    expect(formFromLimits(limits({ drainPerSecond: 2, capacity: 50 }, false))).toEqual({
      plan: 'off',
      fields: { ...empty, capacity: '50', drainPerSecond: '2' },
      alignment: 'clock',
    });
    // Both numbers of the bucket changed: as close to standard as to enterprise, so the plan
    // last applied from the page decides, if it can say these limits.
    const both = limits({ drainPerSecond: 0.001, capacity: 3 }, op(480));
    const changed = { ...empty, capacity: '3', drainPerSecond: '0.001' };
    expect(formFromLimits(both)).toEqual({ plan: 'standard', fields: changed, alignment: 'clock' });
    expect(formFromLimits(both, 'enterprise')).toEqual({
      plan: 'enterprise',
      fields: changed,
      alignment: 'clock',
    });
    expect(describePlan(both, 'enterprise')).toBe('enterprise, with changes');
    expect(formFromLimits(both, 'off')).toEqual({
      plan: 'off',
      fields: { ...empty, capacity: '3', drainPerSecond: '0.001', budgetSeconds: '480', windowMinutes: '10' },
      alignment: 'clock',
    });
    expect(formFromLimits(limits({ drainPerSecond: 2, capacity: 50 }, false), 'enterprise').plan).toBe('off');
    expect(formFromLimits(PRESETS.standard, 'enterprise').plan).toBe('standard');
    expect(formFromLimits(limits(false, op(5, 1)))).toEqual({
      plan: 'off',
      fields: { ...empty, budgetSeconds: '5', windowMinutes: '1' },
      alignment: 'clock',
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
      limits({ drainPerSecond: 2, capacity: 50 }, { ...op(480), alignment: 'first-call' }),
      limits({ drainPerSecond: 5, capacity: 250 }, { ...op(30, 2), alignment: 'first-call' }),
      limits(false, { ...op(480), alignment: 'first-call' }),
      limits({ drainPerSecond: 2, capacity: 50 }, { ...op(480), windowSeconds: 30 }),
      limits(
        { drainPerSecond: 5, capacity: 250 },
        { ...op(2, 3), windowSeconds: 1, alignment: 'first-call' },
      ),
      limits(false, { ...op(480), windowSeconds: 20 }),
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

  test('a short operating window (emulator-only windowSeconds) is shown, filled in, and kept', () => {
    const short = limits({ drainPerSecond: 2, capacity: 50 }, { ...op(480), windowSeconds: 30 });
    // Seconds replace the minutes, so the seconds are what the window is.
    expect(describeOperating(short)).toBe('480 s per method in a 30-second window');
    expect(describeOperating(limits(false, { ...op(5), windowSeconds: 1, alignment: 'first-call' }))).toBe(
      '5 s per method in a 1-second window (buckets from the first call)',
    );
    // No preset has it, so it is a change, and the form carries it: applying another number keeps it.
    expect(matchPlan(short)).toBe('custom');
    expect(describePlan(short)).toBe('standard, with changes');
    const form = formFromLimits(short);
    expect(form).toEqual({ plan: 'standard', fields: { ...empty, windowSeconds: '30' }, alignment: 'clock' });
    const request = limitsRequest({ ...form, fields: { ...form.fields, capacity: '7' } });
    expect(request).toEqual({
      body: { plan: 'standard', intensity: { capacity: 7 }, operating: { windowSeconds: 30 } },
    });
    if ('error' in request) throw new Error(request.error);
    expect(resolveLimits(request.body.plan, request.body)).toEqual({
      ...short,
      intensity: { drainPerSecond: 2, capacity: 7 },
    });
    // Emptied, the preset's window in minutes is back.
    const cleared = limitsRequest({ ...form, fields: empty });
    if ('error' in cleared) throw new Error(cleared.error);
    expect(resolveLimits(cleared.body.plan, cleared.body)).toEqual(PRESETS.standard);
    // With plan off, seconds alone turn the operating limit on (the rest from standard).
    expect(
      limitsRequest({ plan: 'off', fields: { ...empty, windowSeconds: '5' }, alignment: 'first-call' }),
    ).toEqual({
      body: { plan: 'off', operating: { windowSeconds: 5, alignment: 'first-call' } },
    });
    expect(
      limitsRequest({ plan: 'standard', fields: { ...empty, windowSeconds: 'soon' }, alignment: 'clock' }),
    ).toEqual({
      error: 'Window, s (emulator only): "soon" is not a number',
    });
    // The placeholder says what an empty field means under each plan.
    expect(placeholderFor('standard', 'windowSeconds')).toBe('minutes');
    expect(placeholderFor('off', 'windowSeconds')).toBe('off');
    expect(placeholderFor('enterprise', 'windowMinutes')).toBe('10');
    expect(placeholderFor('off', 'capacity')).toBe('off');
  });

  test('the PUT /limits body: the plan, and only the numbers typed', () => {
    const form = (
      plan: LimitsForm['plan'],
      fields: Partial<LimitsForm['fields']>,
      alignment: LimitsForm['alignment'] = 'clock',
    ): LimitsForm => ({
      plan,
      fields: { ...empty, ...fields },
      alignment,
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

  test("the bucket alignment: clock, every preset's own, is not sent; first-call is, where the operating limit is on", () => {
    const form = (plan: LimitsForm['plan'], fields: Partial<LimitsForm['fields']> = {}): LimitsForm => ({
      plan,
      fields: { ...empty, ...fields },
      alignment: 'first-call',
    });
    expect(limitsRequest(form('standard'))).toEqual({
      body: { plan: 'standard', operating: { alignment: 'first-call' } },
    });
    expect(limitsRequest(form('enterprise', { budgetSeconds: '60' }))).toEqual({
      body: { plan: 'enterprise', operating: { budgetSeconds: 60, alignment: 'first-call' } },
    });
    expect(limitsRequest(form('off', { windowMinutes: '2' }))).toEqual({
      body: { plan: 'off', operating: { windowMinutes: 2, alignment: 'first-call' } },
    });
    // Plan off with no operating number: no operating limit to align, said rather than dropped.
    expect(limitsRequest(form('off', { capacity: '5' }))).toEqual({
      error:
        'Operating buckets: the operating limit is off with plan off; give an operating budget or ' +
        'window to turn it on, or pick another plan',
    });
    // The form filled from first-call limits keeps it, and reads as a changed preset.
    const firstCall = limits(PRESETS.standard.intensity, { ...op(480), alignment: 'first-call' });
    expect(formFromLimits(firstCall)).toEqual({ plan: 'standard', fields: empty, alignment: 'first-call' });
    expect(describePlan(firstCall)).toBe('standard, with changes');
    expect(formFromLimits(PRESETS.standard).alignment).toBe('clock');
    expect(formFromLimits(limits({ drainPerSecond: 2, capacity: 50 }, false)).alignment).toBe('clock');
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
    batchOperating: 'per-command',
    tagsWithoutClientId: 'webhook',
    restNotificationReplies: 'none',
    schemaKeys: 'upper',
    attachGridDisplays: 'mixed',
    requestTimeLimitSeconds: 60,
    requestLogBytes: 32 * 1024 * 1024,
    authServer: 'oauth.bitrix24.tech',
    processingSeconds: { '*': 0.02, 'im.notify.personal.add': 0.5 },
  };
  const form = portalForm(settings);

  test('the settings in words, and the form showing them', () => {
    expect(describePortal(settings)).toBe(
      'active · error table current · batch overflow per-command · MESSAGE_OUT default empty · ' +
        'ATTACH up to 60000 characters · plain HTTP allowed · batch operating per-command · ' +
        'tags without CLIENT_ID webhook · REST replies none · schema keys upper · GRID displays mixed · ' +
        'requests cut after 60 s · request log up to 32 MB · auth server oauth.bitrix24.tech · ' +
        'processing * 0.02 s, im.notify.personal.add 0.5 s',
    );
    expect(form).toEqual({
      state: 'active',
      errorTable: 'current',
      batchOverflow: 'per-command',
      messageOutDefault: 'empty',
      batchOperating: 'per-command',
      tagsWithoutClientId: 'webhook',
      restNotificationReplies: 'none',
      schemaKeys: 'upper',
      attachGridDisplays: 'mixed',
      requireHttps: false,
      attachMaxLength: '60000',
      requestTimeLimitSeconds: '60',
      requestLogBytes: '33554432',
      authServer: 'oauth.bitrix24.tech',
      processingSeconds: '0.02',
    });
    expect(portalForm({ ...settings, processingSeconds: {} }).processingSeconds).toBe('');
  });

  test('every setting GET /portal shows has a field with a label and a hint, and each choice the values PUT /portal takes', () => {
    expect(
      Object.fromEntries(PORTAL_CHOICES.map(({ key, options }) => [key, options.map(([value]) => value)])),
    ).toEqual(PORTAL_SETTINGS);
    // What the server shows, bar the portal's identity and credentials, is what the form edits.
    const shown = getPortal({
      portal: { config: resolveConfig() },
      baseUrl: '',
    } as unknown as ControlRequest);
    const { name, domain, timezone, webhooks, apps, ...editable } = shown;
    expect([name, domain, timezone, webhooks.length, apps.length]).toEqual([
      'default',
      'localhost',
      '+00:00',
      1,
      1,
    ]);
    expect(Object.keys(form).sort()).toEqual(Object.keys(editable).sort());
    for (const field of [...PORTAL_CHOICES, ...PORTAL_NUMBERS, PROCESSING_FIELD, AUTH_SERVER_FIELD]) {
      expect(field.label.length, JSON.stringify(field)).toBeGreaterThan(0);
      expect(field.hint.length, JSON.stringify(field)).toBeGreaterThan(10);
    }
  });

  test('only what changed is sent; what is not a number never leaves the page', () => {
    expect(portalChanges(settings, form)).toEqual({ changes: {} });
    expect(portalChanges(settings, { ...form, state: 'overloaded', errorTable: 'legacy' })).toEqual({
      changes: { state: 'overloaded', errorTable: 'legacy' },
    });
    expect(
      portalChanges(settings, {
        ...form,
        state: 'deleted',
        requireHttps: true,
        attachMaxLength: '0',
        processingSeconds: '2',
        batchOperating: 'batch',
        tagsWithoutClientId: 'ignore',
        restNotificationReplies: 'accept',
        schemaKeys: 'lower',
        attachGridDisplays: 'one',
        requestTimeLimitSeconds: ' 4 ',
        requestLogBytes: '1048576',
        authServer: ' oauth.bitrix.info ',
      }),
    ).toEqual({
      changes: {
        attachMaxLength: 0,
        requestTimeLimitSeconds: 4,
        requestLogBytes: 1048576,
        processingSeconds: { '*': 2 },
        authServer: 'oauth.bitrix.info',
        state: 'deleted',
        batchOperating: 'batch',
        tagsWithoutClientId: 'ignore',
        restNotificationReplies: 'accept',
        schemaKeys: 'lower',
        attachGridDisplays: 'one',
        requireHttps: true,
      },
    });
    // An empty field keeps its setting.
    expect(
      portalChanges(settings, {
        ...form,
        attachMaxLength: '',
        processingSeconds: '',
        requestTimeLimitSeconds: ' ',
        requestLogBytes: '',
        authServer: '  ',
      }),
    ).toEqual({ changes: {} });
    // Range and the host's form are the API's to judge: sent as typed, for its message.
    expect(portalChanges(settings, { ...form, requestTimeLimitSeconds: '1.5', authServer: 'a b' })).toEqual({
      changes: { requestTimeLimitSeconds: 1.5, authServer: 'a b' },
    });
    expect(portalChanges(settings, { ...form, state: 'deleted', attachMaxLength: '60k' })).toEqual({
      error: 'ATTACH max length, characters: "60k" is not a number',
    });
    expect(portalChanges(settings, { ...form, requestLogBytes: '32 MiB' })).toEqual({
      error: 'Request log size, bytes: "32 MiB" is not a number',
    });
    expect(portalChanges(settings, { ...form, requestTimeLimitSeconds: 'a minute' })).toEqual({
      error: 'Request time limit, s: "a minute" is not a number',
    });
  });
});
