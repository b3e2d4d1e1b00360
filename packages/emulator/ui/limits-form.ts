/**
 * The limits form's pure parts: the portal's limits in words, the plan preset they match, the
 * form filled from them, and the `PUT /limits` body from what was typed. No DOM, unit-tested in
 * Node. The preset numbers come from the server's own table, so the page cannot drift from it.
 */

import { PRESETS, type BucketAlignment, type LimitSettings, type PlanPreset } from '../src/limits/presets.js';
import { parseNumber } from './format.js';

export type { BucketAlignment, LimitSettings, PlanPreset };

/** The plan presets, in the order the selector offers them. */
export const PLANS: readonly PlanPreset[] = ['standard', 'enterprise', 'off'];

/**
 * The number fields of the form: the bucket's X and Y, the operating budget and its window, in
 * minutes or (emulator only) in seconds.
 */
export type LimitField = 'capacity' | 'drainPerSecond' | 'budgetSeconds' | 'windowMinutes' | 'windowSeconds';

/** A number field of the form: its limit, its label and, where the label is not enough, what it means. */
export interface LimitFieldInfo {
  field: LimitField;
  limit: 'intensity' | 'operating';
  label: string;
  hint?: string;
}

/** Each field's limit and label, in form order. */
export const LIMIT_FIELDS: readonly LimitFieldInfo[] = [
  { field: 'capacity', limit: 'intensity', label: 'Capacity (X)' },
  { field: 'drainPerSecond', limit: 'intensity', label: 'Drain per second (Y)' },
  { field: 'budgetSeconds', limit: 'operating', label: 'Operating budget, s' },
  { field: 'windowMinutes', limit: 'operating', label: 'Window, min' },
  {
    field: 'windowSeconds',
    limit: 'operating',
    label: 'Window, s (emulator only)',
    // No preset has it, so an empty field (the plan's own) is the window in minutes again.
    hint:
      'A window of this many whole seconds in one-second buckets, in place of the minutes, so a ' +
      'test meets the operating limit in seconds. Real portals have no such setting (10 minutes). ' +
      'Empty: the window in minutes.',
  },
];

/**
 * How the operating limit's buckets are cut, as the selector offers it, with what each means
 * (`src/limits/presets.ts`, from bitrix-tools/b24-rest-docs `limits.md`). Every preset has `clock`.
 */
export const ALIGNMENTS: readonly (readonly [value: BucketAlignment, label: string])[] = [
  ['clock', 'clock minutes (10:05:00–10:05:59)'],
  ['first-call', '60 s from each bucket’s first call'],
];

/** The alignment selector's label and meaning. */
export const ALIGNMENT_FIELD = {
  label: 'Operating buckets',
  hint:
    'clock: one bucket per clock minute, the newer docs\' reading ("the sum for the corresponding ' +
    'minute"); first-call: a bucket spans the 60 s from its own first call. Either way a bucket ' +
    'drops out of the window that many minutes after its first call.',
} as const;

/** What the form holds: a preset, numbers as typed (an empty field keeps the preset's value), the alignment. */
export interface LimitsForm {
  plan: PlanPreset;
  fields: Record<LimitField, string>;
  alignment: BucketAlignment;
}

/** The body of `PUT /limits`: a preset with single numbers (and the bucket alignment) overridden. */
export interface LimitsRequest {
  plan: PlanPreset;
  intensity?: { capacity?: number; drainPerSecond?: number };
  operating?: { budgetSeconds?: number; windowMinutes?: number; alignment?: BucketAlignment };
}

const EMPTY: Record<LimitField, string> = {
  capacity: '',
  drainPerSecond: '',
  budgetSeconds: '',
  windowMinutes: '',
  windowSeconds: '',
};

/** A field's value in `limits`, or undefined when its limit is off. */
export function fieldValue(limits: LimitSettings, field: LimitField): number | undefined {
  const { intensity, operating } = limits;
  switch (field) {
    case 'capacity':
      return intensity ? intensity.capacity : undefined;
    case 'drainPerSecond':
      return intensity ? intensity.drainPerSecond : undefined;
    case 'budgetSeconds':
      return operating ? operating.budgetSeconds : undefined;
    case 'windowMinutes':
      return operating ? operating.windowMinutes : undefined;
    case 'windowSeconds':
      return operating ? operating.windowSeconds : undefined;
  }
}

/** A preset's value of a field (undefined when the preset switches that limit off): the placeholder. */
export function presetValue(plan: PlanPreset, field: LimitField): number | undefined {
  return fieldValue(PRESETS[plan], field);
}

/**
 * A field's placeholder under `plan`: the preset's number, `off` when the preset switches the
 * limit off, and for the seconds window (which no preset sets) that the minutes apply.
 */
export function placeholderFor(plan: PlanPreset, field: LimitField): string {
  const value = presetValue(plan, field);
  if (value !== undefined) return String(value);
  return field === 'windowSeconds' && PRESETS[plan].operating !== false ? 'minutes' : 'off';
}

/** `capacity 50, drains 2 per second`, or `off`. */
export function describeIntensity(limits: LimitSettings): string {
  const i = limits.intensity;
  return i ? `capacity ${i.capacity}, drains ${i.drainPerSecond} per second` : 'off';
}

/**
 * `480 s per method in a 10-minute window` (a `30-second window` when the emulator-only
 * `windowSeconds` is set, since it replaces the minutes), or `off`; the bucket alignment when
 * not the default.
 */
export function describeOperating(limits: LimitSettings): string {
  const o = limits.operating;
  if (!o) return 'off';
  const aligned = o.alignment === 'first-call' ? ' (buckets from the first call)' : '';
  const window = o.windowSeconds === undefined ? `${o.windowMinutes}-minute` : `${o.windowSeconds}-second`;
  return `${o.budgetSeconds} s per method in a ${window} window${aligned}`;
}

const differences = (limits: LimitSettings, plan: PlanPreset): LimitField[] =>
  LIMIT_FIELDS.map((f) => f.field).filter((f) => fieldValue(limits, f) !== presetValue(plan, f));

const sameShape = (limits: LimitSettings, plan: PlanPreset): boolean =>
  (limits.intensity === false) === (PRESETS[plan].intensity === false) &&
  (limits.operating === false) === (PRESETS[plan].operating === false) &&
  (limits.operating === false || (limits.operating.alignment ?? 'clock') === 'clock');

/** The preset the limits are exactly, or `custom`. */
export function matchPlan(limits: LimitSettings): PlanPreset | 'custom' {
  return PLANS.find((plan) => sameShape(limits, plan) && differences(limits, plan).length === 0) ?? 'custom';
}

/**
 * The form that would give the portal these limits again: a preset with the numbers that differ
 * from it filled in. The portal keeps no plan name, so the preset is `preferred` (the one last
 * applied from the page) when it can express the limits, else the closest. With one limit off
 * and the other on, that is `off` with the live limit's numbers (a number turns a limit of
 * `off` on, the rest taken from `standard`).
 */
export function formFromLimits(limits: LimitSettings, preferred?: PlanPreset): LimitsForm {
  const exact = matchPlan(limits);
  if (exact !== 'custom') return { plan: exact, fields: { ...EMPTY }, alignment: 'clock' };
  const alignment = (limits.operating && limits.operating.alignment) || 'clock';
  const fields = { ...EMPTY };
  if (limits.intensity && limits.operating && preferred !== 'off') {
    const closest =
      differences(limits, 'enterprise').length < differences(limits, 'standard').length
        ? 'enterprise'
        : 'standard';
    const plan = preferred ?? closest;
    for (const field of differences(limits, plan)) fields[field] = String(fieldValue(limits, field));
    return { plan, fields, alignment };
  }
  for (const { field } of LIMIT_FIELDS) {
    const value = fieldValue(limits, field);
    if (value !== undefined) fields[field] = String(value);
  }
  return { plan: 'off', fields, alignment };
}

/** How the portal's plan reads: the preset, or the preset it was changed from (see {@link formFromLimits}). */
export function describePlan(limits: LimitSettings, preferred?: PlanPreset): string {
  const exact = matchPlan(limits);
  return exact === 'custom' ? `${formFromLimits(limits, preferred).plan}, with changes` : exact;
}

/**
 * The `PUT /limits` body from the form, or what is wrong with it: a field that is not a number,
 * or `first-call` buckets for an operating limit the form leaves off (plan `off` with no
 * operating number), which would otherwise be dropped without a word. `clock` is every
 * preset's own, so it is not sent.
 */
export function limitsRequest(form: LimitsForm): { body: LimitsRequest } | { error: string } {
  const body: LimitsRequest = { plan: form.plan };
  for (const { field, limit, label } of LIMIT_FIELDS) {
    const value = parseNumber(form.fields[field]);
    if (value === null) return { error: `${label}: "${form.fields[field].trim()}" is not a number` };
    if (value === undefined) continue;
    const part = (body[limit] ??= {}) as Partial<Record<LimitField, number>>;
    part[field] = value;
  }
  if (form.alignment !== 'clock') {
    if (form.plan === 'off' && body.operating === undefined) {
      return {
        error:
          `${ALIGNMENT_FIELD.label}: the operating limit is off with plan off; give an operating ` +
          'budget or window to turn it on, or pick another plan',
      };
    }
    body.operating = { ...body.operating, alignment: form.alignment };
  }
  return { body };
}

/** A plan as the selector offers it: `standard: 50, 2/s` (capacity, then drain). */
export function planLabel(plan: PlanPreset): string {
  const i = PRESETS[plan].intensity;
  return i ? `${plan}: ${i.capacity}, ${i.drainPerSecond}/s` : `${plan}: no limits`;
}
