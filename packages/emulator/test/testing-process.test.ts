/**
 * The matchers of `@b24notify/emulator/testing` against an emulator in another process (the
 * `b24notify-emulator` binary, as `docs/any-language.md` starts it), addressed by its base URL:
 * they read it through the control API alone. Needs `npm run build` (the binary runs `dist`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { b24Matchers, type B24Matchers } from '../src/testing.js';

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends B24Matchers<T> {}
}

expect.extend(b24Matchers);

const BIN = fileURLToPath(new URL('../bin/b24notify-emulator.js', import.meta.url));
const home = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-matchers-'));

let child: ChildProcess;
let base = '';
let webhook = '';

/** Start the binary on a free port and read its base and webhook URLs from the banner. */
beforeAll(async () => {
  child = spawn(process.execPath, [BIN, '--port', '0', '--plan', 'off'], {
    env: { ...process.env, B24NOTIFY_EMULATOR_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Press Ctrl+C')) resolve();
    });
    child.on('exit', (code) =>
      reject(new Error(`the emulator exited (${String(code)}) before its banner: ${out}`)),
    );
  });
  base = /listening on (\S+)/.exec(out)?.[1] ?? '';
  webhook = /Webhook URL:\s+(\S+)/.exec(out)?.[1] ?? '';
  expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(webhook).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rest\/1\/\w+\/$/);
}, 120_000);

afterAll(async () => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
});

async function send(params: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${webhook}im.notify.personal.add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

test('the matchers pass and fail over the control API of another process', { timeout: 120_000 }, async () => {
  const waiting = expect(base).toEventuallyHaveNotified('user:5 tag:invoice-*', { timeout: 60_000 });
  await send({ USER_ID: 5, MESSAGE: 'Invoice 7 overdue', TAG: 'invoice-7' });
  await waiting;
  await expect(base).toHaveNotified({ user: 5, text: 'overdue', tag: 'invoice-*' });
  await expect(`${base}/_emulator/api`).toHaveNotified({ user: 5, text: /^Invoice \d+ overdue$/ });
  await expect(base).toHaveNoNotificationsFor(3);
  await expect(base).not.toHaveNoNotificationsFor(5);
  await expect(base).toHaveReceived('im.notify.personal.add', 1);

  const wrong = await expect(base)
    .toHaveNotified({ user: 5, text: 'paid' })
    .then(
      () => '',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
  expect(wrong).toMatch(
    /^expected a notification matching user:5 text:paid, but none matched; it holds 1; the closest:\n {2}#1 to user 5, personal, tag "invoice-7", unread: "Invoice 7 overdue" \(differs in: text:paid\)/,
  );
  const timedOut = await expect(base)
    .toEventuallyHaveNotified('user:5 text:paid', { timeout: 1 })
    .then(
      () => '',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
  expect(timedOut).toMatch(/within 1 ms, but none did .*; the closest:\n {2}#1 to user 5/);
});
