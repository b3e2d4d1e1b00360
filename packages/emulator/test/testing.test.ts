/**
 * The matchers of `@b24notify/emulator/testing` under vitest: each passes and fails when it
 * should, negated too, and a failure names what arrived instead (the closest candidates). They
 * read the emulator over its control API only: which routes, `openapi.test.ts`; an
 * emulator in another process, `testing-process.test.ts`. The packed package under jest is
 * `sample-project.test.ts`'s.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/index.js';
import { b24Matchers, type B24Matchers } from '../src/testing.js';
import { startTestPortal } from './support/emulator.js';

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends B24Matchers<T> {}
}

expect.extend(b24Matchers);

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ portal: { plan: 'off' }, portals: [{ name: 'a' }, { name: 'b' }] });
});
afterAll(() => emu.close());
beforeEach(() => {
  for (const p of emu.portals) p.portal.reset();
});

async function send(portal: string, params: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${emu.portalNamed(portal).webhookUrl}im.notify.personal.add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** The message a failed assertion rejects with. */
async function failure(assertion: () => Promise<unknown>): Promise<string> {
  try {
    await assertion();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('the assertion passed');
}

describe('toHaveNotified', () => {
  test('fields or the filter language; portal picks the portal', async () => {
    await send('a', { USER_ID: 5, MESSAGE: 'Invoice 12 paid', TAG: 'invoice-12' });
    await send('b', { USER_ID: 3, MESSAGE: 'On b' });
    await expect(emu).toHaveNotified({ user: 5, text: 'paid', tag: 'invoice-*' });
    await expect(emu).toHaveNotified({ user: 5, text: /^Invoice \d+ paid$/ });
    await expect(emu).toHaveNotified('user:5 is:unread text:"invoice 12"');
    await expect(emu).not.toHaveNotified({ user: 3 });
    await expect(emu).toHaveNotified({ user: 3, portal: 'b' });
    await expect(emu.portalNamed('b')).toHaveNotified('user:3');
    await expect(emu.portalNamed('b').url).toHaveNotified('text:"on b"');
    await expect(`${emu.url}/_emulator/api/`).toHaveNotified({ user: 5, portal: 'a' });
  });

  test('a failure shows the closest candidates and what each misses', async () => {
    await send('a', { USER_ID: 5, MESSAGE: 'Invoice 12 overdue', TAG: 'invoice-12' });
    await send('a', { USER_ID: 2, MESSAGE: 'Invoice 13 paid', TAG: 'invoice-13' });
    const message = await failure(() =>
      expect(emu).toHaveNotified({ user: 5, text: 'paid', tag: 'invoice-*' }),
    );
    expect(message).toMatch(
      /^expected a notification matching user:5 tag:invoice-\* text:paid, but none matched; it holds 2; the closest:/,
    );
    expect(message).toMatch(
      /#\d+ to user 5, personal, tag "invoice-12", unread: "Invoice 12 overdue" \(differs in: text:paid\)/,
    );
    expect(await failure(() => expect(emu).not.toHaveNotified('user:2'))).toMatch(
      /^expected no notification matching user:2, but found 1:\n {2}#\d+ to user 2/,
    );
    expect(await failure(() => expect(emu.portalNamed('b')).toHaveNotified({ user: 1 }))).toMatch(
      /none matched; the portal holds no notifications/,
    );
  });

  test('bad input is named', async () => {
    expect(await failure(() => expect(emu).toHaveNotified('colour:red'))).toMatch(
      /^colour:red: unknown term/,
    );
    expect(await failure(() => expect({}).toHaveNotified('user:1'))).toMatch(/expected a running emulator/);
    expect(await failure(() => expect('127.0.0.1:24024').toHaveNotified('user:1'))).toMatch(
      /or an emulator's base URL \('http:\/\/127\.0\.0\.1:24024'\)/,
    );
    expect(await failure(() => expect(emu).toHaveNotified({ portal: 'zz' }))).toMatch(
      /no portal named "zz" \(there are "a", "b"\)/,
    );
  });
});

test('an emulator that is not there is named, with the fix', async () => {
  const gone = await startEmulator({ portal: { plan: 'off' } });
  const url = gone.url;
  await gone.close();
  const message = await failure(() => expect(url).toHaveNoNotificationsFor(1));
  expect(message).toContain(`could not reach the emulator's control API at ${url}/_emulator/api`);
  expect(message).toContain('is the emulator running there?');
});

test('over HTTPS, trusting the CA the emulator object names', async () => {
  const p = await startTestPortal('https');
  try {
    const sent = await p.hook('im.notify.personal.add', { USER_ID: 1, MESSAGE: 'Over TLS' });
    expect(sent.body.result, sent.text).toBe(1);
    await expect(p.emu).toHaveNotified('user:1 text:"over tls"');
    await expect(p.emu).toHaveReceived('im.notify.personal.add', 1);
  } finally {
    await p.close();
  }
});

describe('toHaveNoNotificationsFor', () => {
  test('passes for a user with none, fails listing what they have', async () => {
    await send('a', { USER_ID: 5, MESSAGE: 'Hello five' });
    await expect(emu).toHaveNoNotificationsFor(3);
    await expect(emu).not.toHaveNoNotificationsFor(5);
    expect(await failure(() => expect(emu).toHaveNoNotificationsFor(5))).toMatch(
      /^expected no notifications for user 5, but they have 1:\n {2}#\d+ to user 5, personal, unread: "Hello five"/,
    );
  });
});

describe('toHaveReceived', () => {
  test('counts calls in the request log and lists the others on failure', async () => {
    await send('a', { USER_ID: 5, MESSAGE: 'One' });
    await send('a', { USER_ID: 5, MESSAGE: 'Two' });
    await expect(emu).toHaveReceived('im.notify.personal.add', 2);
    await expect(emu).toHaveReceived('IM.NOTIFY.PERSONAL.ADD');
    await expect(emu).not.toHaveReceived('im.notify.system.add');
    expect(await failure(() => expect(emu).toHaveReceived('im.notify.system.add', 1))).toBe(
      'expected im.notify.system.add to be received 1 time, but it was received 0 times; the log holds: im.notify.personal.add × 2',
    );
  });
});

describe('toEventuallyHaveNotified', () => {
  test('waits for the notification, from the portal events', async () => {
    const portal = emu.portalNamed('a').portal;
    const before = portal.listenerCount('notification');
    const waiting = expect(emu).toEventuallyHaveNotified('user:5 tag:deploy-*', { timeout: 60_000 });
    await expect.poll(() => portal.listenerCount('notification'), { timeout: 30_000 }).toBe(before + 1);
    await send('a', { USER_ID: 5, MESSAGE: 'Deploy 4 done', TAG: 'deploy-4' });
    await waiting;
  });

  test('a timeout fails with what arrived', async () => {
    await send('a', { USER_ID: 5, MESSAGE: 'Deploy 5 failed', TAG: 'deploy-5' });
    const err = await expect(emu)
      .toEventuallyHaveNotified({ user: 5, text: 'done' }, { timeout: 1 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^expected a notification matching user:5 text:done within 1 ms, but none did \(0 arrived while waiting\); the closest:\n {2}#\d+ to user 5, personal, tag "deploy-5", unread: "Deploy 5 failed" \(differs in: text:done\)/,
    );
  });
});
