// Benchmark: bulk delivery under the portal's intensity limit. N notifications (alternating
// personal and system, to the emulator's users 1, 2, 3, 5 and 10) go through `batch`, 50 to a
// request, to an emulator whose leaky bucket is small and fast (capacity 10, draining 20 per
// second; the operating-time limit off), so that the bucket, not the machine, sets the pace and
// a run takes a few seconds. The best any client can do with B = N / 50 batches is to send the
// first C at once and then one per drained slot: (B − C) / D seconds.
//
// Contenders, each run in a fresh process (bench/outbox-delivery-client.mjs) started with
// NODE_EXTRA_CA_CERTS = the emulator's CA, all over HTTPS (@bitrix24/b24jssdk refuses plain http):
//   outbox        @b24notify/outbox: queued in a fresh SQLite file, delivered by a client whose
//                 pacing mirrors the bucket (headroom 1), 4 batches under way at most;
//   libraryBatch  b24notify's client.batch in a plain loop with the same pacing: no durability;
//   b24jssdk      @bitrix24/b24jssdk's batchByChunk, its rate limiter set to the bucket;
//   twoBad        @2bad/bitrix's batch, as it comes (a fixed 2 requests per second);
//   b24jssdkStock @bitrix24/b24jssdk as it comes (a standard plan's 50 at once, then 2 per second).
// The first three run every round, their order rotating; the last two, bound by their own
// 2-per-second limiters (tens of seconds each), run in the first round only. Before each run the
// emulator forgets everything (store, request log, bucket); after it, the emulator's own counts
// say how many requests it refused (503 QUERY_LIMIT_EXCEEDED) and how many notifications it holds,
// and how many distinct ones: a b24notify run that loses or duplicates one fails the benchmark.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  BENCH_DIR,
  ROOT,
  TLS_DIR,
  TRIAL_DIR,
  contentionNote,
  makeResult,
  median,
  round,
  startChild,
  startCpuWatch,
} from './common.mjs';

export const name = 'outbox-delivery';
export const title =
  'Bulk delivery of 5,000 notifications under a leaky bucket: outbox vs batch loop vs peers';
/** Packages used from their dist, rebuilt by run.mjs when stale. */
export const builds = [
  ['emulator', '@b24notify/emulator'],
  ['b24notify', 'b24notify'],
  ['outbox', '@b24notify/outbox'],
];

export const TARGET = {
  text: 'outbox delivery ≥ 0.9 × the theoretical best ((B − C) / D), with 0 refused (503) and exactly N stored (medians over rounds)',
  minEfficiency: 0.9,
  maxRefused: 0,
};

/** The emulator's intensity limit: small and fast, so a run takes seconds, not minutes. */
const BUCKET = { capacity: 10, drainPerSecond: 20 };
const BATCH_SIZE = 50;
// Four rounds: with the two single runs of the peers bound by their own 2-per-second limiters
// (about 45 and 50 s), the whole benchmark stays within about three minutes.
const DEFAULTS = { rounds: 4, n: 5000, concurrency: 4 };
const QUICK = { rounds: 1, n: 1000 };

const EMULATOR_SERVER = path.join(BENCH_DIR, 'emulator-server.mjs');
const CLIENT = path.join(BENCH_DIR, 'outbox-delivery-client.mjs');

/**
 * `ours`: b24notify's own, whose every run must deliver exactly N or the benchmark fails;
 * `once`: run in the first round only (bound by the peer's own limiter, not the bucket).
 */
const VARIANTS = [
  {
    key: 'outbox',
    label: `@b24notify/outbox: add(N) to a fresh SQLite file, then deliver(client, { concurrency }) with pacing { plan: ${JSON.stringify(BUCKET)}, headroom: 1 }`,
    ours: true,
  },
  {
    key: 'libraryBatch',
    label: `b24notify client.batch, a sequential loop of batches of ${BATCH_SIZE}, same pacing, no outbox`,
    ours: true,
  },
  {
    key: 'b24jssdk',
    label: `@bitrix24/b24jssdk actions.v2.batchByChunk.make({ calls: N commands, options: { isHaltOnError: false } }), restriction manager ParamsFactory.getDefault() with rateLimit burstLimit ${BUCKET.capacity}, drainRate ${BUCKET.drainPerSecond}`,
  },
  {
    key: 'twoBad',
    label:
      '@2bad/bitrix Bitrix(webhook).batch({ N commands }): chunks of 50, GET, its fixed 2-per-second queue',
    once: true,
  },
  {
    key: 'b24jssdkStock',
    label:
      '@bitrix24/b24jssdk batchByChunk as it comes: default restriction manager (burstLimit 50, drainRate 2, adaptive, 3 attempts)',
    once: true,
  },
];

function packageVersion(pkg) {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** (B − C) / D: the first C batches at once, then one per drained slot. */
function theoreticalMs(n) {
  const batches = Math.ceil(n / BATCH_SIZE);
  return (Math.max(0, batches - BUCKET.capacity) / BUCKET.drainPerSecond) * 1000;
}

/**
 * One delivery by one contender in a fresh process, against an emulator just reset. Resolves
 * with the run's figures; `problem` says what went wrong (an error, a timeout, a loss or a
 * duplicate, a refusal), absent when the run delivered exactly N.
 */
async function deliverOnce(variant, { server, env, opts, dir, roundNo, timeoutMs }) {
  await server.ask({ type: 'reset' });
  const emuBefore = (await server.ask({ type: 'stats' })).cpuMicros;
  const watch = startCpuWatch();
  const tag = `r${roundNo}-${variant.key}`;
  let r;
  let client;
  try {
    client = await startChild(CLIENT, { args: [variant.key], env, readyTimeoutMs: 30_000 });
    if (client.ready.error) throw new Error(client.ready.error);
    r = await client.ask(
      { type: 'run', n: opts.n, tag, bucket: BUCKET, dir, concurrency: opts.concurrency },
      timeoutMs,
    );
  } catch (err) {
    r = { error: err instanceof Error ? err.message : String(err) };
  } finally {
    await client?.stop(2_000);
  }
  const emuMs = ((await server.ask({ type: 'stats' })).cpuMicros - emuBefore) / 1000;
  const otherCpuPercent = watch.stop(emuMs);
  const counts = await server.ask({ type: 'requests', detail: true }, 30_000);
  const { byType, distinctMessages } = counts.detail;
  const wallMs = r.wallMs;
  const run = {
    variant: variant.key,
    round: roundNo,
    wallMs: Number.isFinite(wallMs) ? round(wallMs, 1) : null,
    notificationsPerSec: Number.isFinite(wallMs) && wallMs > 0 ? round(opts.n / (wallMs / 1000), 0) : null,
    efficiency: Number.isFinite(wallMs) && wallMs > 0 ? round(theoreticalMs(opts.n) / wallMs, 3) : null,
    requests: counts.requests,
    refused: counts.refused,
    stored: counts.notifications,
    distinct: distinctMessages,
    personal: byType.personal ?? 0,
    system: byType.system ?? 0,
    idsReturned: r.ids ?? null,
    errorsReturned: r.errors ?? null,
    ...(r.addMs !== undefined ? { addMs: round(r.addMs, 1), totalMs: round(r.addMs + wallMs, 1) } : {}),
    ...(r.batches !== undefined ? { batches: r.batches } : {}),
    ...(r.requeued !== undefined ? { requeued: r.requeued } : {}),
    ...(r.stats ? { outboxStats: r.stats } : {}),
    byStatus: counts.byStatus,
    ...(Object.keys(counts.byError).length > 0 ? { byError: counts.byError } : {}),
    otherCpuPercent,
  };
  const problems = [];
  if (r.error) problems.push(`failed: ${r.error}`);
  if (r.errorSample) problems.push(`errors: ${r.errorSample}`);
  const half = opts.n / 2;
  if (run.stored !== opts.n || run.distinct !== opts.n || run.personal !== half || run.system !== half) {
    problems.push(
      `the emulator holds ${run.stored} notifications (${run.distinct} distinct; ${run.personal} personal, ${run.system} system), expected ${opts.n}`,
    );
  }
  if (
    r.stats &&
    (r.stats.sent !== opts.n || r.stats.sent !== Object.values(r.stats).reduce((a, b) => a + b, 0))
  ) {
    problems.push(`the outbox ended with ${JSON.stringify(r.stats)}, expected all ${opts.n} sent`);
  }
  if (!r.error && run.idsReturned !== opts.n) {
    problems.push(`the contender reported ${run.idsReturned} ids for ${opts.n} notifications`);
  }
  if (problems.length > 0) run.problem = problems.join('; ');
  return run;
}

/**
 * @param {{ quick?: boolean, log?: (line: string) => void }} ctx
 */
export async function run(ctx = {}) {
  const log = ctx.log ?? (() => {});
  const opts = { ...DEFAULTS, ...(ctx.quick ? QUICK : {}) };
  const batches = Math.ceil(opts.n / BATCH_SIZE);
  const bestMs = theoreticalMs(opts.n);
  // The slowest limiter in play sends 2 requests a second; give it that and then some.
  const timeoutMs = Math.round((batches / 2) * 1000 * 1.6 + 10_000);
  const notes = [];

  const server = await startChild(EMULATOR_SERVER, {
    env: {
      B24NOTIFY_BENCH_HTTPS: '1',
      B24NOTIFY_BENCH_TLS_DIR: TLS_DIR,
      B24NOTIFY_BENCH_PORTAL: JSON.stringify({
        plan: 'standard',
        limits: { intensity: BUCKET, operating: false },
      }),
    },
    readyTimeoutMs: 60_000,
  });
  mkdirSync(TRIAL_DIR, { recursive: true });
  const dir = mkdtempSync(path.join(TRIAL_DIR, 'outbox-delivery-'));
  try {
    const { webhookUrl, caCertPath } = server.ready;
    if (!caCertPath) throw new Error('the emulator did not report a CA (caCertPath): HTTPS is needed');
    const env = { NODE_EXTRA_CA_CERTS: caCertPath, B24NOTIFY_BENCH_WEBHOOK_URL: webhookUrl };
    const shared = { server, env, opts, dir, timeoutMs };

    const startedAt = Date.now();
    const runs = [];
    for (let i = 1; i <= opts.rounds; i++) {
      const inRound = VARIANTS.filter((v) => !v.once || i === 1);
      for (let j = 0; j < inRound.length; j++) {
        const v = inRound[(i - 1 + j) % inRound.length];
        const r = await deliverOnce(v, { ...shared, roundNo: i });
        runs.push(r);
        log(
          `  round ${i}/${opts.rounds} ${v.key}: ${r.wallMs ?? '—'} ms, ${r.notificationsPerSec ?? '—'}/s, ` +
            `efficiency ${r.efficiency ?? '—'}, ${r.requests} requests, ${r.refused} refused (503), ` +
            `${r.stored} stored${r.addMs !== undefined ? `, add ${r.addMs} ms` : ''}, other load ${r.otherCpuPercent}%` +
            (r.problem ? `\n    problem: ${r.problem.slice(0, 600)}` : ''),
        );
        if (v.ours && r.problem) {
          throw new Error(`${v.key}, round ${i}: ${r.problem}`);
        }
      }
    }
    const elapsedS = Math.round((Date.now() - startedAt) / 1000);

    const of = (key) => runs.filter((r) => r.variant === key);
    const med = (key, field) => median(of(key).map((r) => r[field]));
    const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : null);
    const orNull = (v) => (Number.isFinite(v) ? v : null);

    const m = { theoreticalMs: round(bestMs, 0) };
    for (const v of VARIANTS) {
      m[`${v.key}Ms`] = orNull(round(med(v.key, 'wallMs'), 0));
      m[`${v.key}PerSec`] = orNull(round(med(v.key, 'notificationsPerSec'), 0));
      m[`${v.key}Efficiency`] = orNull(round(med(v.key, 'efficiency'), 3));
      m[`${v.key}Refused`] = orNull(med(v.key, 'refused'));
      m[`${v.key}Stored`] = orNull(med(v.key, 'stored'));
    }
    m.outboxAddMs = orNull(round(med('outbox', 'addMs'), 0));
    // Time ratios: below 1, the outbox was faster.
    m.outboxVsLibraryBatch = ratio(m.outboxMs, m.libraryBatchMs);
    m.outboxVsB24jssdk = ratio(m.outboxMs, m.b24jssdkMs);
    m.outboxVsTwoBad = ratio(m.outboxMs, m.twoBadMs);
    m.outboxVsB24jssdkStock = ratio(m.outboxMs, m.b24jssdkStockMs);

    const outboxRuns = of('outbox');
    const maxOutboxRefused = Math.max(...outboxRuns.map((r) => r.refused));
    const met =
      m.outboxEfficiency !== null &&
      m.outboxEfficiency >= TARGET.minEfficiency &&
      m.outboxRefused <= TARGET.maxRefused &&
      outboxRuns.every((r) => !r.problem);

    const best = `(B − C) / D = (${batches} − ${BUCKET.capacity}) / ${BUCKET.drainPerSecond} = ${round(bestMs / 1000, 2)} s`;
    notes.push(
      `${opts.n.toLocaleString('en-US')} notifications in ${batches} batches; theoretical best ${best}. ` +
        `outbox ${m.outboxMs} ms (efficiency ${m.outboxEfficiency}, ${m.outboxPerSec}/s, ${m.outboxRefused} refused, ` +
        `at most ${maxOutboxRefused} in a run); batch loop without the outbox ${m.libraryBatchMs} ms ` +
        `(efficiency ${m.libraryBatchEfficiency}, ${m.libraryBatchRefused} refused): outbox/loop ${m.outboxVsLibraryBatch}.`,
    );
    notes.push(
      `Queueing the ${opts.n.toLocaleString('en-US')} messages (outbox.add, one transaction, synchronous = FULL) took ` +
        `${m.outboxAddMs} ms more, outside the delivery time. With headroom 1 the client's pacer fills 9 of the ` +
        `bucket's 10 at once and counts a request from its answer, so its own best is ` +
        `(${batches} − 9) / ${BUCKET.drainPerSecond} s plus a round trip.`,
    );
    const peerLine = (key, label) => {
      const rs = of(key);
      if (rs.length === 0) return `${label}: not run`;
      const failed = rs.filter((r) => r.problem);
      return (
        `${label} ${m[`${key}Ms`] ?? '—'} ms (efficiency ${m[`${key}Efficiency`] ?? '—'}, ` +
        `${m[`${key}Refused`] ?? '—'} refused, ${m[`${key}Stored`] ?? '—'} stored; outbox/${label} ` +
        `${m[`outboxVs${key[0].toUpperCase()}${key.slice(1)}`] ?? '—'}` +
        `${rs.length === 1 ? ', one run' : `, ${rs.length} runs`})` +
        (failed.length > 0
          ? ` — ${failed.length} of ${rs.length} run(s) did not deliver exactly N: ${failed[0].problem.slice(0, 400)}`
          : '')
      );
    };
    notes.push(
      `Peers: ${peerLine('b24jssdk', 'b24jssdk')}; ${peerLine('twoBad', 'twoBad')}; ${peerLine('b24jssdkStock', 'b24jssdkStock')}.`,
    );
    notes.push(
      "b24jssdk is set to the emulator's bucket the way its docs set a plan's numbers " +
        '(ParamsFactory.getDefault() with rateLimit burstLimit and drainRate); batchByChunk sends its chunks one ' +
        'after another. Its limiter fills the bucket to the brim (no headroom), and each 503 costs it a back-off ' +
        'of its refill interval + 1 s (× 1.5 per further attempt) with its tokens set to 0. b24jssdkStock and twoBad are as they come, tuned for a standard plan ' +
        '(2 requests per second; @2bad/bitrix has no option to change it), so their time is set by their own ' +
        `limiter, not the bucket: they run once (first round), ${Math.round(timeoutMs / 1000)} s allowed.`,
    );
    notes.push(
      'All over HTTPS to 127.0.0.1 (the SDK refuses plain http), each run in a fresh process trusting the ' +
        "emulator's CA; the emulator (plan standard, intensity " +
        `${BUCKET.capacity} / ${BUCKET.drainPerSecond} per s, operating limit off) is reset before each run, so every ` +
        'run starts with an empty bucket. Refused = 503 QUERY_LIMIT_EXCEEDED answers the emulator counted; stored and ' +
        'distinct come from its store after the run. Wall time is the delivery alone: building the commands, the ' +
        `client and (outbox) the queue come first. ${runs.length} runs in ${elapsedS} s.`,
    );
    const contention = contentionNote(
      runs,
      'runs',
      'the bucket sets the pace, so times should hardly move, but round trips may be longer.',
    );
    if (contention) notes.push(contention);

    return makeResult({
      name,
      title,
      config: {
        ...opts,
        batches,
        batchSize: BATCH_SIZE,
        bucket: BUCKET,
        theoreticalMs: round(bestMs, 1),
        emulator:
          'child process (bench/emulator-server.mjs), HTTPS, plan standard with intensity overridden, operating limit off',
        portal: { plan: 'standard', limits: { intensity: BUCKET, operating: false } },
        notifications:
          'i = 0…N−1: even personal, odd system; USER_ID cycling 1, 2, 3, 5, 10; MESSAGE `r<round>-<variant> #i`',
        transport: 'HTTPS to 127.0.0.1, NODE_EXTRA_CA_CERTS = the emulator CA, a fresh process per run',
        order:
          'outbox, libraryBatch, b24jssdk every round, order rotating; twoBad and b24jssdkStock in round 1',
        perRunTimeoutMs: timeoutMs,
        versions: {
          '@bitrix24/b24jssdk': packageVersion('@bitrix24/b24jssdk'),
          '@2bad/bitrix': packageVersion('@2bad/bitrix'),
        },
        variants: Object.fromEntries(VARIANTS.map((v) => [v.key, v.label])),
      },
      runs,
      median: m,
      target: TARGET,
      met,
      notes,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}
