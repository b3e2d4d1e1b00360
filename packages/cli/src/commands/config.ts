/**
 * `b24notify config set|show|path`: keep credentials in a file readable only by the user
 * (mode 0600), so they are not typed into every command or left in the environment.
 */
import { createClient, type ClientOptions } from 'b24notify';
import { defineCommand } from '../command.js';
import {
  configPath,
  insecureMessage,
  readConfig,
  writeConfig,
  type ConfigFile,
  type OAuthConfig,
} from '../config.js';
import { describeCredentials } from '../connect.js';
import { resolveCredentials } from '../credentials.js';
import { UsageError } from '../errors.js';
import { helpFlag } from '../flags.js';
import type { Io } from '../io.js';
import { toJson, wantsPretty } from '../output.js';

const NAME = 'config';

const SECRET_OPTIONS = ['webhook', 'token', 'client-secret', 'access-token', 'refresh-token'] as const;
const OAUTH_OPTIONS = {
  'client-id': 'clientId',
  'client-secret': 'clientSecret',
  'access-token': 'accessToken',
  'refresh-token': 'refreshToken',
} as const;

type SetValues = Partial<Record<string, string | boolean | undefined>>;

/** A flag's value, or one line of stdin for `-` (keeps the secret out of shell history). */
async function valueOf(values: SetValues, name: string, io: Io): Promise<string | undefined> {
  const value = values[name];
  if (typeof value !== 'string') return undefined;
  if (value !== '-') return value;
  const line = (await io.readStdin()).split(/\r?\n/)[0]?.trim() ?? '';
  if (line === '') throw new UsageError(`--${name} -: nothing on stdin`, NAME);
  io.masker.add(line);
  return line;
}

/** Check credentials the way the client will use them, so a typo fails now, not at the next send. */
function check(options: ClientOptions): void {
  createClient({ ...options, pacing: false });
}

async function set(values: SetValues, io: Io): Promise<number> {
  if (SECRET_OPTIONS.filter((name) => values[name] === '-').length > 1) {
    throw new UsageError('only one value can be read from stdin ("-")', NAME);
  }
  const path = configPath(io.env, io.cwd);
  const current = readConfig(path).config;
  const webhook = await valueOf(values, 'webhook', io);
  const token = await valueOf(values, 'token', io);
  const portal = typeof values.portal === 'string' ? values.portal : undefined;
  const oauth: Partial<OAuthConfig> = {};
  for (const [flag, key] of Object.entries(OAUTH_OPTIONS)) {
    const value = await valueOf(values, flag, io);
    if (value !== undefined) oauth[key] = value;
  }
  if (typeof values['token-url'] === 'string') oauth.tokenUrl = values['token-url'];
  const usesOauth = Object.keys(oauth).length > 0;
  const kinds = [webhook !== undefined, token !== undefined, usesOauth].filter(Boolean).length;
  if (kinds > 1) {
    throw new UsageError('save one kind of credentials: --webhook, or --portal with --token, or OAuth', NAME);
  }
  let next: ConfigFile;
  let saved: string;
  if (webhook !== undefined) {
    if (portal !== undefined)
      throw new UsageError('--portal goes with --token or OAuth, not --webhook', NAME);
    check({ webhookUrl: webhook });
    next = { webhookUrl: webhook };
    saved = 'webhook';
  } else if (token !== undefined || usesOauth) {
    const domain = portal ?? current.portal;
    if (domain === undefined) throw new UsageError('--portal DOMAIN is required with a token', NAME);
    if (token !== undefined) {
      check({ portal: domain, accessToken: token });
      next = { portal: domain, token };
      saved = 'access token';
    } else {
      const missing = Object.entries(OAUTH_OPTIONS)
        .filter(([, key]) => oauth[key] === undefined)
        .map(([flag]) => `--${flag}`);
      if (missing.length > 0) throw new UsageError(`OAuth needs ${missing.join(', ')} too`, NAME);
      check({ portal: domain, oauth: oauth as OAuthConfig });
      next = { portal: domain, oauth: oauth as OAuthConfig };
      saved = 'OAuth credentials';
    }
  } else if (portal !== undefined) {
    next = { ...current, portal };
    saved = 'portal';
  } else {
    throw new UsageError(
      'nothing to save: pass --webhook URL, or --portal with --token or OAuth flags',
      NAME,
    );
  }
  writeConfig(path, next);
  io.out(`Saved ${saved} to ${path} (mode 0600).\n`);
  return 0;
}

function show(values: SetValues, io: Io): number {
  const loaded = readConfig(configPath(io.env, io.cwd));
  const { config } = loaded;
  io.masker.add(config.webhookUrl, config.token, config.oauth?.clientSecret);
  io.masker.add(config.oauth?.accessToken, config.oauth?.refreshToken);
  if (loaded.insecure) io.err(`b24notify config: ${insecureMessage(loaded.path, loaded.mode)}\n`);
  let effective: string;
  try {
    effective = describeCredentials(resolveCredentials(io, {}));
  } catch (err) {
    effective = `none usable: ${(err as Error).message}`;
  }
  const report = {
    path: loaded.path,
    exists: loaded.exists,
    ...(loaded.mode !== undefined ? { mode: loaded.mode.toString(8).padStart(4, '0') } : {}),
    config: io.masker.value(config),
    effective,
  };
  io.out(`${toJson(report, wantsPretty(io, values, NAME))}\n`);
  return 0;
}

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'save, show or locate the credentials file',
    usage:
      'config set (--webhook URL | --portal DOMAIN --token TOKEN | --portal DOMAIN <OAuth flags>) | config show | config path',
    description: `The file is $B24NOTIFY_CONFIG, else $XDG_CONFIG_HOME/b24notify/config.json, else
~/.config/b24notify/config.json. It is written with mode 0600, and a file others can read is not
used until you chmod 600 it. "set" replaces the saved credentials; pass - as a secret's value to
read it from stdin instead of the command line. Renewed OAuth tokens are written back to it.
Flags and environment variables take precedence over the file. "show" masks every secret.`,
    examples: [
      'b24notify config set --webhook https://example.bitrix24.com/rest/1/abc123xyz/',
      'printf %s "$TOKEN" | b24notify config set --portal example.bitrix24.com --token -',
      'b24notify config set --portal example.bitrix24.com --client-id local.1 --client-secret S --access-token A --refresh-token R',
      'b24notify config show',
      'b24notify config path',
    ],
  },
  positionals: true,
  completion: { words: ['set', 'show', 'path'] },
  options: {
    webhook: { type: 'string', valueName: 'URL', group: 'set', description: 'inbound webhook URL' },
    portal: {
      type: 'string',
      valueName: 'DOMAIN',
      group: 'set',
      description: 'portal domain, for a token or OAuth',
    },
    token: { type: 'string', valueName: 'TOKEN', group: 'set', description: 'access token (not renewed)' },
    'client-id': {
      type: 'string',
      valueName: 'ID',
      group: 'set',
      description: "OAuth application's client id",
    },
    'client-secret': {
      type: 'string',
      valueName: 'SECRET',
      group: 'set',
      description: "OAuth application's secret",
    },
    'access-token': { type: 'string', valueName: 'TOKEN', group: 'set', description: 'OAuth access token' },
    'refresh-token': { type: 'string', valueName: 'TOKEN', group: 'set', description: 'OAuth refresh token' },
    'token-url': {
      type: 'string',
      valueName: 'URL',
      group: 'set',
      description: 'OAuth token endpoint (default https://oauth.bitrix24.tech/oauth/token/)',
    },
    json: { type: 'boolean', group: 'show', description: 'compact JSON' },
    pretty: { type: 'boolean', group: 'show', description: 'indented JSON' },
    ...helpFlag,
  },
  async run({ values, positionals, io }) {
    const [action, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, NAME);
    const given = Object.keys(values).filter((k) => k !== 'json' && k !== 'pretty');
    if (action !== 'set' && given.length > 0) {
      throw new UsageError(`--${given[0]} goes with "config set"`, NAME);
    }
    if (action === 'set') return set(values, io);
    if (action === 'show') return show(values, io);
    if (action === 'path') {
      io.out(`${configPath(io.env, io.cwd)}\n`);
      return 0;
    }
    throw new UsageError(
      action === undefined
        ? 'say what to do: config set, config show or config path'
        : `unknown action "${action}"`,
      NAME,
    );
  },
});
