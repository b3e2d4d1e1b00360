/**
 * Flags shared by several commands, defined once and spread into each command's options, so
 * every command spells and documents them the same way.
 */
import type { OptionSpecs } from './command.js';

/** `--help`, on every command. */
export const helpFlag = {
  help: { type: 'boolean', short: 'h', description: 'show this help', group: 'General' },
} as const satisfies OptionSpecs;

/** Where the credentials come from when not from the environment or the config file. */
export const connectionFlags = {
  webhook: {
    type: 'string',
    valueName: 'URL',
    group: 'Connection',
    description: 'inbound webhook URL https://PORTAL/rest/USER/CODE/ (else $B24_WEBHOOK_URL, else config)',
  },
  portal: {
    type: 'string',
    valueName: 'DOMAIN',
    group: 'Connection',
    description: 'portal domain for token auth, e.g. example.bitrix24.com (else $B24_PORTAL)',
  },
  token: {
    type: 'string',
    valueName: 'TOKEN',
    group: 'Connection',
    description: 'access token, with --portal; not renewed (else $B24_TOKEN)',
  },
  timeout: {
    type: 'string',
    valueName: 'MS',
    group: 'Connection',
    description: 'milliseconds to wait for each answer (default 60000)',
  },
  retries: {
    type: 'string',
    valueName: 'N',
    group: 'Connection',
    description: 'retries of a failed call when safe (default 4; 0 for none)',
  },
} as const satisfies OptionSpecs;

/** How the answer is printed. */
export const outputFlags = {
  json: { type: 'boolean', group: 'Output', description: 'compact JSON (the default when piped)' },
  pretty: { type: 'boolean', group: 'Output', description: 'indented JSON (the default on a terminal)' },
  quiet: { type: 'boolean', short: 'q', group: 'Output', description: 'print only the result (an id)' },
  out: { type: 'string', valueName: 'FILE', group: 'Output', description: 'write the answer to FILE' },
} as const satisfies OptionSpecs;

/** Inspecting a call, and OPI's exit-code behaviour. */
export const runFlags = {
  debug: {
    type: 'boolean',
    group: 'Run',
    description: 'print each request and answer on stderr (secrets masked)',
  },
  test: {
    type: 'boolean',
    group: 'Run',
    description: 'print the request that would be sent, send nothing (secrets masked)',
  },
  'opi-exit': {
    type: 'boolean',
    group: 'Run',
    description: 'exit 0 on an error answer, as OPI does (or B24NOTIFY_OPI_EXIT=1)',
  },
} as const satisfies OptionSpecs;

/** Every flag of a command that calls the portal. */
export const callFlags = { ...connectionFlags, ...outputFlags, ...runFlags, ...helpFlag } as const;
