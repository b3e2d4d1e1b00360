// The portals of bench/queue-delivery.mjs: P emulators in one process of their own (so the load
// generator and the workers do not share their event loop), each with its own bucket and
// operating budget, counting what it answers. Started with startChild (common.mjs):
//   env B24NOTIFY_BENCH_PORTALS  JSON: { count, portal } (portal: emulator settings for each)
//   → { type: 'ready', portals: [{ id, url, webhookUrl }], pid }
//   ← { type: 'reset', id }   → { id, ok }  forget notifications, logs, limit counters, counts
//   ← { type: 'counts', id }  → { id, portals: [{ requests, batches, byStatus, byError,
//                                 bySubError, refused, stored, distinct, firstAt, lastAt }] }
//     refused: answers 503 or 429 and commands refused inside a batch for a limit; firstAt /
//     lastAt: ms of the first request's arrival and of the last request's answer; phases:
//     where an operating-bound run spent its time (see `phasesOf`).
//   ← { type: 'shutdown' }    closes the emulators and exits
import { performance } from 'node:perf_hooks';

const { startEmulator } = await import('../packages/emulator/dist/index.js');

const { count, portal } = JSON.parse(process.env.B24NOTIFY_BENCH_PORTALS || '{}');
const emus = [];
const counts = [];

function fresh() {
  return {
    requests: 0,
    batches: 0,
    byStatus: {},
    byError: {},
    bySubError: {},
    firstAt: null,
    lastAt: null,
    /** [arrival, answer] ms of each request, for `phasesOf`. */
    spans: [],
  };
}

/**
 * Where the time went, from one portal's requests: the longest pause between two arrivals splits
 * the run into the operating windows' sends (an operating-bound run has one such pause per window
 * it waits out). All ms relative to the first arrival: the last request sent before the pause, the
 * first after it, and the last answer; and the first arrival's place in its second (the portal
 * truncates a charge's time to the second, so its first window ends W − that after it).
 */
function phasesOf(c) {
  if (c.spans.length < 2 || c.firstAt === null) return null;
  const arrivals = c.spans.map((s) => s[0]).sort((a, b) => a - b);
  let gapAt = 1;
  for (let i = 2; i < arrivals.length; i++) {
    if (arrivals[i] - arrivals[i - 1] > arrivals[gapAt] - arrivals[gapAt - 1]) gapAt = i;
  }
  const t0 = c.firstAt;
  const r = (x) => Math.round(x - t0);
  return {
    beforePause: gapAt,
    lastBeforePauseMs: r(arrivals[gapAt - 1]),
    firstAfterPauseMs: r(arrivals[gapAt]),
    lastAnswerMs: r(c.lastAt),
    firstAtMs: Math.round(t0 % 1000),
  };
}

for (let i = 0; i < count; i++) {
  const emu = await startEmulator({ host: '127.0.0.1', port: 0, portal });
  const index = i;
  counts.push(fresh());
  emu.portal.on('request', (e) => {
    const c = counts[index];
    c.requests += 1;
    c.byStatus[e.status] = (c.byStatus[e.status] ?? 0) + 1;
    if (e.error) c.byError[e.error] = (c.byError[e.error] ?? 0) + 1;
    // The log's `at` is the arrival on the portal's clock (real time: never moved here).
    const end = e.at + e.durationMs;
    c.firstAt = c.firstAt === null ? e.at : Math.min(c.firstAt, e.at);
    c.lastAt = c.lastAt === null ? end : Math.max(c.lastAt, end);
    c.spans.push([e.at, end]);
    if (e.method === 'batch') {
      c.batches += 1;
      const subErrors = e.response?.result?.result_error;
      if (subErrors && typeof subErrors === 'object') {
        for (const s of Object.values(subErrors)) {
          const code = typeof s?.error === 'string' ? s.error : 'unknown';
          c.bySubError[code] = (c.bySubError[code] ?? 0) + 1;
        }
      }
    }
  });
  emus.push(emu);
}

function report(i) {
  const c = counts[i];
  const messages = new Set();
  let stored = 0;
  for (const n of emus[i].portal.store.all()) {
    stored += 1;
    messages.add(n.message);
  }
  const refused =
    (c.byStatus[503] ?? 0) +
    (c.byStatus[429] ?? 0) +
    (c.bySubError.QUERY_LIMIT_EXCEEDED ?? 0) +
    (c.bySubError.OPERATION_TIME_LIMIT ?? 0);
  const { spans: _spans, ...rest } = c;
  return { ...rest, refused, stored, distinct: messages.size, phases: phasesOf(c) };
}

async function shutdown(code) {
  try {
    await Promise.all(emus.map((e) => e.close()));
  } finally {
    process.exit(code);
  }
}

process.on('message', (msg) => {
  if (msg?.type === 'reset') {
    for (const [i, e] of emus.entries()) {
      e.portal.reset();
      counts[i] = fresh();
    }
    process.send?.({ id: msg.id, ok: true });
  } else if (msg?.type === 'counts') {
    process.send?.({ id: msg.id, portals: emus.map((_, i) => report(i)), at: performance.now() });
  } else if (msg?.type === 'shutdown') {
    void shutdown(0);
  }
});
process.on('disconnect', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

process.send?.({
  type: 'ready',
  pid: process.pid,
  portals: emus.map((e, i) => ({ id: `p${i + 1}`, url: e.url, webhookUrl: e.webhookUrl })),
});
