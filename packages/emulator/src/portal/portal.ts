import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Chaos } from '../chaos.js';
import { Clock } from '../clock.js';
import { RestError, type SystemErrorCode } from '../errors.js';
import type { AppConfig, PortalConfig, UserConfig, WebhookConfig } from '../config.js';
import { LeakyBucket } from '../limits/leaky-bucket.js';
import { OperatingBudget } from '../limits/operating.js';
import { resolveLimits, type LimitSettings } from '../limits/presets.js';
import type { StoredNotification, StoredTokens } from './records.js';
import { RequestLog, type RequestLogEntry } from './request-log.js';
import type { Store } from './store.js';

/** Who is calling, once the request's credentials have been checked. */
export interface Caller {
  kind: 'webhook' | 'oauth' | 'session';
  userId: number;
  scopes: readonly string[];
  /**
   * Whose operating-time budget the call spends: one per OAuth app or webhook. Never
   * contains a secret, since it shows up in the inspection API.
   */
  budgetKey: string;
  /** The OAuth app's client id; null for webhooks and sessions. */
  clientId: string | null;
}

/** Events the inspection API streams to the inbox page. */
export interface PortalEvents {
  notification: [StoredNotification];
  'notification-updated': [StoredNotification];
  'notification-deleted': [StoredNotification];
  request: [RequestLogEntry];
  reset: [];
}

/**
 * Compare secrets in constant time, so response timing says nothing about how much matched:
 * every character of `expected` is compared, with no early exit. In JavaScript rather than with
 * `crypto.timingSafeEqual`, which needs both sides encoded to bytes on each call: this runs on
 * every webhook call, for every webhook of the portal. Only the lengths show in the timing, as
 * they do with `timingSafeEqual`.
 */
export function secretEquals(expected: string, given: string): boolean {
  let diff = expected.length ^ given.length;
  // Past the end of `given`, charCodeAt gives NaN, which `^` reads as 0: still a difference,
  // since the lengths already differ.
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}

/** `webhook#N` by N, made once each (see {@link Portal.webhookKey}). */
const WEBHOOK_KEYS: string[] = [];

function token(): string {
  // Bitrix24 tokens are hex strings of about this length.
  return randomBytes(35).toString('hex').slice(0, 70);
}

/**
 * One emulated portal: configuration, data, clock, limits, faults and the request log.
 * Knows nothing of HTTP; the server and the methods act on it.
 */
export class Portal extends EventEmitter<PortalEvents> {
  readonly clock = new Clock();
  readonly chaos: Chaos;
  readonly log: RequestLog;
  limits: LimitSettings;
  bucket: LeakyBucket | null;
  operating: OperatingBudget | null;
  readonly #users = new Map<number, UserConfig>();
  /** Sessions of the web interface (cookie auth), only to answer WRONG_AUTH_TYPE where the docs say so. */
  readonly sessions = new Map<string, number>();
  constructor(
    readonly config: PortalConfig,
    readonly store: Store,
  ) {
    super();
    // Every pending wait (`waitFor`, the long-poll) and every open inbox holds listeners here, and
    // a test suite may run hundreds of waits at once: a fixed cap would warn of a leak that is
    // not one. Each listener is removed when its wait or stream ends (test/wait.test.ts).
    this.setMaxListeners(0);
    for (const u of config.users) this.#users.set(u.ID, u);
    this.chaos = new Chaos(config.chaos);
    this.log = new RequestLog({
      maxEntries: config.requestLogSize,
      maxBytes: config.requestLogBytes,
      secrets: () => ({
        texts: [...this.config.webhooks.map((w) => w.code), ...this.config.apps.map((a) => a.clientSecret)],
        isToken: (candidate) =>
          this.store.byAccessToken(candidate) !== undefined ||
          this.store.byRefreshToken(candidate) !== undefined,
      }),
    });
    let linked = 0;
    for (const n of store.all()) if (n.requestId !== null && n.requestId > linked) linked = n.requestId;
    this.log.continueAfter(linked);
    this.limits = resolveLimits(config.plan, config.limits);
    this.bucket = null;
    this.operating = null;
    this.applyLimits(this.limits);
  }

  /** A system error as this portal's edition of the error table words it. */
  error(code: SystemErrorCode, description?: string): RestError {
    return RestError.system(code, this.config.errorTable, description);
  }

  /** Replace the limit settings (from the control API); counters start afresh. */
  applyLimits(limits: LimitSettings): void {
    this.limits = limits;
    const now = (): number => this.clock.now();
    this.bucket = limits.intensity ? new LeakyBucket(limits.intensity, now) : null;
    this.operating = limits.operating ? new OperatingBudget(limits.operating, now) : null;
  }

  get users(): UserConfig[] {
    return [...this.#users.values()];
  }

  user(id: number): UserConfig | undefined {
    return this.#users.get(id);
  }

  /** The webhook with this owner and code, compared in constant time. */
  findWebhook(userId: number, code: string): WebhookConfig | undefined {
    let found: WebhookConfig | undefined;
    for (const w of this.config.webhooks) {
      // Every webhook is compared, so timing does not reveal which ones exist.
      if (secretEquals(w.code, code) && w.userId === userId) found = w;
    }
    return found;
  }

  /** A stable, secret-free name for a webhook, used as its budget and tag scope. */
  webhookKey(w: WebhookConfig): string {
    const n = this.config.webhooks.indexOf(w) + 1;
    // One string per webhook, not one per call: every notification a webhook sends keeps it.
    return (WEBHOOK_KEYS[n] ??= `webhook#${n}`);
  }

  app(clientId: string): AppConfig | undefined {
    return this.config.apps.find((a) => a.clientId === clientId);
  }

  /** Issue a fresh token pair for an app's user, as an install or an authorization would. */
  issueTokens(clientId: string, userId: number, scope?: readonly string[]): StoredTokens {
    const app = this.app(clientId);
    const now = this.clock.now();
    const tokens: StoredTokens = {
      accessToken: token(),
      refreshToken: token(),
      clientId,
      userId,
      scope: [...(scope ?? app?.scopes ?? [])],
      accessExpiresAt: now + this.config.accessTokenTtl * 1000,
      refreshExpiresAt: now + this.config.refreshTokenTtl * 1000,
      refreshSpent: false,
    };
    this.store.putTokens(tokens);
    return tokens;
  }

  /** Forget notifications, the request log, limit counters and faults; keep users and credentials. */
  reset(): void {
    this.store.clearNotifications();
    this.log.clear();
    this.applyLimits(this.limits);
    this.chaos.configure({ rules: [] });
    this.clock.setOffset(0);
    this.emit('reset');
  }
}
