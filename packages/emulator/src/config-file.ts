import { readFileSync } from 'node:fs';
import { parseChaosSettings } from './chaos.js';
import {
  defaultPortalName,
  type AppConfig,
  type PortalConfig,
  type PortalEntry,
  type PortalsConfig,
  type UserConfig,
  type WebhookConfig,
} from './config.js';
import { isPlanPreset, resolveLimits, type LimitOverrides } from './limits/presets.js';

/** A configuration mistake, phrased for the person who wrote the file: field, problem, fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = Record<string, unknown>;

/** A portal name is a DNS label, since with Host addressing it is one (`<name>.localhost`). */
const PORTAL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A host name with an optional port, as `authServer` must be: token answers put it in
 * `server_endpoint` as `https://<authServer>/rest/`, so anything else would make a broken URL.
 */
const HOST_NAME =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/i;

/**
 * What is wrong with an `authServer` value, or undefined when it is a host name (shared by
 * the config file and `PUT /portal`, so both accept the same values).
 */
export function authServerProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '') return `expected a non-empty string, got ${JSON.stringify(v)}`;
  if (v.length > 253 || !HOST_NAME.test(v))
    return `expected a host name such as "oauth.bitrix24.tech" (letters, digits, "-" and ".", an optional ":port"), got ${JSON.stringify(v)}`;
  return undefined;
}

function fail(field: string, problem: string): never {
  throw new ConfigError(`${field}: ${problem}`);
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function positiveInt(v: unknown, field: string): number {
  if (!Number.isInteger(v) || (v as number) < 1)
    fail(field, `expected a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') fail(field, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function scopes(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== '')) {
    fail(field, 'expected a list of scope names, e.g. ["im", "user"]');
  }
  return v as string[];
}

function oneOf<const T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    fail(
      field,
      `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
}

function users(v: unknown): UserConfig[] {
  if (!Array.isArray(v) || v.length === 0) fail('users', 'expected a non-empty list of users');
  const seen = new Set<number>();
  return v.map((u: unknown, i) => {
    const f = `users[${i}]`;
    if (!isObject(u)) fail(f, 'expected an object like {"ID": 1, "NAME": "Anna"}');
    const id = positiveInt(u.ID, `${f}.ID`);
    if (seen.has(id)) fail(`${f}.ID`, `user ${id} is listed twice`);
    seen.add(id);
    const user: UserConfig = { ID: id, NAME: text(u.NAME, `${f}.NAME`) };
    for (const key of ['LAST_NAME', 'EMAIL', 'WORK_POSITION'] as const) {
      if (u[key] !== undefined) user[key] = text(u[key], `${f}.${key}`);
    }
    for (const key of ['ACTIVE', 'ADMIN'] as const) {
      if (u[key] !== undefined) {
        if (typeof u[key] !== 'boolean') fail(`${f}.${key}`, 'expected true or false');
        user[key] = u[key];
      }
    }
    return user;
  });
}

function webhooks(v: unknown): WebhookConfig[] {
  if (!Array.isArray(v))
    fail('webhooks', 'expected a list like [{"userId": 1, "code": "...", "scopes": ["im"]}]');
  return v.map((w: unknown, i) => {
    const f = `webhooks[${i}]`;
    if (!isObject(w)) fail(f, 'expected an object');
    const code = text(w.code, `${f}.code`);
    if (!/^[A-Za-z0-9_-]+$/.test(code))
      fail(`${f}.code`, 'use letters, digits, "_" and "-" only (it is a URL segment)');
    const hook: WebhookConfig = {
      userId: positiveInt(w.userId, `${f}.userId`),
      code,
      scopes: scopes(w.scopes ?? ['im', 'user', 'profile'], `${f}.scopes`),
    };
    if (w.expiresAt !== undefined) hook.expiresAt = positiveInt(w.expiresAt, `${f}.expiresAt`);
    return hook;
  });
}

function apps(v: unknown): AppConfig[] {
  if (!Array.isArray(v))
    fail('apps', 'expected a list like [{"clientId": "...", "clientSecret": "...", "scopes": ["im"]}]');
  return v.map((a: unknown, i) => {
    const f = `apps[${i}]`;
    if (!isObject(a)) fail(f, 'expected an object');
    const app: AppConfig = {
      clientId: text(a.clientId, `${f}.clientId`),
      clientSecret: text(a.clientSecret, `${f}.clientSecret`),
      scopes: scopes(a.scopes ?? ['im', 'user', 'profile'], `${f}.scopes`),
    };
    if (a.allowedUsers !== undefined) {
      if (!Array.isArray(a.allowedUsers)) fail(`${f}.allowedUsers`, 'expected a list of user ids');
      app.allowedUsers = a.allowedUsers.map((u: unknown, j) => positiveInt(u, `${f}.allowedUsers[${j}]`));
    }
    return app;
  });
}

/**
 * Check a portal configuration read from JSON and return it typed. Unknown keys are refused,
 * so a misspelt setting is reported instead of silently ignored.
 */
export function validatePortalConfig(input: unknown): Partial<PortalConfig> {
  if (!isObject(input)) fail('(top level)', 'expected a JSON object of portal settings');
  const out: Partial<PortalConfig> = {};
  for (const [key, value] of Object.entries(input)) {
    switch (key) {
      case 'name':
        if (typeof value !== 'string' || !PORTAL_NAME.test(value))
          fail(key, 'expected a DNS label: lower-case letters, digits and "-", e.g. "shop-1"');
        out.name = value;
        break;
      case 'domain':
      case 'memberId':
        out[key] = text(value, key);
        break;
      case 'authServer': {
        const problem = authServerProblem(value);
        if (problem !== undefined) fail(key, problem);
        out.authServer = value as string;
        break;
      }
      case 'timezone':
        if (typeof value !== 'string' || !/^[+-]\d{2}:\d{2}$/.test(value))
          fail(key, 'expected an offset like "+03:00"');
        out.timezone = value;
        break;
      case 'users':
        out.users = users(value);
        break;
      case 'webhooks':
        out.webhooks = webhooks(value);
        break;
      case 'apps':
        out.apps = apps(value);
        break;
      case 'plan':
        if (typeof value !== 'string' || !isPlanPreset(value))
          fail(key, 'expected "standard", "enterprise" or "off"');
        out.plan = value;
        break;
      case 'limits':
        if (!isObject(value)) fail(key, 'expected {"intensity": {...} | false, "operating": {...} | false}');
        out.limits = value as LimitOverrides;
        break;
      case 'processingSeconds': {
        if (!isObject(value)) fail(key, 'expected {"method.name": seconds, "*": seconds}');
        for (const [m, s] of Object.entries(value)) {
          if (typeof s !== 'number' || !(s >= 0)) fail(`${key}.${m}`, 'expected a number of seconds >= 0');
        }
        out.processingSeconds = value as Record<string, number>;
        break;
      }
      case 'attachMaxLength':
      case 'accessTokenTtl':
      case 'refreshTokenTtl':
      case 'maxBodyBytes':
      case 'requestLogSize':
      case 'requestLogBytes':
      case 'requestTimeLimitSeconds':
        out[key] = positiveInt(value, key);
        break;
      case 'requireHttps':
        if (typeof value !== 'boolean') fail(key, 'expected true or false');
        out.requireHttps = value;
        break;
      case 'state':
        out.state = oneOf(value, key, ['active', 'deleted', 'overloaded', 'free-plan']);
        break;
      case 'messageOutDefault':
        out.messageOutDefault = oneOf(value, key, ['empty', 'message']);
        break;
      case 'errorTable':
        out.errorTable = oneOf(value, key, ['current', 'legacy']);
        break;
      case 'batchOverflow':
        out.batchOverflow = oneOf(value, key, ['per-command', 'reject']);
        break;
      case 'batchOperating':
        out.batchOperating = oneOf(value, key, ['per-command', 'batch']);
        break;
      case 'tagsWithoutClientId':
        out.tagsWithoutClientId = oneOf(value, key, ['webhook', 'ignore']);
        break;
      case 'schemaKeys':
        out.schemaKeys = oneOf(value, key, ['upper', 'lower']);
        break;
      case 'restNotificationReplies':
        out.restNotificationReplies = oneOf(value, key, ['none', 'accept']);
        break;
      case 'attachGridDisplays':
        out.attachGridDisplays = oneOf(value, key, ['mixed', 'one']);
        break;
      case 'chaos':
        try {
          out.chaos = parseChaosSettings(value);
        } catch (err) {
          fail(key, err instanceof Error ? err.message : String(err));
        }
        break;
      default:
        fail(key, 'not a portal setting (see the emulator README for the list)');
    }
  }
  // Limit overrides are checked against their preset now, not at the first request.
  try {
    resolveLimits(out.plan ?? 'standard', out.limits);
  } catch (err) {
    fail('limits', err instanceof Error ? err.message : String(err));
  }
  const ids = new Set((out.users ?? []).map((u) => u.ID));
  if (out.users) {
    out.webhooks?.forEach((w, i) => {
      if (!ids.has(w.userId)) fail(`webhooks[${i}].userId`, `user ${w.userId} is not in "users"`);
    });
  }
  return out;
}

/**
 * Check a list of portals (`"portals"` of a config file, or of `startEmulator`): each entry is
 * a portal's settings plus an optional `port`; names are unique (by position when absent), as
 * are fixed ports. `shared` settings apply to every portal that does not set them itself.
 */
export function validatePortals(input: unknown, shared: Partial<PortalConfig> = {}): PortalEntry[] {
  if (!Array.isArray(input) || input.length === 0)
    fail('portals', 'expected a non-empty list of portals, e.g. [{"name": "a"}, {"name": "b"}]');
  const names = new Set<string>();
  const ports = new Set<number>();
  return input.map((entry: unknown, i) => {
    const f = `portals[${i}]`;
    if (!isObject(entry)) fail(f, 'expected an object of portal settings, e.g. {"name": "a"}');
    const { port, ...settings } = entry;
    let portal: Partial<PortalConfig>;
    try {
      portal = { ...shared, ...validatePortalConfig(settings) };
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${f}.${err.message}`);
      throw err;
    }
    const name = portal.name ?? defaultPortalName(i);
    if (names.has(name)) fail(`${f}.name`, `portal "${name}" is listed twice: give each a name of its own`);
    names.add(name);
    const out: PortalEntry = { ...portal, name };
    if (port !== undefined) {
      if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535)
        fail(`${f}.port`, `expected a port from 0 to 65535, got ${JSON.stringify(port)}`);
      if ((port as number) !== 0 && ports.has(port as number))
        fail(`${f}.port`, `port ${String(port)} is taken by another portal`);
      ports.add(port as number);
      out.port = port as number;
    }
    return out;
  });
}

/**
 * Check an emulator configuration: the settings of one portal (as `validatePortalConfig`), or
 * `{"portals": [...], "addressing": "port" | "host", ...settings shared by every portal}`.
 */
export function validateEmulatorConfig(input: unknown): Partial<PortalConfig> | PortalsConfig {
  if (!isObject(input) || !('portals' in input)) return validatePortalConfig(input);
  const { portals, addressing, ...shared } = input;
  const out: PortalsConfig = { portals: validatePortals(portals, validatePortalConfig(shared)) };
  if (addressing !== undefined) out.addressing = oneOf(addressing, 'addressing', ['port', 'host']);
  return out;
}

function readJson(path: string): unknown {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read it (${code ?? 'unknown error'})`,
    );
  }
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Read and check a portal configuration file (one portal; see `loadEmulatorConfig` for several). */
export function loadPortalConfig(path: string): Partial<PortalConfig> {
  const json = readJson(path);
  try {
    return validatePortalConfig(json);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${path}: ${err.message}`);
    throw err;
  }
}

/** Read and check an emulator configuration file: one portal's settings, or `{"portals": [...]}`. */
export function loadEmulatorConfig(path: string): Partial<PortalConfig> | PortalsConfig {
  const json = readJson(path);
  try {
    return validateEmulatorConfig(json);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${path}: ${err.message}`);
    throw err;
  }
}
