// Benchmark: what b24notify adds to each call, against a bare `fetch` of the same request.
// The emulator (limits off) runs in a child process (bench/emulator-server.mjs). Sequential
// `im.notify.personal.add` calls, one at a time, the contenders interleaved call by call:
//   plain http, from this process: bare fetch; b24notify with pacing off; b24notify with a pacer
//     too wide to ever wait (its bookkeeping priced); @2bad/bitrix;
//   HTTPS, from a child that trusts the emulator's CA (bench/library-overhead-client.mjs):
//     bare fetch; b24notify with pacing off; @bitrix24/b24jssdk, which refuses plain http.
// Each ratio compares contenders measured side by side, over the same transport.
import path from 'node:path';
import {
  BENCH_DIR,
  TLS_DIR,
  contentionNote,
  makeResult,
  median,
  round,
  startChild,
  startCpuWatch,
} from './common.mjs';
import { MESSAGE, METHOD, USER_ID, b24notify, bareFetch, interleave, twoBad } from './library-calls.mjs';

export const name = 'library-overhead';
export const title = 'b24notify per-call overhead vs bare fetch';
/** Packages used from their dist, rebuilt by run.mjs when stale. */
export const builds = [
  ['emulator', '@b24notify/emulator'],
  ['b24notify', 'b24notify'],
];

export const TARGET = {
  text: 'b24notify (pacing off) mean µs per call <= 1.10 × bare fetch (plain http, medians)',
  maxRatio: 1.1,
};

const DEFAULTS = { runs: 5, calls: 1000, warmupCalls: 200, httpsRuns: 5, httpsCalls: 400 };
const QUICK = { runs: 2, calls: 100, warmupCalls: 20, httpsRuns: 2, httpsCalls: 50 };

const EMULATOR_SERVER = path.join(BENCH_DIR, 'emulator-server.mjs');
const HTTPS_CLIENT = path.join(BENCH_DIR, 'library-overhead-client.mjs');

/** A pacer whose bucket never fills: every call goes through its bookkeeping, none waits. */
const WIDE_PACING = { plan: { drainPerSecond: 1e6, capacity: 1e6 } };

/** { fetch: { meanUs, p50Us, … }, … } → { fetchMeanUs, fetchP50Us, … } with a prefix. */
function flatten(results, prefix = '') {
  const out = {};
  for (const [variant, stats] of Object.entries(results)) {
    const key = prefix ? `${prefix}${variant[0].toUpperCase()}${variant.slice(1)}` : variant;
    for (const [stat, value] of Object.entries(stats))
      out[`${key}${stat[0].toUpperCase()}${stat.slice(1)}`] = value;
  }
  return out;
}

async function emulatorCpuMicros(server) {
  return (await server.ask({ type: 'stats' })).cpuMicros;
}

/** Plain http: every contender in this process. */
async function httpPhase(opts, log) {
  const server = await startChild(EMULATOR_SERVER, { execArgv: ['--expose-gc'] });
  try {
    const url = server.ready.webhookUrl;
    const variants = [
      bareFetch(url, 'fetch'),
      await b24notify(url, false, 'b24notify'),
      await b24notify(url, WIDE_PACING, 'b24notifyPaced'),
      await twoBad(url, 'twoBad'),
    ];
    log(`  http: warm-up, ${opts.warmupCalls} calls each`);
    await interleave(variants, opts.warmupCalls);
    const runs = [];
    for (let i = 1; i <= opts.runs; i++) {
      await server.ask({ type: 'gc' });
      const emuBefore = await emulatorCpuMicros(server);
      const watch = startCpuWatch();
      const r = await interleave(variants, opts.calls);
      const emuMs = ((await emulatorCpuMicros(server)) - emuBefore) / 1000;
      const otherCpuPercent = watch.stop(emuMs);
      const run = {
        run: i,
        ...flatten(r),
        b24notifyRatio: round(r.b24notify.meanUs / r.fetch.meanUs, 3),
        b24notifyPacedRatio: round(r.b24notifyPaced.meanUs / r.fetch.meanUs, 3),
        twoBadRatio: round(r.twoBad.meanUs / r.fetch.meanUs, 3),
        otherCpuPercent,
      };
      runs.push(run);
      log(
        `  http run ${i}/${opts.runs}: fetch ${r.fetch.meanUs} µs, b24notify ${r.b24notify.meanUs} µs ` +
          `(×${run.b24notifyRatio}), paced ${r.b24notifyPaced.meanUs} µs (×${run.b24notifyPacedRatio}), ` +
          `2bad ${r.twoBad.meanUs} µs (×${run.twoBadRatio}), other load ${otherCpuPercent}%`,
      );
    }
    return runs;
  } finally {
    await server.stop();
  }
}

/** HTTPS: bare fetch, b24notify and b24jssdk in a child that trusts the emulator's CA. */
async function httpsPhase(opts, log) {
  const server = await startChild(EMULATOR_SERVER, {
    execArgv: ['--expose-gc'],
    env: { B24NOTIFY_BENCH_HTTPS: '1', B24NOTIFY_BENCH_TLS_DIR: TLS_DIR },
    readyTimeoutMs: 60_000,
  });
  let client;
  try {
    client = await startChild(HTTPS_CLIENT, {
      env: {
        NODE_EXTRA_CA_CERTS: server.ready.caCertPath,
        B24NOTIFY_BENCH_WEBHOOK_URL: server.ready.webhookUrl,
      },
      readyTimeoutMs: 30_000,
    });
    if (client.ready.error) throw new Error(client.ready.error);
    const ask = async (calls) => {
      const answer = await client.ask({ type: 'run', calls }, 180_000);
      if (answer.error) throw new Error(answer.error);
      return answer;
    };
    log(`  https: warm-up, ${opts.warmupCalls} calls each`);
    await ask(opts.warmupCalls);
    const runs = [];
    for (let i = 1; i <= opts.httpsRuns; i++) {
      await server.ask({ type: 'gc' });
      const emuBefore = await emulatorCpuMicros(server);
      const clientBefore = (await client.ask({ type: 'stats' })).cpuMicros;
      const watch = startCpuWatch();
      const { results: r, cpuMicros } = await ask(opts.httpsCalls);
      const emuMs = ((await emulatorCpuMicros(server)) - emuBefore) / 1000;
      const otherCpuPercent = watch.stop(emuMs + (cpuMicros - clientBefore) / 1000);
      const run = {
        run: i,
        ...flatten(r, 'https'),
        httpsB24notifyRatio: round(r.b24notify.meanUs / r.fetch.meanUs, 3),
        b24jssdkRatio: round(r.b24jssdk.meanUs / r.fetch.meanUs, 3),
        otherCpuPercent,
      };
      runs.push(run);
      log(
        `  https run ${i}/${opts.httpsRuns}: fetch ${r.fetch.meanUs} µs, b24notify ${r.b24notify.meanUs} µs ` +
          `(×${run.httpsB24notifyRatio}), b24jssdk ${r.b24jssdk.meanUs} µs (×${run.b24jssdkRatio}), ` +
          `other load ${otherCpuPercent}%`,
      );
    }
    return runs;
  } finally {
    await client?.stop();
    await server.stop();
  }
}

/**
 * @param {{ quick?: boolean, log?: (line: string) => void }} ctx
 */
export async function run(ctx = {}) {
  const log = ctx.log ?? (() => {});
  const opts = { ...DEFAULTS, ...(ctx.quick ? QUICK : {}) };
  const notes = [];

  const httpRuns = await httpPhase(opts, log);
  let httpsRuns = [];
  try {
    httpsRuns = await httpsPhase(opts, log);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    log(`  https phase failed: ${why}`);
    notes.push(`The HTTPS phase (b24jssdk) failed and is missing: ${why}`);
  }

  const med = (runs, key) => median(runs.map((r) => r[key]));
  const m = {
    fetchUs: med(httpRuns, 'fetchMeanUs'),
    b24notifyUs: med(httpRuns, 'b24notifyMeanUs'),
    b24notifyPacedUs: med(httpRuns, 'b24notifyPacedMeanUs'),
    twoBadUs: med(httpRuns, 'twoBadMeanUs'),
  };
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 3) : null);
  const medianResult = {
    ...m,
    b24notifyRatio: ratio(m.b24notifyUs, m.fetchUs),
    b24notifyPacedRatio: ratio(m.b24notifyPacedUs, m.fetchUs),
    twoBadRatio: ratio(m.twoBadUs, m.fetchUs),
    b24notifyOverheadUs: round(m.b24notifyUs - m.fetchUs, 1),
  };
  if (httpsRuns.length > 0) {
    const h = {
      httpsFetchUs: med(httpsRuns, 'httpsFetchMeanUs'),
      httpsB24notifyUs: med(httpsRuns, 'httpsB24notifyMeanUs'),
      b24jssdkUs: med(httpsRuns, 'httpsB24jssdkMeanUs'),
    };
    Object.assign(medianResult, h, {
      httpsB24notifyRatio: ratio(h.httpsB24notifyUs, h.httpsFetchUs),
      b24jssdkRatio: ratio(h.b24jssdkUs, h.httpsFetchUs),
    });
  }
  // The ratio of medians decides; the median of per-run ratios (each run's contenders measured
  // side by side) is the cross-check, less sensitive to load that shifts between runs.
  const paired = {
    b24notifyRatio: med(httpRuns, 'b24notifyRatio'),
    b24notifyPacedRatio: med(httpRuns, 'b24notifyPacedRatio'),
    twoBadRatio: med(httpRuns, 'twoBadRatio'),
    ...(httpsRuns.length > 0
      ? {
          httpsB24notifyRatio: med(httpsRuns, 'httpsB24notifyRatio'),
          b24jssdkRatio: med(httpsRuns, 'b24jssdkRatio'),
        }
      : {}),
  };
  const met = medianResult.b24notifyRatio !== null && medianResult.b24notifyRatio <= TARGET.maxRatio;

  notes.push(
    `b24notify (pacing off) costs ×${medianResult.b24notifyRatio} a bare fetch per call (${medianResult.b24notifyOverheadUs} µs more); ` +
      `median of per-run ratios ×${paired.b24notifyRatio}.`,
  );
  notes.push(
    '@2bad/bitrix sends GET with the parameters in the query string (qs), not a JSON POST, through got 11; ' +
      'its client queues every call behind a fixed 2-per-second p-queue no option lifts, so each call uses a ' +
      `fresh client, built outside the timing (twoBadPrepareUs in runs: ~${med(httpRuns, 'twoBadPrepareUs')} µs per client).`,
  );
  notes.push(
    '@bitrix24/b24jssdk refuses plain http: it is measured over HTTPS in a child process started with ' +
      'NODE_EXTRA_CA_CERTS (the emulator CA), beside bare fetch and b24notify in that same process; its ' +
      'restriction manager was raised to 1e6/s with adaptive delays off, so it never waits.',
  );
  notes.push(
    'Sequential calls over one keep-alive connection to 127.0.0.1: mostly the loopback round trip and the ' +
      "emulator's work, which every contender pays alike; the ratio is the library's share on top.",
  );
  const contention = contentionNote(
    [...httpRuns, ...httpsRuns],
    'runs',
    'absolute µs are inflated; the interleaving keeps the ratios fair.',
  );
  if (contention) notes.push(contention);

  return makeResult({
    name,
    title,
    config: {
      ...opts,
      method: METHOD,
      params: { USER_ID, MESSAGE },
      emulator: 'child process (bench/emulator-server.mjs), plan off, 127.0.0.1',
      library: 'packages/b24notify/dist/index.js',
      order: 'contenders interleaved call by call, order rotating each round',
      variants: {
        fetch: 'globalThis.fetch POST JSON, res.json()',
        b24notify: 'createClient({ webhookUrl, pacing: false }).notify.personal({ userId: 1, message })',
        b24notifyPaced: `createClient({ webhookUrl, pacing: ${JSON.stringify(WIDE_PACING)} })`,
        twoBad: "@2bad/bitrix: Bitrix(webhookUrl).call('im.notify.personal.add', params), GET",
        b24jssdk: 'B24Hook.fromWebhookUrl(url).actions.v2.call.make({ method, params }) over HTTPS',
      },
    },
    runs: [
      ...httpRuns.map((r) => ({ transport: 'http', ...r })),
      ...httpsRuns.map((r) => ({ transport: 'https', ...r })),
    ],
    median: medianResult,
    target: TARGET,
    met,
    notes,
    extra: { pairedRatios: paired },
  });
}
