import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startTestPortal, type TestPortal } from './support/emulator.js';

describe('--data keeps the portal in SQLite across restarts', () => {
  const dir = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-data-'));
  const dataPath = join(dir, 'portal.db');
  let open: TestPortal | undefined;

  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  test('notifications, read state, credentials and tokens survive; ids continue', async () => {
    rmSync(dataPath, { force: true });
    open = await startTestPortal('http', { dataPath });
    const first = open.emu;
    const a = await open.hook('im.notify.personal.add', {
      USER_ID: 2,
      MESSAGE: 'kept',
      TAG: 't',
      CLIENT_ID: 'c',
    });
    const b = await open.oauth('im.notify.system.add', { USER_ID: 1, MESSAGE: 'also kept' });
    expect(b.status).toBe(200);
    await open.oauth('im.notify.read', { ID: b.body.result, ONLY_CURRENT: 'Y' });
    const deleted = await open.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'gone' });
    await open.control('DELETE', `/notifications/${String(deleted.body.result)}`);
    await open.close();

    open = await startTestPortal('http', { dataPath });
    // The same webhook and app credentials: a user who pasted them keeps working.
    expect(new URL(open.emu.webhookUrl).pathname).toBe(new URL(first.webhookUrl).pathname);
    expect(open.emu.tokens.clientId).toBe(first.tokens.clientId);
    expect(open.emu.tokens.clientSecret).toBe(first.tokens.clientSecret);
    // The token pair issued before the restart is still valid.
    const before = await open.oauth('profile', {}, first.tokens.accessToken);
    expect(before.status).toBe(200);

    const list = await open.control('GET', '/notifications');
    const items = list.body.notifications as {
      id: number;
      message: string;
      read: boolean;
      tag: string | null;
    }[];
    expect(items.map((n) => n.message)).toEqual(['also kept', 'kept']);
    expect(items.find((n) => n.id === b.body.result)?.read).toBe(true);
    expect(items.find((n) => n.id === a.body.result)?.tag).toBe('t');

    const next = await open.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'after restart' });
    // Ids are never reused, not even the deleted one's.
    expect(next.body.result).toBe(Number(deleted.body.result) + 1);

    // Tag uniqueness still holds against notifications loaded from the file.
    await open.hook('im.notify.personal.add', { USER_ID: 3, MESSAGE: 'replaces', TAG: 't', CLIENT_ID: 'c' });
    const tagged = await open.control('GET', '/notifications?tag=t');
    expect((tagged.body.notifications as { message: string }[]).map((n) => n.message)).toEqual(['replaces']);
  });

  test('a notification kept from before a restart never links to a request made after it', async () => {
    rmSync(dataPath, { force: true });
    open = await startTestPortal('http', { dataPath });
    const old = await open.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'before the restart' });
    const oldId = Number(old.body.result);
    const linked = await open.control('GET', `/notifications/${oldId}`);
    expect((linked.body.request as { id: number } | null)?.id).toBeGreaterThan(0);
    await open.close();

    open = await startTestPortal('http', { dataPath });
    // The request log starts empty: the old notification's request is gone, not someone else's.
    const after = await open.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'after the restart' });
    const kept = await open.control('GET', `/notifications/${oldId}`);
    expect(kept.body.message).toBe('before the restart');
    expect(kept.body.request).toBeNull();
    const fresh = await open.control('GET', `/notifications/${String(after.body.result)}`);
    const request = fresh.body.request as { id: number; path: string } | null;
    expect(request?.id).toBeGreaterThan((linked.body.request as { id: number }).id);
    expect(request?.path).toContain('im.notify.personal.add');
  });

  test('the refresh of a token is durable: a spent refresh token stays spent after a restart', async () => {
    rmSync(dataPath, { force: true });
    open = await startTestPortal('http', { dataPath });
    const { clientId, clientSecret, refreshToken } = open.emu.tokens;
    const query = `grant_type=refresh_token&client_id=${clientId}&client_secret=${clientSecret}&refresh_token=${refreshToken}`;
    expect((await open.request(`/oauth/token/?${query}`)).status).toBe(200);
    await open.close();
    open = await startTestPortal('http', { dataPath });
    const again = await open.request(`/oauth/token/?${query}`);
    expect(again.body.error).toBe('invalid_grant');
  });
});
