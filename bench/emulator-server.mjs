// The emulator under benchmark, in a process of its own so the load generator does not share its
// event loop. Started by bench/emulator.mjs over IPC; imports the built package
// (packages/emulator/dist, or the file B24NOTIFY_BENCH_EMULATOR names).
// Plain http unless B24NOTIFY_BENCH_HTTPS=1: then HTTPS with a certificate from a local CA in
// B24NOTIFY_BENCH_TLS_DIR (default: a temporary directory, see TLS_DIR in common.mjs), whose
// path `ready` reports as caCertPath (for a client's NODE_EXTRA_CA_CERTS).
// Limits are off unless B24NOTIFY_BENCH_PORTAL holds portal settings as JSON (merged over
// `{ "plan": "off" }`), e.g. `{ "limits": { "intensity": { … }, "operating": false } }`.
//   → { type: 'ready', url, webhookUrl, pid, caCertPath? }
//   ← { type: 'stats', id }     → { id, cpuMicros, memory, notifications }
//   ← { type: 'gc', id }        → { id, collected } (a full GC, with --expose-gc)
//   ← { type: 'reset', id }     → { id, ok } forgets notifications, the request log and the limit
//                                 counters (the bucket starts empty), zeroes the request counts
//   ← { type: 'requests', id, detail? }
//                               → { id, requests, refused, byStatus, byError, notifications, detail? }
//                                 requests answered since the last reset (refused: 503
//                                 QUERY_LIMIT_EXCEEDED), by HTTP status and error code, and the
//                                 store's size; with `detail`, the store by type and its distinct
//                                 messages (so a loss hidden by a duplicate still shows)
//   ← { type: 'fill', id, count, userId }
//                               → { id, notifications } stores `count` notifications for the user
//                                 straight into the store (every other one read), as a long
//                                 session would leave them: for benchmarks of reads
//   ← { type: 'shutdown' }      closes the server and exits 0 (so --cpu-prof writes its profile)
// Requests are counted only from the first `reset` or `requests`: the throughput benchmark, which
// asks neither, pays nothing for it.
import { pathToFileURL } from 'node:url';
import { TLS_DIR } from './common.mjs';

// B24NOTIFY_BENCH_EMULATOR may name another build (a path), to compare two side by side.
const override = process.env.B24NOTIFY_BENCH_EMULATOR;
const { startEmulator } = await import(
  override ? pathToFileURL(override).href : '../packages/emulator/dist/index.js'
);

const https = process.env.B24NOTIFY_BENCH_HTTPS === '1';
const portal = { plan: 'off', ...JSON.parse(process.env.B24NOTIFY_BENCH_PORTAL || '{}') };
const emu = await startEmulator({
  host: '127.0.0.1',
  port: 0,
  portal,
  ...(https ? { https: true, tlsDir: process.env.B24NOTIFY_BENCH_TLS_DIR || TLS_DIR } : {}),
});

function mb(bytes) {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

/** Requests answered since the last reset, by status and error code; null until first asked. */
let counts = null;

function freshCounts() {
  return { requests: 0, byStatus: {}, byError: {} };
}

function countRequest(entry) {
  counts.requests += 1;
  counts.byStatus[entry.status] = (counts.byStatus[entry.status] ?? 0) + 1;
  if (entry.error) counts.byError[entry.error] = (counts.byError[entry.error] ?? 0) + 1;
}

function startCounting() {
  if (counts) return;
  counts = freshCounts();
  emu.portal.on('request', countRequest);
}

/** The store by type and how many distinct messages it holds. */
function storeDetail() {
  const byType = {};
  const messages = new Set();
  for (const n of emu.portal.store.all()) {
    byType[n.type] = (byType[n.type] ?? 0) + 1;
    messages.add(n.message);
  }
  return { byType, distinctMessages: messages.size };
}

async function shutdown(code) {
  try {
    await emu.close();
  } finally {
    process.exit(code);
  }
}

process.on('message', (msg) => {
  if (msg?.type === 'stats') {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    process.send?.({
      id: msg.id,
      cpuMicros: cpu.user + cpu.system,
      memory: {
        rssMB: mb(m.rss),
        heapUsedMB: mb(m.heapUsed),
        heapTotalMB: mb(m.heapTotal),
        externalMB: mb(m.external),
      },
      notifications: emu.portal.store.size,
    });
  } else if (msg?.type === 'reset') {
    startCounting();
    emu.portal.reset();
    counts = freshCounts();
    process.send?.({ id: msg.id, ok: true });
  } else if (msg?.type === 'requests') {
    startCounting();
    process.send?.({
      id: msg.id,
      ...counts,
      refused: counts.byError.QUERY_LIMIT_EXCEEDED ?? 0,
      notifications: emu.portal.store.size,
      ...(msg.detail ? { detail: storeDetail() } : {}),
    });
  } else if (msg?.type === 'fill') {
    const now = emu.portal.clock.now();
    for (let i = 0; i < msg.count; i++) {
      emu.portal.store.addNotification({
        userId: msg.userId,
        authorId: 1,
        type: 'personal',
        message: `Task Reminder ${i}`,
        messageOut: 'Task Reminder (email)',
        tag: null,
        subTag: null,
        appKey: 'webhook#1',
        clientId: null,
        attach: null,
        read: i % 2 === 0,
        createdAt: now,
        requestId: null,
        answers: [],
      });
    }
    process.send?.({ id: msg.id, notifications: emu.portal.store.size });
  } else if (msg?.type === 'gc') {
    globalThis.gc?.();
    process.send?.({ id: msg.id, collected: typeof globalThis.gc === 'function' });
  } else if (msg?.type === 'shutdown') {
    void shutdown(0);
  }
});
// The runner is gone (crashed or killed): do not linger.
process.on('disconnect', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

process.send?.({
  type: 'ready',
  url: emu.url,
  webhookUrl: emu.webhookUrl,
  pid: process.pid,
  ...(emu.caCertPath ? { caCertPath: emu.caCertPath } : {}),
});
