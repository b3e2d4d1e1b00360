/**
 * A worker process's side: a BullMQ worker that runs portals' ticks, the sweeper that gives every
 * portal with work a tick, and a graceful stop.
 */
import { DelayedError, Queue as BullQueue, Worker as BullWorker, type Job } from 'bullmq';
import { B24ValidationError } from 'b24notify';
import { parseKey } from './crypto.js';
import { Keys, TICK_QUEUE } from './keys.js';
import { TokenKeeper } from './oauth.js';
import { checkConfig, Registry } from './portals.js';
import { checkPrefix, connect, disconnect } from './redis.js';
import { run } from './scripts.js';
import { TransitFloor } from './pace.js';
import { tick, type TickContext } from './tick.js';
import { addTick, addTicks, type TickData } from './ticks.js';
import type { PortalConfig, QueueWorker, WorkerOptions } from './types.js';

/** A tick that failed for the worker's own reasons runs again after this long. */
const ERROR_RETRY_MS = 5000;

function whole(value: unknown, field: string, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new B24ValidationError(field, `expected a whole number of at least ${min}`);
  }
  return v;
}

/**
 * Start a worker: it sends batches for any portal whose turn it is, with every other worker on
 * any machine, until closed. Resolves once it is connected and running.
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
  // The registry's key: required unless portals come from a resolver (then optional: with it,
  // refreshed tokens are also kept, sealed, in Redis).
  const key =
    options.resolvePortal && options.secretKey === undefined && process.env.B24NOTIFY_QUEUE_KEY === undefined
      ? undefined
      : parseKey(options.secretKey);
  const keys = new Keys(prefix);
  const redis = connect(options.connection, 'b24notify-queue-worker');
  const bull = new BullQueue(TICK_QUEUE, { connection: redis, prefix });
  bull.on('error', () => {});
  const registry = new Registry(redis, keys, key, (id) => addTick(bull, id));
  const keeper = new TokenKeeper(redis, keys, registry, options.fetch, options.onTokens);
  const resolvePortal = options.resolvePortal;
  const resolve = resolvePortal
    ? async (id: string): Promise<PortalConfig | undefined> => {
        const config = await resolvePortal(id);
        return config === undefined ? undefined : checkConfig(config);
      }
    : (id: string): Promise<PortalConfig | undefined> => registry.get(id);
  const ctx: TickContext = {
    redis,
    keys,
    resolve,
    keeper,
    ttl: whole(options.resultTtlSeconds, 'resultTtlSeconds', 7 * 24 * 3600),
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
    } catch (err) {
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
    lockDuration: whole(options.lockDuration, 'lockDuration', 10_000, 100),
    stalledInterval: whole(options.stalledInterval, 'stalledInterval', 5_000, 100),
    maxStalledCount: whole(options.maxStalledCount, 'maxStalledCount', 1000, 0),
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
        // Waits for the ticks under way: each finishes its one batch and records it.
        await worker.close();
        await sweeping;
        await bull.close();
        await disconnect(redis);
      })();
      return closed;
    },
  };
}
