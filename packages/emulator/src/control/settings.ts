import { randomBytes } from 'node:crypto';
import { parseChaosSettings } from '../chaos.js';
import { authServerProblem } from '../config-file.js';
import { isPlanPreset, resolveLimits, type LimitOverrides } from '../limits/presets.js';
import { ControlError, objectBody, type ControlRequest } from './types.js';

/** GET /clock */
export function getClock(r: ControlRequest) {
  return { now: r.portal.clock.now(), offsetMs: r.portal.clock.offsetMs };
}

/** PUT /clock {offsetMs} or {advanceMs}: move the portal's time for expiry and limit windows. */
export function putClock(r: ControlRequest) {
  const body = objectBody(r.body);
  if (typeof body.advanceMs === 'number' && Number.isFinite(body.advanceMs))
    r.portal.clock.advance(body.advanceMs);
  else if (typeof body.offsetMs === 'number' && Number.isFinite(body.offsetMs)) {
    r.portal.clock.setOffset(body.offsetMs);
  } else throw new ControlError('expected {"offsetMs": number} or {"advanceMs": number}');
  return getClock(r);
}

/** GET /chaos */
export function getChaos(r: ControlRequest) {
  return r.portal.chaos.settings();
}

/** PUT /chaos {seed?, rules} — replaces the rules and restarts the seeded sequence. */
export function putChaos(r: ControlRequest) {
  let settings;
  try {
    settings = parseChaosSettings(r.body);
  } catch (err) {
    throw new ControlError(err instanceof Error ? err.message : String(err));
  }
  r.portal.chaos.configure(settings);
  return r.portal.chaos.settings();
}

/** GET /limits — the limit settings in force (the counters are per caller and not shown). */
export function getLimits(r: ControlRequest) {
  return { ...r.portal.limits };
}

/** PUT /limits {plan?, intensity?, operating?} — a preset with single numbers overridden. */
export function putLimits(r: ControlRequest) {
  const body = objectBody(r.body);
  const plan = body.plan ?? 'standard';
  if (typeof plan !== 'string' || !isPlanPreset(plan)) {
    throw new ControlError('plan: expected "standard", "enterprise" or "off"');
  }
  try {
    r.portal.applyLimits(resolveLimits(plan, body as LimitOverrides));
  } catch (err) {
    throw new ControlError(err instanceof Error ? err.message : String(err));
  }
  return getLimits(r);
}

/** The settings `PUT /portal` takes as a choice, with their values (the inbox's selects offer these). */
export const PORTAL_SETTINGS = {
  state: ['active', 'deleted', 'overloaded', 'free-plan'],
  errorTable: ['current', 'legacy'],
  batchOverflow: ['per-command', 'reject'],
  messageOutDefault: ['empty', 'message'],
  batchOperating: ['per-command', 'batch'],
  tagsWithoutClientId: ['webhook', 'ignore'],
  restNotificationReplies: ['none', 'accept'],
  attachGridDisplays: ['mixed', 'one'],
  schemaKeys: ['upper', 'lower'],
} as const;

/** GET /portal — settings that are not secrets. */
export function getPortal(r: ControlRequest) {
  const c = r.portal.config;
  return {
    name: c.name,
    domain: c.domain,
    timezone: c.timezone,
    state: c.state,
    requireHttps: c.requireHttps,
    attachMaxLength: c.attachMaxLength,
    errorTable: c.errorTable,
    batchOverflow: c.batchOverflow,
    messageOutDefault: c.messageOutDefault,
    batchOperating: c.batchOperating,
    tagsWithoutClientId: c.tagsWithoutClientId,
    restNotificationReplies: c.restNotificationReplies,
    attachGridDisplays: c.attachGridDisplays,
    schemaKeys: c.schemaKeys,
    requestTimeLimitSeconds: c.requestTimeLimitSeconds,
    requestLogBytes: c.requestLogBytes,
    authServer: c.authServer,
    processingSeconds: c.processingSeconds,
    webhooks: c.webhooks.map((w) => ({
      userId: w.userId,
      scopes: w.scopes,
      url: `${r.baseUrl}/rest/${w.userId}/***/`,
    })),
    apps: c.apps.map((a) => ({ clientId: a.clientId, scopes: a.scopes })),
  };
}

/**
 * PUT /portal — change portal settings at run time (state, error table, ATTACH limit…). All or
 * nothing: every setting is checked before any is applied, so a refused one changes nothing.
 */
export function putPortal(r: ControlRequest) {
  const body = objectBody(r.body);
  const c = r.portal.config;
  const changes: Partial<typeof c> = {};
  for (const [key, value] of Object.entries(body)) {
    if (Object.hasOwn(PORTAL_SETTINGS, key)) {
      const allowed: readonly string[] = PORTAL_SETTINGS[key as keyof typeof PORTAL_SETTINGS];
      if (typeof value !== 'string' || !allowed.includes(value)) {
        throw new ControlError(`${key}: expected one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
      }
      Object.assign(changes, { [key]: value });
    } else if (key === 'requireHttps') {
      if (typeof value !== 'boolean') throw new ControlError('requireHttps: expected true or false');
      changes.requireHttps = value;
    } else if (key === 'authServer') {
      const problem = authServerProblem(value);
      if (problem !== undefined) throw new ControlError(`authServer: ${problem}`);
      changes.authServer = value as string;
    } else if (key === 'attachMaxLength' || key === 'requestTimeLimitSeconds' || key === 'requestLogBytes') {
      if (!Number.isInteger(value) || (value as number) < 1) {
        throw new ControlError(`${key}: expected a positive integer`);
      }
      changes[key] = value as number;
    } else if (key === 'processingSeconds') {
      const map = objectBody(value);
      for (const [m, s] of Object.entries(map)) {
        if (typeof s !== 'number' || !(s >= 0))
          throw new ControlError(`processingSeconds.${m}: expected seconds >= 0`);
      }
      changes.processingSeconds = { ...c.processingSeconds, ...(map as Record<string, number>) };
    } else throw new ControlError(`${key}: not a portal setting`);
  }
  Object.assign(c, changes);
  // The log holds its bound itself (it is on every request's path); a lower one trims it now.
  if (changes.requestLogBytes !== undefined) r.portal.log.setMaxBytes(changes.requestLogBytes);
  return getPortal(r);
}

/** POST /reset — forget notifications, the log, counters, faults and the clock offset. */
export function postReset(r: ControlRequest) {
  r.portal.reset();
  return { reset: true };
}

/**
 * POST /tokens {clientId?, userId?, expired?} — issue a token pair, as an app install would.
 * For tests: `expired: true` gives a pair whose access token has already expired.
 */
export function postTokens(r: ControlRequest) {
  const body = r.body === undefined ? {} : objectBody(r.body);
  const clientId = body.clientId ?? r.portal.config.apps[0]?.clientId;
  if (typeof clientId !== 'string' || !r.portal.app(clientId))
    throw new ControlError('clientId: no such app');
  const userId = body.userId ?? 1;
  if (typeof userId !== 'number' || !r.portal.user(userId)) throw new ControlError('userId: no such user');
  const t = r.portal.issueTokens(clientId, userId);
  if (body.expired === true) {
    t.accessExpiresAt = r.portal.clock.now() - 1000;
    r.portal.store.putTokens(t);
  }
  return {
    accessToken: t.accessToken,
    refreshToken: t.refreshToken,
    clientId: t.clientId,
    userId: t.userId,
    expiresAt: Math.floor(t.accessExpiresAt / 1000),
  };
}

/** POST /sessions {userId} — a web-interface session, to call methods with cookie auth. */
export function postSession(r: ControlRequest) {
  const body = objectBody(r.body);
  if (typeof body.userId !== 'number' || !r.portal.user(body.userId))
    throw new ControlError('userId: no such user');
  const sessid = randomBytes(16).toString('hex');
  r.portal.sessions.set(sessid, body.userId);
  return { sessid, cookie: `PHPSESSID=${sessid}` };
}
