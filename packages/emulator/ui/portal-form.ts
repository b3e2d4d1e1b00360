/**
 * The portal settings form's pure parts: the choices `PUT /portal` takes, the portal's
 * settings in words, the form filled from them and the changes to send. No DOM, unit-tested in
 * Node.
 */

import { parseNumber } from './format.js';

/** `GET /portal`: the portal's settings that are not secrets. */
export interface PortalSettings {
  domain: string;
  timezone: string;
  state: string;
  requireHttps: boolean;
  attachMaxLength: number;
  errorTable: string;
  batchOverflow: string;
  messageOutDefault: string;
  /** Modelled execution seconds per call, by method or `*`. */
  processingSeconds: Record<string, number>;
}

/** The settings the form offers as a choice. */
export type PortalChoice = 'state' | 'errorTable' | 'batchOverflow' | 'messageOutDefault';

/** Each choice's label and its values with what they mean, in form order (see the README). */
export const PORTAL_CHOICES: readonly {
  key: PortalChoice;
  label: string;
  options: readonly (readonly [value: string, label: string])[];
}[] = [
  {
    key: 'state',
    label: 'State',
    options: [
      ['active', 'normal (active)'],
      ['deleted', 'deleted: PORTAL_DELETED'],
      ['overloaded', 'overloaded: OVERLOAD_LIMIT'],
      ['free-plan', 'free plan: ACCESS_DENIED'],
    ],
  },
  {
    key: 'errorTable',
    label: 'Error table',
    options: [
      ['current', 'docs: wrong webhook INVALID_CREDENTIALS'],
      ['legacy', 'system table alone: wrong webhook NO_AUTH_FOUND'],
    ],
  },
  {
    key: 'batchOverflow',
    label: 'Batch over 50 commands',
    options: [
      ['per-command', 'extra commands fail'],
      ['reject', 'whole batch refused (older docs)'],
    ],
  },
  {
    key: 'messageOutDefault',
    label: 'MESSAGE_OUT default',
    options: [
      ['empty', 'empty'],
      ['message', 'MESSAGE (older docs)'],
    ],
  },
];

/** What the form holds: the choices, the HTTPS switch, and numbers as typed. */
export interface PortalForm extends Record<PortalChoice, string> {
  requireHttps: boolean;
  attachMaxLength: string;
  /** Seconds charged per call to methods without a setting of their own (`*`). */
  processingSeconds: string;
}

/** The body of `PUT /portal`: only what changes. */
export interface PortalChanges {
  state?: string;
  errorTable?: string;
  batchOverflow?: string;
  messageOutDefault?: string;
  requireHttps?: boolean;
  attachMaxLength?: number;
  processingSeconds?: Record<string, number>;
}

/** The form showing the portal's settings. */
export function portalForm(settings: PortalSettings): PortalForm {
  const star = settings.processingSeconds['*'];
  return {
    state: settings.state,
    errorTable: settings.errorTable,
    batchOverflow: settings.batchOverflow,
    messageOutDefault: settings.messageOutDefault,
    requireHttps: settings.requireHttps,
    attachMaxLength: String(settings.attachMaxLength),
    processingSeconds: star === undefined ? '' : String(star),
  };
}

/** `* 0.02 s, im.notify.personal.add 0.5 s`: the modelled time per call, by method. */
export function describeProcessing(map: Record<string, number>): string {
  const entries = Object.entries(map);
  return entries.length === 0 ? 'none' : entries.map(([method, s]) => `${method} ${s} s`).join(', ');
}

/** One line of what the portal now has, e.g. `active · error table current · ATTACH up to 60000 characters · …`. */
export function describePortal(settings: PortalSettings): string {
  return [
    settings.state,
    `error table ${settings.errorTable}`,
    `batch overflow ${settings.batchOverflow}`,
    `MESSAGE_OUT default ${settings.messageOutDefault}`,
    `ATTACH up to ${settings.attachMaxLength} characters`,
    settings.requireHttps ? 'HTTPS required' : 'plain HTTP allowed',
    `processing ${describeProcessing(settings.processingSeconds)}`,
  ].join(' · ');
}

/**
 * The `PUT /portal` body for what the form changes, or what is wrong with a field that is not
 * a number. Range is the API's to check, so its message reaches the page. An empty number
 * field changes nothing. The numbers come first in the body: the API applies settings in the
 * order given and stops at the first it refuses, and the choices cannot be refused, so a bad
 * number leaves the portal as it was.
 */
export function portalChanges(
  current: PortalSettings,
  form: PortalForm,
): { changes: PortalChanges } | { error: string } {
  const changes: PortalChanges = {};
  const attach = parseNumber(form.attachMaxLength);
  if (attach === null)
    return { error: `ATTACH max length: "${form.attachMaxLength.trim()}" is not a number` };
  if (attach !== undefined && attach !== current.attachMaxLength) changes.attachMaxLength = attach;
  const seconds = parseNumber(form.processingSeconds);
  if (seconds === null) {
    return { error: `Processing time per call: "${form.processingSeconds.trim()}" is not a number` };
  }
  if (seconds !== undefined && seconds !== current.processingSeconds['*']) {
    changes.processingSeconds = { '*': seconds };
  }
  for (const { key } of PORTAL_CHOICES) {
    if (form[key] !== current[key]) changes[key] = form[key];
  }
  if (form.requireHttps !== current.requireHttps) changes.requireHttps = form.requireHttps;
  return { changes };
}
