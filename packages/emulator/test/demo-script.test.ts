/**
 * `npm run demo`, one of the two commands the README starts with: it must keep working. Runs
 * scripts/demo.mjs as a process: with --exit (as on a non-terminal) it prints no address that
 * would be dead by the time it is read; with --keep it prints the inbox and the webhook URL, and
 * a notification sent to that URL arrives.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const DEMO = fileURLToPath(new URL('../../../scripts/demo.mjs', import.meta.url));

test('npm run demo sends the OPI example and delivers a bulk through the outbox', async () => {
  const child = spawn(process.execPath, [DEMO, '--exit'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => child.once('close', resolve));
  expect(out).toMatch(/^Result\n\{\n {2}"result": 1,\n {2}"time": \{/);
  expect(out).toMatch(/Notification 1 is stored in the emulator, which stops when the demo ends\./);
  expect(out).toMatch(
    /Bulk: 500 notifications delivered through the outbox in 10 batches \(\d+ ms\), 0 failed; requests the portal refused for its limits: 0\./,
  );
  // The emulator is gone: an address printed now would be a dead link.
  expect(out).not.toMatch(/https?:\/\/127\.0\.0\.1/);
  expect(out).toContain('The emulator has stopped.');
  expect(code).toBe(0);
}, 60_000);

test('npm run demo -- --keep prints the inbox and a webhook URL that works', async () => {
  const child = spawn(process.execPath, [DEMO, '--keep'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Press Ctrl+C')) resolve();
      });
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.once('close', () => reject(new Error(`the demo ended early:\n${out}`)));
    });
    const inbox = /Open the inbox in a browser: (\S+)/.exec(out)?.[1] ?? '';
    const webhook = /export B24_WEBHOOK_URL="([^"]+)"/.exec(out)?.[1] ?? '';
    expect(inbox).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(webhook.startsWith(inbox.replace(/\/$/, ''))).toBe(true);

    const sent = await fetch(`${webhook}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ USER_ID: 1, MESSAGE: 'Hello from the test' }),
    });
    const { result: id } = (await sent.json()) as { result: number };
    const stored = await fetch(`${inbox}_emulator/api/notifications/${id}`);
    expect(((await stored.json()) as { message?: string }).message).toBe('Hello from the test');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      await closed;
    }
  }
}, 60_000);
