// One worker process of bench/queue-delivery.mjs, started with startChild (common.mjs).
//   argv  queue | naive
//   queue: a @b24notify/queue worker (startWorker) on the Redis and prefix in its environment
//          (B24NOTIFY_BENCH_REDIS, B24NOTIFY_BENCH_PREFIX, B24NOTIFY_QUEUE_KEY,
//          B24NOTIFY_BENCH_CONCURRENCY; B24NOTIFY_BENCH_QUEUE names another build's index.js);
//          it takes work from Redis until shut down.
//   naive: no queue: on `run` it sends its share of every portal's notifications through the
//          library's client, one client per portal with the client's own in-process pacer (told
//          the portal's bucket, budget and window), batches of 50 one after another per portal,
//          the portals side by side. What many deployments do today: each process paces alone.
//   → { type: 'ready', mode }
//   ← { type: 'run', id, portals: [{ id, webhookUrl }], n, shard, of, tag, pacing }   (naive)
//   → { id, ids, errors, wallMs }
//   ← { type: 'shutdown' }  closes (queue: gracefully) and exits
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setImmediate } from 'node:timers';

const mode = process.argv[2] ?? '';
const USERS = [1, 2, 3, 5, 10];
const BATCH_SIZE = 50;

let worker;
let lib;
try {
  if (mode === 'queue') {
    // B24NOTIFY_BENCH_QUEUE=path/to/index.js: another build of the queue, for A/B trials.
    const where = process.env.B24NOTIFY_BENCH_QUEUE;
    const { startWorker } = await import(
      where ? pathToFileURL(path.resolve(where)).href : '@b24notify/queue'
    );
    worker = await startWorker({
      connection: process.env.B24NOTIFY_BENCH_REDIS,
      prefix: process.env.B24NOTIFY_BENCH_PREFIX,
      concurrency: Number(process.env.B24NOTIFY_BENCH_CONCURRENCY || 8),
    });
  } else if (mode === 'naive') {
    lib = await import('b24notify');
  } else {
    throw new Error(`unknown mode ${JSON.stringify(mode)}`);
  }
} catch (err) {
  process.send?.({ type: 'ready', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

/** The naive sender: this process's share (i ≡ shard mod of) of each portal's n notifications. */
async function naive({ portals, n, shard, of, tag, pacing }) {
  const { createClient, notificationCommand } = lib;
  let ids = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    portals.map(async (p) => {
      const client = createClient({ webhookUrl: p.webhookUrl, pacing });
      const mine = [];
      for (let i = shard; i < n; i += of) mine.push(i);
      for (let b = 0; b < mine.length; b += BATCH_SIZE) {
        const commands = {};
        for (const i of mine.slice(b, b + BATCH_SIZE)) {
          commands[`n${i}`] = notificationCommand(i % 2 === 0 ? 'personal' : 'system', {
            userId: USERS[i % USERS.length],
            message: `${tag} ${p.id} #${i}`,
          });
        }
        const r = await client.batch(commands);
        ids += Object.values(r.result).filter((v) => Number.isInteger(v) && v > 0).length;
        errors += Object.keys(r.errors).length;
      }
    }),
  );
  return { ids, errors, wallMs: performance.now() - t0 };
}

async function shutdown() {
  try {
    await worker?.close();
  } finally {
    setImmediate(() => process.exit(0));
  }
}

process.on('message', (msg) => {
  if (msg?.type === 'run' && mode === 'naive') {
    naive(msg).then(
      (r) => process.send?.({ id: msg.id, ...r }),
      (err) =>
        process.send?.({
          id: msg.id,
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        }),
    );
  } else if (msg?.type === 'shutdown') {
    void shutdown();
  }
});
process.on('disconnect', () => void shutdown());

process.send?.({ type: 'ready', mode });
