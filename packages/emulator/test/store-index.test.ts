/**
 * The store's indexes (per-user id lists, unread sets, the global id list, the tag map) agree
 * with a plain model of the notifications after a seeded mix of every write the methods make:
 * sends with and without TAG, deletes by id and by tag, read and unread by one, by range, by
 * list and all. Checked through im.notify.get (counts and pages) and the inspection API.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestPortal, type TestPortal } from './support/emulator.js';

interface Model {
  id: number;
  userId: number;
  tag: string | null;
  read: boolean;
}

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let p: TestPortal;
beforeAll(async () => {
  p = await startTestPortal('http');
});
afterAll(async () => {
  await p?.close();
});

const WEBHOOK_USER = 1;
const CLIENT_ID = 'store-index';

test('indexes match a plain model after 300 seeded writes', async () => {
  const rnd = random(20261202);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const model = new Map<number, Model>();
  const mine = () => [...model.values()].filter((n) => n.userId === WEBHOOK_USER);

  for (let step = 0; step < 300; step++) {
    const r = rnd();
    if (r < 0.45) {
      const userId = pick([WEBHOOK_USER, WEBHOOK_USER, 2]);
      const tag = rnd() < 0.3 ? pick(['t1', 't2', 't3']) : null;
      const res = await p.hook('im.notify.personal.add', {
        USER_ID: userId,
        MESSAGE: `step ${step}`,
        CLIENT_ID,
        ...(tag ? { TAG: tag } : {}),
      });
      // A TAG replaces the application's earlier notifications with it, whoever they were for.
      if (tag) for (const n of model.values()) if (n.tag === tag) model.delete(n.id);
      const id = Number(res.body.result);
      model.set(id, { id, userId, tag, read: false });
    } else if (r < 0.55 && model.size > 0) {
      const n = pick([...model.values()]);
      await p.hook('im.notify.delete', { ID: n.id });
      // The caller may delete what it received or what it sent (it sent them all here).
      model.delete(n.id);
    } else if (r < 0.6) {
      const tag = pick(['t1', 't2', 't3']);
      await p.hook('im.notify.delete', { TAG: tag, CLIENT_ID });
      for (const n of model.values()) if (n.tag === tag) model.delete(n.id);
    } else if (r < 0.72 && mine().length > 0) {
      const n = pick(mine());
      const read = rnd() < 0.6;
      await p.hook('im.notify.read', { ID: n.id, ONLY_CURRENT: 'Y', ACTION: read ? 'Y' : 'N' });
      n.read = read;
    } else if (r < 0.82 && mine().length > 0) {
      const from = pick(mine()).id;
      const read = rnd() < 0.5;
      await p.hook('im.notify.read', { ID: from, ACTION: read ? 'Y' : 'N' });
      for (const n of mine()) if (n.id >= from) n.read = read;
    } else if (r < 0.92 && mine().length > 0) {
      const ids = [pick(mine()).id, pick(mine()).id];
      const read = rnd() < 0.5;
      await p.hook('im.notify.read.list', { IDS: ids, ACTION: read ? 'Y' : 'N' });
      for (const id of ids) {
        const n = model.get(id);
        if (n) n.read = read;
      }
    } else {
      const res = await p.hook('im.notify.read.all', {});
      for (const n of mine()) n.read = true;
      expect(res.body.result).toMatchObject({ newCounter: 0 });
    }

    if (step % 25 !== 24) continue;
    // Counts and the first page, as im.notify.get answers them.
    const expected = mine().sort((a, b) => b.id - a.id);
    const got = await p.hook('im.notify.get', { LIMIT: 10 });
    const result = got.body.result as {
      total_count?: number;
      total_unread_count?: number;
      notifications: { id: number }[];
    };
    expect(result.total_count ?? 0).toBe(expected.length);
    expect(result.total_unread_count ?? 0).toBe(expected.filter((n) => !n.read).length);
    expect(result.notifications.map((n) => n.id)).toEqual(expected.slice(0, 10).map((n) => n.id));
    // A page from the middle: everything below LAST_ID, newest first.
    if (expected.length > 4) {
      const lastId = (expected[3] as Model).id;
      const page = await p.hook('im.notify.get', { LIMIT: 5, LAST_ID: lastId, LAST_TYPE: 3 });
      expect(
        (page.body.result as { notifications: { id: number }[] }).notifications.map((n) => n.id),
      ).toEqual(
        expected
          .filter((n) => n.id < lastId)
          .slice(0, 5)
          .map((n) => n.id),
      );
    }
    // The inspection API: every user's counts, and the whole store paged newest first.
    const users = (await p.control('GET', '/users')).body.users as {
      id: number;
      total: number;
      unread: number;
    }[];
    for (const u of users) {
      const theirs = [...model.values()].filter((n) => n.userId === u.id);
      expect([u.id, u.total, u.unread]).toEqual([u.id, theirs.length, theirs.filter((n) => !n.read).length]);
    }
    const all = [...model.keys()].sort((a, b) => b - a);
    const list = await p.control('GET', `/notifications?limit=7&before=${String(all[2] ?? 1)}`);
    expect(list.body.total).toBe(model.size);
    expect((list.body.notifications as { id: number }[]).map((n) => n.id)).toEqual(
      all.filter((id) => id < (all[2] ?? 1)).slice(0, 7),
    );
    const unread = await p.control('GET', `/notifications?user=${WEBHOOK_USER}&unread=1&limit=1000`);
    expect((unread.body.notifications as { id: number }[]).map((n) => n.id)).toEqual(
      expected.filter((n) => !n.read).map((n) => n.id),
    );
  }
});
