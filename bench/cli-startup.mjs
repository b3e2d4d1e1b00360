// Benchmark: the b24notify command line's cold start. Fresh processes, spawn to exit:
// `b24notify --version`, and one `b24notify send` to a running emulator, against a bare
// `node -e ""` and against the same send written with @bitrix24/b24jssdk (and @2bad/bitrix).
// The emulator (limits off) runs over HTTPS in a child process (bench/emulator-server.mjs): the
// SDK refuses plain http. Every spawned process gets NODE_EXTRA_CA_CERTS = the emulator's CA, so
// all pay the same TLS trust setup. The variants are interleaved round-robin, their order
// rotating each round, after one warm-up round. Each send is checked against the emulator's
// store: exactly one notification more, or the run fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  BENCH_DIR,
  ROOT,
  TLS_DIR,
  TRIAL_DIR,
  contentionNote,
  makeResult,
  median,
  newest,
  percentile,
  round,
  startChild,
  spawnTimed,
  startCpuWatch,
} from './common.mjs';

export const name = 'cli-startup';
export const title = 'CLI cold start: b24notify --version and send vs bare node and b24jssdk';
/** The CLI's dist imports b24notify's; the CLI's own dist is checked in run() (dist/main.cjs). */
export const builds = [
  ['emulator', '@b24notify/emulator'],
  ['b24notify', 'b24notify'],
];

/**
 * Judged on a send to the emulator as it runs by default (plain http on loopback): what the CLI
 * itself costs. Over HTTPS the TLS handshake and Node's root store are added to every variant
 * but bare node (a minimal node:https request alone is about 1.5 × a bare start here), so the
 * HTTPS send is reported beside it, and is what the b24jssdk comparison uses.
 */
export const TARGET = {
  text: 'b24notify send to the emulator (plain http, its default) ≤ 1.5 × bare node start (median wall time, spawn to exit)',
  maxSendVsNode: 1.5,
};

const DEFAULTS = { rounds: 30, warmupRounds: 1 };
const QUICK = { rounds: 3, warmupRounds: 1 };
const SPAWN_TIMEOUT_MS = 30_000;

const EMULATOR_SERVER = path.join(BENCH_DIR, 'emulator-server.mjs');
const CLI_DIR = path.join(ROOT, 'packages', 'cli');
const CLI_BIN = path.join(CLI_DIR, 'bin', 'b24notify.cjs');
const NODE_HTTP_SEND = path.join(BENCH_DIR, 'fixtures', 'node-http-send.cjs');
const rel = (file) => path.relative(ROOT, file);

/**
 * The variants. `args(webhookUrl)` are node's arguments; `sends` variants must add exactly one
 * notification and print its id; `expect` checks what the process printed.
 */
const VARIANTS = [
  { key: 'node', label: 'node -e ""', args: () => ['-e', ''] },
  {
    key: 'version',
    label: 'b24notify --version',
    args: () => [CLI_BIN, '--version'],
    expect: (out) => /^\d+\.\d+\.\d+/.test(out),
  },
  {
    key: 'send',
    label: 'b24notify send --webhook URL --user 1 --text bench --quiet',
    args: (url) => [CLI_BIN, 'send', '--webhook', url, '--user', '1', '--text', 'bench', '--quiet'],
    sends: true,
  },
  {
    key: 'sendHttp',
    label: 'b24notify send over plain http (the emulator default)',
    args: (url) => [CLI_BIN, 'send', '--webhook', url, '--user', '1', '--text', 'bench', '--quiet'],
    sends: true,
    http: true,
  },
  {
    key: 'sendFirstRun',
    label: 'b24notify send over plain http, no code cache (a first run)',
    args: (url) => [CLI_BIN, 'send', '--webhook', url, '--user', '1', '--text', 'bench', '--quiet'],
    sends: true,
    http: true,
    env: { B24NOTIFY_COMPILE_CACHE: '0' },
  },
  {
    key: 'nodeHttpSend',
    label: 'the same send with bare node:http (bench/fixtures/node-http-send.cjs): the floor',
    args: (url) => [NODE_HTTP_SEND, url],
    sends: true,
    http: true,
  },
  {
    key: 'nodeHttpsSend',
    label: 'the same send with bare node:https: the floor over HTTPS',
    args: (url) => [NODE_HTTP_SEND, url],
    sends: true,
  },
  {
    key: 'b24jssdkSend',
    label: '@bitrix24/b24jssdk send (bench/fixtures/b24jssdk-send.mjs)',
    args: () => [path.join(BENCH_DIR, 'fixtures', 'b24jssdk-send.mjs')],
    sends: true,
  },
  {
    key: 'twoBadSend',
    label: '@2bad/bitrix send (bench/fixtures/2bad-send.mjs)',
    args: () => [path.join(BENCH_DIR, 'fixtures', '2bad-send.mjs')],
    sends: true,
  },
];

/**
 * The CLI's dist is dist/main.cjs (no index.js, which ensureBuilt looks for): rebuild it here when
 * it is missing or older than its sources, unless --no-build.
 */
function ensureCliBuilt({ noBuild, log }) {
  const dist = path.join(CLI_DIR, 'dist', 'main.cjs');
  const stale = !existsSync(dist) || statSync(dist).mtimeMs < newest(path.join(CLI_DIR, 'src'));
  if (!stale || noBuild) return;
  log('  building @b24notify/cli…');
  const r = spawnSync(
    process.platform === 'win32' ? 'npm.cmd' : 'npm',
    ['run', 'build', '-w', '@b24notify/cli'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 180_000,
    },
  );
  if (r.status !== 0) {
    if (!existsSync(dist)) throw new Error('the build of @b24notify/cli failed and there is no dist');
    log('  build of @b24notify/cli failed; benchmarking the dist that is there');
  }
}

/** Spawn one process; resolve its wall time (spawn to exit) and its output. */
function spawnOnce(variant, url, env) {
  return spawnTimed(variant.args(url), {
    env: variant.env ? { ...env, ...variant.env } : env,
    label: variant.key,
    timeoutMs: SPAWN_TIMEOUT_MS,
  });
}

/** Run one variant once and check what it did; throws on anything but a verified success. */
async function measure(variant, servers, env) {
  const server = variant.http ? servers.http : servers.https;
  const url = server.ready.webhookUrl;
  const before = variant.sends ? (await server.ask({ type: 'stats' })).notifications : 0;
  const r = await spawnOnce(variant, url, env);
  if (variant.sends) {
    const after = (await server.ask({ type: 'stats' })).notifications;
    const id = Number(r.stdout.split('\n').pop());
    if (after - before !== 1 || !Number.isInteger(id) || id <= 0) {
      throw new Error(
        `${variant.key}: expected one new notification and its id, got ${after - before} new, ` +
          `output ${JSON.stringify(r.stdout.slice(-200))} ${r.stderr.slice(-300)}`,
      );
    }
  } else if (variant.expect && !variant.expect(r.stdout)) {
    throw new Error(`${variant.key}: unexpected output ${JSON.stringify(r.stdout.slice(-200))}`);
  }
  return r.wallMs;
}

/**
 * @param {{ quick?: boolean, noBuild?: boolean, log?: (line: string) => void }} ctx
 */
export async function run(ctx = {}) {
  const log = ctx.log ?? (() => {});
  const opts = { ...DEFAULTS, ...(ctx.quick ? QUICK : {}) };
  ensureCliBuilt({ noBuild: ctx.noBuild, log });
  const notes = [];
  const server = await startChild(EMULATOR_SERVER, {
    env: { B24NOTIFY_BENCH_HTTPS: '1', B24NOTIFY_BENCH_TLS_DIR: TLS_DIR },
    readyTimeoutMs: 60_000,
  });
  const httpServer = await startChild(EMULATOR_SERVER, { readyTimeoutMs: 60_000 }).catch(async (err) => {
    await server.stop();
    throw err;
  });
  const servers = { https: server, http: httpServer };
  mkdirSync(TRIAL_DIR, { recursive: true });
  const cacheHome = mkdtempSync(path.join(TRIAL_DIR, 'cli-cache-'));
  try {
    const { webhookUrl, caCertPath } = server.ready;
    if (!caCertPath) throw new Error('the emulator did not report a CA (caCertPath): HTTPS is needed');
    const env = {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caCertPath,
      // No config file: the CLI takes the webhook from --webhook, the others from the environment.
      B24NOTIFY_CONFIG: path.join(TRIAL_DIR, 'cli-startup-no-config.json'),
      B24_WEBHOOK_URL: webhookUrl,
      // The CLI's code cache (bin/b24notify.cjs) starts empty each run; the warm-up round fills
      // it, as a user's first send does. sendFirstRun turns it off.
      XDG_CACHE_HOME: cacheHome,
    };
    // Options meant for this process (a debugger, a loader) would skew every child alike.
    delete env.NODE_OPTIONS;
    // Nothing else from this shell's environment steers the CLI or the libraries.
    delete env.B24NOTIFY_OPI_EXIT;
    delete env.B24NOTIFY_STACK;
    delete env.B24_PORTAL;
    delete env.B24_TOKEN;

    const round1 = async (i) => {
      const out = {};
      for (let j = 0; j < VARIANTS.length; j++) {
        const v = VARIANTS[(i + j) % VARIANTS.length];
        out[v.key] = await measure(v, servers, env);
      }
      return out;
    };

    const startedAt = Date.now();
    log(`  warm-up: ${opts.warmupRounds} round(s) of ${VARIANTS.length} processes`);
    for (let i = 0; i < opts.warmupRounds; i++) await round1(i);
    const runs = [];
    for (let i = 1; i <= opts.rounds; i++) {
      const emuBefore = (await server.ask({ type: 'stats' })).cpuMicros;
      const watch = startCpuWatch();
      const r = await round1(i);
      const emuMs = ((await server.ask({ type: 'stats' })).cpuMicros - emuBefore) / 1000;
      const otherCpuPercent = watch.stop(emuMs);
      const row = { run: i };
      for (const v of VARIANTS) row[`${v.key}Ms`] = round(r[v.key], 1);
      row.otherCpuPercent = otherCpuPercent;
      runs.push(row);
      log(
        `  round ${i}/${opts.rounds}: ` +
          VARIANTS.map((v) => `${v.key} ${row[`${v.key}Ms`]}`).join(', ') +
          ` ms; other load ${otherCpuPercent}%`,
      );
    }

    const ms = {};
    const p90 = {};
    for (const v of VARIANTS) {
      const values = runs.map((r) => r[`${v.key}Ms`]);
      ms[`${v.key}Ms`] = round(median(values), 1);
      p90[`${v.key}Ms`] = round(percentile(values, 90), 1);
    }
    const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : null);
    const sendVsNode = ratio(ms.sendHttpMs, ms.nodeMs);
    const medianResult = {
      ...ms,
      sendVsNode,
      sendHttpsVsNode: ratio(ms.sendMs, ms.nodeMs),
      sendFirstRunVsNode: ratio(ms.sendFirstRunMs, ms.nodeMs),
      nodeHttpSendVsNode: ratio(ms.nodeHttpSendMs, ms.nodeMs),
      nodeHttpsSendVsNode: ratio(ms.nodeHttpsSendMs, ms.nodeMs),
      // What the CLI adds to the smallest script making the same call.
      sendOverFloorMs: round(ms.sendHttpMs - ms.nodeHttpSendMs, 1),
      sendHttpsOverFloorMs: round(ms.sendMs - ms.nodeHttpsSendMs, 1),
      versionVsNode: ratio(ms.versionMs, ms.nodeMs),
      sendVsB24jssdkSend: ratio(ms.sendMs, ms.b24jssdkSendMs),
      b24jssdkSendVsNode: ratio(ms.b24jssdkSendMs, ms.nodeMs),
      twoBadSendVsNode: ratio(ms.twoBadSendMs, ms.nodeMs),
    };
    const met = sendVsNode !== null && sendVsNode <= TARGET.maxSendVsNode;

    notes.push(
      `b24notify send over http ${ms.sendHttpMs} ms = ${sendVsNode} × bare node (${ms.nodeMs} ms); ` +
        `over HTTPS ${ms.sendMs} ms = ${medianResult.sendHttpsVsNode} × bare node; ` +
        `b24jssdk send ${ms.b24jssdkSendMs} ms (send/b24jssdk ${medianResult.sendVsB24jssdkSend}); ` +
        `--version ${ms.versionMs} ms (${medianResult.versionVsNode} × node).`,
    );
    notes.push(
      `The floor, the same call from a bare node:http script: ${ms.nodeHttpSendMs} ms ` +
        `(${medianResult.nodeHttpSendVsNode} × node; over HTTPS ${ms.nodeHttpsSendMs} ms, ` +
        `${medianResult.nodeHttpsSendVsNode} × node). The CLI adds ${medianResult.sendOverFloorMs} ms ` +
        `over http, ${medianResult.sendHttpsOverFloorMs} ms over HTTPS. A first run, before the CLI's ` +
        `code cache exists: ${ms.sendFirstRunMs} ms (${medianResult.sendFirstRunVsNode} × node).`,
    );
    notes.push(
      'Wall time spawn to exit includes Node start-up, module loading, the TLS handshake (HTTPS to 127.0.0.1; ' +
        'NODE_EXTRA_CA_CERTS set for every variant, bare node too) and the call. Bare node is `node -e ""`; ' +
        'the CLI and the floor are CommonJS, the peers ESM files.',
    );
    notes.push(
      `Every send was verified: one more notification in the emulator's store and its id printed ` +
        `(${opts.rounds + opts.warmupRounds} rounds, ${Math.round((Date.now() - startedAt) / 1000)} s).`,
    );
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
        method: 'im.notify.personal.add',
        params: { USER_ID: 1, MESSAGE: 'bench' },
        transport:
          'HTTPS to 127.0.0.1, NODE_EXTRA_CA_CERTS = the emulator CA (every variant); sendHttp, sendFirstRun, nodeHttpSend: plain http to a second emulator',
        codeCache:
          "the CLI's code cache in a fresh XDG_CACHE_HOME, filled by the warm-up round; sendFirstRun runs with B24NOTIFY_COMPILE_CACHE=0",
        emulator: 'child process (bench/emulator-server.mjs), plan off',
        variants: Object.fromEntries(
          VARIANTS.map((v) => [
            v.key,
            `node ${v
              .args('<webhook>')
              .map((a) => (path.isAbsolute(a) ? rel(a) : a === '' ? '""' : a))
              .join(' ')}`,
          ]),
        ),
      },
      runs,
      median: medianResult,
      target: TARGET,
      met,
      notes,
      extra: { p90Ms: p90 },
    });
  } finally {
    rmSync(cacheHome, { recursive: true, force: true });
    await Promise.all([server.stop(), httpServer.stop()]);
  }
}
