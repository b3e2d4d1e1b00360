/**
 * Fixtures: a portal's state exported (`emu.export()`, `GET /_emulator/api/export`) and started
 * from (`seed`), with deterministic ids, clock and credentials when asked, so snapshots are
 * stable; a bad fixture is refused naming the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startEmulator, type Fixture, type RunningEmulator } from '../src/index.js';

const started: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

async function start(options: Parameters<typeof startEmulator>[0]): Promise<RunningEmulator> {
  const emu = await startEmulator({ ...options, portal: { plan: 'off', ...options?.portal } });
  started.push(emu);
  return emu;
}

async function send(emu: RunningEmulator, params: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${emu.webhookUrl}im.notify.personal.add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = (await res.json()) as { result: number };
  expect(res.status).toBe(200);
  return body.result;
}

describe('export and seed', () => {
  test('a seeded emulator holds the same notifications, ids and users; new ids follow', async () => {
    const first = await start({});
    await send(first, { USER_ID: 5, MESSAGE: 'Invoice 1 paid', TAG: 'invoice-1' });
    const second = await send(first, { USER_ID: 3, MESSAGE: 'Second', ATTACH: [{ MESSAGE: 'att' }] });
    await fetch(`${first.url}/_emulator/api/notifications/${second}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ read: true }),
    });
    const fixture = first.export({ secrets: true });
    expect(fixture.format).toBe('b24notify-emulator/fixture');
    expect(fixture.portals[0]?.notifications.map((n) => n.message)).toEqual(['Invoice 1 paid', 'Second']);

    const seeded = await start({ seed: fixture });
    expect(seeded.webhookUrl.replace(seeded.url, '')).toBe(first.webhookUrl.replace(first.url, ''));
    const again = seeded.export({ secrets: true }).portals[0];
    expect(again?.notifications).toEqual(
      fixture.portals[0]?.notifications.map((n) => ({ ...n, requestId: null })),
    );
    expect(again?.users).toEqual(fixture.portals[0]?.users);
    expect(await send(seeded, { USER_ID: 5, MESSAGE: 'Third' })).toBe(second + 1);
  });

  test('over HTTP no secret is exported; a file seed still starts, with fresh codes', async () => {
    const first = await start({});
    await send(first, { USER_ID: 5, MESSAGE: 'Hello' });
    const res = await fetch(`${first.url}/_emulator/api/export`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const code = new URL(first.webhookUrl).pathname.split('/')[3] as string;
    expect(text).not.toContain(code);
    expect(text).not.toContain(first.tokens.clientSecret);
    const dir = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-fixture-'));
    const file = join(dir, 'fixture.json');
    writeFileSync(file, text);
    const seeded = await start({ seed: file });
    expect(seeded.portal.store.all().map((n) => n.message)).toEqual(['Hello']);
    expect(await send(seeded, { USER_ID: 5, MESSAGE: 'Again' })).toBe(2);
  });

  test('deterministic: the same export on every start, clock frozen', async () => {
    const run = async (): Promise<Fixture> => {
      const emu = await start({ deterministic: true });
      await send(emu, { USER_ID: 5, MESSAGE: 'Stable', TAG: 't' });
      await send(emu, { USER_ID: 2, MESSAGE: 'Also stable' });
      return emu.export({ secrets: true });
    };
    const a = await run();
    const b = await run();
    expect(b).toEqual(a);
    expect(a.portals[0]?.clockMs).toBe(Date.UTC(2025, 0, 1));
    expect(a.portals[0]?.notifications[0]?.createdAt).toBe(Date.UTC(2025, 0, 1));
    const seeded = await start({ seed: a, deterministic: true });
    expect(seeded.export({ secrets: true })).toEqual(a);
  });

  test('many portals take the fixture portal of their name', async () => {
    const emu = await start({ portals: [{ name: 'a' }, { name: 'b' }], deterministic: true });
    const res = await fetch(`${emu.portalNamed('b').webhookUrl}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ USER_ID: 1, MESSAGE: 'on b' }),
    });
    expect(res.status).toBe(200);
    const seeded = await start({ portals: [{ name: 'a' }, { name: 'b' }], seed: emu.export() });
    expect(
      seeded
        .portalNamed('b')
        .portal.store.all()
        .map((n) => n.message),
    ).toEqual(['on b']);
    expect(seeded.portalNamed('a').portal.store.size).toBe(0);
  });

  test('a bad fixture is refused naming the field', async () => {
    await expect(startEmulator({ seed: { portals: [] } as unknown as Fixture })).rejects.toThrow(
      /^seed\.format: expected "b24notify-emulator\/fixture"/,
    );
    const bad = {
      format: 'b24notify-emulator/fixture',
      version: 1,
      portals: [
        {
          name: 'default',
          domain: 'localhost',
          users: [],
          webhooks: [],
          apps: [],
          notifications: [
            { id: 1, userId: 'five', type: 'personal', message: 'x', read: false, createdAt: 0 },
          ],
        },
      ],
    } as unknown as Fixture;
    await expect(startEmulator({ seed: bad })).rejects.toThrow(
      /^seed\.portals\[0\]\.notifications\[0\]\.userId: expected an integer of at least 1/,
    );
    await expect(startEmulator({ seed: '/nonexistent/fixture.json' })).rejects.toThrow(
      /^\/nonexistent\/fixture\.json: cannot read \(ENOENT\)/,
    );
  });
});
