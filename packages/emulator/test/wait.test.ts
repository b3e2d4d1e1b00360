/**
 * Waiting, not sleeping: `GET /_emulator/api/notifications/wait` (a long-poll) and
 * `emu.waitFor` answer as soon as a matching notification exists, from the portal's events;
 * on timeout they say what did arrive. Each test waits for state (the wait's listener being
 * registered), never for time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FilterError, WaitTimeoutError, startEmulator, type RunningEmulator } from '../src/index.js';
import { startTestPortal, type TestPortal } from './support/emulator.js';

let p: TestPortal;

beforeAll(async () => {
  p = await startTestPortal('http');
});
afterAll(() => p.close());
beforeEach(() => p.emu.portal.reset());

const listening = (): number => p.emu.portal.listenerCount('notification');

async function send(user: number, message: string, tag?: string): Promise<number> {
  const a = await p.hook('im.notify.personal.add', {
    USER_ID: user,
    MESSAGE: message,
    ...(tag ? { TAG: tag } : {}),
  });
  expect(a.status, a.text).toBe(200);
  return a.body.result as number;
}

const wait = (query: string, timeout = 60_000) =>
  p.control('GET', `/notifications/wait?q=${encodeURIComponent(query)}&timeout=${timeout}`);

describe('GET /notifications/wait', () => {
  test('answers at once when a matching notification is already stored', async () => {
    const id = await send(1, 'Invoice 7 paid', 'invoice-7');
    const a = await wait('user:1 tag:invoice-* text:paid');
    expect(a.status, a.text).toBe(200);
    expect((a.body.notification as { id: number }).id).toBe(id);
  });

  test('answers when the notification arrives, from the event (no poll)', async () => {
    const before = listening();
    const pending = wait('user:1 tag:deploy-*');
    await expect.poll(listening, { timeout: 30_000 }).toBe(before + 1);
    await send(1, 'not this one', 'other');
    const id = await send(1, 'Deploy done', 'deploy-3');
    const a = await pending;
    expect(a.status, a.text).toBe(200);
    expect(a.body.notification).toMatchObject({ id, tag: 'deploy-3', message: 'Deploy done' });
    await expect.poll(listening, { timeout: 30_000 }).toBe(before);
  });

  test('the list parameters work too, and a read change can satisfy is:read', async () => {
    const id = await send(5, 'Read me');
    const pending = p.control('GET', '/notifications/wait?q=is:read&user=5&timeout=60000');
    await expect.poll(listening, { timeout: 30_000 }).toBeGreaterThan(0);
    expect((await p.control('PATCH', `/notifications/${id}`, { read: true })).status).toBe(200);
    const a = await pending;
    expect(a.status, a.text).toBe(200);
    expect(a.body.notification).toMatchObject({ id, read: true });
  });

  test('a timeout is 408 TIMEOUT listing the closest candidates', async () => {
    await send(1, 'Invoice 8 overdue', 'invoice-8');
    await send(3, 'Invoice 9 paid', 'invoice-9');
    const a = await wait('user:1 tag:invoice-* text:paid', 1);
    expect(a.status, a.text).toBe(408);
    expect(a.body.error).toBe('TIMEOUT');
    const description = String(a.body.error_description);
    expect(description).toMatch(/no notification matched user:1 tag:invoice-\* text:paid within 1 ms/);
    expect(description).toMatch(
      /#\d+ to user 1, personal, tag "invoice-8", unread: "Invoice 8 overdue" \(differs in: text:paid\)/,
    );
    const candidates = a.body.candidates as { notification: { tag: string }; missed: string[] }[];
    expect(candidates[0]).toMatchObject({ notification: { tag: 'invoice-8' }, missed: ['text:paid'] });
  });

  test('a client that hangs up leaves no listener behind', async () => {
    const before = listening();
    const controller = new AbortController();
    const pending = fetch(`${p.emu.url}/_emulator/api/notifications/wait?q=user:99&timeout=60000`, {
      signal: controller.signal,
    }).catch((err: unknown) => err);
    await expect.poll(listening, { timeout: 30_000 }).toBe(before + 1);
    controller.abort();
    await pending;
    await expect.poll(listening, { timeout: 30_000 }).toBe(before);
  });

  test('bad input names the term or parameter', async () => {
    const bad = await wait('user:me');
    expect(bad.status).toBe(400);
    expect(bad.body.error_description).toMatch(/^q: user:me: expected the recipient user id/);
    const long = await p.control('GET', '/notifications/wait?q=user:1&timeout=999999');
    expect(long.status).toBe(400);
    expect(long.body.error_description).toMatch(/^timeout: at most 120000 ms/);
  });
});

describe('emu.waitFor', () => {
  test('resolves with the notification once it arrives', async () => {
    const before = listening();
    const pending = p.emu.waitFor('user:2 has:attach');
    await expect.poll(listening, { timeout: 30_000 }).toBe(before + 1);
    const a = await p.hook('im.notify.personal.add', {
      USER_ID: 2,
      MESSAGE: 'See attached',
      ATTACH: [{ MESSAGE: 'Invoice total: 100' }],
    });
    expect(a.status, a.text).toBe(200);
    const n = await pending;
    expect(n.id).toBe(a.body.result);
    expect(n.attach).not.toBeNull();
  });

  test('accepts a parsed filter and rejects with the candidates on timeout', async () => {
    await send(1, 'Hello there', 'greeting');
    const err = await p.emu.waitFor({ user: 1, tag: 'farewell' }, { timeout: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    const timeout = err as WaitTimeoutError;
    expect(timeout.candidates[0]?.notification.tag).toBe('greeting');
    expect(timeout.message).toMatch(/no notification matched user:1 tag:farewell within 1 ms/);
    expect(timeout.message).toMatch(/tag "greeting".*\(differs in: tag\)/);
  });

  test('hundreds of waits at once: no listener-leak warning, all resolve, none left behind', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const before = listening();
      const count = 300;
      const pending = Array.from({ length: count }, () => p.emu.waitFor('user:3 text:many'));
      await expect.poll(listening, { timeout: 30_000 }).toBe(before + count);
      const id = await send(3, 'many waiting');
      const found = await Promise.all(pending);
      expect(found.every((n) => n.id === id)).toBe(true);
      expect(listening()).toBe(before);
      // Node emits warnings on the next tick: let it, then look.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('a bad filter rejects with a FilterError naming the term', async () => {
    await expect(p.emu.waitFor('colour:red')).rejects.toThrow(FilterError);
    await expect(p.emu.waitFor('colour:red')).rejects.toThrow(/^colour:red: unknown term "colour:"/);
  });
});

describe('many portals', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ portals: [{ name: 'a' }, { name: 'b' }], portal: { plan: 'off' } });
  });
  afterAll(() => emu.close());

  test('portal: picks the portal, in-process and over HTTP', async () => {
    const b = emu.portalNamed('b');
    const res = await fetch(`${b.webhookUrl}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ USER_ID: 1, MESSAGE: 'on b' }),
    });
    expect(res.status).toBe(200);
    expect((await emu.waitFor('portal:b user:1')).message).toBe('on b');
    const overHttp = await fetch(
      `${emu.url}/_emulator/api/notifications/wait?q=portal:b%20text:%22on%20b%22`,
    );
    expect(overHttp.status).toBe(200);
    const missing = await fetch(`${emu.url}/_emulator/api/notifications/wait?q=portal:zz`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error_description: string }).error_description).toMatch(
      /portal:zz: no portal named "zz" \(there are "a", "b"\)/,
    );
    await expect(emu.waitFor('portal:zz', { timeout: 1 })).rejects.toThrow(/there are "a", "b"/);
  });
});
