/**
 * One tick of one portal: at most one batch. Asks the shared pacer, takes up to 50 notifications,
 * sends them through the library's client (its own pacing off: Redis is the pacer), records each
 * outcome, and says when the portal's next tick should run. Every decision about a notification
 * (sent, failed, retried, handed back) is made here, from the library's errors.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  BATCH_LIMIT,
  createClient,
  errorCodeInfo,
  isB24ApiError,
  isB24AuthError,
  isB24Error,
  isB24RateLimitError,
  isB24ValidationError,
  type BatchCommand,
  type BatchResult,
  type Clock,
  type Client,
} from 'b24notify';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { renewMarginMs, type TokenKeeper } from './oauth.js';
import { correctionOf, headroomOf, ledgerMarginMs, ledgerSliceMs, type TransitFloor } from './pace.js';
import { hostOf, isOAuth } from './portals.js';
import type { StoredItem } from './queue.js';
import { run } from './scripts.js';
import type { NotificationResult, PortalConfig } from './types.js';

/** The standard plan's bucket (spec §4): what a portal gets unless its limits say otherwise. */
const DEFAULT_BUCKET = { capacity: 50, drainPerSecond: 2 };
/** The docs' example operating budget (spec §4). */
const DEFAULT_OPERATING = { budgetSeconds: 480, windowSeconds: 600 };
/** When the portal names no time after OPERATION_TIME_LIMIT, block the method this long. */
const OPERATING_WAIT_MS = 60_000;
/** A portal that is overloaded (OVERLOAD_LIMIT) waits this long. */
const OVERLOAD_WAIT_MS = 60_000;

/** What a tick needs, shared by every tick of a worker. */
export interface TickContext {
  redis: Redis;
  keys: Keys;
  resolve: (portalId: string) => Promise<PortalConfig | undefined>;
  keeper: TokenKeeper;
  ttl: number;
  maxAttempts: number;
  timeout: number;
  cost: number;
  threshold: number;
  allowHttp: boolean;
  /** This process's view of each portal's usual transit (`pace.ts`). */
  transit: TransitFloor;
  fetch?: typeof fetch;
  clock?: Clock;
}

/** What the tick says about the portal's next one. */
export type TickOutcome = { next: 'now' } | { next: 'after'; ms: number } | { next: 'none' };

type Outcome = 'sent' | 'failed' | 'retry' | 'back';
interface Settled {
  key: string;
  outcome: Outcome;
  notificationId?: number;
  due?: number;
  error?: NonNullable<NotificationResult['error']>;
}
interface Taken {
  key: string;
  item: StoredItem;
  attempts: number;
  cost: number;
}

/** Back-off after a passing failure: 1 s, doubling, at most a minute. */
function backoffMs(attempts: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

function errorOf(
  err: unknown,
  delivery?: 'not-delivered' | 'unknown',
): NonNullable<NotificationResult['error']> {
  const d = delivery ?? (isB24Error(err) ? err.delivery : 'unknown');
  if (isB24ApiError(err)) return { code: err.code, message: err.description || err.message, delivery: d };
  if (isB24Error(err)) return { code: err.name, message: err.message, delivery: d };
  return { code: 'ERROR', message: err instanceof Error ? err.message : String(err), delivery: d };
}

/** Which budget a portal's calls are charged to: the webhook or the application (spec §4). */
function credentialOf(config: PortalConfig): string {
  if (isOAuth(config)) return `app-${config.oauth.clientId}`;
  // A hash, never the webhook's code itself: key names are not secret.
  return `wh-${createHash('sha256').update(config.webhookUrl).digest('hex').slice(0, 16)}`;
}

/** Park a portal: its notifications wait, untouched, for `reauthorize` or `portals.set`. */
export async function park(ctx: TickContext, portalId: string, reason: string): Promise<void> {
  await ctx.redis
    .multi()
    .hset(ctx.keys.parked, portalId, reason)
    .xadd(ctx.keys.events, 'MAXLEN', '~', 10000, '*', 'type', 'parked', 'portal', portalId, 'reason', reason)
    .exec();
}

/** Run one tick of `portalId` under BullMQ's lock `token`. */
export async function tick(ctx: TickContext, portalId: string, token: string): Promise<TickOutcome> {
  if ((await ctx.redis.hexists(ctx.keys.parked, portalId)) === 1) return { next: 'none' };
  const config = await ctx.resolve(portalId);
  if (config === undefined) {
    await park(ctx, portalId, 'NOT_REGISTERED: the portal is not registered; register it with portals.set');
    return { next: 'none' };
  }
  const bucket = config.limits?.bucket ?? DEFAULT_BUCKET;
  const operating = config.limits?.operating ?? DEFAULT_OPERATING;
  const egress = config.limits?.egress ?? 'default';
  const cred = credentialOf(config);
  // The portal's limits belong to the Bitrix24 portal (its host), whatever ids reach it.
  const scope = hostOf(config);
  const now = (): number => ctx.clock?.now() ?? 0;
  // Kept in hand below the capacity: the check runs before the request travels, and requests
  // checked a slot apart can arrive closer together than that (QUEUE-NOTES: 444–488 ms apart
  // against a 500 ms limit); a request in flight while another tick checks may arrive late.
  const headroom = headroomOf(bucket);
  const windowMs = operating.windowSeconds * 1000;
  const sliceMs = ledgerSliceMs(windowMs);
  const checkedAt = performance.now();

  const answer = await run<string[]>(ctx.redis, 'b24qTake', [
    ctx.keys.prefix,
    portalId,
    token,
    BATCH_LIMIT,
    now(),
    bucket.capacity,
    bucket.drainPerSecond,
    headroom,
    operating.budgetSeconds,
    windowMs,
    ctx.threshold,
    cred,
    egress,
    ctx.cost,
    sliceMs,
    scope,
  ]);
  const [kind, ...rest] = answer;
  if (kind === 'idle') {
    const ms = Number(rest[0]);
    return ms < 0 ? { next: 'none' } : { next: 'after', ms };
  }
  if (kind === 'wait') return { next: 'after', ms: Number(rest[0]) };

  const ledger = { windowMs, sliceMs, takenSlice: rest[0] ?? '' };
  const taken: Taken[] = [];
  for (let i = 1; i + 3 < rest.length; i += 4) {
    const raw = rest[i + 1] ?? '';
    taken.push({
      key: rest[i] ?? '',
      item: raw === '' ? { m: 'im.notify.personal.add', p: {} } : (JSON.parse(raw) as StoredItem),
      attempts: Number(rest[i + 2]),
      cost: Number(rest[i + 3]),
    });
  }

  const settled: Settled[] = [];
  let after = 0;
  const settle = async (list: readonly Settled[], answered = false): Promise<void> => {
    const args: (string | number)[] = [
      ctx.keys.prefix,
      portalId,
      token,
      ctx.ttl,
      now(),
      answered ? '1' : '0',
    ];
    for (const s of list) {
      args.push(s.key, s.outcome, s.notificationId ?? '', s.due ?? 0, s.error ? JSON.stringify(s.error) : '');
    }
    await run(ctx.redis, 'b24qSettle', args);
  };
  const penalty = async (code: string, method: string, ms: number): Promise<void> => {
    await run(ctx.redis, 'b24qPenalty', [
      ctx.keys.prefix,
      portalId,
      egress,
      bucket.capacity,
      now(),
      cred,
      method,
      ms,
      scope,
    ]);
    await ctx.redis.xadd(
      ctx.keys.events,
      'MAXLEN',
      '~',
      10000,
      '*',
      'type',
      'refused',
      'portal',
      portalId,
      'code',
      code,
    );
  };
  const clockNow = (): number => ctx.clock?.now() ?? Date.now();
  const back = (t: Taken, err?: unknown): Settled => ({
    key: t.key,
    outcome: 'back',
    ...(err === undefined ? {} : { error: errorOf(err, 'not-delivered') }),
  });
  /** A passing failure: again after a back-off, unless attempts ran out. */
  const again = (t: Taken, err: unknown, delivery: 'not-delivered' | 'unknown'): Settled =>
    t.attempts >= ctx.maxAttempts
      ? { key: t.key, outcome: 'failed', error: errorOf(err, delivery) }
      : {
          key: t.key,
          outcome: 'retry',
          due: clockNow() + backoffMs(t.attempts),
          error: errorOf(err, delivery),
        };

  let client: Client;
  let oauthUsed: string | undefined;
  let oauthCreds: Awaited<ReturnType<TokenKeeper['current']>> | undefined;
  const makeClient = (accessToken?: string): Client =>
    createClient({
      ...(isOAuth(config)
        ? { portal: config.portal, accessToken: accessToken ?? config.oauth.accessToken }
        : { webhookUrl: config.webhookUrl }),
      pacing: false,
      retry: false,
      timeout: ctx.timeout,
      allowHttp: ctx.allowHttp,
      ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    });
  try {
    if (isOAuth(config)) {
      oauthCreds = await ctx.keeper.current(portalId, config.oauth);
      if (oauthCreds.expiresAt && oauthCreds.expiresAt - Date.now() < renewMarginMs(oauthCreds)) {
        oauthCreds = await ctx.keeper.refresh(portalId, config.oauth, oauthCreds.accessToken);
      }
      oauthUsed = oauthCreds.accessToken;
    }
    client = makeClient(oauthUsed);
  } catch (err) {
    // Nothing was sent. Refused credentials park the portal; anything else tries again later.
    if (isB24AuthError(err)) {
      await settle(taken.map((t) => back(t, err)));
      await park(ctx, portalId, `${err.code}: ${err.description || err.message}`);
      return { next: 'none' };
    }
    await settle(taken.map((t) => back(t, err)));
    if (isB24ValidationError(err)) {
      await park(ctx, portalId, `CONFIG: ${err.message}`);
      return { next: 'none' };
    }
    return { next: 'after', ms: 5000 };
  }

  const webhookClientId = isOAuth(config) ? undefined : (config.clientId ?? 'b24notify-queue');
  const commands: Record<string, BatchCommand> = {};
  taken.forEach((t, i) => {
    const params =
      webhookClientId !== undefined && t.item.p.CLIENT_ID === undefined
        ? { ...t.item.p, CLIENT_ID: webhookClientId }
        : t.item.p;
    // Keys that are not 0…n-1, so the portal's PHP answers with a map, never a list.
    commands[`q${i}`] = [t.item.m, params];
  });

  // A tick stalled past its lock (a descheduled process, a long GC) may have been handed to
  // another worker, which took these notifications back to send them itself: sending them here
  // too would be a request the shared bucket no longer counts. Theirs to send and record now.
  const first = taken[0];
  if (first && (await ctx.redis.hget(ctx.keys.portal(portalId, 'inflight'), first.key)) !== token) {
    return { next: 'none' };
  }

  let result: BatchResult | undefined;
  let failure: unknown;
  let sentAt = performance.now();
  let sentWall = Date.now();
  let workerMs = sentAt - checkedAt;
  // The portal counts every request, a refused one too ("failed auth included").
  let extraRequests = 0;
  try {
    result = await client.batch(commands);
  } catch (err) {
    failure = err;
    // An expired token is refused before the method runs: renew (once, across all workers) and
    // send the same batch again.
    if (isB24AuthError(err) && err.code === 'expired_token' && isOAuth(config) && oauthUsed !== undefined) {
      try {
        oauthCreds = await ctx.keeper.refresh(portalId, config.oauth, oauthUsed);
        extraRequests = 1;
        sentAt = performance.now();
        sentWall = Date.now();
        // The second request's stall counts from the first check, like the first one's.
        workerMs = sentAt - checkedAt;
        result = await makeClient(oauthCreds.accessToken).batch(commands);
        failure = undefined;
      } catch (retryError) {
        failure = retryError;
      }
    }
  }
  const roundTripMs = performance.now() - sentAt;
  const batchStart = result?.batchTime?.start;
  await late(ctx, {
    prefix: ctx.keys.prefix,
    scope,
    egress,
    bucket,
    now: now(),
    // Refused for the bucket: the penalty below fills it whole.
    skip: isB24RateLimitError(failure) && failure.code === 'QUERY_LIMIT_EXCEEDED',
    workerMs,
    // Without the portal's start time (an error answer, no answer), the whole round trip may
    // have been the way there.
    transitMs:
      typeof batchStart === 'number'
        ? ctx.transit.lateness(scope, batchStart * 1000, sentWall, roundTripMs)
        : roundTripMs,
    extraRequests,
  });

  if (failure !== undefined) {
    const err = failure;
    if (isB24AuthError(err)) {
      settled.push(...taken.map((t) => back(t, err)));
      await settle(settled);
      await park(ctx, portalId, `${err.code}: ${err.description || err.message}`);
      return { next: 'none' };
    }
    if (isB24RateLimitError(err)) {
      // Refused before anything ran: back to the front, the attempt not counted.
      settled.push(...taken.map((t) => back(t, err)));
      if (err.code === 'QUERY_LIMIT_EXCEEDED') {
        await penalty(err.code, '', 0);
        after = Math.ceil(1000 / bucket.drainPerSecond);
      } else {
        after =
          err.code === 'OVERLOAD_LIMIT' ? OVERLOAD_WAIT_MS : Math.max(1000, (err.retryAt ?? 0) - clockNow());
        await penalty(err.code, err.code === 'OPERATION_TIME_LIMIT' ? 'batch' : '', after);
      }
    } else if (isB24ValidationError(err)) {
      settled.push(
        ...taken.map((t) => ({
          key: t.key,
          outcome: 'failed' as const,
          error: errorOf(err, 'not-delivered'),
        })),
      );
    } else if (isB24ApiError(err) && !err.retryable) {
      // The portal refused the whole request for good (deleted, blocked, free plan).
      settled.push(...taken.map((t) => ({ key: t.key, outcome: 'failed' as const, error: errorOf(err) })));
    } else if (isB24Error(err)) {
      // Every item carries a TAG, so one that may have arrived goes again as a replacement.
      settled.push(...taken.map((t) => again(t, err, err.delivery)));
      // The portal may have run the calls without our hearing (a timeout): hold their charge
      // from now, as for an answer. Best effort: the outcomes, next, matter more.
      if (err.delivery === 'unknown') {
        await learn(ctx, scope, cred, ledger, taken, undefined, now()).catch(() => undefined);
      }
    } else {
      settled.push(...taken.map((t) => back(t)));
      await settle(settled);
      throw err;
    }
    await settle(settled);
    return after > 0 ? { next: 'after', ms: after } : { next: 'now' };
  }

  const answered = result as BatchResult;
  const blocked = new Map<string, number>();
  taken.forEach((t, i) => {
    const key = `q${i}`;
    if (Object.prototype.hasOwnProperty.call(answered.result, key)) {
      const value = answered.result[key];
      if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
        settled.push({ key: t.key, outcome: 'sent', notificationId: value });
      } else {
        settled.push({
          key: t.key,
          outcome: 'failed',
          error: {
            code: 'NOT_CREATED',
            message: `the portal answered ${JSON.stringify(value)}: it created no notification (is the user active?)`,
            delivery: 'not-delivered',
          },
        });
      }
      return;
    }
    const err = answered.errors[key];
    if (err === undefined) {
      settled.push(again(t, new Error('the batch answer did not mention this notification'), 'unknown'));
      return;
    }
    if (isB24RateLimitError(err)) {
      settled.push(back(t, err));
      const wait =
        err.code === 'OPERATION_TIME_LIMIT'
          ? // A window shorter than the fallback wait has moved on by then (emulated short windows).
            Math.min(OPERATING_WAIT_MS, operating.windowSeconds * 1000)
          : Math.ceil(1000 / bucket.drainPerSecond);
      blocked.set(`${err.code}|${err.code === 'OPERATION_TIME_LIMIT' ? t.item.m : ''}`, wait);
      return;
    }
    const info = errorCodeInfo(err.code);
    if (info?.retryable) settled.push(again(t, err, info.applied ? 'unknown' : 'not-delivered'));
    else settled.push({ key: t.key, outcome: 'failed', error: errorOf(err) });
  });
  await settle(settled, true);
  for (const [which, ms] of blocked) {
    const [code = '', method = ''] = which.split('|');
    await penalty(code, method, ms);
    after = Math.max(after, ms);
  }
  await learn(ctx, scope, cred, ledger, taken, answered, now());
  return after > 0 ? { next: 'after', ms: after } : { next: 'now' };
}

/** Top the shared bucket up by what the request's lateness cost on the portal (`pace.ts`). */
async function late(
  ctx: TickContext,
  a: {
    prefix: string;
    scope: string;
    egress: string;
    bucket: { capacity: number; drainPerSecond: number };
    now: number;
    skip: boolean;
    workerMs: number;
    transitMs: number;
    extraRequests: number;
  },
): Promise<void> {
  if (a.skip) return;
  const add = correctionOf(a.bucket, a);
  if (add <= 0) return;
  // Best effort: recording the batch's outcomes, next, matters more than a missed correction.
  await run(ctx.redis, 'b24qLate', [
    a.prefix,
    a.scope,
    a.egress,
    a.bucket.capacity,
    a.bucket.drainPerSecond,
    a.now,
    add,
  ]).catch(() => undefined);
}

/**
 * Correct the ledgers and the learnt cost per call from the answer's time blocks (none when the
 * request failed), and move the batch's charges to the answer's time, or a margin past the
 * failure when no answer came (`LEARN` in `scripts.ts`, `ledgerMarginMs` in `pace.ts`).
 */
async function learn(
  ctx: TickContext,
  scope: string,
  cred: string,
  ledger: { windowMs: number; sliceMs: number; takenSlice: string },
  taken: readonly Taken[],
  result: BatchResult | undefined,
  now: number,
): Promise<void> {
  const byMethod = new Map<
    string,
    { calls: number; charged: number; actual: number; known: boolean; operating: number }
  >();
  taken.forEach((t, i) => {
    const time = result?.time[`q${i}`];
    let m = byMethod.get(t.item.m);
    if (!m) byMethod.set(t.item.m, (m = { calls: 0, charged: 0, actual: 0, known: true, operating: -1 }));
    m.charged += t.cost;
    if (time && typeof time.processing === 'number') {
      m.calls++;
      m.actual += time.processing;
    } else m.known = false;
    if (time && typeof time.operating === 'number') m.operating = Math.max(m.operating, time.operating);
  });
  const args: (string | number)[] = [
    ctx.keys.prefix,
    scope,
    cred,
    now,
    ledger.sliceMs,
    ledger.windowMs,
    ledger.takenSlice,
    ledgerMarginMs(result !== undefined),
  ];
  for (const [method, m] of byMethod) {
    // Charges were made only with the budget on; a learnt cost needs every call's time.
    const known = m.known && m.calls > 0 && m.charged > 0;
    args.push(method, m.calls, m.charged, known ? m.actual : -1, m.operating);
  }
  if (args.length > 8) await run(ctx.redis, 'b24qLearn', args);
}
