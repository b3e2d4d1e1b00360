import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-file.js';
import type { AppConfig, PortalConfig, UserConfig, WebhookConfig } from './config.js';
import type { Portal } from './portal/portal.js';
import type { NotificationAnswer, StoredNotification } from './portal/records.js';

/** What a fixture file says it is, so a config file passed as a seed is named as such. */
export const FIXTURE_FORMAT = 'b24notify-emulator/fixture';

/** One portal's state in a fixture. Secrets are absent unless exported with `secrets: true`. */
export interface FixturePortal {
  name: string;
  domain: string;
  users: UserConfig[];
  /** Webhooks; `code` absent when exported without secrets (a seed then makes one). */
  webhooks: (Omit<WebhookConfig, 'code'> & { code?: string })[];
  /** OAuth apps; `clientSecret` absent when exported without secrets. */
  apps: (Omit<AppConfig, 'clientSecret'> & { clientSecret?: string })[];
  /** Oldest first, with their ids. */
  notifications: StoredNotification[];
  /** The portal's time when exported, in milliseconds; a deterministic start freezes it here. */
  clockMs: number;
}

/** A portable snapshot of an emulator's portals: `emu.export()`, `GET /_emulator/api/export`. */
export interface Fixture {
  format: typeof FIXTURE_FORMAT;
  version: 1;
  portals: FixturePortal[];
}

/** Options of an export. */
export interface ExportOptions {
  /** Include webhook codes and app client secrets (never over HTTP). */
  secrets?: boolean;
}

/** The time a deterministic portal starts at when no fixture names one: 2025-01-01T00:00:00Z. */
export const DETERMINISTIC_EPOCH_MS = Date.UTC(2025, 0, 1);

/** A portal's state as a fixture entry; notifications oldest first, so ids read in order. */
export function exportPortal(portal: Portal, options: ExportOptions = {}): FixturePortal {
  const config = portal.config;
  return {
    name: config.name,
    domain: config.domain,
    users: config.users.map((u) => ({ ...u })),
    webhooks: config.webhooks.map(({ code, ...w }) => (options.secrets ? { ...w, code } : { ...w })),
    apps: config.apps.map(({ clientSecret, ...a }) => (options.secrets ? { ...a, clientSecret } : { ...a })),
    notifications: portal.store
      .all()
      .reverse()
      // The request log does not travel, so neither do links into it: a seed round-trips.
      .map((n) => ({ ...n, requestId: null, answers: n.answers.map((a) => ({ ...a })) })),
    clockMs: Math.floor(portal.clock.now()),
  };
}

/** A fixture of these portals. */
export function exportFixture(portals: readonly Portal[], options: ExportOptions = {}): Fixture {
  return { format: FIXTURE_FORMAT, version: 1, portals: portals.map((p) => exportPortal(p, options)) };
}

/** A secret derived from the portal's name: the same on every deterministic start. */
export function derivedSecret(portalName: string, what: string, length: number): string {
  return createHash('sha256')
    .update(`b24notify-emulator:${portalName}:${what}`)
    .digest('hex')
    .slice(0, length);
}

function fail(where: string, what: string): never {
  throw new ConfigError(`${where}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(v: unknown, where: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    fail(where, `expected an integer of at least ${min}`);
  return v;
}

function time(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    fail(where, 'expected milliseconds since the epoch');
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, 'expected a string');
  return v;
}

function nullableStr(v: unknown, where: string): string | null {
  return v === null ? null : str(v, where);
}

function notification(v: unknown, where: string): StoredNotification {
  if (!isObject(v)) fail(where, 'expected a notification object (as emu.export() writes them)');
  const type = v.type;
  if (type !== 'personal' && type !== 'system') fail(`${where}.type`, 'expected "personal" or "system"');
  if (typeof v.read !== 'boolean') fail(`${where}.read`, 'expected true or false');
  const answers = v.answers ?? [];
  if (!Array.isArray(answers)) fail(`${where}.answers`, 'expected an array');
  if (v.attach !== null && v.attach !== undefined && !Array.isArray(v.attach) && !isObject(v.attach)) {
    fail(`${where}.attach`, 'expected null or an ATTACH as stored');
  }
  return {
    id: int(v.id, `${where}.id`, 1),
    userId: int(v.userId, `${where}.userId`, 1),
    authorId: int(v.authorId ?? 0, `${where}.authorId`),
    type,
    message: str(v.message, `${where}.message`),
    messageOut: str(v.messageOut ?? '', `${where}.messageOut`),
    tag: nullableStr(v.tag ?? null, `${where}.tag`),
    subTag: nullableStr(v.subTag ?? null, `${where}.subTag`),
    appKey: str(v.appKey ?? '', `${where}.appKey`),
    clientId: nullableStr(v.clientId ?? null, `${where}.clientId`),
    attach: (v.attach ?? null) as StoredNotification['attach'],
    read: v.read,
    createdAt: time(v.createdAt, `${where}.createdAt`),
    // The request log does not travel with a fixture.
    requestId: null,
    answers: answers.map((a, i) => {
      const at = `${where}.answers[${i}]`;
      if (!isObject(a) || (a.kind !== 'answer' && a.kind !== 'confirm'))
        fail(at, 'expected {kind, text, at}');
      return {
        kind: a.kind,
        text: str(a.text, `${at}.text`),
        at: time(a.at, `${at}.at`),
      } as NotificationAnswer;
    }),
  };
}

/** Check a fixture (parsed JSON), naming the first bad field as `seed.portals[0].…`. */
export function validateFixture(value: unknown, where = 'seed'): Fixture {
  if (!isObject(value))
    fail(where, 'expected a fixture object, as emu.export() or GET /_emulator/api/export write');
  if (value.format !== FIXTURE_FORMAT) {
    fail(
      `${where}.format`,
      `expected "${FIXTURE_FORMAT}" (is this a fixture from emu.export()? settings go to --config)`,
    );
  }
  if (value.version !== 1) fail(`${where}.version`, 'expected 1');
  if (!Array.isArray(value.portals) || value.portals.length === 0)
    fail(`${where}.portals`, 'expected a non-empty array');
  const portals = value.portals.map((p: unknown, i): FixturePortal => {
    const at = `${where}.portals[${i}]`;
    if (!isObject(p)) fail(at, 'expected an object');
    for (const key of ['users', 'webhooks', 'apps', 'notifications'] as const) {
      if (!Array.isArray(p[key])) fail(`${at}.${key}`, 'expected an array');
    }
    const notifications = (p.notifications as unknown[]).map((n, j) =>
      notification(n, `${at}.notifications[${j}]`),
    );
    const ids = new Set<number>();
    for (const [j, n] of notifications.entries()) {
      if (ids.has(n.id)) fail(`${at}.notifications[${j}].id`, `${n.id} is used twice; ids are unique`);
      ids.add(n.id);
    }
    return {
      name: str(p.name, `${at}.name`),
      domain: str(p.domain, `${at}.domain`),
      // Users, webhooks and apps are checked with the rest of the portal settings.
      users: p.users as UserConfig[],
      webhooks: p.webhooks as FixturePortal['webhooks'],
      apps: p.apps as FixturePortal['apps'],
      notifications,
      clockMs: int(p.clockMs ?? DETERMINISTIC_EPOCH_MS, `${at}.clockMs`),
    };
  });
  return { format: FIXTURE_FORMAT, version: 1, portals };
}

/** Read and check a fixture file (`--seed file.json`). */
export function loadFixture(path: string): Fixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${path}: not valid JSON`);
  }
  return validateFixture(parsed, path);
}

/**
 * The settings a seeded (or deterministic) portal starts with: the fixture's users, webhooks,
 * apps and domain under what the caller set; secrets the fixture lacks are derived from the
 * portal's name when `deterministic`, else left to fresh random ones.
 */
export function seededSettings(
  partial: Partial<PortalConfig>,
  seed: FixturePortal | undefined,
  deterministic: boolean,
): Partial<PortalConfig> {
  const out: Partial<PortalConfig> = { ...partial };
  const name = partial.name ?? seed?.name ?? 'default';
  if (seed) {
    out.domain ??= seed.domain;
    out.users ??= seed.users;
    if (!out.webhooks && seed.webhooks.length) {
      out.webhooks = seed.webhooks.map((w, i) => ({
        ...w,
        code: w.code ?? (deterministic ? derivedSecret(name, `webhook.${i}`, 16) : derivedRandom()),
      }));
    }
    if (!out.apps && seed.apps.length) {
      out.apps = seed.apps.map((a, i) => ({
        ...a,
        clientSecret:
          a.clientSecret ?? (deterministic ? derivedSecret(name, `app.${i}.secret`, 48) : derivedRandom()),
      }));
    }
  }
  if (deterministic) {
    out.memberId ??= derivedSecret(name, 'memberId', 32);
    out.webhooks ??= [
      { userId: 1, code: derivedSecret(name, 'webhook.0', 16), scopes: ['im', 'user', 'profile'] },
    ];
    out.apps ??= [
      {
        clientId: `local.${derivedSecret(name, 'app.0.id', 14)}`,
        clientSecret: derivedSecret(name, 'app.0.secret', 48),
        scopes: ['im', 'user', 'profile'],
      },
    ];
  }
  return out;
}

function derivedRandom(): string {
  return randomBytes(8).toString('hex');
}
