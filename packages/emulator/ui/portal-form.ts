/**
 * The portal settings form's pure parts: every setting `PUT /portal` takes, each with its
 * label and its meaning as the README's settings table gives it (the form's hints), the
 * portal's settings in words, the form filled from them and the changes to send. No DOM,
 * unit-tested in Node.
 */

import { formatSize, parseNumber } from './format.js';

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
  batchOperating: string;
  tagsWithoutClientId: string;
  restNotificationReplies: string;
  schemaKeys: string;
  attachGridDisplays: string;
  requestTimeLimitSeconds: number;
  requestLogBytes: number;
  /** The authorization server's host that token answers name. */
  authServer: string;
  /** Modelled execution seconds per call, by method or `*`. */
  processingSeconds: Record<string, number>;
}

/** The settings the form offers as a choice. */
export type PortalChoice =
  | 'state'
  | 'errorTable'
  | 'batchOverflow'
  | 'messageOutDefault'
  | 'batchOperating'
  | 'tagsWithoutClientId'
  | 'restNotificationReplies'
  | 'schemaKeys'
  | 'attachGridDisplays';

/** The whole-number settings the form offers as a typed number. */
export type PortalNumber = 'attachMaxLength' | 'requestTimeLimitSeconds' | 'requestLogBytes';

/** Each choice's label, its meaning and its values with what they mean, in form order (see the README). */
export const PORTAL_CHOICES: readonly {
  key: PortalChoice;
  label: string;
  hint: string;
  options: readonly (readonly [value: string, label: string])[];
}[] = [
  {
    key: 'state',
    label: 'State',
    hint: 'deleted, overloaded or free-plan answer every REST call with the documented error.',
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
    hint: 'legacy: a wrong webhook is NO_AUTH_FOUND as the system table says, not INVALID_CREDENTIALS.',
    options: [
      ['current', 'docs: wrong webhook INVALID_CREDENTIALS'],
      ['legacy', 'system table alone: wrong webhook NO_AUTH_FOUND'],
    ],
  },
  {
    key: 'batchOverflow',
    label: 'Batch over 50 commands',
    hint: 'reject refuses a batch of more than 50 commands as a whole (older docs).',
    options: [
      ['per-command', 'extra commands fail'],
      ['reject', 'whole batch refused (older docs)'],
    ],
  },
  {
    key: 'messageOutDefault',
    label: 'MESSAGE_OUT default',
    hint: 'message: MESSAGE_OUT defaults to MESSAGE (older docs).',
    options: [
      ['empty', 'empty'],
      ['message', 'MESSAGE (older docs)'],
    ],
  },
  {
    key: 'batchOperating',
    label: 'Batch operating time',
    hint: 'batch: a batch is charged to the method batch, as b24jssdk PR #539 measured.',
    options: [
      ['per-command', 'each command to its own method'],
      ['batch', 'the whole batch to the method batch'],
    ],
  },
  {
    key: 'tagsWithoutClientId',
    label: 'Tags without CLIENT_ID',
    hint: 'ignore: TAG and SUB_TAG through a webhook without CLIENT_ID are dropped (the docs do not say).',
    options: [
      ['webhook', "kept, in the webhook's own tag space"],
      ['ignore', 'dropped'],
    ],
  },
  {
    key: 'restNotificationReplies',
    label: 'Replies to REST notifications',
    hint: 'accept: im.notify.answer and im.notify.confirm record replies to REST-created notifications.',
    options: [
      ['none', 'not taken, as the docs have it'],
      ['accept', 'recorded'],
    ],
  },
  {
    key: 'schemaKeys',
    label: 'im.notify.schema.get keys',
    hint: "lower: im.notify.schema.get answers name, module_id, list as the docs' older example did.",
    options: [
      ['upper', 'NAME, MODULE_ID, LIST'],
      ['lower', 'name, module_id, list (older example)'],
    ],
  },
  {
    key: 'attachGridDisplays',
    label: 'ATTACH GRID displays',
    hint: "one: a GRID whose items differ in DISPLAY is ATTACH_ERROR, grid.md's advice made a rule.",
    options: [
      ['mixed', "taken, as the docs' constructor example sends them"],
      ['one', 'one per GRID, else ATTACH_ERROR'],
    ],
  },
];

/** Each whole-number setting's label and meaning, in form order (see the README). */
export const PORTAL_NUMBERS: readonly { key: PortalNumber; label: string; hint: string }[] = [
  {
    key: 'attachMaxLength',
    label: 'ATTACH max length, characters',
    hint: 'ATTACH size limit in characters (older docs: 30 KB).',
  },
  {
    key: 'requestTimeLimitSeconds',
    label: 'Request time limit, s',
    hint: 'A request charged more modelled seconds is cut with 504, its work done.',
  },
  {
    key: 'requestLogBytes',
    label: 'Request log size, bytes',
    hint: 'Bytes the inspection log keeps, counted as request and answer sizes on the wire (32 MiB is 33554432).',
  },
];

/** The processing-time field's label and meaning. */
export const PROCESSING_FIELD = {
  label: 'Processing time per call, s (*)',
  hint: 'Modelled execution time of methods without a time of their own; charged to the operating budget.',
} as const;

/** The authorization-server field's label and meaning. */
export const AUTH_SERVER_FIELD = {
  label: 'Authorization server',
  hint: 'The host token answers name in domain and server_endpoint; refreshes still come here.',
} as const;

/** What the form holds: the choices, the HTTPS switch, and numbers and the host as typed. */
export interface PortalForm extends Record<PortalChoice, string>, Record<PortalNumber, string> {
  requireHttps: boolean;
  /** Seconds charged per call to methods without a setting of their own (`*`). */
  processingSeconds: string;
  authServer: string;
}

/** The body of `PUT /portal`: only what changes. */
export interface PortalChanges
  extends Partial<Record<PortalChoice, string>>, Partial<Record<PortalNumber, number>> {
  requireHttps?: boolean;
  processingSeconds?: Record<string, number>;
  authServer?: string;
}

/** The form showing the portal's settings. */
export function portalForm(settings: PortalSettings): PortalForm {
  const star = settings.processingSeconds['*'];
  const form = {
    requireHttps: settings.requireHttps,
    processingSeconds: star === undefined ? '' : String(star),
    authServer: settings.authServer,
  } as PortalForm;
  for (const { key } of PORTAL_CHOICES) form[key] = settings[key];
  for (const { key } of PORTAL_NUMBERS) form[key] = String(settings[key]);
  return form;
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
    `batch operating ${settings.batchOperating}`,
    `tags without CLIENT_ID ${settings.tagsWithoutClientId}`,
    `REST replies ${settings.restNotificationReplies}`,
    `schema keys ${settings.schemaKeys}`,
    `GRID displays ${settings.attachGridDisplays}`,
    `requests cut after ${settings.requestTimeLimitSeconds} s`,
    `request log up to ${formatSize(settings.requestLogBytes)}`,
    `auth server ${settings.authServer}`,
    `processing ${describeProcessing(settings.processingSeconds)}`,
  ].join(' · ');
}

/**
 * The `PUT /portal` body for what the form changes, or what is wrong with a field that is not
 * a number. Range (and the host's form) is the API's to check, so its message reaches the
 * page. An empty field changes nothing. The API checks every setting before it applies any,
 * so one refused value leaves the whole portal as it was: the form applies all or nothing.
 */
export function portalChanges(
  current: PortalSettings,
  form: PortalForm,
): { changes: PortalChanges } | { error: string } {
  const changes: PortalChanges = {};
  for (const { key, label } of PORTAL_NUMBERS) {
    const value = parseNumber(form[key]);
    if (value === null) return { error: `${label}: "${form[key].trim()}" is not a number` };
    if (value !== undefined && value !== current[key]) changes[key] = value;
  }
  const seconds = parseNumber(form.processingSeconds);
  if (seconds === null) {
    return { error: `${PROCESSING_FIELD.label}: "${form.processingSeconds.trim()}" is not a number` };
  }
  if (seconds !== undefined && seconds !== current.processingSeconds['*']) {
    changes.processingSeconds = { '*': seconds };
  }
  const host = form.authServer.trim();
  if (host !== '' && host !== current.authServer) changes.authServer = host;
  for (const { key } of PORTAL_CHOICES) {
    if (form[key] !== current[key]) changes[key] = form[key];
  }
  if (form.requireHttps !== current.requireHttps) changes.requireHttps = form.requireHttps;
  return { changes };
}
