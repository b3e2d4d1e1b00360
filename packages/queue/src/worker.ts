/**
 * A worker process's side: a BullMQ worker that runs portals' ticks, the sweeper that gives every
 * portal with work a tick, and a graceful stop.
 */
import { performance } from 'node:perf_hooks';
import { DelayedError, Queue as BullQueue, Worker as BullWorker, type Job } from 'bullmq';
import { B24ValidationError } from 'b24notify';
import { parseKey } from './crypto.js';
import { Keys, TICK_QUEUE } from './keys.js';
import { TokenKeeper } from './oauth.js';
import { checkConfig, Registry } from './portals.js';
import {
  checkConnectTimeout,
  checkPrefix,
  connect,
  disconnect,
  watchConnection,
  whenDown,
  whenReady,
} from './redis.js';
import { run } from './scripts.js';
import { TransitFloor } from './pace.js';
import { tick, type TickContext } from './tick.js';
import { addTick, addTicks, type TickData } from './ticks.js';
import type { PortalConfig, PortalResolver, QueueWorker, WorkerOptions } from './types.js';

/** A tick that failed for the worker's own reasons runs again after this long. */
const ERROR_RETRY_MS = 5000;

/**
 * How long a resolver's config is reused: a secret store is asked once a minute per busy portal
 * instead of once per batch (up to 2 a second), and a changed config is picked up within a minute
 * even when nothing in the queue says it changed.
 */
const RESOLVE_CACHE_MS = 60_000;

/**
 * Configs from the caller's resolver, kept per portal id for a short while. Each entry remembers
 * the portal's token generation (`Keys.tokgen`), which `portals.set`, `portals.reauthorize` and
 * every stored refresh bump from any process: a changed generation means the credentials changed,
 * so the resolver is asked again. One Redis read per batch instead of a call to the store.
 */
class ResolverCache {
  readonly #entries = new Map<string, { config: PortalConfig; generation: number; until: number }>();
  #nextPrune = 0;

  constructor(
    private readonly resolver: PortalResolver,
    private readonly ttlMs: number,
    private readonly generation: (portalId: string) => Promise<number>,
  ) {}

  async get(portalId: string): Promise<PortalConfig | undefined> {
    if (this.ttlMs === 0) return this.#ask(portalId);
    const generation = await this.generation(portalId);
    const now = performance.now();
    const kept = this.#entries.get(portalId);
    if (kept && kept.generation === generation && kept.until > now) return kept.config;
    this.#entries.delete(portalId);
    const config = await this.#ask(portalId);
    // An unknown portal is parked; when it is registered, the resolver is asked again anyway.
    if (config === undefined) return undefined;
    this.#prune(now);
    this.#entries.set(portalId, { config, generation, until: now + this.ttlMs });
    return config;
  }

  /** Ask the resolver again next time. */
  forget(portalId: string): void {
    this.#entries.delete(portalId);
  }

  has(portalId: string): boolean {
    return this.#entries.has(portalId);
  }

  async #ask(portalId: string): Promise<PortalConfig | undefined> {
    const config = await this.resolver(portalId);
    return config === undefined ? undefined : checkConfig(config);
  }

  /** Drop expired entries, at most once per TTL: portals that went quiet do not stay in memory. */
  #prune(now: number): void {
    if (now < this.#nextPrune) return;
    this.#nextPrune = now + this.ttlMs;
    for (const [id, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(id);
  }
}

function whole(value: unknown, field: string, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new B24ValidationError(field, `expected a whole number of at least ${min}`);
  }
  return v;
}

/**
 * Start a worker: it sends batches for any portal whose turn it is, with every other worker on
 * any machine, until closed. Resolves once it is connected and running. Rejects with a
 * `QueueError` when Redis does not answer within `connectTimeoutMs` (`REDIS`: the message names
 * the address, password masked, and what to check) or refuses the credentials (`REDIS_AUTH`).
 *
 * @example
 * const worker = await startWorker({ connection: process.env.REDIS_URL, concurrency: 8 });
 * process.once('SIGTERM', () => void worker.close());
 */
export async function startWorker(options: WorkerOptions): Promise<QueueWorker> {
  if (options === null || typeof options !== 'object') {
    throw new B24ValidationError('options', 'expected { connection, ... }');
  }
  const prefix = checkPrefix(options.prefix);
  const concurrency = whole(options.concurrency, 'concurrency', 8);
  const maxAttempts = whole(options.maxAttempts, 'maxAttempts', 5);
  const sweepInterval = whole(options.sweepInterval, 'sweepInterval', 5000, 100);
  const threshold = options.operatingThreshold ?? 0.95;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
    throw new B24ValidationError('operatingThreshold', 'expected a fraction above 0, at most 1');
  }
  const cost = options.costPerNotification ?? 0.03;
  if (typeof cost !== 'number' || !(cost > 0)) {
    throw new B24ValidationError('costPerNotification', 'expected a positive number of seconds');
  }
  if (options.resolvePortal !== undefined && typeof options.resolvePortal !== 'function') {
    throw new B24ValidationError('resolvePortal', 'expected a function (portalId) => config');
  }
  const resolveCacheMs = whole(options.resolveCacheMs, 'resolveCacheMs', RESOLVE_CACHE_MS, 0);
  const connectTimeoutMs = checkConnectTimeout(options.connectTimeoutMs);
  // Checked before connecting, so that bad options leave no connection behind.
  const lockDuration = whole(options.lockDuration, 'lockDuration', 10_000, 100);
  const stalledInterval = whole(options.stalledInterval, 'stalledInterval', 5_000, 100);
  const maxStalledCount = whole(options.maxStalledCount, 'maxStalledCount', 1000, 0);
  const ttl = whole(options.resultTtlSeconds, 'resultTtlSeconds', 7 * 24 * 3600);
  // The registry's key: required unless portals come from a resolver (then optional: with it,
  // refreshed tokens are also kept, sealed, in Redis).
  const key =
    options.resolvePortal && options.secretKey === undefined && process.env.B24NOTIFY_QUEUE_KEY === undefined
      ? undefined
      : parseKey(options.secretKey);
  const keys = new Keys(prefix);
  const redis = connect(options.connection, 'b24notify-queue-worker');
  try {
    await whenReady(redis, options.connection, connectTimeoutMs);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const unwatch = options.onConnection
    ? watchConnection(redis, options.connection, options.onConnection)
    : () => {};
  const bull = new BullQueue(TICK_QUEUE, { connection: redis, prefix });
  bull.on('error', () => {});
  const registry = new Registry(redis, keys, key, (id) => addTick(bull, id));
  const keeper = new TokenKeeper(redis, keys, registry, options.fetch, options.onTokens);
  const cache = options.resolvePortal
    ? new ResolverCache(options.resolvePortal, resolveCacheMs, (id) => registry.generation(id))
    : undefined;
  const resolve = cache
    ? (id: string): Promise<PortalConfig | undefined> => cache.get(id)
    : (id: string): Promise<PortalConfig | undefined> => registry.get(id);
  const ctx: TickContext = {
    redis,
    keys,
    resolve,
    keeper,
    ttl,
    maxAttempts,
    timeout: options.timeout ?? 60_000,
    cost,
    threshold,
    allowHttp: options.allowHttp === true,
    transit: new TransitFloor(),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  };

  const processor = async (job: Job<TickData>, token?: string): Promise<void> => {
    const lock = token ?? job.token ?? '';
    let outcome: Awaited<ReturnType<typeof tick>>;
    try {
      outcome = await tick(ctx, job.data.portalId, lock);
      // Parked: the portal refused its credentials, or its config; the next config must be new.
      if (outcome.next === 'none' && cache?.has(job.data.portalId)) {
        if ((await redis.hexists(keys.parked, job.data.portalId)) === 1) cache.forget(job.data.portalId);
      }
    } catch (err) {
      cache?.forget(job.data.portalId);
      // Not the portal's fault and not for this tick to decide: say so, and look again later,
      // rather than fail the tick and have it re-added at once in a tight loop.
      try {
        options.onError?.(err instanceof Error ? err : new Error(String(err)), job.data.portalId);
      } catch {
        // The caller's hook must not stop the worker.
      }
      outcome = { next: 'after', ms: ERROR_RETRY_MS };
    }
    if (outcome.next === 'none') return;
    let ms = outcome.next === 'after' ? outcome.ms : 0;
    if (ctx.clock && ms > 0) {
      // A shared test clock: its sleep moves the portal's time at once.
      await ctx.clock.sleep(ms);
      ms = 0;
    }
    // Behind every other portal's tick (fair share), or after what the pacer said.
    await job.moveToDelayed(Date.now() + ms, lock);
    throw new DelayedError();
  };

  const worker = new BullWorker<TickData>(TICK_QUEUE, processor, {
    connection: redis,
    prefix,
    concurrency,
    lockDuration,
    stalledInterval,
    maxStalledCount,
    autorun: false,
  });
  worker.on('error', () => {});

  /** Give `portalId` a tick if it has work and is not parked. */
  const ensureTick = async (portalId: string): Promise<void> => {
    if ((await redis.hexists(keys.parked, portalId)) === 1) return;
    if ((await run<number>(redis, 'b24qHasWork', [prefix, portalId])) === 1) await addTick(bull, portalId);
  };
  // A tick that found nothing finished; an item added between its last look and its removal was
  // refused a new tick (the old one still existed): look once more now that it is gone.
  worker.on('completed', (job) => {
    void ensureTick(job.data.portalId).catch(() => {});
  });
  worker.on('failed', (job) => {
    if (job) void ensureTick(job.data.portalId).catch(() => {});
  });

  let sweeping: Promise<void> | undefined;
  const sweep = async (): Promise<void> => {
    // One sweeper at a time across the fleet is enough.
    if ((await redis.set(keys.sweepLock, '1', 'PX', sweepInterval, 'NX')) !== 'OK') return;
    let cursor = '0';
    do {
      const [next, ids] = await redis.sscan(keys.active, cursor, 'COUNT', 500);
      cursor = next;
      // One round trip per 500 portals to look, one to add the ticks they lack.
      const pipeline = redis.pipeline();
      for (const id of ids) {
        pipeline.hexists(keys.parked, id);
        void run(pipeline, 'b24qHasWork', [prefix, id]);
      }
      const answers = (await pipeline.exec()) ?? [];
      const need = ids.filter((_, i) => answers[2 * i]?.[1] === 0 && answers[2 * i + 1]?.[1] === 1);
      if (need.length > 0) await addTicks(bull, need);
    } while (cursor !== '0' && !closing);
  };
  let closing = false;
  const timer = setInterval(() => {
    if (sweeping || closing) return;
    sweeping = sweep()
      .catch(() => {})
      .finally(() => (sweeping = undefined));
  }, sweepInterval);
  timer.unref();

  await redis.ping();
  void worker.run().catch(() => {});
  await worker.waitUntilReady();
  // Work left by a previous fleet: no need to wait for the first sweep.
  sweeping = sweep()
    .catch(() => {})
    .finally(() => (sweeping = undefined));

  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(timer);
        // Waits for the ticks under way: each finishes its one batch and records it. Unless Redis
        // is down, now or before they are done: then no tick can record anything, and BullMQ's
        // close would wait for their commands, which wait for Redis, for as long as it stays
        // down. Dropping the connection fails those commands, and the ticks end as a killed
        // worker's do: once Redis is back another worker takes each after lockDuration +
        // stalledInterval, and a batch that had gone out goes again under the same TAGs, a
        // replacement on the portal, never a second copy.
        const finished = worker.close();
        const lost = whenDown(redis);
        const outcome = await Promise.race([
          finished.then(() => 'done' as const),
          lost.down.then(() => 'down' as const),
        ]);
        lost.cancel();
        if (outcome === 'down') {
          unwatch();
          redis.disconnect();
          await finished;
        }
        // A sweep under way finishes, unless Redis is down: then its commands wait for Redis,
        // and closing the connection below fails them instead (its errors are caught).
        let bound: NodeJS.Timeout | undefined;
        await Promise.race([sweeping, new Promise((resolve) => (bound = setTimeout(resolve, 2000)))]);
        clearTimeout(bound);
        await bull.close();
        unwatch();
        await disconnect(redis);
      })();
      return closed;
    },
  };
}
