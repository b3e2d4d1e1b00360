/**
 * The config file: where it lives, reading it (refusing one others can read, as ssh refuses an
 * unprotected key), and writing it with mode 0600 so the credentials in it stay the user's.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** OAuth credentials of an application, as kept in the file. */
export interface OAuthConfig {
  clientId: string;
  clientSecret: string;
  accessToken: string;
  refreshToken: string;
  /** The authorization server's token endpoint, when not Bitrix24's. */
  tokenUrl?: string;
  /** Milliseconds since the epoch when the access token expires (written after a renewal). */
  expiresAt?: number;
  /**
   * `sha256:<hex>` of the refresh token in `B24_REFRESH_TOKEN` that these tokens replaced: a
   * later run with the same, now spent, variables uses this file's tokens instead of failing
   * with `invalid_grant`. A hash, not the token: it only has to be recognised.
   */
  renewedFrom?: string;
}

/** The config file's content. Credentials: one of `webhookUrl`, `portal` + `token`, `portal` + `oauth`. */
export interface ConfigFile {
  webhookUrl?: string;
  portal?: string;
  token?: string;
  oauth?: OAuthConfig;
}

/** A read config file. */
export interface LoadedConfig {
  path: string;
  exists: boolean;
  config: ConfigFile;
  /** The file's permission bits, e.g. 0o600. */
  mode?: number;
  /** Set when others may read it. */
  insecure: boolean;
}

const TOP_KEYS = ['webhookUrl', 'portal', 'token', 'oauth'] as const;
const OAUTH_KEYS = [
  'clientId',
  'clientSecret',
  'accessToken',
  'refreshToken',
  'tokenUrl',
  'expiresAt',
  'renewedFrom',
] as const;

/**
 * Where the config file is: `$B24NOTIFY_CONFIG`, else `$XDG_CONFIG_HOME/b24notify/config.json`,
 * else `~/.config/b24notify/config.json`.
 */
export function configPath(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  if (env.B24NOTIFY_CONFIG) return resolve(cwd, env.B24NOTIFY_CONFIG);
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'b24notify', 'config.json');
}

function checkShape(value: unknown, path: string): ConfigFile {
  const bad = (what: string): never => {
    throw new UsageError(`config file ${path}: ${what}`, 'config');
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('expected a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      bad(`unknown key "${key}" (expected ${TOP_KEYS.join(', ')})`);
    }
  }
  for (const key of ['webhookUrl', 'portal', 'token'] as const) {
    if (record[key] !== undefined && typeof record[key] !== 'string') bad(`"${key}" must be a string`);
  }
  if (record.oauth !== undefined) {
    const oauth = record.oauth;
    if (oauth === null || typeof oauth !== 'object' || Array.isArray(oauth)) bad('"oauth" must be an object');
    const o = oauth as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!(OAUTH_KEYS as readonly string[]).includes(key)) {
        bad(`unknown key "oauth.${key}" (expected ${OAUTH_KEYS.join(', ')})`);
      }
    }
    for (const key of ['clientId', 'clientSecret', 'accessToken', 'refreshToken'] as const) {
      if (typeof o[key] !== 'string' || o[key] === '') bad(`"oauth.${key}" must be a non-empty string`);
    }
    if (o.tokenUrl !== undefined && typeof o.tokenUrl !== 'string') bad('"oauth.tokenUrl" must be a string');
    if (o.expiresAt !== undefined && typeof o.expiresAt !== 'number')
      bad('"oauth.expiresAt" must be a number');
    if (o.renewedFrom !== undefined && typeof o.renewedFrom !== 'string')
      bad('"oauth.renewedFrom" must be a string');
  }
  return record as ConfigFile;
}

/** Whether group or others have any access, the check ssh makes of a private key. */
function exposed(mode: number): boolean {
  return process.platform !== 'win32' && (mode & 0o077) !== 0;
}

/** Read the config file; a missing file is an empty config. */
export function readConfig(path: string): LoadedConfig {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { path, exists: false, config: {}, insecure: false };
    }
    throw new UsageError(
      `config file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code})`,
      'config',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`config file ${path}: not valid JSON (${(err as Error).message})`, 'config');
  }
  return { path, exists: true, config: checkShape(json, path), mode, insecure: exposed(mode) };
}

/** The message for a config file others can read. */
export function insecureMessage(path: string, mode: number | undefined): string {
  return (
    `config file ${path} is readable by others (mode ${(mode ?? 0).toString(8).padStart(4, '0')}): ` +
    `its credentials are not used until you run chmod 600 "${path}"`
  );
}

/**
 * Write the config file with mode 0600 (its directory 0700): to a new file first, renamed over
 * the old one, so a crash never leaves half a file and the credentials are never readable by
 * others, not even for a moment.
 */
export function writeConfig(path: string, config: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile is filtered by the umask; set it outright.
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}
