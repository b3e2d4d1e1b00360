/**
 * The shared bucket survives stalled requests: the pacer counts a request when it checks it, the
 * portal when it arrives (`src/pace.ts`). Two ticks send to one Bitrix24 portal (a webhook and an
 * app on one host share its bucket); their first requests are held on their way for longer than
 * the pacer's margin, and the portal must still refuse none.
 */
import { expect, test } from 'vitest';
import { notifications, oauthPortal, requests, startupPair, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

/** A bucket drained in seconds, so the run is short and nearly every request meets it full. */
const BUCKET = { capacity: 10, drainPerSecond: 2 };
/** How long a stalled request is held: beyond the pacer's margin (a second). */
const STALL_MS = 1500;

const bed = useQueueTestbed({
  emulators: {
    emu: {
      portal: {
        plan: 'standard',
        limits: { intensity: BUCKET, operating: { budgetSeconds: 480, windowMinutes: 10 } },
        processingSeconds: { '*': 0.001 },
      },
    },
  },
});

test('two requests held on their way beyond the margin, then both ticks sending at full speed: 0 answers 503', async () => {
  const queue = bed.queue({ prefix: 's1' });
  const limits = { bucket: BUCKET };
  await queue.portals.set('hook', { webhookUrl: bed.emu.webhookUrl, clientId: 'stall', limits });
  await queue.portals.set('app', { ...oauthPortal(bed.emu, startupPair(bed.emu)), limits });
  await queue.sendMany('hook', notifications(600, 'h'));
  await queue.sendMany('app', notifications(600, 'a'));
  // The first batch of each is held on its way, as by a descheduled worker or a slow network (a
  // stall, injected: not a wait for anything). Both were checked against an empty bucket and
  // arrive after the pacer's count of them has drained away; the other batches follow at once.
  let batches = 0;
  const held = new Set<string>();
  const stalling: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.includes('batch')) {
      batches++;
      const who = url.startsWith(bed.emu.webhookUrl) ? 'hook' : 'app';
      if (!held.has(who)) {
        held.add(who);
        await new Promise((r) => setTimeout(r, STALL_MS));
      }
    }
    return fetch(input, init);
  };
  await bed.worker({ prefix: 's1', allowHttp: true, fetch: stalling, concurrency: 2 });
  await until(
    async () => (await queue.stats('hook')).sent === 600 && (await queue.stats('app')).sent === 600,
    'all 1,200 sent',
    300_000,
  );
  expect(batches).toBeGreaterThanOrEqual(24);
  expect([...held].sort()).toEqual(['app', 'hook']);
  const refused = (await requests(bed.emu)).filter((r) => r.status === 503 || r.status === 429);
  expect(refused).toEqual([]);
  expect((await queue.stats('hook')).refused + (await queue.stats('app')).refused).toBe(0);
  const counts = tagCounts(bed.emu);
  for (let i = 0; i < 600; i++) {
    expect(counts.get(`h-${i}`)).toBe(1);
    expect(counts.get(`a-${i}`)).toBe(1);
  }
}, 330_000);
