// @b24notify/queue delivering P portals × N notifications with K worker processes, against the
// bound the portals' limits allow, and the same load through a naive setup: K processes each
// pacing alone with the library's in-process pacer (no shared pacer in Redis).
//
// Portals: P emulators in one child process (bench/queue-portals.mjs), plain http on loopback,
// each with its own request bucket (capacity C, draining D a second) and operating-time budget
// (B seconds a method per one-minute window, each notification charged p seconds). Redis: a
// throwaway redis-server started here, with the settings the queue's README asks for
// (appendonly yes, appendfsync always, maxmemory-policy noeviction).
//
// Shared runs: the N notifications of every portal are added first (sendMany, timed apart),
// then K worker processes start (bench/queue-delivery-worker.mjs queue) and deliver. Naive runs:
// K processes (… naive) each take every K-th notification of every portal and send it in
// batches of 50 through a client paced for the portal's limits, as if alone.
//
// The bound, per portal: ceil(N / 50) = M batches; the bucket lets the first C go at once and
// then one per 1 / D s, so delivery takes at least (M − C) / D; each method's N / 2 calls cost
// N / 2 · p seconds, which fit one window's budget B here (the numbers are chosen so: with the
// emulator's whole-minute windows an operating bound would take over a minute; the
// single-process operating-bound case is benchmarked in outbox-operating). The portals run side
// by side, so the fleet's bound is the same (M − C) / D. Makespan: from the first request any
// portal received to the last answer any portal gave (the portals' own clock), so process start
// and queueing are not in it. Efficiency = bound ÷ makespan.
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
  'Queue delivery: 4 portals × 2,000 notifications with 1, 2 and 4 worker processes, shared pacer vs each process pacing alone';
/** Packages used from their dist, rebuilt by run.mjs when stale. */
export const builds = [
  ['emulator', '@b24notify/emulator'],
  ['b24notify', 'b24notify'],
  ['queue', '@b24notify/queue'],
];

export const TARGET = {
  text: 'queue with 4 workers ≥ 0.9 × the bound ((M − C) / D per portal), 0 refused (503 / 429), exactly P × N stored (medians over rounds)',
  minEfficiency: 0.9,
  maxRefused: 0,
};

const REDIS_SERVER = '/usr/bin/redis-server';
const PORTALS = 4;
const BATCH_SIZE = 50;
/** Each portal's request bucket. */
const BUCKET = { capacity: 10, drainPerSecond: 4 };
/** Each portal's operating budget (per method and caller), its window, and the cost per call. */
const OPERATING = { budgetSeconds: 15, windowMinutes: 1 };
const PROCESSING_SECONDS = 0.01;
const DEFAULTS = { rounds: 3, n: 2000, workers: [1, 2, 4], naiveWorkers: [2, 4], concurrency: 8 };
const QUICK = { rounds: 1, n: 1000 };

const PORTALS_SERVER = path.join(BENCH_DIR, 'queue-portals.mjs');
const WORKER = path.join(BENCH_DIR, 'queue-delivery-worker.mjs');

function boundMs(n) {
  const batches = Math.ceil(n / BATCH_SIZE);
  return (Math.max(0, batches - BUCKET.capacity) / BUCKET.drainPerSecond) * 1000;
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
  };
}

async function sharedRun({ queueLib, portals, ready, redis, secretKey, opts, k, tag, bound, timeoutMs }) {
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
        limits: {
          bucket: BUCKET,
          operating: { budgetSeconds: OPERATING.budgetSeconds, windowSeconds: OPERATING.windowMinutes * 60 },
        },
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

async function naiveRun({ portals, ready, opts, k, tag, bound, timeoutMs }) {
  await portals.ask({ type: 'reset' });
  const watch = startCpuWatch();
  const workers = await Promise.all(
    Array.from({ length: k }, () => startChild(WORKER, { args: ['naive'], readyTimeoutMs: 60_000 })),
  );
  try {
    const pacing = {
      plan: BUCKET,
      operatingBudget: OPERATING.budgetSeconds,
      operatingWindowMinutes: OPERATING.windowMinutes,
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
 * @param {{ quick?: boolean, log?: (line: string) => void }} ctx
 */
export async function run(ctx = {}) {
  const log = ctx.log ?? (() => {});
  const opts = { ...DEFAULTS, ...(ctx.quick ? QUICK : {}) };
  const bound = boundMs(opts.n);
  const timeoutMs = Math.round(bound * 6 + 60_000);
  const queueLib = await import('@b24notify/queue');
  const portal = {
    plan: 'standard',
    limits: { intensity: BUCKET, operating: OPERATING },
    processingSeconds: { '*': PROCESSING_SECONDS },
  };
  mkdirSync(TRIAL_DIR, { recursive: true });
  const dir = mkdtempSync(path.join(TRIAL_DIR, 'queue-delivery-'));
  const redis = await startRedis(dir);
  const portals = await startChild(PORTALS_SERVER, {
    env: { B24NOTIFY_BENCH_PORTALS: JSON.stringify({ count: PORTALS, portal }) },
    readyTimeoutMs: 60_000,
  });
  const secretKey = randomBytes(32).toString('hex');
  const startedAt = Date.now();
  try {
    const runs = [];
    for (let r = 1; r <= opts.rounds; r++) {
      const plan = [
        ...opts.workers.map((k) => ({ variant: 'queue', k })),
        ...opts.naiveWorkers.map((k) => ({ variant: 'naive', k })),
      ];
      // Rotate the order, so a slow spell of the machine does not always hit the same variant.
      for (let j = 0; j < plan.length; j++) {
        const { variant, k } = plan[(r - 1 + j) % plan.length];
        const tag = `r${r}-${variant}${k}`;
        const shared = { portals, ready: portals.ready, opts, k, tag, bound, timeoutMs };
        let res;
        try {
          res =
            variant === 'queue'
              ? await sharedRun({ ...shared, queueLib, redis, secretKey })
              : await naiveRun(shared);
        } catch (err) {
          res = { error: err instanceof Error ? err.message : String(err) };
        }
        const total = PORTALS * opts.n;
        const problem =
          res.error ??
          (res.stored !== total || res.distinct !== total
            ? `stored ${res.stored} (${res.distinct} distinct) of ${total}`
            : undefined);
        const row = { variant, workers: k, round: r, ...res, ...(problem ? { problem } : {}) };
        runs.push(row);
        log(
          `  round ${r}/${opts.rounds} ${variant} × ${k}: ${res.makespanMs ?? '—'} ms, efficiency ${res.efficiency ?? '—'}, ` +
            `${res.perSec ?? '—'}/s, ${res.refused ?? '—'} refused, ${res.batches ?? '—'} batches, ${res.stored ?? '—'} stored` +
            `${res.addMs !== undefined ? `, add ${res.addMs} ms` : ''}, other load ${res.otherCpuPercent ?? '—'}%` +
            (problem ? `\n    problem: ${String(problem).slice(0, 500)}` : ''),
        );
        if (variant === 'queue' && problem) throw new Error(`queue × ${k}, round ${r}: ${problem}`);
      }
    }
    const elapsedS = Math.round((Date.now() - startedAt) / 1000);

    const of = (variant, k) => runs.filter((x) => x.variant === variant && x.workers === k);
    const med = (variant, k, field) => {
      const v = median(of(variant, k).map((x) => x[field]));
      return Number.isFinite(v) ? round(v, 3) : null;
    };
    const m = { boundMs: round(bound, 0) };
    for (const k of opts.workers) {
      m[`queue${k}Ms`] = med('queue', k, 'makespanMs');
      m[`queue${k}Efficiency`] = med('queue', k, 'efficiency');
      m[`queue${k}PerSec`] = med('queue', k, 'perSec');
      m[`queue${k}Refused`] = med('queue', k, 'refused');
    }
    for (const k of opts.naiveWorkers) {
      m[`naive${k}Ms`] = med('naive', k, 'makespanMs');
      m[`naive${k}Efficiency`] = med('naive', k, 'efficiency');
      m[`naive${k}Refused`] = med('naive', k, 'refused');
      m[`naive${k}Stored`] = med('naive', k, 'stored');
    }
    const headline = Math.max(...opts.workers);
    const queueRuns = runs.filter((x) => x.variant === 'queue');
    const maxRefused = Math.max(...queueRuns.map((x) => x.refused ?? Infinity));
    const met =
      (m[`queue${headline}Efficiency`] ?? 0) >= TARGET.minEfficiency &&
      maxRefused <= TARGET.maxRefused &&
      queueRuns.every((x) => !x.problem);

    const batches = Math.ceil(opts.n / BATCH_SIZE);
    const naiveRuns = runs.filter((x) => x.variant === 'naive');
    const naiveShort = naiveRuns.filter((x) => x.problem).length;
    const notes = [
      `${PORTALS} portals × ${opts.n.toLocaleString('en-US')} notifications (${batches} batches each); each portal's bucket ` +
        `C = ${BUCKET.capacity}, D = ${BUCKET.drainPerSecond}/s; bound (M − C) / D = (${batches} − ${BUCKET.capacity}) / ` +
        `${BUCKET.drainPerSecond} = ${round(bound / 1000, 2)} s. Operating budget on: ${OPERATING.budgetSeconds} s per method per ` +
        `${OPERATING.windowMinutes}-minute window, ${PROCESSING_SECONDS} s per notification, so each method's ${opts.n / 2} calls ` +
        `(${round((opts.n / 2) * PROCESSING_SECONDS, 2)} s) fit one window: the bucket is the bound.`,
      `Queue (shared pacer in Redis): ${opts.workers
        .map(
          (k) =>
            `${k} worker${k > 1 ? 's' : ''} ${m[`queue${k}Ms`]} ms (efficiency ${m[`queue${k}Efficiency`]}, ${m[`queue${k}PerSec`]}/s, ${m[`queue${k}Refused`]} refused)`,
        )
        .join('; ')}; at most ${maxRefused} refused in a run.`,
      `Naive (each process its own pacer, told the same limits): ${opts.naiveWorkers
        .map(
          (k) =>
            `${k} processes ${m[`naive${k}Ms`]} ms (efficiency ${m[`naive${k}Efficiency`]}, ${m[`naive${k}Refused`]} refused, ${m[`naive${k}Stored`]} stored)`,
        )
        .join(
          '; ',
        )}. Each naive process believes the whole bucket is its own, so K of them overfill it; the library's retries deliver part of what was refused, and ${naiveShort} of ${naiveRuns.length} naive runs gave up on some notifications (B24RateLimitError after its retries; fewer than P × N stored).`,
      `Redis: redis-server ${REDIS_SERVER}, appendonly yes, appendfsync always, noeviction (the README's settings). Portals: ` +
        `emulators in one child process, plain http on 127.0.0.1, reset before each run. Shared runs add every ` +
        `notification first (sendMany; add time reported apart), then start the K workers (concurrency ${opts.concurrency}); ` +
        `makespan is measured on the portals, first request to last answer. ${runs.length} runs in ${elapsedS} s.`,
    ];
    const contention = contentionNote(
      runs,
      'runs',
      'the bucket sets the pace, but a busy machine slows the workers and Redis, so efficiency may be lower.',
    );
    if (contention) notes.push(contention);

    return makeResult({
      name,
      title,
      config: {
        ...opts,
        portals: PORTALS,
        batchSize: BATCH_SIZE,
        bucket: BUCKET,
        operating: OPERATING,
        processingSeconds: PROCESSING_SECONDS,
        boundMs: round(bound, 1),
        redis: 'appendonly yes, appendfsync always, maxmemory-policy noeviction',
        portal,
        perRunTimeoutMs: timeoutMs,
      },
      runs,
      median: m,
      target: TARGET,
      met,
      notes,
    });
  } finally {
    await portals.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
