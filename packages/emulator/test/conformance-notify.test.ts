/**
 * Conformance of the rest of the notification family (spec §5, research §2–§7 and §9):
 * delete, read, read.list, read.all, get, history.search, answer, confirm, schema.get, and
 * the basic methods profile, server.time and user.get, over real HTTP and HTTPS.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEFAULT_USERS, type UserConfig } from '../src/config.js';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

/** A notification as the inspection API lists it. */
interface Stored {
  id: number;
  userId: number;
  authorId: number;
  message: string;
  tag: string | null;
  subTag: string | null;
  read: boolean;
  answers: { kind: string; text: string }[];
}

/** A notification item as im.notify.get and im.notify.history.search list it. */
interface Item {
  id: number;
  chat_id: number;
  author_id: number;
  date: string;
  notify_type: number;
  notify_tag: string;
  notify_sub_tag: string;
  text: string;
  notify_read: 'Y' | 'N';
  [key: string]: unknown;
}

interface ListResult {
  total_count?: number;
  total_unread_count?: number;
  total_results?: number;
  chat_id?: number;
  notifications: Item[];
  users: Record<string, unknown>[];
}

const APP_ONE = 'local.app-one';
const APP_TWO = 'local.app-two';
/** RFC 3339 with a numeric offset and no fraction, as the portal writes dates. */
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
const DAY_MS = 86_400_000;

/** The default users, one fired, and enough others that user.get needs a second page. */
const USERS: UserConfig[] = [
  ...DEFAULT_USERS.map((u) => ({ ...u })),
  { ID: 20, NAME: 'Fired', LAST_NAME: 'Former', ACTIVE: false },
  ...Array.from({ length: 55 }, (_, i) => ({ ID: 100 + i, NAME: `User${100 + i}`, LAST_NAME: 'Extra' })),
];

async function stored(p: TestPortal, query = ''): Promise<Stored[]> {
  const a = await p.control('GET', `/notifications${query}`);
  expect(a.status).toBe(200);
  return (a.body as { notifications: Stored[] }).notifications;
}

async function readState(p: TestPortal, ids: number[]): Promise<boolean[]> {
  const byId = new Map((await stored(p)).map((n) => [n.id, n.read]));
  return ids.map((id) => byId.get(id) ?? false);
}

function expectError(a: Answer, status: number, error: string, description: string): void {
  expect(a.status).toBe(status);
  expect(a.json).toEqual({ error, error_description: description });
}

function ok(a: Answer): unknown {
  expect(a.status).toBe(200);
  expect(a.body.time).toBeTypeOf('object');
  return a.body.result;
}

function list(a: Answer): ListResult {
  return ok(a) as ListResult;
}

async function send(p: TestPortal, userId: number, message: string, extra: Record<string, unknown> = {}) {
  const id = ok(await p.hook('im.notify.personal.add', { USER_ID: userId, MESSAGE: message, ...extra }));
  expect(typeof id).toBe('number');
  return id as number;
}

/** Send `count` notifications through batches of 50; answers their ids in sending order. */
async function sendMany(p: TestPortal, userId: number, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let start = 0; start < count; start += 50) {
    const cmd: Record<string, string> = {};
    for (let i = start; i < Math.min(count, start + 50); i++) {
      cmd[`n${i}`] = `im.notify.personal.add?USER_ID=${userId}&MESSAGE=${encodeURIComponent(`note ${i}`)}`;
    }
    const result = ok(await p.hook('batch', { halt: 1, cmd })) as { result: Record<string, number> };
    ids.push(...Object.keys(cmd).map((k) => result.result[k] as number));
  }
  return ids;
}

async function tokenFor(p: TestPortal, body: { clientId?: string; userId?: number }): Promise<string> {
  const a = await p.control('POST', '/tokens', body);
  expect(a.status).toBe(200);
  return (a.body as { accessToken: string }).accessToken;
}

describe.each(TRANSPORTS)('notification methods over %s', (transport) => {
  let p: TestPortal;

  beforeAll(async () => {
    p = await startTestPortal(transport, {
      portal: {
        users: USERS,
        apps: [
          { clientId: APP_ONE, clientSecret: 'secret-one', scopes: ['im', 'user'] },
          { clientId: APP_TWO, clientSecret: 'secret-two', scopes: ['im'] },
        ],
      },
    });
  });
  afterAll(async () => {
    await p.close();
  });
  beforeEach(async () => {
    expect((await p.control('POST', '/reset')).status).toBe(200);
    expect((await p.control('PUT', '/portal', { restNotificationReplies: 'none' })).status).toBe(200);
  });
  const acceptReplies = async (): Promise<void> => {
    expect((await p.control('PUT', '/portal', { restNotificationReplies: 'accept' })).status).toBe(200);
  };

  describe('im.notify.delete', () => {
    it('deletes by ID and answers true', async () => {
      const keep = await send(p, 1, 'keep');
      const drop = await send(p, 1, 'drop');
      expect(ok(await p.hook('im.notify.delete', { ID: drop }))).toBe(true);
      expect((await stored(p)).map((n) => n.id)).toEqual([keep]);
    });

    it.each([
      ['nothing', {}],
      ['ID 0', { ID: 0 }],
      ['empty TAG and SUB_TAG', { TAG: '', SUB_TAG: '', CLIENT_ID: 'x' }],
    ])('with %s is PARAMS_ERROR', async (_label, params) => {
      await send(p, 1, 'keep');
      expectError(await p.hook('im.notify.delete', params), 400, 'PARAMS_ERROR', 'Incorrect params');
      expect(await stored(p)).toHaveLength(1);
    });

    it.each([['TAG'], ['SUB_TAG']])(
      'by %s through a webhook without CLIENT_ID is ACCESS_DENIED',
      async (key) => {
        await send(p, 1, 'tagged', { [key]: 'T' });
        expectError(
          await p.hook('im.notify.delete', { [key]: 'T' }),
          403,
          'ACCESS_DENIED',
          'Access denied! Client ID not specified',
        );
        expect(await stored(p)).toHaveLength(1);
      },
    );

    it('a session caller deleting by TAG or SUB_TAG is PARAMS_ERROR; by ID it may delete', async () => {
      const id = await send(p, 2, 'tagged', { TAG: 'T', CLIENT_ID: 'hook.app' });
      const session = await p.control('POST', '/sessions', { userId: 2 });
      const { sessid } = session.body as { sessid: string };
      const asSession = (params: Record<string, unknown>): Promise<Answer> =>
        p.request('/rest/im.notify.delete', {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: `PHPSESSID=${sessid}` },
          body: JSON.stringify({ sessid, ...params }),
        });
      expectError(await asSession({ TAG: 'T' }), 400, 'PARAMS_ERROR', 'Incorrect params');
      expectError(await asSession({ SUB_TAG: 'T' }), 400, 'PARAMS_ERROR', 'Incorrect params');
      expect(await stored(p)).toHaveLength(1);
      expect(ok(await asSession({ ID: id }))).toBe(true);
      expect(await stored(p)).toHaveLength(0);
    });

    it("by TAG deletes only the current application's notifications", async () => {
      const one = await tokenFor(p, { clientId: APP_ONE });
      const two = await tokenFor(p, { clientId: APP_TWO });
      const fromOne = ok(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: '1', TAG: 'T' }, one),
      );
      const fromTwo = ok(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: '2', TAG: 'T' }, two),
      );
      const fromHook = await send(p, 3, '3', { TAG: 'T', CLIENT_ID: 'hook.app' });
      const otherTag = ok(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: '4', TAG: 'U' }, one),
      );

      expect(ok(await p.oauth('im.notify.delete', { TAG: 'T' }, one))).toBe(true);
      expect((await stored(p)).map((n) => n.id)).toEqual([otherTag, fromHook, fromTwo]);
      expect(fromOne).toBeTypeOf('number');

      expect(ok(await p.hook('im.notify.delete', { TAG: 'T', CLIENT_ID: 'hook.app' }))).toBe(true);
      expect((await stored(p)).map((n) => n.id)).toEqual([otherTag, fromTwo]);
    });

    it("by SUB_TAG deletes only the current application's notifications, all of them", async () => {
      const one = await tokenFor(p, { clientId: APP_ONE });
      const two = await tokenFor(p, { clientId: APP_TWO });
      await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'a', SUB_TAG: 'S' }, one);
      await p.oauth('im.notify.system.add', { USER_ID: 3, MESSAGE: 'b', SUB_TAG: 'S' }, one);
      const kept = ok(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'c', SUB_TAG: 'S' }, two),
      );
      expect(ok(await p.hook('im.notify.delete', { SUB_TAG: 'S', CLIENT_ID: APP_ONE }))).toBe(true);
      expect((await stored(p)).map((n) => n.id)).toEqual([kept]);
    });
  });

  describe('im.notify.read', () => {
    let ids: number[];
    beforeEach(async () => {
      ids = [];
      for (let i = 0; i < 5; i++) ids.push(await send(p, 1, `n${i}`));
    });

    it('ONLY_CURRENT=Y marks just that notification', async () => {
      expect(ok(await p.hook('im.notify.read', { ID: ids[2], ONLY_CURRENT: 'Y' }))).toBe(true);
      expect(await readState(p, ids)).toEqual([false, false, true, false, false]);
    });

    it('without ONLY_CURRENT marks every notification with an id >= ID, read by default', async () => {
      expect(ok(await p.hook('im.notify.read', { ID: ids[2] }))).toBe(true);
      expect(await readState(p, ids)).toEqual([false, false, true, true, true]);
    });

    it('ACTION=N marks unread, and any ONLY_CURRENT but Y means all from ID upwards', async () => {
      await p.hook('im.notify.read', { ID: ids[0], ACTION: 'Y' });
      expect(await readState(p, ids)).toEqual([true, true, true, true, true]);
      expect(ok(await p.hook('im.notify.read', { ID: ids[3], ACTION: 'N', ONLY_CURRENT: 'N' }))).toBe(true);
      expect(await readState(p, ids)).toEqual([true, true, true, false, false]);
      expect(ok(await p.hook('im.notify.read', { ID: ids[1], ACTION: 'N', ONLY_CURRENT: 'Y' }))).toBe(true);
      expect(await readState(p, ids)).toEqual([true, false, true, false, false]);
    });

    it('without ID answers true and changes nothing', async () => {
      expect(ok(await p.hook('im.notify.read', {}))).toBe(true);
      expect(ok(await p.hook('im.notify.read', { ACTION: 'Y', ONLY_CURRENT: 'N' }))).toBe(true);
      expect(await readState(p, ids)).toEqual([false, false, false, false, false]);
    });

    it("leaves other users' notifications alone", async () => {
      const theirs = await send(p, 2, 'theirs');
      expect(ok(await p.hook('im.notify.read', { ID: 0 }))).toBe(true);
      expect(await readState(p, [...ids, theirs])).toEqual([true, true, true, true, true, false]);
    });
  });

  describe('im.notify.read.list', () => {
    let ids: number[];
    beforeEach(async () => {
      ids = [];
      for (let i = 0; i < 4; i++) ids.push(await send(p, 1, `n${i}`));
    });

    it('marks the listed ids and stops at the first id <= 0', async () => {
      expect(ok(await p.hook('im.notify.read.list', { IDS: [ids[0], ids[2], 0, ids[3]] }))).toBe(true);
      expect(await readState(p, ids)).toEqual([true, false, true, false]);
      expect(ok(await p.hook('im.notify.read.list', { IDS: [ids[1], -4, ids[3]], ACTION: 'Y' }))).toBe(true);
      expect(await readState(p, ids)).toEqual([true, true, true, false]);
    });

    it.each([['N'], ['X'], ['yes']])('ACTION %j acts as N', async (action) => {
      await p.hook('im.notify.read.all');
      expect(ok(await p.hook('im.notify.read.list', { IDS: [ids[1], ids[2]], ACTION: action }))).toBe(true);
      expect(await readState(p, ids)).toEqual([true, false, false, true]);
    });

    it('takes IDS as PHP form keys in an urlencoded body', async () => {
      const a = await p.request(`${new URL(p.emu.webhookUrl).pathname}im.notify.read.list`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `IDS[]=${ids[3]}&IDS[]=${ids[0]}&ACTION=Y`,
      });
      expect(ok(a)).toBe(true);
      expect(await readState(p, ids)).toEqual([true, false, false, true]);
    });

    it.each([
      ['missing', {}],
      ['a number', { IDS: 5 }],
      ['a string', { IDS: '1,2' }],
    ])('IDS %s is PARAMS_ERROR', async (_label, params) => {
      expectError(
        await p.hook('im.notify.read.list', params),
        400,
        'PARAMS_ERROR',
        'No IDS param or it is not an array',
      );
    });
  });

  describe('im.notify.read.all', () => {
    it('answers the nested {result, newCounter} and marks only the caller’s notifications', async () => {
      const mine = [await send(p, 1, 'a'), await send(p, 1, 'b')];
      const theirs = await send(p, 2, 'c');
      const a = await p.hook('im.notify.read.all');
      expect(a.status).toBe(200);
      expect(Object.keys(a.body)).toEqual(['result', 'time']);
      expect(a.body.result).toEqual({ result: true, newCounter: 0 });
      expect(await readState(p, [...mine, theirs])).toEqual([true, true, false]);
    });
  });

  describe('im.notify.get', () => {
    it('lists each notification with the documented fields', async () => {
      const personal = await send(p, 1, ' Reminder ', {
        TAG: 'TASK_42',
        SUB_TAG: 'TASK|42',
        CLIENT_ID: 'app.x',
      });
      const system = ok(await p.hook('im.notify.system.add', { USER_ID: 1, MESSAGE: 'System says' }));
      await p.hook('im.notify.read', { ID: system, ONLY_CURRENT: 'Y' });
      const r = list(await p.hook('im.notify.get'));
      expect(Object.keys(r)).toEqual([
        'total_count',
        'total_unread_count',
        'chat_id',
        'notifications',
        'users',
      ]);
      expect(r.total_count).toBe(2);
      expect(r.total_unread_count).toBe(1);
      expect(Number.isInteger(r.chat_id)).toBe(true);
      const [first, second] = r.notifications;
      expect(first).toEqual({
        id: system,
        chat_id: r.chat_id,
        author_id: 0,
        date: expect.stringMatching(DATE),
        notify_type: 4,
        notify_module: 'rest',
        notify_event: 'rest_notify',
        notify_tag: '',
        notify_sub_tag: '',
        notify_title: '',
        setting_name: 'rest|rest_notify',
        text: 'System says',
        notify_read: 'Y',
        params: null,
      });
      expect(second).toEqual({
        id: personal,
        chat_id: r.chat_id,
        author_id: 1,
        date: expect.stringMatching(DATE),
        notify_type: 2,
        notify_module: 'rest',
        notify_event: 'rest_notify',
        notify_tag: 'MP|app.x|TASK_42',
        notify_sub_tag: 'MP|app.x|TASK|42',
        notify_title: '',
        setting_name: 'rest|rest_notify',
        text: 'Reminder',
        notify_read: 'N',
        params: null,
      });
      expect(Math.abs(Date.parse(second?.date ?? '') - Date.now())).toBeLessThan(60_000);
    });

    it('lists the authors in users[] with the documented fields', async () => {
      await send(p, 2, 'from Anna');
      const token = await tokenFor(p, { clientId: APP_ONE, userId: 2 });
      const r = list(await p.oauth('im.notify.get', {}, token));
      expect(r.users).toHaveLength(1);
      const [user] = r.users;
      expect(Object.keys(user ?? {}).sort()).toEqual(
        [
          'id',
          'active',
          'name',
          'first_name',
          'last_name',
          'work_position',
          'color',
          'avatar',
          'avatar_hr',
          'gender',
          'birthday',
          'extranet',
          'network',
          'bot',
          'connector',
          'external_auth_id',
          'status',
          'idle',
          'last_activity_date',
          'mobile_last_date',
          'desktop_last_date',
          'absent',
          'departments',
          'phones',
          'bot_data',
          'type',
          'website',
          'email',
        ].sort(),
      );
      expect(user).toMatchObject({
        id: 1,
        active: true,
        name: 'Anna Admin',
        first_name: 'Anna',
        last_name: 'Admin',
        work_position: 'Administrator',
        email: 'admin@example.test',
        bot: false,
        type: 'user',
      });
    });

    it('pages newest first through 120 notifications with LAST_ID and LAST_TYPE=3', async () => {
      const ids = await sendMany(p, 1, 120);
      const newestFirst = [...ids].reverse();
      const first = list(await p.hook('im.notify.get'));
      expect(first.total_count).toBe(120);
      expect(first.total_unread_count).toBe(120);
      expect(first.notifications.map((n) => n.id)).toEqual(newestFirst.slice(0, 50));
      expect(first.notifications[0]?.text).toBe('note 119');

      const seen = [...first.notifications.map((n) => n.id)];
      const sizes = [first.notifications.length];
      let last = seen[seen.length - 1];
      for (;;) {
        const page = list(await p.hook('im.notify.get', { LAST_ID: last, LAST_TYPE: 3 }));
        expect(page.total_count).toBe(120);
        sizes.push(page.notifications.length);
        if (page.notifications.length === 0) break;
        seen.push(...page.notifications.map((n) => n.id));
        last = seen[seen.length - 1];
      }
      expect(sizes).toEqual([50, 50, 20, 0]);
      expect(seen).toEqual(newestFirst);
    });

    it('CONVERT_TEXT=Y answers the text as HTML; any other value as stored', async () => {
      const text =
        'Deal [B]#42[/B] <won>\nsee [URL=https://example.test/d/42]it[/URL][BR][USER=2]Boris[/USER]';
      await send(p, 1, text);
      const get = async (params: Record<string, unknown>): Promise<string> => {
        const result = ok(await p.hook('im.notify.get', params)) as { notifications: { text: string }[] };
        return result.notifications[0]?.text ?? '';
      };
      const html =
        'Deal <b>#42</b> &lt;won&gt;<br />see <a href="https://example.test/d/42" target="_blank">it</a>' +
        '<br />[USER=2]Boris[/USER]';
      expect(await get({ CONVERT_TEXT: 'Y' })).toBe(html);
      expect(await get({ CONVERT_TEXT: 'N' })).toBe(text);
      expect(await get({ CONVERT_TEXT: 'y' })).toBe(text);
      expect(await get({})).toBe(text);
      const found = ok(
        await p.hook('im.notify.history.search', { SEARCH_TEXT: 'Deal', CONVERT_TEXT: 'Y' }),
      ) as {
        notifications: { text: string }[];
      };
      expect(found.notifications[0]?.text).toBe(html);
    });

    it('takes LIMIT up to 50', async () => {
      const ids = (await sendMany(p, 1, 60)).reverse();
      expect(list(await p.hook('im.notify.get', { LIMIT: 7 })).notifications.map((n) => n.id)).toEqual(
        ids.slice(0, 7),
      );
      expect(list(await p.hook('im.notify.get', { LIMIT: 80 })).notifications).toHaveLength(50);
      expect(
        list(await p.hook('im.notify.get', { LIMIT: '5', LAST_ID: ids[9], LAST_TYPE: '3' })),
      ).toMatchObject({
        notifications: ids.slice(10, 15).map((id) => ({ id })),
      });
    });

    it('LAST_ID without LAST_TYPE, or the other way round, is LAST_ID_AND_LAST_TYPE', async () => {
      for (const params of [{ LAST_ID: 5 }, { LAST_TYPE: 3 }]) {
        expectError(
          await p.hook('im.notify.get', params),
          400,
          'LAST_ID_AND_LAST_TYPE',
          'Parameters LAST_ID and LAST_TYPE should be used together.',
        );
      }
    });

    it('a LAST_TYPE other than 1 or 3 is no error: the page continues after LAST_ID', async () => {
      const ids = await sendMany(p, 1, 5);
      const third = ids[2] as number;
      for (const lastType of [2, 7, 0]) {
        const page = ok(await p.hook('im.notify.get', { LAST_ID: third, LAST_TYPE: lastType })) as ListResult;
        expect(page.notifications.map((n) => n.id)).toEqual(ids.slice(0, 2).reverse());
      }
    });

    it('a LAST_ID that is not a number is LAST_ID_STRING', async () => {
      expectError(
        await p.hook('im.notify.get', { LAST_ID: 'abc', LAST_TYPE: 3 }),
        400,
        'LAST_ID_STRING',
        "Last notification ID can't be string",
      );
    });

    it('for a user with no notifications answers only notifications and users', async () => {
      await send(p, 2, 'not for user 10');
      const token = await tokenFor(p, { clientId: APP_ONE, userId: 10 });
      const a = await p.oauth('im.notify.get', {}, token);
      expect(ok(a)).toEqual({ notifications: [], users: [] });
    });
  });

  describe('im.notify.history.search', () => {
    it.each([
      ['no SEARCH_TEXT', {}],
      ['a 2-character SEARCH_TEXT', { SEARCH_TEXT: 'ab' }],
      ['a SEARCH_TEXT of 2 characters and spaces', { SEARCH_TEXT: '  ab  ' }],
      ['only one of the date pair', { SEARCH_TEXT: 'ab', SEARCH_DATE_FROM: '2026-01-01T00:00:00+00:00' }],
    ])('with %s and no other filter is SEARCH_TEXT_ERROR', async (_label, params) => {
      expectError(
        await p.hook('im.notify.history.search', params),
        400,
        'SEARCH_TEXT_ERROR',
        "SEARCH_TEXT can't be less then 3 symbols",
      );
    });

    it('finds text case-insensitively, newest first, with its authors', async () => {
      const a = await send(p, 1, 'Invoice 17 paid');
      await send(p, 1, 'Meeting at ten');
      const b = ok(await p.hook('im.notify.system.add', { USER_ID: 1, MESSAGE: 'overdue INVOICE 18' }));
      await send(p, 2, 'invoice for someone else');
      const r = list(await p.hook('im.notify.history.search', { SEARCH_TEXT: 'invoice' }));
      expect(Object.keys(r)).toEqual(['chat_id', 'total_results', 'notifications', 'users']);
      expect(r.total_results).toBe(2);
      expect(r.notifications.map((n) => n.id)).toEqual([b, a]);
      expect(r.users.map((u) => u.id)).toEqual([1]);
      const got = list(await p.hook('im.notify.get'));
      expect(r.chat_id).toBe(got.chat_id);
      expect(r.notifications[1]).toEqual(got.notifications.find((n) => n.id === a));
    });

    it('filters by SEARCH_AUTHORS, which lifts the 3-character rule', async () => {
      const personal = await send(p, 1, 'ab personal');
      const system = ok(await p.hook('im.notify.system.add', { USER_ID: 1, MESSAGE: 'ab system' }));
      const byAuthor = list(
        await p.hook('im.notify.history.search', { SEARCH_TEXT: 'ab', SEARCH_AUTHORS: [1] }),
      );
      expect(byAuthor.notifications.map((n) => n.id)).toEqual([personal]);
      const bySystem = list(await p.hook('im.notify.history.search', { SEARCH_AUTHORS: [0] }));
      expect(bySystem.notifications.map((n) => n.id)).toEqual([system]);
    });

    it('filters by SEARCH_DATE and by the SEARCH_DATE_FROM / SEARCH_DATE_TO pair', async () => {
      const now = Date.now();
      expect((await p.control('PUT', '/clock', { offsetMs: -3 * DAY_MS })).status).toBe(200);
      const old = await send(p, 1, 'old report');
      expect((await p.control('PUT', '/clock', { offsetMs: 0 })).status).toBe(200);
      const fresh = await send(p, 1, 'new report');
      const oldDate = new Date(now - 3 * DAY_MS).toISOString().slice(0, 10);

      const onDay = list(
        await p.hook('im.notify.history.search', { SEARCH_DATE: `${oldDate}T12:00:00+00:00` }),
      );
      expect(onDay.notifications.map((n) => n.id)).toEqual([old]);

      const window = list(
        await p.hook('im.notify.history.search', {
          SEARCH_DATE_FROM: new Date(now - 4 * DAY_MS).toISOString(),
          SEARCH_DATE_TO: new Date(now - 2 * DAY_MS).toISOString(),
        }),
      );
      expect(window.notifications.map((n) => n.id)).toEqual([old]);

      const recent = list(
        await p.hook('im.notify.history.search', {
          SEARCH_TEXT: 'report',
          SEARCH_DATE_FROM: new Date(now - DAY_MS).toISOString(),
          SEARCH_DATE_TO: new Date(now + DAY_MS).toISOString(),
        }),
      );
      expect(recent.notifications.map((n) => n.id)).toEqual([fresh]);
    });

    it('pages with LAST_ID, and only the first page carries total_results', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push(await send(p, 1, `report ${i}`));
      ids.reverse();
      const first = list(await p.hook('im.notify.history.search', { SEARCH_TEXT: 'report', LIMIT: 2 }));
      expect(first.total_results).toBe(5);
      expect(first.notifications.map((n) => n.id)).toEqual(ids.slice(0, 2));
      const second = list(
        await p.hook('im.notify.history.search', { SEARCH_TEXT: 'report', LIMIT: 2, LAST_ID: ids[1] }),
      );
      expect(Object.keys(second)).toEqual(['chat_id', 'notifications', 'users']);
      expect(second.notifications.map((n) => n.id)).toEqual(ids.slice(2, 4));
      const third = list(
        await p.hook('im.notify.history.search', { SEARCH_TEXT: 'report', LIMIT: 2, LAST_ID: ids[3] }),
      );
      expect(third.notifications.map((n) => n.id)).toEqual(ids.slice(4));
      expect(third.total_results).toBeUndefined();
    });

    it('a LAST_ID that is not a number is LAST_ID_STRING', async () => {
      expectError(
        await p.hook('im.notify.history.search', { SEARCH_TEXT: 'report', LAST_ID: 'x' }),
        400,
        'LAST_ID_STRING',
        "Last notification ID can't be string",
      );
    });
  });

  describe('im.notify.answer and im.notify.confirm', () => {
    it('a REST-created notification takes no reply and no button press by default: result_message false', async () => {
      const id = await send(p, 1, 'Reply?');
      expect(ok(await p.hook('im.notify.answer', { NOTIFY_ID: id, ANSWER_TEXT: 'Yes' }))).toEqual({
        result_message: false,
      });
      expect(ok(await p.hook('im.notify.confirm', { NOTIFY_ID: id, NOTIFY_VALUE: 'Y' }))).toEqual({
        result_message: false,
      });
      const [n] = await stored(p);
      expect(n?.answers).toEqual([]);
      expect(n?.read).toBe(false);
    });

    it.each([['NOTIFY_ID'], ['ID']])('answer takes the id as %s and records the answer', async (key) => {
      await acceptReplies();
      const id = await send(p, 1, 'Reply?');
      const a = await p.hook('im.notify.answer', { [key]: id, ANSWER_TEXT: ' Yes ' });
      expect(ok(a)).toEqual({ result_message: ['Your response has been successfully sent.'] });
      expect((await stored(p))[0]?.answers).toMatchObject([{ kind: 'answer', text: 'Yes' }]);
    });

    it("answer to a notification that is not the caller's answers result_message false", async () => {
      const id = await send(p, 2, 'not yours');
      expect(ok(await p.hook('im.notify.answer', { NOTIFY_ID: id, ANSWER_TEXT: 'x' }))).toEqual({
        result_message: false,
      });
      expect(ok(await p.hook('im.notify.answer', { NOTIFY_ID: 999_999, ANSWER_TEXT: 'x' }))).toEqual({
        result_message: false,
      });
      expect((await stored(p))[0]?.answers).toEqual([]);
    });

    it.each([['NOTIFY_ID'], ['ID']])(
      'confirm takes the id as %s and answers result_message false',
      async (key) => {
        await acceptReplies();
        const id = await send(p, 1, 'Confirm?');
        expect(ok(await p.hook('im.notify.confirm', { [key]: id, NOTIFY_VALUE: 'Y' }))).toEqual({
          result_message: false,
        });
        expect((await stored(p))[0]?.answers).toMatchObject([{ kind: 'confirm', text: 'Y' }]);
      },
    );

    it.each([
      ['im.notify.answer', { ANSWER_TEXT: 'x' }],
      ['im.notify.answer', { NOTIFY_ID: 0, ANSWER_TEXT: 'x' }],
      ['im.notify.answer', { ID: -3 }],
      ['im.notify.confirm', { NOTIFY_VALUE: 'Y' }],
      ['im.notify.confirm', { NOTIFY_ID: 'abc', NOTIFY_VALUE: 'Y' }],
    ])('%s %j is ID_ERROR', async (method, params) => {
      expectError(await p.hook(method, params), 400, 'ID_ERROR', "Notification ID can't be empty");
    });

    it.each([[{}], [{ ANSWER_TEXT: '' }], [{ ANSWER_TEXT: '   ' }]])(
      'answer with %j is ANSWER_TEXT_ERROR',
      async (params) => {
        const id = await send(p, 1, 'Reply?');
        expectError(
          await p.hook('im.notify.answer', { NOTIFY_ID: id, ...params }),
          400,
          'ANSWER_TEXT_ERROR',
          "ANSWER_TEXT can't be empty",
        );
      },
    );

    it.each([[{}], [{ NOTIFY_VALUE: '' }]])('confirm with %j is NOTIFY_VALUE_ERROR', async (params) => {
      const id = await send(p, 1, 'Confirm?');
      expectError(
        await p.hook('im.notify.confirm', { NOTIFY_ID: id, ...params }),
        400,
        'NOTIFY_VALUE_ERROR',
        "Notification Value can't be empty",
      );
    });
  });

  describe('im.notify.schema.get', () => {
    it('lists modules by module id, each with NAME, MODULE_ID and a LIST of {ID, NAME}', async () => {
      const schema = ok(await p.hook('im.notify.schema.get')) as Record<string, Record<string, unknown>>;
      expect(Object.keys(schema).length).toBeGreaterThan(0);
      for (const [key, module] of Object.entries(schema)) {
        expect(Object.keys(module)).toEqual(['NAME', 'MODULE_ID', 'LIST']);
        expect(module.MODULE_ID).toBe(key);
        expect(module.NAME).toBeTypeOf('string');
        const items = module.LIST as { ID: string; NAME: string }[];
        expect(items.length).toBeGreaterThan(0);
        for (const item of items) {
          expect(Object.keys(item)).toEqual(['ID', 'NAME']);
          expect(item.ID.startsWith(`${key}|`)).toBe(true);
          expect(item.NAME).toBeTypeOf('string');
        }
      }
      expect(schema.rest?.LIST).toContainEqual({ ID: 'rest|rest_notify', NAME: expect.any(String) });
    });

    it('answers the older lower-case keys under schemaKeys lower', async () => {
      expect((await p.control('PUT', '/portal', { schemaKeys: 'lower' })).status).toBe(200);
      try {
        const schema = ok(await p.hook('im.notify.schema.get')) as Record<string, unknown>;
        expect(schema.rest).toEqual({
          name: 'Applications',
          module_id: 'rest',
          list: [{ id: 'rest|rest_notify', name: 'Application notifications' }],
        });
      } finally {
        await p.control('PUT', '/portal', { schemaKeys: 'upper' });
      }
    });
  });

  describe('profile, server.time, user.get', () => {
    it('profile answers the caller, ID as a string', async () => {
      expect(ok(await p.hook('profile'))).toEqual({
        ID: '1',
        ADMIN: true,
        NAME: 'Anna',
        LAST_NAME: 'Admin',
        PERSONAL_GENDER: '',
        TIME_ZONE: '',
      });
      const token = await tokenFor(p, { clientId: APP_TWO, userId: 5 });
      expect(ok(await p.oauth('profile', {}, token))).toMatchObject({
        ID: '5',
        ADMIN: false,
        NAME: 'Dmitry',
      });
    });

    it('server.time answers YYYY-MM-DDThh:mm:ss±hh:mm, now', async () => {
      const result = ok(await p.hook('server.time'));
      expect(result).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
      expect(Math.abs(Date.parse(result as string) - Date.now())).toBeLessThan(60_000);
    });

    it('user.get pages 50 at a time with total and next', async () => {
      const first = await p.hook('user.get');
      const users = ok(first) as { ID: string }[];
      expect(users).toHaveLength(50);
      expect(users.map((u) => u.ID)).toEqual(USERS.slice(0, 50).map((u) => String(u.ID)));
      expect(first.body.total).toBe(61);
      expect(first.body.next).toBe(50);
      expect(Object.keys(first.body)).toEqual(['result', 'total', 'next', 'time']);

      const last = await p.hook('user.get', { start: 50 });
      expect((ok(last) as { ID: string }[]).map((u) => u.ID)).toEqual(
        USERS.slice(50).map((u) => String(u.ID)),
      );
      expect(last.body.total).toBe(61);
      expect('next' in last.body).toBe(false);
    });

    it('user.get filters, wrapped in FILTER or as top-level keys', async () => {
      const one = await p.hook('user.get', { FILTER: { ID: 3 } });
      expect(ok(one)).toEqual([
        expect.objectContaining({ ID: '3', NAME: 'Clara', LAST_NAME: 'Smirnova', ACTIVE: true }),
      ]);
      expect(one.body.total).toBe(1);
      expect('next' in one.body).toBe(false);
      const some = ok(await p.hook('user.get', { filter: { '@ID': [2, 5] } })) as { ID: string }[];
      expect(some.map((u) => u.ID)).toEqual(['2', '5']);
      const top = ok(await p.hook('user.get', { LAST_NAME: 'Ivanov' })) as { ID: string }[];
      expect(top.map((u) => u.ID)).toEqual(['5']);
      const desc = ok(await p.hook('user.get', { FILTER: { '@ID': [1, 2, 3] }, ORDER: 'DESC' })) as {
        ID: string;
      }[];
      expect(desc.map((u) => u.ID)).toEqual(['3', '2', '1']);
    });

    it.each([[true], ['Y'], ['1'], [false], ['N']])('user.get filters ACTIVE given as %j', async (active) => {
      const a = await p.hook('user.get', { FILTER: { ACTIVE: active, '@ID': [1, 2, 20] } });
      const ids = (ok(a) as { ID: string; ACTIVE: boolean }[]).map((u) => [u.ID, u.ACTIVE]);
      const wantActive = active === true || active === 'Y' || active === '1';
      expect(ids).toEqual(
        wantActive
          ? [
              ['1', true],
              ['2', true],
            ]
          : [['20', false]],
      );
    });
  });
});

describe.each(TRANSPORTS)('dates in the portal time zone over %s', (transport) => {
  let p: TestPortal;
  beforeAll(async () => {
    p = await startTestPortal(transport, { portal: { timezone: '+03:00' } });
  });
  afterAll(async () => {
    await p.close();
  });
  beforeEach(async () => {
    expect((await p.control('POST', '/reset')).status).toBe(200);
  });

  it('server.time and notification dates carry the portal offset', async () => {
    expect(ok(await p.hook('server.time'))).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00$/);
    await send(p, 1, 'dated');
    const [item] = list(await p.hook('im.notify.get')).notifications;
    expect(item?.date).toMatch(/\+03:00$/);
    expect(Math.abs(Date.parse(item?.date ?? '') - Date.now())).toBeLessThan(60_000);
  });

  // The local day's first and last second fall on different UTC days, so whatever the hour,
  // one of the three forms catches a search that cuts days in UTC.
  it('SEARCH_DATE means a calendar day in the portal time zone', async () => {
    await send(p, 1, 'today');
    const [item] = list(await p.hook('im.notify.get')).notifications;
    const localDay = (item?.date ?? '').slice(0, 10);
    for (const date of [localDay, `${localDay}T00:00:00+03:00`, `${localDay}T23:59:59+03:00`]) {
      const r = list(await p.hook('im.notify.history.search', { SEARCH_DATE: date }));
      expect(r.notifications.map((n) => n.id)).toEqual([item?.id]);
    }
  });
});
