// Benchmark: reads cost what their page costs, not what the store holds. Two emulators (each in
// a child process, bench/emulator-server.mjs) hold 1,000 and 100,000 notifications of the
// webhook's user; autocannon reads the first page of im.notify.get (50 notifications, with the
// total and unread counts) and a page from the middle (LAST_ID), runs interleaved between the
// two so both see the same machine. Also measures the heap each stored notification takes.
import path from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIR, makeResult, median, round, startChild } from './common.mjs';

export const name = 'emulator-reads';
export const title = 'Emulator im.notify.get at 100,000 stored vs 1,000 stored';

/** The target the emulator is held to. */
export const TARGET = {
  text: 'im.notify.get at 100,000 stored notifications within 2 × its time at 1,000 (median req/s ratio ≤ 2)',
  maxSlowdown: 2,
};

const SIZES = [1_000, 100_000];
const DEFAULTS = { runs: 5, durationS: 2, warmupS: 1, connections: 8 };

async function load(url, body, opts, durationS) {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    connections: opts.connections,
    duration: durationS,
    timeout: 10,
  });
  return {
    requestsPerSec: round((r['2xx'] ?? 0) / r.duration, 0),
    meanMs: round(r.latency.average, 3),
    p99Ms: r.latency.p99,
    failed: r.non2xx + r.errors + r.timeouts,
  };
}

/** Start an emulator holding `count` notifications; report the heap they take. */
async function filled(count) {
  const server = await startChild(path.join(BENCH_DIR, 'emulator-server.mjs'), { execArgv: ['--expose-gc'] });
  await server.ask({ type: 'gc' });
  const before = await server.ask({ type: 'stats' });
  const userId = 1;
  await server.ask({ type: 'fill', count, userId }, 120_000);
  await server.ask({ type: 'gc' });
  const after = await server.ask({ type: 'stats' });
  const bytes = (after.memory.heapUsedMB - before.memory.heapUsedMB) * 2 ** 20;
  return { server, count, bytesPerNotification: Math.round(bytes / count) };
}

/**
 * @param {{ quick?: boolean, log?: (line: string) => void }} ctx
 */
export async function run(ctx = {}) {
  const log = ctx.log ?? (() => {});
  const opts = { ...DEFAULTS, ...(ctx.quick ? { runs: 2, durationS: 1, warmupS: 0.5 } : {}) };
  const stores = [];
  const notes = [];
  try {
    for (const count of SIZES) {
      const s = await filled(count);
      stores.push(s);
      log(`  ${count} stored: ${s.bytesPerNotification} B of heap each`);
    }
    // The same pages on both: the newest 50, and 50 from the middle of the smaller store's ids.
    const middle = Math.floor(SIZES[0] / 2);
    const pages = {
      first: {},
      middle: { LAST_ID: middle, LAST_TYPE: 3 },
    };
    for (const s of stores) {
      const url = `${s.server.ready.webhookUrl}im.notify.get`;
      const probe = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const body = await probe.json();
      if (probe.status !== 200 || body.result?.total_count !== s.count) {
        throw new Error(
          `probe of ${s.count} failed: HTTP ${probe.status} ${JSON.stringify(body).slice(0, 200)}`,
        );
      }
      if (opts.warmupS > 0)
        for (const page of Object.values(pages)) await load(url, page, opts, opts.warmupS);
    }

    const runs = [];
    for (let i = 1; i <= opts.runs; i++) {
      const run = { run: i };
      for (const [pageName, page] of Object.entries(pages)) {
        for (const s of stores) {
          run[`${pageName}@${s.count}`] = await load(
            `${s.server.ready.webhookUrl}im.notify.get`,
            page,
            opts,
            opts.durationS,
          );
        }
      }
      runs.push(run);
      log(
        `  run ${i}/${opts.runs}: ` +
          Object.entries(run)
            .filter(([k]) => k !== 'run')
            .map(([k, v]) => `${k} ${v.requestsPerSec} req/s (${v.meanMs} ms)`)
            .join(', '),
      );
    }
    const failed = runs.reduce(
      (n, r) => n + Object.values(r).reduce((m, v) => m + (typeof v === 'object' ? v.failed : 0), 0),
      0,
    );
    if (failed > 0) notes.push(`${failed} requests failed or answered non-2xx: the numbers are suspect`);
    const [small, large] = SIZES;
    const med = {};
    for (const pageName of Object.keys(pages)) {
      med[`${pageName}At1kPerSec`] = median(runs.map((r) => r[`${pageName}@${small}`].requestsPerSec));
      med[`${pageName}At100kPerSec`] = median(runs.map((r) => r[`${pageName}@${large}`].requestsPerSec));
      // Each run's own ratio: both sides of it saw the same machine.
      med[`${pageName}Slowdown`] = median(
        runs.map((r) =>
          round(r[`${pageName}@${small}`].requestsPerSec / r[`${pageName}@${large}`].requestsPerSec, 3),
        ),
      );
    }
    med.bytesPerNotification = stores.find((s) => s.count === large)?.bytesPerNotification ?? null;
    notes.push(
      `Heap per stored notification (short message, no ATTACH, indexes included, after GC): ${med.bytesPerNotification} B at ${large.toLocaleString('en')} stored.`,
    );
    const met = failed === 0 && Object.keys(pages).every((p) => med[`${p}Slowdown`] <= TARGET.maxSlowdown);
    return makeResult({
      name,
      title,
      config: {
        ...opts,
        sizes: SIZES,
        method: 'im.notify.get (webhook, POST JSON, plain http, 127.0.0.1), LIMIT 50',
        pages,
        store: 'filled through the store directly, every other notification read, all for the webhook user',
        loadGenerator: 'autocannon (this process); each emulator in a child process, runs interleaved',
      },
      runs,
      median: med,
      target: TARGET,
      met,
      notes,
      extra: {
        memory: stores.map((s) => ({ stored: s.count, bytesPerNotification: s.bytesPerNotification })),
      },
    });
  } finally {
    for (const s of stores) await s.server.stop();
  }
}
