// @b24notify/queue delivering P portals × N notifications with K worker processes, against the
// bound the portals' limits allow, and the same load through a naive setup: K processes each
// pacing alone with the library's in-process pacer (no shared pacer in Redis). Two scenarios,
// both with the request bucket and the operating-time budget on, each notification charged a
// modelled p = 0.01 s of processing:
//   bucket     the bucket binds: the budget is larger than one window's charges. 5,000 per
//              portal (bound 22.5 s): the shared bucket keeps a second of drain free for
//              requests still on their way (packages/queue/src/pace.ts, MARGIN_MS), a fixed
//              ~1 s a burst pays once, which a 7.5 s bound (2,000 per portal) turned into 0.88;

//   operating  the budget binds: one window holds a little over half of each method's calls, so
//              the rest waits for the window to move on. The emulator's emulator-only
//              `operating.windowSeconds` gives it a 60 s window (real portals: 10 minutes,
//              limits.md), as outbox-operating's: each run takes a little over a minute. A
//              shorter window would measure the portal's whole-second truncation more than the
//              queue: no client can know where in its second the portal put the first call, so
//              the queue holds each batch's charge a full window from its answer, plus up to a
//              ledger slice (W / 60), while the bound lets the second window start W − 1 s after
//              the first call; with the bucket's headroom in the last window that is about 2.5 s
//              the queue cannot win back: 0.78 of the bound at W = 10 s, 0.93–0.95 at 60 s
//              (one trial each, load average 4–5).
//
// Portals: P emulators in one child process per scenario (bench/queue-portals.mjs), plain http on
// loopback, each with its own request bucket (capacity C, draining D a second) and operating
// budget (B seconds a method per window of W seconds, in one-second buckets). Redis: a throwaway
// redis-server started here, with the settings the queue's README asks for (appendonly yes,
// appendfsync always, maxmemory-policy noeviction).
//
// Shared runs: the N notifications of every portal are added first (sendMany, timed apart),
// then K worker processes start (bench/queue-delivery-worker.mjs queue) and deliver. Naive runs:
// K processes (… naive) each take every K-th notification of every portal and send it in
// batches of 50 through a client paced for the portal's limits (bucket, budget and window), as
// if alone.
//
// The bound, per portal (the portals run side by side, so it is the fleet's bound too):
//   bucket: ceil(N / 50) = M batches; the first C go at once and then one per 1 / D s, so
//     delivery takes at least (M − C) / D.
//   operating, per method (n = N / 2 calls of it): the portal runs a call while the method's sum
//     is at or under B, so one window holds c = floor(B / p) + 1 calls. Past c the rest waits
//     until the first window's charges drop out, W after the first call's second (the portal
//     truncates it to a whole second), so no client sends call c + 1 before (W − 1 s) after its
//     first; with k = ceil(n / c) windows the makespan is at least (k − 1) · (W − 1 s), plus what
//     the bucket needs for the last window's batches beyond its capacity (as outbox-operating).
//   The scenario's bound is the larger of the two. Makespan: from the first request any portal
//   received to the last answer any portal gave (the portals' own clock), so process start and
//   queueing are not in it. Efficiency = bound ÷ makespan.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BENCH_DIR,
  TRIAL_DIR,
  contentionNote,
  makeResult,
  median,
  round,
  startChild,
  startCpuWatch,
} from './common.mjs';

export const name = 'queue-delivery';
export const title =
  'Queue delivery: 4 portals with 1, 2 and 4 worker processes, bucket-bound (5,000 each) and operating-bound (1,080 each, 60 s window), shared pacer vs each process pacing alone';
/** Packages used from their dist, rebuilt by run.mjs when stale. */
export const builds = [
  ['emulator', '@b24notify/emulator'],
  ['b24notify', 'b24notify'],
  ['queue', '@b24notify/queue'],
];
/**
 * The bucket scenario's 15 runs take about 7 minutes; the operating one's 8 about 9 (each waits
 * out a minute's window, the naive 2-process run two), so about 16 in all.
 */
export const timeoutMs = 24 * 60_000;

export const TARGET = {
  text: 'queue with 4 workers ≥ 0.9 × the bound in each scenario (bucket: (M − C) / D; operating, W = 60 s: (k − 1) · (W − 1 s) + tail), 0 refused (503 / 429), exactly P × N stored (medians over rounds)',
  minEfficiency: 0.9,
  maxRefused: 0,
};

const REDIS_SERVER = '/usr/bin/redis-server';
const PORTALS = 4;
const BATCH_SIZE = 50;
const PROCESSING_SECONDS = 0.01;
/**
 * Each scenario: notifications per portal, each portal's request bucket, and its operating
 * budget per method and caller (B seconds per W-second window). The median keys start with `key`.
 * `rounds` / `naiveRounds`, when given, replace the default rounds of the queue and naive runs.
 */
const SCENARIOS = [
  {
    id: 'bucket',
    key: 'bucket',
    // 2,500 calls per method × 0.01 s = 25 s: within one window's 30 s budget.
    n: 5000,
    quickN: 1000,
    bucket: { capacity: 10, drainPerSecond: 4 },
    operating: { budgetSeconds: 30, windowSeconds: 60 },
  },
  {
    id: 'operating',
    key: 'op',
    // 3 s of a 60 s window: c = 301 calls per method per window, n = 540, so k = 2 windows.
    n: 1080,
    quickN: 1080,
    bucket: { capacity: 10, drainPerSecond: 4 },
    operating: { budgetSeconds: 3, windowSeconds: 60 },
    // Every run waits out a minute: medians of two queue runs, one naive run each.
    rounds: 2,
    naiveRounds: 1,
  },
];
const DEFAULTS = { rounds: 3, workers: [1, 2, 4], naiveWorkers: [2, 4], concurrency: 8 };
const QUICK = { rounds: 1 };

const PORTALS_SERVER = path.join(BENCH_DIR, 'queue-portals.mjs');
const WORKER = path.join(BENCH_DIR, 'queue-delivery-worker.mjs');

/** The bound of the header comment, in ms, with its parts. */
function bound(sc, n) {
  const { bucket, operating } = sc;
  const batches = Math.ceil(n / BATCH_SIZE);
  const bucketMs = (Math.max(0, batches - bucket.capacity) / bucket.drainPerSecond) * 1000;
  const perMethod = n / 2;
  const perWindow = Math.floor(operating.budgetSeconds / PROCESSING_SECONDS + 1e-9) + 1;
  const windows = Math.ceil(perMethod / perWindow);
  const lastPerMethod = perMethod - (windows - 1) * perWindow;
  const lastBatches = Math.ceil((2 * lastPerMethod) / BATCH_SIZE);
  const tailMs = (Math.max(0, lastBatches - bucket.capacity) / bucket.drainPerSecond) * 1000;
  const operatingMs = windows > 1 ? (windows - 1) * (operating.windowSeconds * 1000 - 1000) + tailMs : 0;
  return {
    ms: Math.max(bucketMs, operatingMs),
    batches,
    bucketMs,
    operatingMs,
    perMethod,
    perWindow,
    windows,
    lastBatches,
    tailMs,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let data = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/** A throwaway redis-server with the queue's recommended settings; resolves once it answers PING. */
async function startRedis(dir) {
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
      '--logfile',
      path.join(dir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // The runner may be stopped (SIGINT / SIGTERM end it through process.exit): no orphan server.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.off('exit', reap));
  const deadline = Date.now() + 20_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start (see ${path.join(dir, 'redis.log')})`);
    }
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Poll the portals until every one stores `n` (a state), bounded by `timeoutMs`. */
async function waitStored(portals, n, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await portals.ask({ type: 'counts' });
    if (c.portals.every((p) => p.stored >= n)) return c;
    if (Date.now() > until) {
      throw new Error(
        `not all stored after ${timeoutMs / 1000} s: ${c.portals.map((p) => p.stored).join(', ')}`,
      );
    }
    await sleep(200);
  }
}

function summarize(counts, n, bound) {
  const ps = counts.portals;
  const firstAt = Math.min(...ps.map((p) => p.firstAt ?? Infinity));
  const lastAt = Math.max(...ps.map((p) => p.lastAt ?? -Infinity));
  const makespanMs = lastAt - firstAt;
  return {
    makespanMs: round(makespanMs, 0),
    efficiency: makespanMs > 0 ? round(bound / makespanMs, 3) : null,
    perSec: makespanMs > 0 ? round((ps.length * n) / (makespanMs / 1000), 0) : null,
    refused: ps.reduce((a, p) => a + p.refused, 0),
    requests: ps.reduce((a, p) => a + p.requests, 0),
    batches: ps.reduce((a, p) => a + p.batches, 0),
    stored: ps.reduce((a, p) => a + p.stored, 0),
    distinct: ps.reduce((a, p) => a + p.distinct, 0),
    byStatus: ps.reduce((acc, p) => {
      for (const [k, v] of Object.entries(p.byStatus)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
    perPortalMs: ps.map((p) => round((p.lastAt ?? 0) - (p.firstAt ?? 0), 0)),
    phases: ps.map((p) => p.phases),
  };
}

async function sharedRun({ sc, queueLib, portals, ready, redis, secretKey, opts, k, tag, bound, timeoutMs }) {
  await portals.ask({ type: 'reset' });
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const queue = queueLib.createQueue({ connection: redis.url, prefix, secretKey });
  const workers = [];
  const watch = startCpuWatch();
  try {
    for (const p of ready.portals) {
      await queue.portals.set(p.id, {
        webhookUrl: p.webhookUrl,
        clientId: 'bench',
        limits: { bucket: sc.bucket, operating: sc.operating },
      });
    }
    const a0 = performance.now();
    for (const p of ready.portals) {
      async function* items() {
        for (let i = 0; i < opts.n; i++) {
          yield {
            kind: i % 2 === 0 ? 'personal' : 'system',
            userId: [1, 2, 3, 5, 10][i % 5],
            message: `${tag} ${p.id} #${i}`,
            key: `${tag}-${p.id}-${i}`,
          };
        }
      }
      const r = await queue.sendMany(p.id, items());
      if (r.added !== opts.n) throw new Error(`${p.id}: sendMany added ${r.added} of ${opts.n}`);
    }
    const addMs = performance.now() - a0;
    const env = {
      B24NOTIFY_BENCH_REDIS: redis.url,
      B24NOTIFY_BENCH_PREFIX: prefix,
      B24NOTIFY_QUEUE_KEY: secretKey,
      B24NOTIFY_BENCH_CONCURRENCY: String(opts.concurrency),
    };
    const started = await Promise.all(
      Array.from({ length: k }, () => startChild(WORKER, { args: ['queue'], env, readyTimeoutMs: 60_000 })),
    );
    workers.push(...started);
    for (const w of started) if (w.ready.error) throw new Error(w.ready.error);
    const counts = await waitStored(portals, opts.n, timeoutMs);
    const stats = await queue.stats();
    await Promise.all(workers.map((w) => w.stop(30_000)));
    return {
      ...summarize(counts, opts.n, bound),
      addMs: round(addMs, 0),
      queueStats: stats,
      otherCpuPercent: watch.stop(),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop(5_000)));
    await queue.close();
  }
}

async function naiveRun({ sc, portals, ready, opts, k, tag, bound, timeoutMs }) {
  await portals.ask({ type: 'reset' });
  const watch = startCpuWatch();
  const workers = await Promise.all(
    Array.from({ length: k }, () => startChild(WORKER, { args: ['naive'], readyTimeoutMs: 60_000 })),
  );
  try {
    const pacing = {
      plan: sc.bucket,
      operatingBudget: sc.operating.budgetSeconds,
      operatingWindowSeconds: sc.operating.windowSeconds,
    };
    const answers = await Promise.all(
      workers.map((w, shard) =>
        w.ask({ type: 'run', portals: ready.portals, n: opts.n, shard, of: k, tag, pacing }, timeoutMs),
      ),
    );
    const failed = answers.find((a) => a.error);
    const counts = await portals.ask({ type: 'counts' });
    return {
      ...summarize(counts, opts.n, bound),
      ids: answers.reduce((a, r) => a + (r.ids ?? 0), 0),
      errors: answers.reduce((a, r) => a + (r.errors ?? 0), 0),
      ...(failed ? { error: failed.error } : {}),
      otherCpuPercent: watch.stop(),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop(5_000)));
  }
}

/**
 * Each portal's timeline in one line (ms from its first request): the first arrival's ms within
 * its second, the requests before the longest pause and when the last of them arrived, the
 * first arrival after it, the last answer.
 */
function phasesLine(phases) {
  return phases
    .map((ph, i) =>
      ph
        ? `p${i + 1} [+${ph.firstAtMs}] ${ph.beforePause} sent by ${ph.lastBeforePauseMs}, next ${ph.firstAfterPauseMs}, done ${ph.lastAnswerMs}`
        : `p${i + 1} —`,
    )
    .join('; ');
}

/** One scenario: its portals, then every variant × workers, rounds with the order rotated. */
async function runScenario({ sc, opts, queueLib, redis, secretKey, log }) {
  const n = opts.quick ? sc.quickN : sc.n;
  const b = bound(sc, n);
  const timeoutMs = Math.round(b.ms * 6 + 60_000);
  const portal = {
    plan: 'standard',
    limits: { intensity: sc.bucket, operating: sc.operating },
    processingSeconds: { '*': PROCESSING_SECONDS },
  };
  const portals = await startChild(PORTALS_SERVER, {
    env: { B24NOTIFY_BENCH_PORTALS: JSON.stringify({ count: PORTALS, portal }) },
    readyTimeoutMs: 60_000,
  });
  const startedAt = Date.now();
  const runs = [];
  const rounds = opts.quick ? opts.rounds : (sc.rounds ?? opts.rounds);
  const naiveRounds = opts.quick ? opts.rounds : (sc.naiveRounds ?? opts.rounds);
  try {
    const runOpts = { ...opts, n };
    for (let r = 1; r <= rounds; r++) {
      const plan = [
        ...opts.workers.map((k) => ({ variant: 'queue', k })),
        ...(r <= naiveRounds ? opts.naiveWorkers.map((k) => ({ variant: 'naive', k })) : []),
      ];
      // Rotate the order, so a slow spell of the machine does not always hit the same variant.
      for (let j = 0; j < plan.length; j++) {
        const { variant, k } = plan[(r - 1 + j) % plan.length];
        const tag = `${sc.id}-r${r}-${variant}${k}`;
        const shared = { sc, portals, ready: portals.ready, opts: runOpts, k, tag, bound: b.ms, timeoutMs };
        let res;
        try {
          res =
            variant === 'queue'
              ? await sharedRun({ ...shared, queueLib, redis, secretKey })
              : await naiveRun(shared);
        } catch (err) {
          res = { error: err instanceof Error ? err.message : String(err) };
        }
        const total = PORTALS * n;
        const problem =
          res.error ??
          (res.stored !== total || res.distinct !== total
            ? `stored ${res.stored} (${res.distinct} distinct) of ${total}`
            : undefined);
        const row = {
          scenario: sc.id,
          variant,
          workers: k,
          round: r,
          ...res,
          ...(problem ? { problem } : {}),
        };
        runs.push(row);
        log(
          `  ${sc.id} round ${r}/${rounds} ${variant} × ${k}: ${res.makespanMs ?? '—'} ms, efficiency ${res.efficiency ?? '—'}, ` +
            `${res.perSec ?? '—'}/s, ${res.refused ?? '—'} refused, ${res.batches ?? '—'} batches, ${res.stored ?? '—'} stored` +
            `${res.addMs !== undefined ? `, add ${res.addMs} ms` : ''}, other load ${res.otherCpuPercent ?? '—'}%` +
            (sc.id === 'operating' && res.phases ? `\n    phases ${phasesLine(res.phases)}` : '') +
            (problem ? `\n    problem: ${String(problem).slice(0, 500)}` : ''),
        );
        if (variant === 'queue' && problem) throw new Error(`${sc.id}: queue × ${k}, round ${r}: ${problem}`);
      }
    }
  } finally {
    await portals.stop();
  }
  return { n, b, portal, runs, elapsedS: Math.round((Date.now() - startedAt) / 1000) };
}

/** Medians and notes of one scenario. */
function digest({ sc, opts, n, b, runs, elapsedS }) {
  const of = (variant, k) => runs.filter((x) => x.variant === variant && x.workers === k);
  // A run that stored fewer than P × N stopped early (the naive sender gives up on refusals):
  // its makespan is not a delivery time, so times and efficiencies count complete runs only.
  const complete = (variant, k) => of(variant, k).filter((x) => !x.problem);
  const med = (variant, k, field, rows = of(variant, k)) => {
    const v = median(rows.map((x) => x[field]));
    return Number.isFinite(v) ? round(v, 3) : null;
  };
  const spread = (variant, k, field) => {
    const v = of(variant, k)
      .map((x) => x[field])
      .filter(Number.isFinite);
    return v.length ? `${Math.min(...v)}–${Math.max(...v)}` : '—';
  };
  const p = sc.key;
  const m = { [`${p}BoundMs`]: round(b.ms, 0) };
  for (const k of opts.workers) {
    m[`${p}Queue${k}Ms`] = med('queue', k, 'makespanMs');
    m[`${p}Queue${k}Efficiency`] = med('queue', k, 'efficiency');
    m[`${p}Queue${k}PerSec`] = med('queue', k, 'perSec');
    m[`${p}Queue${k}Refused`] = med('queue', k, 'refused');
  }
  for (const k of opts.naiveWorkers) {
    m[`${p}Naive${k}Ms`] = med('naive', k, 'makespanMs', complete('naive', k));
    m[`${p}Naive${k}Efficiency`] = med('naive', k, 'efficiency', complete('naive', k));
    m[`${p}Naive${k}Refused`] = med('naive', k, 'refused');
    m[`${p}Naive${k}Stored`] = med('naive', k, 'stored');
  }
  const headline = Math.max(...opts.workers);
  const queueRuns = runs.filter((x) => x.variant === 'queue');
  const maxRefused = Math.max(...queueRuns.map((x) => x.refused ?? Infinity));
  const met =
    (m[`${p}Queue${headline}Efficiency`] ?? 0) >= TARGET.minEfficiency &&
    maxRefused <= TARGET.maxRefused &&
    queueRuns.every((x) => !x.problem);
  const naiveRuns = runs.filter((x) => x.variant === 'naive');
  const naiveShort = naiveRuns.filter((x) => x.problem).length;
  const { bucket, operating } = sc;
  const W = operating.windowSeconds;
  const limits =
    `${sc.id} scenario: ${PORTALS} portals × ${n.toLocaleString('en-US')} notifications (${b.batches} batches each); ` +
    `each portal's bucket C = ${bucket.capacity}, D = ${bucket.drainPerSecond}/s; operating budget B = ${operating.budgetSeconds} s ` +
    `per method per W = ${W} s window, p = ${PROCESSING_SECONDS} s per notification. Bucket bound (M − C) / D = ` +
    `(${b.batches} − ${bucket.capacity}) / ${bucket.drainPerSecond} = ${round(b.bucketMs / 1000, 2)} s; operating: ` +
    `c = floor(B / p) + 1 = ${b.perWindow} calls per method per window, n = ${b.perMethod} per method, k = ${b.windows} ` +
    `window${b.windows > 1 ? 's' : ''}, ` +
    (b.windows > 1
      ? `(k − 1) · (W − 1 s) + tail (${b.lastBatches} batches in the last window: ${round(b.tailMs / 1000, 2)} s) = ${round(b.operatingMs / 1000, 2)} s`
      : 'so it does not bind') +
    `. Bound ${round(b.ms / 1000, 2)} s (the ${b.operatingMs > b.bucketMs ? 'operating budget' : 'bucket'} binds).`;
  const notes = [
    limits,
    `${sc.id}, queue (shared pacer in Redis): ${opts.workers
      .map(
        (k) =>
          `${k} worker${k > 1 ? 's' : ''} ${m[`${p}Queue${k}Ms`]} ms (efficiency ${m[`${p}Queue${k}Efficiency`]}, range ${spread('queue', k, 'efficiency')}; ${m[`${p}Queue${k}PerSec`]}/s, ${m[`${p}Queue${k}Refused`]} refused)`,
      )
      .join('; ')}; at most ${maxRefused} refused in a run.`,
    `${sc.id}, naive (each process its own pacer, told the same limits): ${opts.naiveWorkers
      .map(
        (k) =>
          `${k} processes ${m[`${p}Naive${k}Ms`] ?? '—'} ms (efficiency ${m[`${p}Naive${k}Efficiency`] ?? '— (no complete run)'}, ${m[`${p}Naive${k}Refused`]} refused, range ${spread('naive', k, 'refused')}; ${m[`${p}Naive${k}Stored`]} stored)`,
      )
      .join(
        '; ',
      )}. ${naiveShort} of ${naiveRuns.length} naive runs stored fewer than P × N (refused commands the naive sender does not retry, or B24RateLimitError after the library's retries).`,
    `${sc.id}: ${runs.length} runs in ${elapsedS} s; other processes took ${spread('queue', headline, 'otherCpuPercent')}% of the CPUs during the ${headline}-worker queue runs, ${(() => {
      const v = runs.map((x) => x.otherCpuPercent).filter(Number.isFinite);
      return v.length ? `${Math.min(...v)}–${Math.max(...v)}%` : '—';
    })()} over all its runs.`,
  ];
  return { m, met, notes, maxRefused };
}

/**
 * @param {{ quick?: boolean, log?: (line: string) => void }} ctx
 */
export async function run(ctx = {}) {
  const log = ctx.log ?? (() => {});
  const opts = { ...DEFAULTS, ...(ctx.quick ? QUICK : {}), quick: Boolean(ctx.quick) };
  const queueLib = await import('@b24notify/queue');
  mkdirSync(TRIAL_DIR, { recursive: true });
  const dir = mkdtempSync(path.join(TRIAL_DIR, 'queue-delivery-'));
  const redis = await startRedis(dir);
  const secretKey = randomBytes(32).toString('hex');
  try {
    const done = [];
    // B24NOTIFY_BENCH_SCENARIOS=operating (comma-separated ids) runs only those: for A/B trials.
    const only = process.env.B24NOTIFY_BENCH_SCENARIOS?.split(',').filter(Boolean);
    for (const sc of SCENARIOS.filter((x) => !only || only.includes(x.id))) {
      const r = await runScenario({ sc, opts, queueLib, redis, secretKey, log });
      done.push({ sc, ...r, ...digest({ sc, opts, ...r }) });
    }
    const runs = done.flatMap((d) => d.runs);
    const notes = done.flatMap((d) => d.notes);
    notes.push(
      `Redis: redis-server ${REDIS_SERVER}, appendonly yes, appendfsync always, noeviction (the README's settings). Portals: ` +
        'emulators in one child process per scenario, plain http on 127.0.0.1, reset before each run. Shared runs add every ' +
        `notification first (sendMany; add time reported apart), then start the K workers (concurrency ${opts.concurrency}); ` +
        'makespan is measured on the portals, first request to last answer.',
    );
    const contention = contentionNote(
      runs,
      'runs',
      'the limits set the pace, but a busy machine slows the workers and Redis, so efficiency may be lower.',
    );
    if (contention) notes.push(contention);
    return makeResult({
      name,
      title,
      config: {
        ...opts,
        portals: PORTALS,
        batchSize: BATCH_SIZE,
        processingSeconds: PROCESSING_SECONDS,
        scenarios: done.map((d) => ({
          ...d.sc,
          n: d.n,
          bound: Object.fromEntries(Object.entries(d.b).map(([k, v]) => [k, round(v, 1)])),
          portal: d.portal,
        })),
        redis: 'appendonly yes, appendfsync always, maxmemory-policy noeviction',
      },
      runs,
      median: Object.assign({}, ...done.map((d) => d.m)),
      target: TARGET,
      met: done.every((d) => d.met),
      notes,
    });
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
