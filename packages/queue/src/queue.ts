/**
 * The producers' side: check notifications, queue them per portal with their dedup record in one
 * atomic step, make sure the portal has its tick, and read stats, results and events.
 */
import { Queue as BullQueue } from 'bullmq';
import { B24ValidationError, notificationCommand } from 'b24notify';
import type { Redis } from 'ioredis';
import { parseKey } from './crypto.js';
import { QueueError } from './errors.js';
import { EVENTS_KEPT, EventReader } from './events.js';
import { Keys, TICK_QUEUE } from './keys.js';
import { Registry } from './portals.js';
import {
  checkConnectTimeout,
  checkPrefix,
  connect,
  disconnect,
  watchConnection,
  whenReady,
} from './redis.js';
import { run } from './scripts.js';
import { checkKey, checkPortalId, tagForKey } from './tag.js';
import { addTick, promoteTick } from './ticks.js';
import type {
  KeyedNotification,
  NotificationResult,
  PortalRegistry,
  QueueEventMap,
  QueueNotification,
  QueueOptions,
  QueueStats,
  RedisConnection,
  ResumeResult,
  SendManyResult,
  SendOptions,
  SendResult,
} from './types.js';

/** Notifications checked and added per round trip by sendMany. */
const CHUNK = 500;

/** An item as stored: the send method and its parameters, Bitrix24's names, TAG included. */
export interface StoredItem {
  m: string;
  p: Record<string, unknown>;
}

/**
 * A notification checked exactly as the library checks a send, with its TAG from the key: a bad
 * one throws a `B24ValidationError` naming `field` before anything is queued.
 */
export function toItem(
  n: QueueNotification,
  key: string,
  field: string,
  attachMaxLength: number,
): StoredItem {
  if (n === null || typeof n !== 'object') {
    throw new B24ValidationError(field, 'expected { userId, message, ... }');
  }
  try {
    const [method, params = {}] = notificationCommand(n.kind ?? 'personal', n, { attachMaxLength });
    // The notification's own tag wins: it chose what replaces what. Otherwise the key's.
    return { m: method, p: params.TAG === undefined ? { ...params, TAG: tagForKey(key) } : params };
  } catch (err) {
    if (!(err instanceof B24ValidationError)) throw err;
    throw new B24ValidationError(
      `${field}.${err.field}`,
      err.message.slice(err.field.length + 2),
      err.method,
    );
  }
}

function parseResult(raw: string): NotificationResult {
  const r = JSON.parse(raw) as NotificationResult & { notificationId?: number };
  const out: NotificationResult = { state: r.state, attempts: Number(r.attempts ?? 0) };
  if (typeof r.notificationId === 'number') out.notificationId = r.notificationId;
  if (r.error && typeof r.error === 'object' && !Array.isArray(r.error)) out.error = r.error;
  return out;
}

/**
 * A queue of notifications for many portals in Redis, delivered by any number of workers
 * ({@link startWorker}). Create it with {@link createQueue}.
 */
export class NotificationQueue {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #bull: BullQueue;
  readonly #ttl: number;
  readonly #attachMaxLength: number;
  readonly #events: EventReader;
  readonly #unwatch: () => void;
  readonly #connection: RedisConnection;
  readonly #connectTimeoutMs: number;
  /** Redis has answered once: from then on commands wait out a restart instead. */
  #connected = false;
  /** The wait for the first answer, shared by the commands that arrive meanwhile. */
  #connecting: Promise<void> | undefined;
  #closed = false;

  /** The portal registry (encrypted in Redis). */
  readonly portals: PortalRegistry;

  /** @internal Use {@link createQueue}. */
  constructor(options: QueueOptions) {
    if (options === null || typeof options !== 'object') {
      throw new B24ValidationError('options', 'expected { connection, prefix?, secretKey? }');
    }
    const prefix = checkPrefix(options.prefix);
    const ttl = options.resultTtlSeconds ?? 7 * 24 * 3600;
    if (!Number.isInteger(ttl) || ttl < 1) {
      throw new B24ValidationError('resultTtlSeconds', 'expected a whole number of seconds, at least 1');
    }
    this.#ttl = ttl;
    this.#attachMaxLength = options.attachMaxLength ?? 60_000;
    this.#connectTimeoutMs = checkConnectTimeout(options.connectTimeoutMs);
    this.#connection = options.connection;
    this.#keys = new Keys(prefix);
    // The key is needed only by the registry: a producer that only sends runs without it, and
    // the registry's first use reports the missing variable by name.
    let key: Buffer | undefined;
    let keyError: unknown;
    try {
      key = parseKey(options.secretKey);
    } catch (err) {
      keyError = err;
    }
    this.#redis = connect(options.connection, 'b24notify-queue');
    this.#bull = new BullQueue(TICK_QUEUE, { connection: this.#redis, prefix });
    this.#bull.on('error', () => {});
    const registry = new Registry(this.#redis, this.#keys, key, (id) => this.#wake(id));
    this.portals = keyError === undefined ? this.#gated(registry) : guarded(keyError);
    this.#events = new EventReader(this.#redis, this.#keys);
    this.#unwatch = watchConnection(this.#redis, options.connection, (e) =>
      this.#events.emitLocal('connection', e),
    );
  }

  #open(): void {
    if (this.#closed)
      throw new QueueError('CLOSED', 'the queue is closed: create another with createQueue()');
  }

  /**
   * Open, and Redis answered at least once. Until it has, a command waits at most
   * `connectTimeoutMs` and rejects with the reason (see `whenReady`); the next command tries again.
   */
  async #ready(): Promise<void> {
    this.#open();
    if (this.#connected) return;
    this.#connecting ??= whenReady(this.#redis, this.#connection, this.#connectTimeoutMs).finally(() => {
      this.#connecting = undefined;
    });
    await this.#connecting;
    this.#connected = true;
  }

  /** The registry, each call waiting for Redis as {@link NotificationQueue.#ready} says. */
  #gated(registry: Registry): PortalRegistry {
    const gate =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        await this.#ready();
        return call(...args);
      };
    return {
      set: gate(registry.set.bind(registry)),
      get: gate(registry.get.bind(registry)),
      remove: gate(registry.remove.bind(registry)),
      list: gate(registry.list.bind(registry)),
      reauthorize: gate(registry.reauthorize.bind(registry)),
    };
  }

  async #wake(portalId: string): Promise<void> {
    await addTick(this.#bull, portalId);
  }

  async #add(portalId: string, key: string, item: StoredItem, target: Redis | object): Promise<number> {
    return run<number>(target, 'b24qAdd', [
      this.#keys.portal(portalId, 'ready'),
      this.#keys.portal(portalId, 'items'),
      this.#keys.result(portalId, key),
      this.#keys.active,
      this.#keys.known,
      key,
      JSON.stringify(item),
      this.#ttl,
      portalId,
      JSON.stringify({ state: 'pending', attempts: 0 }),
    ]);
  }

  /**
   * Queue one notification for `portalId`. Checked first (a `B24ValidationError` naming the field,
   * nothing queued); resolves once Redis holds it. A key already queued or delivered (within the
   * result TTL) is a `duplicate`: nothing is added.
   */
  async send(
    portalId: string,
    notification: QueueNotification,
    options: SendOptions = {},
  ): Promise<SendResult> {
    this.#open();
    const id = checkPortalId(portalId);
    const key = checkKey(options?.key);
    const item = toItem(notification, key, 'notification', this.#attachMaxLength);
    await this.#ready();
    const length = await this.#add(id, key, item, this.#redis);
    if (length > 0) {
      await this.#wake(id);
      // The first item after a quiet spell: a tick waiting for a retry's back-off goes now.
      if (length === 1) await promoteTick(this.#bull, id);
    }
    return { id: `${id}/${key}`, key, duplicate: length === 0 };
  }

  /**
   * Queue many notifications, read from an array, an iterable or an async iterable (a database
   * cursor, a file) and added 500 per round trip, so the whole set is never in memory. Each has
   * its own `key` (see {@link SendOptions.key}). An array is checked whole before anything is
   * added; a stream chunk by chunk: a bad item stops it with an error naming it (`items[7].userId`)
   * and saying how many before it were queued.
   */
  async sendMany(
    portalId: string,
    items: Iterable<KeyedNotification> | AsyncIterable<KeyedNotification>,
  ): Promise<SendManyResult> {
    this.#open();
    const id = checkPortalId(portalId);
    if (
      items === null ||
      typeof items !== 'object' ||
      !(Symbol.iterator in items || Symbol.asyncIterator in items)
    ) {
      throw new B24ValidationError(
        'items',
        'expected an array, an iterable or an async iterable of notifications',
      );
    }
    const result: SendManyResult = { added: 0, duplicates: 0 };
    let index = 0;
    let chunk: { key: string; item: StoredItem }[] = [];
    const check = (n: KeyedNotification): { key: string; item: StoredItem } => {
      const field = `items[${index}]`;
      index++;
      const key = checkKey(n?.key, `${field}.key`);
      const { key: _ignored, ...notification } = n;
      void _ignored;
      return { key, item: toItem(notification, key, field, this.#attachMaxLength) };
    };
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      await this.#ready();
      const pipeline = this.#redis.pipeline();
      for (const { key, item } of chunk) void this.#add(id, key, item, pipeline);
      const answers = (await pipeline.exec()) ?? [];
      let first = false;
      for (const [err, length] of answers) {
        if (err) throw err;
        if (length === 0) result.duplicates++;
        else {
          result.added++;
          if (length === 1) first = true;
        }
      }
      chunk = [];
      await this.#wake(id);
      if (first) await promoteTick(this.#bull, id);
    };
    const stopped = (err: unknown): never => {
      if (err instanceof B24ValidationError && result.added + result.duplicates > 0) {
        throw new B24ValidationError(
          err.field,
          `${err.message.slice(err.field.length + 2)} (the ${result.added} notifications before it are queued; send the rest again after fixing it: their keys deduplicate)`,
          err.method,
        );
      }
      throw err;
    };
    if (Array.isArray(items)) {
      const checked = (items as readonly KeyedNotification[]).map(check);
      for (let i = 0; i < checked.length; i += CHUNK) {
        chunk = checked.slice(i, i + CHUNK);
        await flush();
      }
      return result;
    }
    try {
      for await (const n of items as AsyncIterable<KeyedNotification>) {
        chunk.push(check(n));
        if (chunk.length >= CHUNK) await flush();
      }
    } catch (err) {
      // What was checked before the bad one goes in: the caller is told exactly what is queued.
      await flush();
      stopped(err);
    }
    await flush();
    return result;
  }

  /** How many notifications of one portal (or of every portal used so far) are in each state. */
  async stats(portalId?: string): Promise<QueueStats> {
    if (portalId !== undefined) checkPortalId(portalId);
    await this.#ready();
    const ids =
      portalId === undefined ? await this.#redis.smembers(this.#keys.known) : [checkPortalId(portalId)];
    const total: QueueStats = {
      pending: 0,
      delayed: 0,
      sending: 0,
      sent: 0,
      failed: 0,
      refused: 0,
      parked: 0,
      batches: 0,
    };
    for (const id of ids) {
      const k = (part: Parameters<Keys['portal']>[1]): string => this.#keys.portal(id, part);
      const answers = (await this.#redis
        .multi()
        .llen(k('ready'))
        .zcard(k('delayed'))
        .hlen(k('inflight'))
        .scard(k('failed'))
        .hmget(k('stats'), 'sent', 'refused', 'batches')
        .hexists(this.#keys.parked, id)
        .exec()) as [unknown, unknown][];
      const [ready, delayed, sending, failed] = answers.slice(0, 4).map(([, v]) => Number(v));
      const [sent, refused, batches] = (answers[4]?.[1] as (string | null)[]).map((v) => Number(v ?? 0));
      const parked = answers[5]?.[1] === 1;
      total.pending += parked ? 0 : (ready ?? 0);
      total.parked += parked ? (ready ?? 0) + (delayed ?? 0) : 0;
      total.delayed += parked ? 0 : (delayed ?? 0);
      total.sending += sending ?? 0;
      total.failed += failed ?? 0;
      total.sent += sent ?? 0;
      total.refused += refused ?? 0;
      total.batches += batches ?? 0;
    }
    return total;
  }

  /** Every portal that has had notifications queued, sorted. */
  async knownPortals(): Promise<string[]> {
    await this.#ready();
    return (await this.#redis.smembers(this.#keys.known)).sort();
  }

  /** One notification's state, id or error; undefined for a key never queued (or past its TTL). */
  async result(portalId: string, key: string): Promise<NotificationResult | undefined> {
    this.#open();
    const id = checkPortalId(portalId);
    checkKey(key);
    await this.#ready();
    const [[, raw], [, parked]] = (await this.#redis
      .multi()
      .get(this.#keys.result(id, checkKey(key)))
      .hexists(this.#keys.parked, id)
      .exec()) as [[unknown, string | null], [unknown, number]];
    if (raw === null) return undefined;
    const result = parseResult(raw);
    if (parked === 1 && (result.state === 'pending' || result.state === 'delayed')) result.state = 'parked';
    return result;
  }

  /** Put a portal's failed notifications back in line with their attempts reset; returns how many. */
  async requeueFailed(portalId: string): Promise<number> {
    this.#open();
    const id = checkPortalId(portalId);
    await this.#ready();
    const n = await run<number>(this.#redis, 'b24qRequeue', [this.#keys.prefix, id, this.#ttl]);
    if (n > 0) await this.#wake(id);
    return n;
  }

  /**
   * Take a parked portal out of the parked state, without new credentials and without the
   * registry's key: for a portal whose config comes from your own store (`resolvePortal`), once
   * the store holds the fix. Every worker asks its resolver again before the portal's next batch
   * (the portal's token generation is bumped, which their kept configs are checked against), and
   * the portal's tick is added, so its waiting notifications go. For a portal that is not in the
   * registry, the refreshed OAuth pair the queue kept (sealed) is dropped: the resolver's pair is
   * the one used, as the resolver must return the newest pair anyway (see `onTokens`). For a
   * registered portal, the same as `portals.set` with its current config: the credentials stay.
   * A `resumed` event is raised.
   *
   * A portal that is not parked: nothing is done, `{ resumed: false }`. A portal this queue has
   * never seen (not registered, nothing ever queued for it): a `QueueError` `PORTAL` naming
   * `portalId`, since that is most likely a mistyped id or another prefix.
   *
   * @example
   * const { resumed, waiting } = await queue.resume('acme'); // after fixing acme in your store
   */
  async resume(portalId: string): Promise<ResumeResult> {
    this.#open();
    const id = checkPortalId(portalId);
    await this.#ready();
    const k = this.#keys;
    const [[, parked], [, known], [, registered], [, ready], [, delayed]] = (await this.#redis
      .multi()
      .hexists(k.parked, id)
      .sismember(k.known, id)
      .hexists(k.portals, id)
      .llen(k.portal(id, 'ready'))
      .zcard(k.portal(id, 'delayed'))
      .exec()) as [
      [unknown, number],
      [unknown, number],
      [unknown, number],
      [unknown, number],
      [unknown, number],
    ];
    const waiting = ready + delayed;
    if (parked === 0 && known === 0 && registered === 0) {
      throw new QueueError(
        'PORTAL',
        `portalId "${id}": no such portal in this queue (prefix "${k.prefix}"): it is not registered and nothing was ever queued for it; check the id and the prefix`,
      );
    }
    // One step, and only while it is still parked (scripts.ts, RESUME): the bump reaches every
    // worker's kept config before any tick can run unparked, and no refresh under way is fenced
    // out, since none of a parked portal's ticks runs. Another resume, set or reauthorize that
    // un-parked it first leaves this one nothing to do.
    const reason = await run<string | null>(this.#redis, 'b24qResume', [
      k.parked,
      k.tokgen,
      k.tokens,
      k.portals,
      k.events,
      id,
      EVENTS_KEPT,
    ]);
    if (reason === null) return { resumed: false, waiting };
    await this.#wake(id);
    // A tick left delayed from before the park (a retry's back-off) goes now.
    await promoteTick(this.#bull, id);
    return { resumed: true, reason, waiting };
  }

  /**
   * Listen to events from every worker (read from a capped stream in Redis, from now on): `sent`,
   * `failed`, `parked`, `resumed`, `refused`; and to this producer's own `connection` to Redis,
   * lost or restored.
   */
  on<E extends keyof QueueEventMap>(event: E, listener: (payload: QueueEventMap[E]) => void): this {
    this.#open();
    this.#events.on(event, listener);
    return this;
  }

  /** Stop listening. */
  off<E extends keyof QueueEventMap>(event: E, listener: (payload: QueueEventMap[E]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** The BullMQ queue of ticks, for bull-board or inspection. Do not add jobs to it. */
  get bullQueue(): BullQueue {
    return this.#bull;
  }

  /** Close the connections. Queued notifications stay in Redis for the workers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch();
    await this.#events.close();
    await this.#bull.close();
    await disconnect(this.#redis);
  }
}

/** A registry whose every call is refused for the reason the key could not be read. */
function guarded(error: unknown): PortalRegistry {
  const refuse = (): Promise<never> => Promise.reject(error as Error);
  return { set: refuse, get: refuse, remove: refuse, list: refuse, reauthorize: refuse };
}

/**
 * Connect to the queue in Redis (nothing is sent until a worker runs: {@link startWorker}).
 *
 * @example
 * const queue = createQueue({ connection: 'redis://127.0.0.1:6379' });
 * await queue.portals.set('acme', { webhookUrl: process.env.ACME_WEBHOOK, clientId: 'billing' });
 * await queue.send('acme', { userId: 5, message: 'Invoice 42 paid' }, { key: 'invoice-42-paid' });
 */
export function createQueue(options: QueueOptions): NotificationQueue {
  return new NotificationQueue(options);
}
