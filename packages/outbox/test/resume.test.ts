/**
 * The outbox's promise under real failure: a delivering process killed with SIGKILL at an
 * arbitrary point, then resumed by another, leaves every message delivered exactly once as the
 * recipient sees it. And under the portal's limits, a delivery never trips them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clientClock, type RunningEmulator } from '@b24notify/emulator';
import { afterEach, describe, expect, test } from 'vitest';
import { openOutbox } from '../src/index.js';
import { client, emulator, notifications, outboxPath, tagCounts } from './support.js';

const CHILD = fileURLToPath(new URL('./fixtures/deliver.mjs', import.meta.url));

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/** The portal's bucket, small and quick, so a delivery takes a few seconds and stays under it. */
const INTENSITY = { drainPerSecond: 10, capacity: 6 };
const PACING = { plan: INTENSITY, headroom: 1 };

describe('a killed delivery', () => {
  test('resumes with nothing lost and nothing shown twice', async () => {
    emu = await emulator({
      portal: { plan: 'standard', limits: { intensity: INTENSITY, operating: false } },
    });
    const path = outboxPath();
    const box = openOutbox(path);
    const total = 2000;
    box.add(notifications(total));
    box.close();

    // Deliver in a child process, and kill it once a few batches are recorded.
    const child = spawn(process.execPath, [CHILD, path, emu.webhookUrl, JSON.stringify(PACING)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killedAfter = await new Promise<number>((resolve, reject) => {
      let lines = '';
      child.stdout.on('data', (d: Buffer) => {
        lines += d.toString();
        const batches = lines.split('\n').filter((l) => l.startsWith('{')).length;
        if (batches >= 8 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve(batches);
        }
      });
      child.once('exit', (code) =>
        reject(new Error(`the delivery ended (${code}) before it was killed: ${stderr}`)),
      );
    });
    await new Promise((resolve) => child.once('close', resolve));
    expect(child.signalCode).toBe('SIGKILL');
    const arrivedBefore = emu.portal.store.all().length;
    expect(arrivedBefore).toBeGreaterThanOrEqual(killedAfter * 50);
    expect(arrivedBefore).toBeLessThan(total);

    const again = openOutbox(path);
    try {
      const stats = again.stats();
      // Whatever the kill interrupted is still there, in one state or another.
      expect(stats.pending + stats.sending + stats.sent).toBe(total);
      const report = await again.deliver(client(emu, { pacing: PACING }));
      // The kill caught batches in flight (four run at once): their messages go again, by tag.
      expect(report.recovered.requeued).toBeGreaterThan(0);
      expect(report.recovered.unknown).toBe(0);
      expect(report.stats).toEqual({ pending: 0, sending: 0, sent: total, failed: 0, unknown: 0 });
    } finally {
      again.close();
    }
    // As the recipients see it: every message once.
    const tags = tagCounts(emu);
    expect(tags.size).toBe(total);
    expect([...tags.values()].every((n) => n === 1)).toBe(true);
    expect(emu.portal.store.all()).toHaveLength(total);
  }, 60_000);
});

describe('limits', () => {
  test("a delivery paced for the portal's bucket is never refused for it", async () => {
    emu = await emulator({
      portal: { plan: 'standard', limits: { intensity: INTENSITY, operating: false } },
    });
    const box = openOutbox(outboxPath());
    try {
      box.add(notifications(1500));
      const report = await box.deliver(client(emu, { pacing: PACING, retry: false }), { concurrency: 8 });
      expect(report).toMatchObject({ sent: 1500, batches: 30, requeued: 0 });
      const batches = emu.portal.log.list(10_000).filter((r) => r.method === 'batch');
      expect(batches).toHaveLength(30);
      expect(batches.filter((r) => r.status !== 200)).toEqual([]);
    } finally {
      box.close();
    }
  });

  test('without pacing the same delivery is refused, and recovers by waiting', async () => {
    // A bucket of 2 draining 2 a second: of the first 8 batches, sent at once, some are refused
    // unless the portal takes them in over 3 s. With the paced test's bucket (6, draining 10 a
    // second) a loaded machine, handling one batch of 50 at a time, took the 8 in over 0.2 s and
    // refused none. A refused batch waits a second each time: attempts to spare.
    emu = await emulator({
      portal: {
        plan: 'standard',
        limits: { intensity: { drainPerSecond: 2, capacity: 2 }, operating: false },
      },
    });
    const box = openOutbox(outboxPath());
    try {
      box.add(notifications(500));
      const report = await box.deliver(client(emu, { retry: false }), { concurrency: 8, maxAttempts: 100 });
      expect(report.sent).toBe(500);
      expect(report.requeued).toBeGreaterThan(0);
      const refused = emu.portal.log.list(10_000).filter((r) => r.method === 'batch' && r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(emu.portal.store.all()).toHaveLength(500);
    } finally {
      box.close();
    }
    // Ten batches through a bucket of 2 at 2 a second take 4 s and more of real waiting.
  }, 60_000);

  test('nor by the operating-time limit: batches wait for the window instead', async () => {
    // 60 s of operating time per method and window; each notification costs 0.5 s, so a batch of
    // 50 costs 25 s: 300 of each kind need 150 s of their method's budget, three ten-minute windows.
    emu = await emulator({
      portal: {
        plan: 'standard',
        limits: { intensity: false, operating: { budgetSeconds: 60 } },
        processingSeconds: { 'im.notify.personal.add': 0.5, 'im.notify.system.add': 0.5 },
      },
    });
    const clock = clientClock(emu);
    const box = openOutbox(outboxPath());
    try {
      box.add(notifications(600));
      const paced = client(emu, { pacing: { operatingBudget: 60 }, clock, retry: false });
      const report = await box.deliver(paced, { concurrency: 4 });
      expect(report).toMatchObject({ sent: 600, requeued: 0, failed: 0 });
      const refused = emu.portal.log.list(10_000).filter((r) => r.status !== 200);
      expect(refused).toEqual([]);
      const answers = emu.portal.log.list(10_000).map((r) => JSON.stringify(r.response ?? ''));
      expect(answers.filter((a) => a.includes('OPERATION_TIME_LIMIT'))).toEqual([]);
      // Personal and system notifications have budgets of their own: 300 of each, 150 s each.
      expect(clock.slept).toBeGreaterThanOrEqual(2 * 600_000);
      expect(emu.portal.store.all()).toHaveLength(600);
    } finally {
      box.close();
    }
  });
});
