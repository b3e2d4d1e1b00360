// One delivery of bench/outbox-delivery.mjs, in a fresh process of its own: the contender's
// modules, sockets, timers and heap start clean every run, a peer that hangs can be killed, and
// the process trusts the emulator's CA (NODE_EXTRA_CA_CERTS, read by Node at start-up only:
// @bitrix24/b24jssdk refuses plain http, so every contender goes over the same HTTPS).
// Started with startChild (common.mjs):
//   env B24NOTIFY_BENCH_WEBHOOK_URL (the HTTPS emulator's webhook), NODE_EXTRA_CA_CERTS
//   argv  the variant: outbox | libraryBatch | b24jssdk | b24jssdkStock | twoBad
//   → { type: 'ready', variant, cpuMicros }   its modules loaded, its client not yet made
//   ← { type: 'run', id, n, tag, bucket: { capacity, drainPerSecond }, dir, concurrency, pacing? }
//     (pacing: the outbox client's pacing options in full, instead of { plan: bucket, headroom: 1 })
//   → { id, wallMs, ids, errors, …variant's own figures } or { id, error, wallMs? }
//   ← { type: 'shutdown' }  exits
// Only the delivery is timed: the notifications are built, the client made and (outbox) the
// messages queued before the clock starts. Every contender sends the same notifications: n of
// them, alternating personal and system, to the emulator's users 1, 2, 3, 5 and 10 in turn, each
// with its own text (`tag #i`), so the emulator's store can tell a loss from a duplicate.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** The emulator's users (its default portal); any other id is answered `false`. */
const USERS = [1, 2, 3, 5, 10];
const BATCH_SIZE = 50;

const url = process.env.B24NOTIFY_BENCH_WEBHOOK_URL ?? '';
const variant = process.argv[2] ?? '';

function cpuMicros() {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
}

/** The i-th notification: [kind, userId, message]. */
function notification(i, tag) {
  return [i % 2 === 0 ? 'personal' : 'system', USERS[i % USERS.length], `${tag} #${i}`];
}

const METHOD = { personal: 'im.notify.personal.add', system: 'im.notify.system.add' };

/** A positive integer: a notification id. */
const isId = (v) => Number.isInteger(v) && v > 0;

const VARIANTS = {
  /** @b24notify/outbox: queue in a fresh SQLite file, then deliver through a paced client. */
  async outbox({ createClient, openOutbox }, { n, tag, bucket, pacing, dir, concurrency }) {
    const file = path.join(dir, `${tag}.db`);
    const outbox = openOutbox(file);
    try {
      const a0 = performance.now();
      outbox.add(
        Array.from({ length: n }, (_, i) => {
          const [kind, userId, message] = notification(i, tag);
          return { kind, userId, message };
        }),
      );
      const addMs = performance.now() - a0;
      const client = createClient({ webhookUrl: url, pacing: pacing ?? { plan: bucket, headroom: 1 } });
      let progressCalls = 0;
      const t0 = performance.now();
      const report = await outbox.deliver(client, { concurrency, onProgress: () => (progressCalls += 1) });
      const wallMs = performance.now() - t0;
      const stats = outbox.stats();
      return {
        wallMs,
        addMs,
        ids: report.sent,
        errors: report.failed + report.unknown,
        batches: report.batches,
        requeued: report.requeued,
        progressCalls,
        stats,
      };
    } finally {
      outbox.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    }
  },

  /** b24notify's client.batch alone: a plain loop, 50 to a batch, the same pacing, no durability. */
  async libraryBatch({ createClient, notificationCommand }, { n, tag, bucket }) {
    const batches = [];
    for (let i = 0; i < n; i += BATCH_SIZE) {
      const commands = {};
      for (let j = i; j < Math.min(n, i + BATCH_SIZE); j++) {
        const [kind, userId, message] = notification(j, tag);
        commands[`n${j}`] = notificationCommand(kind, { userId, message });
      }
      batches.push(commands);
    }
    const client = createClient({ webhookUrl: url, pacing: { plan: bucket, headroom: 1 } });
    let ids = 0;
    let errors = 0;
    const t0 = performance.now();
    for (const commands of batches) {
      const r = await client.batch(commands);
      for (const v of Object.values(r.result)) if (isId(v)) ids += 1;
      errors += Object.keys(r.errors).length;
    }
    return { wallMs: performance.now() - t0, ids, errors, batches: batches.length };
  },

  /**
   * @bitrix24/b24jssdk: actions.v2.batchByChunk, its call for any number of commands (chunks of
   * 50, one after another), its restriction manager set to the emulator's bucket as its docs set
   * a plan's numbers (ParamsFactory.getDefault() with the plan's burstLimit and drainRate).
   */
  async b24jssdk(sdk, { n, tag, bucket }) {
    const { ParamsFactory } = sdk;
    const defaults = ParamsFactory.getDefault();
    return jssdkDelivery(
      sdk,
      {
        ...defaults,
        rateLimit: { ...defaults.rateLimit, burstLimit: bucket.capacity, drainRate: bucket.drainPerSecond },
      },
      n,
      tag,
    );
  },

  /** @bitrix24/b24jssdk as it comes: its defaults, which are a standard plan's (50, 2/s). */
  async b24jssdkStock(sdk, { n, tag }) {
    return jssdkDelivery(sdk, undefined, n, tag);
  },

  /**
   * @2bad/bitrix: `bitrix.batch(commands)`, its call for any number of commands (chunks of 50,
   * GET with the commands in the query string, behind its fixed 2-requests-per-second queue).
   */
  async twoBad({ Bitrix }, { n, tag }) {
    const commands = {};
    for (let i = 0; i < n; i++) {
      const [kind, userId, message] = notification(i, tag);
      commands[`n${i}`] = { method: METHOD[kind], params: { USER_ID: userId, MESSAGE: message } };
    }
    const bitrix = Bitrix(url.replace(/\/$/, ''));
    const t0 = performance.now();
    const payload = await bitrix.batch(commands);
    const wallMs = performance.now() - t0;
    const results = payload?.result?.result ?? {};
    const errors = payload?.result?.result_error ?? {};
    return {
      wallMs,
      ids: Object.values(results).filter(isId).length,
      errors: Object.keys(errors).length,
    };
  },
};

async function jssdkDelivery({ B24Hook }, params, n, tag) {
  const calls = [];
  for (let i = 0; i < n; i++) {
    const [kind, userId, message] = notification(i, tag);
    calls.push([METHOD[kind], { USER_ID: userId, MESSAGE: message }]);
  }
  const b24 = B24Hook.fromWebhookUrl(url);
  b24.offClientSideWarning();
  if (params) await b24.setRestrictionManagerParams(params);
  const t0 = performance.now();
  const response = await b24.actions.v2.batchByChunk.make({ calls, options: { isHaltOnError: false } });
  const wallMs = performance.now() - t0;
  const data = response.getData() ?? [];
  const messages = response.isSuccess ? [] : response.getErrorMessages();
  return {
    wallMs,
    ids: data.filter(isId).length,
    errors: messages.length,
    ...(messages.length > 0 ? { errorSample: messages.slice(0, 3).join('; ').slice(0, 500) } : {}),
  };
}

const IMPORTS = {
  outbox: async () => ({ ...(await import('b24notify')), ...(await import('@b24notify/outbox')) }),
  libraryBatch: () => import('b24notify'),
  b24jssdk: () => import('@bitrix24/b24jssdk'),
  b24jssdkStock: () => import('@bitrix24/b24jssdk'),
  twoBad: () => import('@2bad/bitrix'),
};

let modules;
try {
  if (!VARIANTS[variant]) throw new Error(`unknown variant ${JSON.stringify(variant)}`);
  modules = await IMPORTS[variant]();
} catch (err) {
  process.send?.({ type: 'ready', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

process.on('message', (msg) => {
  if (msg?.type === 'run') {
    const t0 = performance.now();
    VARIANTS[variant](modules, msg).then(
      (r) => process.send?.({ id: msg.id, ...r, cpuMicros: cpuMicros() }),
      (err) =>
        process.send?.({
          id: msg.id,
          error: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 1000) : String(err),
          wallMs: performance.now() - t0,
          cpuMicros: cpuMicros(),
        }),
    );
  } else if (msg?.type === 'shutdown') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

process.send?.({ type: 'ready', variant, cpuMicros: cpuMicros() });
