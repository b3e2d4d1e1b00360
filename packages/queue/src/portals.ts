/**
 * The portal registry: configs checked, then stored sealed (AES-256-GCM) in Redis; refreshed
 * OAuth pairs next to them with a generation counter that fences concurrent refreshes.
 */
import { B24ValidationError, createClient, type OAuthTokens } from 'b24notify';
import type { Redis } from 'ioredis';
import { open, seal } from './crypto.js';
import { QueueError } from './errors.js';
import { addResumed } from './events.js';
import type { Keys } from './keys.js';
import { checkPortalId } from './tag.js';
import type { OAuthPortal, PortalConfig, PortalLimits, PortalRegistry, PortalSummary } from './types.js';

/** Whether a config reaches its portal with OAuth tokens. */
export function isOAuth(config: PortalConfig): config is OAuthPortal {
  return 'oauth' in config && config.oauth !== undefined;
}

function positive(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new B24ValidationError(field, 'expected a positive number');
  }
  return value;
}

function checkLimits(limits: unknown): PortalLimits | undefined {
  if (limits === undefined) return undefined;
  if (limits === null || typeof limits !== 'object') {
    throw new B24ValidationError('limits', 'expected { bucket?, operating?, egress? }');
  }
  const l = limits as PortalLimits;
  const out: PortalLimits = {};
  if (l.bucket !== undefined) {
    out.bucket = {
      capacity: positive(l.bucket.capacity, 'limits.bucket.capacity'),
      drainPerSecond: positive(l.bucket.drainPerSecond, 'limits.bucket.drainPerSecond'),
    };
  }
  if (l.operating !== undefined) {
    out.operating = {
      budgetSeconds: positive(l.operating.budgetSeconds, 'limits.operating.budgetSeconds'),
      windowSeconds: positive(l.operating.windowSeconds, 'limits.operating.windowSeconds'),
    };
  }
  if (l.egress !== undefined) {
    if (typeof l.egress !== 'string' || !/^[A-Za-z0-9._-]{1,50}$/.test(l.egress)) {
      throw new B24ValidationError(
        'limits.egress',
        'expected a short name: letters, digits, ".", "_" or "-"',
      );
    }
    out.egress = l.egress;
  }
  return out;
}

/**
 * `config` checked field by field (the library checks URLs and credentials, sending nothing),
 * copied so later changes by the caller do not reach the stored one.
 */
export function checkConfig(config: unknown): PortalConfig {
  if (config === null || typeof config !== 'object') {
    throw new B24ValidationError('config', 'expected { webhookUrl, clientId? } or { portal, oauth: { … } }');
  }
  const c = config as Partial<OAuthPortal> & { webhookUrl?: unknown; clientId?: unknown };
  const limits = checkLimits(c.limits);
  if (c.webhookUrl !== undefined) {
    if (c.oauth !== undefined) {
      throw new B24ValidationError('config', 'pass either webhookUrl or oauth (with portal), not both');
    }
    if (typeof c.webhookUrl !== 'string') throw new B24ValidationError('webhookUrl', 'expected a string');
    if (c.clientId !== undefined && (typeof c.clientId !== 'string' || c.clientId === '')) {
      throw new B24ValidationError('clientId', 'expected a non-empty string');
    }
    // Shape only: whether plain http is allowed is the worker's setting.
    createClient({ webhookUrl: c.webhookUrl, allowHttp: true, pacing: false });
    return {
      webhookUrl: c.webhookUrl,
      ...(typeof c.clientId === 'string' ? { clientId: c.clientId } : {}),
      ...(limits ? { limits } : {}),
    };
  }
  if (c.oauth === undefined || c.oauth === null || typeof c.oauth !== 'object') {
    throw new B24ValidationError('config', 'expected { webhookUrl, clientId? } or { portal, oauth: { … } }');
  }
  const o = c.oauth;
  createClient({
    portal: c.portal as string,
    allowHttp: true,
    pacing: false,
    oauth: {
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      accessToken: o.accessToken,
      refreshToken: o.refreshToken,
      ...(o.tokenUrl !== undefined ? { tokenUrl: o.tokenUrl } : {}),
    },
  });
  if (o.expiresAt !== undefined && (typeof o.expiresAt !== 'number' || !Number.isFinite(o.expiresAt))) {
    throw new B24ValidationError('oauth.expiresAt', 'expected milliseconds since the epoch');
  }
  return {
    portal: c.portal as string,
    oauth: {
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      accessToken: o.accessToken,
      refreshToken: o.refreshToken,
      ...(o.expiresAt !== undefined ? { expiresAt: o.expiresAt } : {}),
      ...(o.tokenUrl !== undefined ? { tokenUrl: o.tokenUrl } : {}),
    },
    ...(limits ? { limits } : {}),
  };
}

/** The host a config reaches (no secret: a webhook URL's path is dropped). */
export function hostOf(config: PortalConfig): string {
  try {
    if (isOAuth(config))
      return new URL(/^https?:\/\//.test(config.portal) ? config.portal : `https://${config.portal}`).host;
    return new URL(config.webhookUrl).host;
  } catch {
    return '?';
  }
}

/** A token pair as stored after a refresh. */
interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt?: number;
  /** When the pair was received (ms): with `expiresAt`, its lifetime, for the renewal margin. */
  issuedAt?: number;
}

/** The registry over one Redis connection; `key` is needed to read or write secrets. */
export class Registry implements PortalRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly key: Buffer | undefined,
    /** Called when a portal may have become sendable again (set, reauthorized). */
    private readonly resumed: (portalId: string) => Promise<void>,
  ) {}

  #key(): Buffer {
    if (!this.key) {
      throw new QueueError(
        'KEY',
        'the portal registry needs the encryption key: set B24NOTIFY_QUEUE_KEY or pass secretKey',
      );
    }
    return this.key;
  }

  async set(portalId: string, config: PortalConfig): Promise<void> {
    const id = checkPortalId(portalId);
    const checked = checkConfig(config);
    const sealed = seal(this.#key(), id, checked);
    const answers = await this.redis
      .multi()
      .hset(this.keys.portals, id, sealed)
      .hdel(this.keys.tokens, id)
      // A refresh under way with the old pair must not store over the new config.
      .hincrby(this.keys.tokgen, id, 1)
      .hget(this.keys.parked, id)
      .hdel(this.keys.parked, id)
      .exec();
    await this.#unparked(id, answers?.[3]?.[1], 'set');
  }

  /** Tell the listeners that a portal that `reason` had parked goes again, and give it a tick. */
  async #unparked(id: string, reason: unknown, by: 'set' | 'reauthorize'): Promise<void> {
    if (typeof reason === 'string') {
      await addResumed(this.redis.multi(), this.keys, { portalId: id, reason, by }).exec();
    }
    await this.resumed(id);
  }

  async get(portalId: string): Promise<PortalConfig | undefined> {
    const id = checkPortalId(portalId);
    const sealed = await this.redis.hget(this.keys.portals, id);
    if (sealed === null) return undefined;
    const config = open(this.#key(), id, sealed) as PortalConfig;
    if (!isOAuth(config)) return config;
    const newest = await this.tokens(id);
    return newest ? { ...config, oauth: { ...config.oauth, ...newest } } : config;
  }

  /** The newest refreshed pair of a portal, if any was stored. */
  async tokens(portalId: string): Promise<StoredTokens | undefined> {
    const sealed = await this.redis.hget(this.keys.tokens, portalId);
    if (sealed === null || !this.key) return undefined;
    return open(this.key, `${portalId}#tokens`, sealed) as StoredTokens;
  }

  /** The current token generation of a portal (bumped by every stored pair and every set). */
  async generation(portalId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.tokgen, portalId)) ?? 0);
  }

  /** `tokens` sealed for the tokens slot; empty when there is no key (a resolver's user keeps them). */
  sealTokens(portalId: string, tokens: OAuthTokens & { issuedAt?: number }): string {
    if (!this.key) return '';
    const stored: StoredTokens = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt,
      ...(tokens.issuedAt !== undefined ? { issuedAt: tokens.issuedAt } : {}),
    };
    return seal(this.key, `${portalId}#tokens`, stored);
  }

  async remove(portalId: string): Promise<boolean> {
    const id = checkPortalId(portalId);
    const [[, removed]] = (await this.redis
      .multi()
      .hdel(this.keys.portals, id)
      .hdel(this.keys.tokens, id)
      .exec()) as [[unknown, number], [unknown, number]];
    return removed === 1;
  }

  async list(): Promise<PortalSummary[]> {
    const all = await this.redis.hgetall(this.keys.portals);
    const parked = await this.redis.hgetall(this.keys.parked);
    return Object.keys(all)
      .sort()
      .map((id) => {
        const config = open(this.#key(), id, all[id] ?? '') as PortalConfig;
        return {
          id,
          host: hostOf(config),
          auth: isOAuth(config) ? 'oauth' : 'webhook',
          parked: id in parked,
        };
      });
  }

  async reauthorize(
    portalId: string,
    tokens: { accessToken: string; refreshToken: string; expiresAt?: number },
  ): Promise<void> {
    const id = checkPortalId(portalId);
    const current = await this.get(id);
    if (current === undefined) {
      throw new QueueError('PORTAL', `portal "${id}" is not registered: register it with portals.set first`);
    }
    if (!isOAuth(current)) {
      throw new B24ValidationError(
        'portalId',
        `portal "${id}" uses a webhook: set it again with portals.set instead`,
      );
    }
    for (const field of ['accessToken', 'refreshToken'] as const) {
      if (typeof tokens?.[field] !== 'string' || tokens[field] === '') {
        throw new B24ValidationError(`tokens.${field}`, 'expected a non-empty string');
      }
    }
    const sealed = this.sealTokens(id, {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt ?? 0,
      // A pair from a fresh authorisation: its lifetime runs from now.
      issuedAt: Date.now(),
    });
    const answers = await this.redis
      .multi()
      .hset(this.keys.tokens, id, sealed)
      .hincrby(this.keys.tokgen, id, 1)
      .hget(this.keys.parked, id)
      .hdel(this.keys.parked, id)
      .exec();
    await this.#unparked(id, answers?.[2]?.[1], 'reauthorize');
  }
}
