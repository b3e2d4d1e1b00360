// Benchmark: a fresh Node process that imports the library and makes one call, spawn to exit,
// against @bitrix24/b24jssdk (and @2bad/bitrix) doing the same, and against bare Node. What a
// CLI, a cron job or a serverless cold start pays. The emulator (limits off) runs over HTTPS in
// a child process (bench/emulator-server.mjs); every variant's process is started with
// NODE_EXTRA_CA_CERTS set to its CA, so all pay the same start-up and use the same transport.
// The variants are interleaved, their order rotating each round, after one warm-up round.
import path from 'node:path';
import {
  BENCH_DIR,
  TLS_DIR,
  contentionNote,
  makeResult,
  median,
  round,
  spawnTimed,
  startChild,
  startCpuWatch,
} from './common.mjs';
import { MESSAGE, METHOD, USER_ID } from './library-calls.mjs';

export const name = 'library-startup';
export const title = 'Library import + first call in a fresh process vs b24jssdk';
export const builds = [
  ['emulator', '@b24notify/emulator'],
  ['b24notify', 'b24notify'],
];

export const TARGET = {
  text: 'b24notify import + first call at least 3× faster than b24jssdk import + the same call (median wall time, spawn to exit)',
  minSpeedup: 3,
};

const DEFAULTS = { rounds: 15, warmupRounds: 1 };
const QUICK = { rounds: 3, warmupRounds: 1 };
const SPAWN_TIMEOUT_MS = 30_000;

const EMULATOR_SERVER = path.join(BENCH_DIR, 'emulator-server.mjs');
const PARAMS = JSON.stringify({ USER_ID, MESSAGE });

/**
 * Each variant's process prints one JSON line as it ends: `importMs` (process start to the
 * imports evaluated, performance.now() at the top of the module body) and `callMs` (to the answer).
 * An answer without a notification id exits 3, so a broken call never passes for a fast one.
 */
const report = (call) =>
  `${call ? 'const callMs = performance.now(); ' : ''}` +
  `process.stdout.write(JSON.stringify({ importMs${call ? ', callMs' : ''} }) + '\\n');`;
const check =
  "if (!Number.isInteger(id) || id <= 0) { console.error('no id: ' + String(id)); process.exit(3); }";

const B24NOTIFY_CALL =
  "import { createClient } from 'b24notify';\nconst importMs = performance.now();\n" +
  'const b24 = createClient({ webhookUrl: process.env.B24_WEBHOOK_URL });\n' +
  `const { result: id } = await b24.notify.personal({ userId: ${USER_ID}, message: ${JSON.stringify(MESSAGE)} });\n` +
  `${check}\n${report(true)}`;

const VARIANTS = [
  { key: 'node', label: 'bare node -e ""', args: ['-e', ''] },
  {
    key: 'b24notifyImport',
    label: "import 'b24notify'",
    module:
      "import { createClient } from 'b24notify';\nconst importMs = performance.now();\n" + report(false),
  },
  {
    key: 'b24notifyCall',
    label: 'b24notify import + notify.personal',
    module: B24NOTIFY_CALL,
  },
  {
    key: 'b24jssdkImport',
    label: "import '@bitrix24/b24jssdk'",
    module:
      "import { B24Hook } from '@bitrix24/b24jssdk';\nconst importMs = performance.now();\n" + report(false),
  },
  {
    key: 'b24jssdkCall',
    label: 'b24jssdk import + actions.v2.call.make',
    module:
      "import { B24Hook } from '@bitrix24/b24jssdk';\nconst importMs = performance.now();\n" +
      'const b24 = B24Hook.fromWebhookUrl(process.env.B24_WEBHOOK_URL);\nb24.offClientSideWarning();\n' +
      `const response = await b24.actions.v2.call.make({ method: '${METHOD}', params: ${PARAMS} });\n` +
      'const id = response.isSuccess ? response.getData()?.result : undefined;\n' +
      `${check}\n${report(true)}`,
  },
  {
    key: 'twoBadCall',
    label: '@2bad/bitrix import + call (GET)',
    module:
      "import { Bitrix } from '@2bad/bitrix';\nconst importMs = performance.now();\n" +
      "const bitrix = Bitrix(process.env.B24_WEBHOOK_URL.replace(/\\/$/, ''));\n" +
      `const { result: id } = await bitrix.call('${METHOD}', ${PARAMS});\n` +
      `${check}\n${report(true)}`,
  },
  {
    key: 'fetchCall',
    label: 'bare fetch call (no library)',
    module:
      'const importMs = performance.now();\n' +
      `const res = await fetch(process.env.B24_WEBHOOK_URL + '${METHOD}', { method: 'POST', ` +
      `headers: { 'content-type': 'application/json' }, body: JSON.stringify(${PARAMS}) });\n` +
      `const { result: id } = await res.json();\n${check}\n${report(true)}`,
  },
];

/** Spawn one variant; resolve its wall time (spawn to exit) and the JSON of its last line. */
async function spawnOnce(variant, env) {
  const args = variant.args ?? [...(variant.flags ?? []), '--input-type=module', '-e', variant.module];
  const { wallMs, stdout } = await spawnTimed(args, { env, label: variant.key, timeoutMs: SPAWN_TIMEOUT_MS });
  let inner = {};
  const last = stdout.split('\n').pop();
  if (last) {
    try {
      inner = JSON.parse(last);
    } catch {
      // Not our line: the wall time still stands.
    }
  }
  return { wallMs, ...inner };
}

/**
 * @param {{ quick?: boolean, log?: (line: string) => void }} ctx
 */
export async function run(ctx = {}) {
  const log = ctx.log ?? (() => {});
  const opts = { ...DEFAULTS, ...(ctx.quick ? QUICK : {}) };
  const notes = [];
  const server = await startChild(EMULATOR_SERVER, {
    env: { B24NOTIFY_BENCH_HTTPS: '1', B24NOTIFY_BENCH_TLS_DIR: TLS_DIR },
    readyTimeoutMs: 60_000,
  });
  try {
    const env = {
      ...process.env,
      NODE_EXTRA_CA_CERTS: server.ready.caCertPath,
      B24_WEBHOOK_URL: server.ready.webhookUrl,
    };
    // Options meant for this process (a debugger, a loader) would skew every child alike.
    delete env.NODE_OPTIONS;
    const variants = [...VARIANTS];
    const failed = new Map();

    const round1 = async (i) => {
      const out = {};
      for (let j = 0; j < variants.length; j++) {
        const v = variants[(i + j) % variants.length];
        if (failed.has(v.key)) continue;
        try {
          out[v.key] = await spawnOnce(v, env);
        } catch (err) {
          failed.set(v.key, err instanceof Error ? err.message : String(err));
          log(`  ${v.key} failed: ${failed.get(v.key)}`);
        }
      }
      return out;
    };

    log(`  warm-up: ${opts.warmupRounds} round(s) of ${variants.length} processes`);
    for (let i = 0; i < opts.warmupRounds; i++) await round1(i);
    const runs = [];
    for (let i = 1; i <= opts.rounds; i++) {
      const emuBefore = (await server.ask({ type: 'stats' })).cpuMicros;
      const watch = startCpuWatch();
      const r = await round1(i);
      const emuMs = ((await server.ask({ type: 'stats' })).cpuMicros - emuBefore) / 1000;
      const otherCpuPercent = watch.stop(emuMs);
      const row = { run: i };
      for (const [key, v] of Object.entries(r)) {
        row[`${key}Ms`] = round(v.wallMs, 1);
        if (v.importMs !== undefined) row[`${key}ImportMs`] = round(v.importMs, 1);
        if (v.callMs !== undefined) {
          row[`${key}CallDoneMs`] = round(v.callMs, 1);
          // From the answer to the exit, roughly (the wall time also holds the spawn itself).
          row[`${key}AnswerToExitMs`] = round(v.wallMs - v.callMs, 1);
        }
      }
      row.otherCpuPercent = otherCpuPercent;
      runs.push(row);
      log(
        `  round ${i}/${opts.rounds}: ` +
          VARIANTS.filter((v) => row[`${v.key}Ms`] !== undefined)
            .map((v) => `${v.key} ${row[`${v.key}Ms`]}`)
            .join(', ') +
          ` ms; other load ${otherCpuPercent}%`,
      );
    }

    const med = (key) => median(runs.map((r) => r[key]));
    const ms = {};
    for (const v of VARIANTS) ms[`${v.key}Ms`] = med(`${v.key}Ms`);
    const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : null);
    const speedup = ratio(ms.b24jssdkCallMs, ms.b24notifyCallMs);
    const medianResult = {
      ...ms,
      speedupCallVsB24jssdk: speedup,
      speedupImportVsB24jssdk: ratio(ms.b24jssdkImportMs, ms.b24notifyImportMs),
      b24notifyImportVsNode: ratio(ms.b24notifyImportMs, ms.nodeMs),
      b24notifyCallVsNode: ratio(ms.b24notifyCallMs, ms.nodeMs),
      b24jssdkImportVsNode: ratio(ms.b24jssdkImportMs, ms.nodeMs),
      b24jssdkCallVsNode: ratio(ms.b24jssdkCallMs, ms.nodeMs),
      twoBadCallVsNode: ratio(ms.twoBadCallMs, ms.nodeMs),
    };
    // What each adds on top of bare Node: the part a library can change.
    const above = (key) => round(ms[key] - ms.nodeMs, 1);
    const aboveNode = {
      b24notifyImportMs: above('b24notifyImportMs'),
      b24notifyCallMs: above('b24notifyCallMs'),
      b24jssdkImportMs: above('b24jssdkImportMs'),
      b24jssdkCallMs: above('b24jssdkCallMs'),
      twoBadCallMs: above('twoBadCallMs'),
      fetchCallMs: above('fetchCallMs'),
    };
    const inside = {};
    for (const v of VARIANTS) {
      const imp = med(`${v.key}ImportMs`);
      const done = med(`${v.key}CallDoneMs`);
      if (Number.isFinite(imp)) inside[`${v.key}ImportMs`] = imp;
      if (Number.isFinite(done)) inside[`${v.key}CallDoneMs`] = done;
      const tail = med(`${v.key}AnswerToExitMs`);
      if (Number.isFinite(tail)) inside[`${v.key}AnswerToExitMs`] = tail;
    }
    const met = speedup !== null && speedup >= TARGET.minSpeedup;

    notes.push(
      `b24notify import + call: ${ms.b24notifyCallMs} ms vs b24jssdk ${ms.b24jssdkCallMs} ms (×${speedup}); ` +
        `bare node ${ms.nodeMs} ms, so above bare node ${aboveNode.b24notifyCallMs} vs ${aboveNode.b24jssdkCallMs} ms.`,
    );
    notes.push(
      `From the answer to the exit (insideMs.*AnswerToExitMs): b24notify ${inside.b24notifyCallAnswerToExitMs} ms, ` +
        `bare fetch ${inside.fetchCallAnswerToExitMs} ms, b24jssdk ${inside.b24jssdkCallAnswerToExitMs} ms, ` +
        `2bad ${inside.twoBadCallAnswerToExitMs} ms. Node 20's fetch (undici) loads on first use and compiles its ` +
        "llhttp WebAssembly, and V8's background tier-up of that module holds the exit: that is why b24notify's " +
        'default transport is node:https, as b24jssdk (axios) and 2bad (got) use.',
    );
    notes.push(
      'Wall time spawn to exit includes Node start-up (the same for all), module loading, the TLS handshake ' +
        'and the call, and anything that keeps the process alive after it (timers, sockets). ' +
        'insideMs has, per variant, performance.now() after the imports and after the answer, from process start.',
    );
    notes.push(
      'The bare node variant is CommonJS `node -e ""`; the others are `node --input-type=module -e <code>` ' +
        '(the ESM loader adds a little to each, the same for all of them).',
    );
    for (const [key, why] of failed) notes.push(`${key} failed and is missing: ${why}`);
    const contention = contentionNote(
      runs,
      'rounds',
      'times are inflated; the interleaving keeps the ratios fair.',
    );
    if (contention) notes.push(contention);

    return makeResult({
      name,
      title,
      config: {
        ...opts,
        method: METHOD,
        params: { USER_ID, MESSAGE },
        transport: 'HTTPS to 127.0.0.1, NODE_EXTRA_CA_CERTS = the emulator CA (every variant)',
        emulator: 'child process (bench/emulator-server.mjs), plan off',
        cwd: 'repository root: packages resolve as installed (b24notify → packages/b24notify/dist)',
        variants: Object.fromEntries(
          VARIANTS.map((v) => [
            v.key,
            v.args ? `node ${v.args.join(' ')}` : `${(v.flags ?? []).join(' ')} ${v.module}`.trim(),
          ]),
        ),
      },
      runs,
      median: medianResult,
      target: TARGET,
      met,
      notes,
      extra: { aboveNodeMs: aboveNode, insideMs: inside },
    });
  } finally {
    await server.stop();
  }
}
