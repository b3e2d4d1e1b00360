// The single-process outbox against the portal's operating-time bound, not the bucket's
// (outbox-delivery runs with the operating limit off). The emulator charges each notification a
// modelled processing time against its method's budget, in a window shortened to one minute so
// the bound is reached in about a minute of real time; its request bucket is the standard
// plan's and is never the bound here. Each run delivers N notifications (half personal, half
// system: two methods, two budgets) from a fresh SQLite outbox through a client whose pacing is
// told the portal's budget and window, and the emulator is reset before it.
//
// The bound, per method (n = N / 2 calls of it): the portal runs a call while the method's sum
// is at or under the budget B, so one window holds C = floor(B / p) + 1 calls of p seconds. Past
// C the rest must wait until the first window's charges drop out: they leave W after the first
// call's second (the portal truncates it to a whole second), so no client can send call C + 1
// before (W − 1 s) after its first; with k = ceil(n / C) windows the makespan is at least
// (k − 1) · (W − 1 s), plus what the bucket needs for the last window's batches beyond its
// capacity. Efficiency = bound ÷ makespan (the delivery alone, not queueing).
//
// Counted by the emulator (bench/emulator-server.mjs): 503 QUERY_LIMIT_EXCEEDED answers, 429
// OPERATION_TIME_LIMIT answers and the same refusal inside a batch's result_error, and its store
// (size and distinct messages, so a loss hidden by a duplicate still shows).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  BENCH_DIR,
  TLS_DIR,
  TRIAL_DIR,
  contentionNote,
  makeResult,
  median,
  round,
  startChild,
  startCpuWatch,
} from './common.mjs';

export const name = 'outbox-operating';
export const title =
  'Outbox delivery of 5,000 notifications under the operating-time limit (1-minute window)';
/** Packages used from their dist, rebuilt by run.mjs when stale. */
export const builds = [
  ['emulator', '@b24notify/emulator'],
  ['b24notify', 'b24notify'],
  ['outbox', '@b24notify/outbox'],
];

export const TARGET = {
  text: 'outbox delivery ≥ 0.9 × the operating-time bound, 0 answers 429 (nor 503), exactly N stored (medians over runs)',
  minEfficiency: 0.9,
  maxRefused: 0,
};

/** Seconds of processing the emulator charges each notification, both methods. */
const PROCESSING_SECONDS = 0.01;
/** The operating budget per method and caller, in seconds, over a one-minute window. */
const OPERATING = { budgetSeconds: 15, windowMinutes: 1 };
/** The standard plan's bucket (spec §4), on in the emulator and mirrored by the client. */
const BUCKET = { capacity: 50, drainPerSecond: 2 };
const BATCH_SIZE = 50;
// Each run takes a little over a window (a minute): three keep the benchmark within about four
// minutes, under run.mjs's five.
const DEFAULTS = { rounds: 3, n: 5000, concurrency: 4 };
const QUICK = { rounds: 1 };

const EMULATOR_SERVER = path.join(BENCH_DIR, 'emulator-server.mjs');
const CLIENT = path.join(BENCH_DIR, 'outbox-delivery-client.mjs');

/** The client's pacing: the plan's bucket (default headroom), and the portal's budget and window. */
const PACING = {
  plan: BUCKET,
  operatingBudget: OPERATING.budgetSeconds,
  operatingWindowMinutes: OPERATING.windowMinutes,
};

/** The bound of the header comment, in ms, with its parts. */
function bound(n) {
  const perMethod = n / 2;
  const perWindow = Math.floor(OPERATING.budgetSeconds / PROCESSING_SECONDS + 1e-9) + 1;
  const windows = Math.ceil(perMethod / perWindow);
  const lastPerMethod = perMethod - (windows - 1) * perWindow;
  const lastBatches = Math.ceil((2 * lastPerMethod) / BATCH_SIZE);
  const tailMs =
    windows > 1 ? (Math.max(0, lastBatches - BUCKET.capacity) / BUCKET.drainPerSecond) * 1000 : 0;
  const windowMs = OPERATING.windowMinutes * 60_000;
  const firstBatches = Math.ceil((2 * Math.min(perMethod, perWindow)) / BATCH_SIZE);
  // With one window only, the bucket is the bound.
  const oneWindowMs = (Math.max(0, firstBatches - BUCKET.capacity) / BUCKET.drainPerSecond) * 1000;
  const ms = windows > 1 ? (windows - 1) * (windowMs - 1000) + tailMs : oneWindowMs;
  return { ms, perMethod, perWindow, windows, lastBatches, tailMs };
}

/** One delivery in a fresh client process, against an emulator just reset. */
async function deliverOnce({ server, env, opts, dir, roundNo, timeoutMs, boundMs }) {
  await server.ask({ type: 'reset' });
  const emuBefore = (await server.ask({ type: 'stats' })).cpuMicros;
  const watch = startCpuWatch();
  const tag = `r${roundNo}-operating`;
  let r;
  let client;
  try {
    client = await startChild(CLIENT, { args: ['outbox'], env, readyTimeoutMs: 30_000 });
    if (client.ready.error) throw new Error(client.ready.error);
    r = await client.ask(
      { type: 'run', n: opts.n, tag, pacing: PACING, dir, concurrency: opts.concurrency },
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
  const operatingRefused =
    (counts.byError.OPERATION_TIME_LIMIT ?? 0) + (counts.bySubError.OPERATION_TIME_LIMIT ?? 0);
  const wallMs = r.wallMs;
  const run = {
    round: roundNo,
    wallMs: Number.isFinite(wallMs) ? round(wallMs, 1) : null,
    efficiency: Number.isFinite(wallMs) && wallMs > 0 ? round(boundMs / wallMs, 3) : null,
    notificationsPerSec: Number.isFinite(wallMs) && wallMs > 0 ? round(opts.n / (wallMs / 1000), 1) : null,
    requests: counts.requests,
    refused503: counts.refused,
    refused429: operatingRefused,
    status429: counts.byStatus[429] ?? 0,
    stored: counts.notifications,
    distinct: distinctMessages,
    personal: byType.personal ?? 0,
    system: byType.system ?? 0,
    idsReturned: r.ids ?? null,
    errorsReturned: r.errors ?? null,
    ...(r.addMs !== undefined ? { addMs: round(r.addMs, 1) } : {}),
    ...(r.batches !== undefined ? { batches: r.batches } : {}),
    ...(r.requeued !== undefined ? { requeued: r.requeued } : {}),
    ...(r.stats ? { outboxStats: r.stats } : {}),
    byStatus: counts.byStatus,
    ...(Object.keys(counts.byError).length > 0 ? { byError: counts.byError } : {}),
    ...(Object.keys(counts.bySubError).length > 0 ? { bySubError: counts.bySubError } : {}),
    otherCpuPercent,
  };
  const problems = [];
  if (r.error) problems.push(`failed: ${r.error}`);
  const half = opts.n / 2;
  if (run.stored !== opts.n || run.distinct !== opts.n || run.personal !== half || run.system !== half) {
    problems.push(
      `the emulator holds ${run.stored} notifications (${run.distinct} distinct; ${run.personal} personal, ${run.system} system), expected ${opts.n}`,
    );
  }
  if (r.stats && r.stats.sent !== opts.n) {
    problems.push(`the outbox ended with ${JSON.stringify(r.stats)}, expected all ${opts.n} sent`);
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
  const b = bound(opts.n);
  // Generous: a busy machine stretches round trips, never the window.
  const timeoutMs = Math.round(b.windows * OPERATING.windowMinutes * 60_000 * 1.5 + 30_000);
  const portal = {
    plan: 'standard',
    limits: { intensity: BUCKET, operating: OPERATING },
    processingSeconds: { '*': PROCESSING_SECONDS },
  };

  const server = await startChild(EMULATOR_SERVER, {
    env: {
      B24NOTIFY_BENCH_HTTPS: '1',
      B24NOTIFY_BENCH_TLS_DIR: TLS_DIR,
      B24NOTIFY_BENCH_PORTAL: JSON.stringify(portal),
    },
    readyTimeoutMs: 60_000,
  });
  mkdirSync(TRIAL_DIR, { recursive: true });
  const dir = mkdtempSync(path.join(TRIAL_DIR, 'outbox-operating-'));
  try {
    const { webhookUrl, caCertPath } = server.ready;
    if (!caCertPath) throw new Error('the emulator did not report a CA (caCertPath): HTTPS is needed');
    const env = { NODE_EXTRA_CA_CERTS: caCertPath, B24NOTIFY_BENCH_WEBHOOK_URL: webhookUrl };

    const startedAt = Date.now();
    const runs = [];
    for (let i = 1; i <= opts.rounds; i++) {
      const r = await deliverOnce({ server, env, opts, dir, roundNo: i, timeoutMs, boundMs: b.ms });
      runs.push(r);
      log(
        `  run ${i}/${opts.rounds}: ${r.wallMs ?? '—'} ms, efficiency ${r.efficiency ?? '—'}, ` +
          `${r.requests} requests, ${r.refused429} refused 429, ${r.refused503} refused 503, ` +
          `${r.stored} stored, other load ${r.otherCpuPercent}%` +
          (r.problem ? `\n    problem: ${r.problem.slice(0, 600)}` : ''),
      );
      if (r.problem) throw new Error(`run ${i}: ${r.problem}`);
    }
    const elapsedS = Math.round((Date.now() - startedAt) / 1000);

    const med = (field) => median(runs.map((r) => r[field]));
    const m = {
      boundMs: round(b.ms, 0),
      outboxMs: round(med('wallMs'), 0),
      outboxEfficiency: round(med('efficiency'), 3),
      outboxPerSec: round(med('notificationsPerSec'), 1),
      refused429: med('refused429'),
      refused503: med('refused503'),
      stored: med('stored'),
    };
    const maxRefused = Math.max(...runs.map((r) => r.refused429 + r.refused503));
    const met =
      m.outboxEfficiency >= TARGET.minEfficiency &&
      maxRefused <= TARGET.maxRefused &&
      runs.every((r) => !r.problem);

    const W = OPERATING.windowMinutes * 60;
    const notes = [
      `${opts.n.toLocaleString('en-US')} notifications, ${b.perMethod} per method (personal, system), ` +
        `${PROCESSING_SECONDS} s each against a budget of ${OPERATING.budgetSeconds} s per ${W} s window: ` +
        `C = floor(${OPERATING.budgetSeconds} / ${PROCESSING_SECONDS}) + 1 = ${b.perWindow} calls per method per window, ` +
        `k = ceil(${b.perMethod} / ${b.perWindow}) = ${b.windows} windows; bound (k − 1) · (W − 1 s) + bucket tail ` +
        `(${b.lastBatches} batches in the last window, capacity ${BUCKET.capacity}: ${b.tailMs} ms) = ${round(b.ms / 1000, 2)} s. ` +
        `Outbox ${m.outboxMs} ms median (efficiency ${m.outboxEfficiency}), ${m.refused429} answers 429 and ` +
        `${m.refused503} 503 (median; at most ${maxRefused} refused in a run).`,
      "The client's pacer keeps to 90% of the budget (its default operatingThreshold) and waits a " +
        "window plus 1 s after its ledger's charges, so the first window carries about 0.9 · C per method and the rest " +
        'goes when it can; both cost only seconds against the window, which is the bound.',
      `All over HTTPS to 127.0.0.1; the emulator (plan standard: bucket ${BUCKET.capacity} / ${BUCKET.drainPerSecond} per s; ` +
        `operating ${JSON.stringify(OPERATING)}; processingSeconds ${PROCESSING_SECONDS}) is reset before each run; each run ` +
        `a fresh client process and SQLite file, concurrency ${opts.concurrency}. ${runs.length} runs in ${elapsedS} s. ` +
        'Refused 429 counts OPERATION_TIME_LIMIT answers and the same error inside batch answers.',
    ];
    const contention = contentionNote(
      runs,
      'runs',
      'the window sets the pace, so times should hardly move, but round trips may be longer.',
    );
    if (contention) notes.push(contention);

    return makeResult({
      name,
      title,
      config: {
        ...opts,
        batchSize: BATCH_SIZE,
        bucket: BUCKET,
        operating: OPERATING,
        processingSeconds: PROCESSING_SECONDS,
        pacing: PACING,
        bound: { ...b, ms: round(b.ms, 1) },
        portal,
        notifications:
          'i = 0…N−1: even personal, odd system; USER_ID cycling 1, 2, 3, 5, 10; MESSAGE `r<round>-operating #i`',
        transport: 'HTTPS to 127.0.0.1, NODE_EXTRA_CA_CERTS = the emulator CA, a fresh process per run',
        perRunTimeoutMs: timeoutMs,
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
