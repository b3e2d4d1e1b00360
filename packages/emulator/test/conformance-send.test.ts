/**
 * Conformance of the three send methods (spec §5, research §1): im.notify.personal.add,
 * im.notify.system.add and im.notify, over real HTTP and HTTPS, with the stored result read
 * back through the inspection API.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEFAULT_USERS } from '../src/config.js';
import { RestError } from '../src/errors.js';
import { METHODS } from '../src/methods/index.js';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

/** A notification as the inspection API lists it. */
interface Stored {
  id: number;
  userId: number;
  authorId: number;
  type: 'personal' | 'system';
  message: string;
  messageOut: string;
  tag: string | null;
  subTag: string | null;
  appKey: string;
  clientId: string | null;
}

const APP_ONE = 'local.app-one';
const APP_TWO = 'local.app-two';
const HOOK_CODE = 'hookcode0001';

async function stored(p: TestPortal, query = ''): Promise<Stored[]> {
  const a = await p.control('GET', `/notifications${query}`);
  expect(a.status).toBe(200);
  return (a.body as { notifications: Stored[] }).notifications;
}

function expectError(a: Answer, status: number, error: string, description: string): void {
  expect(a.status).toBe(status);
  expect(a.json).toEqual({ error, error_description: description });
}

/** The id a send call answered, failing the test when it answered anything else. */
function idOf(a: Answer): number {
  expect(a.status).toBe(200);
  const id = a.body.result;
  expect(typeof id).toBe('number');
  return id as number;
}

async function tokenFor(p: TestPortal, body: { clientId?: string; userId?: number }): Promise<string> {
  const a = await p.control('POST', '/tokens', body);
  expect(a.status).toBe(200);
  return (a.body as { accessToken: string }).accessToken;
}

describe.each(TRANSPORTS)('send methods over %s', (transport) => {
  let p: TestPortal;

  beforeAll(async () => {
    p = await startTestPortal(transport, {
      portal: {
        users: [...DEFAULT_USERS.map((u) => ({ ...u })), { ID: 20, NAME: 'Fired', ACTIVE: false }],
        webhooks: [{ userId: 1, code: HOOK_CODE, scopes: ['im', 'user', 'profile'] }],
        apps: [
          { clientId: APP_ONE, clientSecret: 'secret-one', scopes: ['im', 'user', 'profile'] },
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
    expect(
      (await p.control('PUT', '/portal', { messageOutDefault: 'empty', tagsWithoutClientId: 'webhook' }))
        .status,
    ).toBe(200);
  });

  describe('result and author', () => {
    it.each([
      ['im.notify.personal.add', {}, 'personal', 1],
      ['im.notify.system.add', {}, 'system', 0],
      ['im.notify', {}, 'personal', 1],
      ['im.notify', { TYPE: 'USER' }, 'personal', 1],
      ['im.notify', { TYPE: 'SYSTEM' }, 'system', 0],
    ] as const)('%s %j through a webhook answers the new id', async (method, extra, type, author) => {
      const a = await p.hook(method, { USER_ID: 2, MESSAGE: 'Hello', ...extra });
      const id = idOf(a);
      expect(Number.isInteger(id) && id > 0).toBe(true);
      expect(Object.keys(a.body)).toEqual(['result', 'time']);
      const [n] = await stored(p, '?user=2');
      expect(n).toMatchObject({ id, userId: 2, authorId: author, type, message: 'Hello' });
    });

    it('gives each notification a new, increasing id', async () => {
      const first = idOf(await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'one' }));
      const second = idOf(await p.hook('im.notify.system.add', { USER_ID: 3, MESSAGE: 'two' }));
      expect(second).toBeGreaterThan(first);
    });

    it('makes the token user the author of a personal notification, and nobody of a system one', async () => {
      const token = await tokenFor(p, { clientId: APP_ONE, userId: 5 });
      const personal = idOf(await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'p' }, token));
      const system = idOf(await p.oauth('im.notify.system.add', { USER_ID: 2, MESSAGE: 's' }, token));
      const viaNotify = idOf(await p.oauth('im.notify', { USER_ID: 2, MESSAGE: 'n' }, token));
      const list = await stored(p, '?user=2');
      const byId = new Map(list.map((n) => [n.id, n]));
      expect(byId.get(personal)).toMatchObject({ authorId: 5, type: 'personal', clientId: APP_ONE });
      expect(byId.get(system)).toMatchObject({ authorId: 0, type: 'system', clientId: APP_ONE });
      expect(byId.get(viaNotify)).toMatchObject({ authorId: 5, type: 'personal' });
    });

    it('accepts USER_ID as a string, as a form body sends it', async () => {
      const id = idOf(await p.hook('im.notify.personal.add', { USER_ID: '3', MESSAGE: 'x' }));
      expect((await stored(p, '?user=3')).map((n) => n.id)).toEqual([id]);
    });

    it('answers false for a recipient the portal does not have or who was fired, and stores nothing', async () => {
      for (const method of ['im.notify.personal.add', 'im.notify.system.add', 'im.notify']) {
        for (const userId of [999, 20]) {
          const a = await p.hook(method, { USER_ID: userId, MESSAGE: 'Hello' });
          expect(a.status).toBe(200);
          expect(a.body.result).toBe(false);
        }
      }
      expect(await stored(p)).toEqual([]);
    });
  });

  describe('MESSAGE', () => {
    it('is trimmed at both ends before it is stored', async () => {
      const message = ' \t\n Build [B]42[/B] failed\n  second line \r\n ';
      const id = idOf(await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: message }));
      const id2 = idOf(await p.hook('im.notify.system.add', { USER_ID: 2, MESSAGE: '  sys  ' }));
      const list = await stored(p, '?user=2');
      expect(list.find((n) => n.id === id)?.message).toBe('Build [B]42[/B] failed\n  second line');
      expect(list.find((n) => n.id === id2)?.message).toBe('sys');
    });

    it.each([
      ['im.notify.personal.add', ''],
      ['im.notify.personal.add', '   \n\t '],
      ['im.notify.personal.add', undefined],
      ['im.notify.system.add', ' '],
      ['im.notify', ''],
    ])('%s with MESSAGE %j is MESSAGE_EMPTY', async (method, message) => {
      const a = await p.hook(method, { USER_ID: 2, ...(message === undefined ? {} : { MESSAGE: message }) });
      expectError(a, 400, 'MESSAGE_EMPTY', "Message can't be empty");
      expect(await stored(p)).toEqual([]);
    });
  });

  describe('USER_ID', () => {
    it.each([
      ['missing', undefined],
      ['zero', 0],
      ['negative', -5],
      ['negative as text', '-1'],
      ['empty text', ''],
      ['not a number', 'abc'],
    ])('%s is USER_ID_EMPTY', async (_label, userId) => {
      for (const method of ['im.notify.personal.add', 'im.notify.system.add', 'im.notify']) {
        const a = await p.hook(method, {
          MESSAGE: 'Hello',
          ...(userId === undefined ? {} : { USER_ID: userId }),
        });
        expectError(a, 400, 'USER_ID_EMPTY', "User ID can't be empty");
      }
      expect(await stored(p)).toEqual([]);
    });

    it('is checked before MESSAGE', async () => {
      expectError(
        await p.hook('im.notify.personal.add', { MESSAGE: '' }),
        400,
        'USER_ID_EMPTY',
        "User ID can't be empty",
      );
    });
  });

  describe('MESSAGE_OUT', () => {
    it('is stored as given, and empty when absent', async () => {
      const withOut = idOf(
        await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'in', MESSAGE_OUT: 'for e-mail' }),
      );
      const without = idOf(await p.hook('im.notify.system.add', { USER_ID: 2, MESSAGE: 'in' }));
      const list = await stored(p, '?user=2');
      expect(list.find((n) => n.id === withOut)?.messageOut).toBe('for e-mail');
      expect(list.find((n) => n.id === without)?.messageOut).toBe('');
    });

    it('defaults to MESSAGE with messageOutDefault "message", as the older docs said', async () => {
      expect((await p.control('PUT', '/portal', { messageOutDefault: 'message' })).status).toBe(200);
      const without = idOf(await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: '  trimmed  ' }));
      const withOut = idOf(await p.hook('im.notify', { USER_ID: 2, MESSAGE: 'in', MESSAGE_OUT: 'out' }));
      const list = await stored(p, '?user=2');
      expect(list.find((n) => n.id === without)?.messageOut).toBe('trimmed');
      expect(list.find((n) => n.id === withOut)?.messageOut).toBe('out');
    });
  });

  describe('TAG and SUB_TAG', () => {
    it('a tag is unique within an OAuth app: the new notification replaces the old ones, for any recipient', async () => {
      const token = await tokenFor(p, { clientId: APP_ONE, userId: 1 });
      const first = idOf(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'a', TAG: 'T' }, token),
      );
      const second = idOf(
        await p.oauth('im.notify.system.add', { USER_ID: 3, MESSAGE: 'b', TAG: 'T' }, token),
      );
      const other = idOf(await p.oauth('im.notify', { USER_ID: 2, MESSAGE: 'c', TAG: 'U' }, token));
      expect((await stored(p)).map((n) => n.id)).toEqual([other, second]);
      expect(first).toBeLessThan(second);

      const third = idOf(await p.oauth('im.notify', { USER_ID: 5, MESSAGE: 'd', TAG: 'T' }, token));
      expect((await stored(p, '?tag=T')).map((n) => n.id)).toEqual([third]);
    });

    it('another app has a tag space of its own', async () => {
      const one = await tokenFor(p, { clientId: APP_ONE });
      const two = await tokenFor(p, { clientId: APP_TWO });
      const a = idOf(await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'a', TAG: 'T' }, one));
      const b = idOf(await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'b', TAG: 'T' }, two));
      expect((await stored(p, '?tag=T')).map((n) => [n.id, n.appKey])).toEqual([
        [b, `app:${APP_TWO}`],
        [a, `app:${APP_ONE}`],
      ]);
    });

    it('a webhook CLIENT_ID is a tag space of its own, apart from the webhook without one', async () => {
      const a = idOf(await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'a', TAG: 'T' }));
      const b = idOf(
        await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'b', TAG: 'T', CLIENT_ID: 'hook.app' }),
      );
      const c = idOf(await p.hook('im.notify.system.add', { USER_ID: 3, MESSAGE: 'c', TAG: 'T' }));
      const d = idOf(
        await p.hook('im.notify.system.add', { USER_ID: 3, MESSAGE: 'd', TAG: 'T', CLIENT_ID: 'hook.app' }),
      );
      const list = await stored(p, '?tag=T');
      expect(list.map((n) => n.id)).toEqual([d, c]);
      expect(a).toBeLessThan(c);
      expect(b).toBeLessThan(d);
      expect(list.map((n) => [n.appKey, n.clientId])).toEqual([
        ['app:hook.app', 'hook.app'],
        ['webhook#1', null],
      ]);
    });

    it('under tagsWithoutClientId ignore, a webhook without CLIENT_ID sets no tag and replaces nothing', async () => {
      expect((await p.control('PUT', '/portal', { tagsWithoutClientId: 'ignore' })).status).toBe(200);
      const a = idOf(
        await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'a', TAG: 'T', SUB_TAG: 'S' }),
      );
      const b = idOf(
        await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'b', TAG: 'T', SUB_TAG: 'S' }),
      );
      // Both stay, untagged: the second replaced nothing.
      expect((await stored(p)).map((n) => [n.id, n.tag, n.subTag])).toEqual([
        [b, null, null],
        [a, null, null],
      ]);
      // With CLIENT_ID the tag is applied and unique as usual.
      const c = idOf(
        await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'c', TAG: 'T', CLIENT_ID: 'hook.app' }),
      );
      const d = idOf(
        await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'd', TAG: 'T', CLIENT_ID: 'hook.app' }),
      );
      expect((await stored(p, '?tag=T')).map((n) => n.id)).toEqual([d]);
      expect(c).toBeLessThan(d);
      // An OAuth app always knows its application.
      const token = await tokenFor(p, { clientId: APP_ONE });
      const e = idOf(await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'e', TAG: 'T' }, token));
      expect((await stored(p, '?tag=T')).map((n) => n.id)).toEqual([e, d]);
    });

    it("a webhook passing an OAuth app's client id as CLIENT_ID shares that app's tag space", async () => {
      const token = await tokenFor(p, { clientId: APP_ONE });
      idOf(await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'app', TAG: 'T' }, token));
      const viaHook = idOf(
        await p.hook('im.notify.personal.add', { USER_ID: 3, MESSAGE: 'hook', TAG: 'T', CLIENT_ID: APP_ONE }),
      );
      expect((await stored(p, '?tag=T')).map((n) => n.id)).toEqual([viaHook]);
      const back = idOf(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'app', TAG: 'T' }, token),
      );
      expect((await stored(p, '?tag=T')).map((n) => n.id)).toEqual([back]);
    });

    it('reads tags back prefixed with the application', async () => {
      const token = await tokenFor(p, { clientId: APP_ONE, userId: 2 });
      await p.oauth(
        'im.notify.personal.add',
        { USER_ID: 2, MESSAGE: 'x', TAG: 'TASK_42', SUB_TAG: 'TASK|42' },
        token,
      );
      const got = await p.oauth('im.notify.get', {}, token);
      const [item] = (got.body.result as { notifications: Record<string, unknown>[] }).notifications;
      expect(item).toMatchObject({
        notify_tag: `MP|${APP_ONE}|TASK_42`,
        notify_sub_tag: `MP|${APP_ONE}|TASK|42`,
      });
    });

    it('SUB_TAG has no uniqueness', async () => {
      const token = await tokenFor(p, { clientId: APP_ONE });
      const a = idOf(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'a', SUB_TAG: 'S' }, token),
      );
      const b = idOf(
        await p.oauth('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'b', SUB_TAG: 'S' }, token),
      );
      const c = idOf(
        await p.hook('im.notify.personal.add', {
          USER_ID: 2,
          MESSAGE: 'c',
          SUB_TAG: 'S',
          CLIENT_ID: APP_ONE,
        }),
      );
      const list = await stored(p, '?tag=S');
      expect(list.map((n) => n.id)).toEqual([c, b, a]);
      expect(list.every((n) => n.subTag === 'S' && n.tag === null)).toBe(true);
    });

    it('a notification that was not created replaces nothing', async () => {
      const kept = idOf(await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'a', TAG: 'T' }));
      expect(
        (await p.hook('im.notify.personal.add', { USER_ID: 999, MESSAGE: 'b', TAG: 'T' })).body.result,
      ).toBe(false);
      expect((await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: ' ', TAG: 'T' })).status).toBe(
        400,
      );
      expect((await stored(p, '?tag=T')).map((n) => n.id)).toEqual([kept]);
    });
  });

  describe('session authorization', () => {
    const cases = [
      ['im.notify.personal.add', 'Access for this method not allowed by session authorization'],
      ['im.notify.system.add', 'Access for this method not allowed by session authorization.'],
      ['im.notify', 'Access for this method not allowed by session authorization.'],
    ] as const;

    it.each(cases)(
      'the %s handler refuses a session caller with WRONG_AUTH_TYPE 403',
      (method, description) => {
        const handler = METHODS.get(method)?.handler;
        expect(handler).toBeDefined();
        let thrown: unknown;
        try {
          handler?.(
            { USER_ID: 3, MESSAGE: 'Hello' },
            {
              portal: p.emu.portal,
              caller: {
                kind: 'session',
                userId: 2,
                scopes: ['*all*'],
                budgetKey: 'session:x',
                clientId: null,
              },
              now: Date.now(),
              requestId: 0,
              created: [],
              inBatch: false,
            },
          );
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(RestError);
        expect(thrown).toMatchObject({ code: 'WRONG_AUTH_TYPE', description, status: 403 });
      },
    );

    it.each(cases)('%s over the wire answers WRONG_AUTH_TYPE 403', async (method, description) => {
      const session = await p.control('POST', '/sessions', { userId: 2 });
      expect(session.status).toBe(200);
      const { sessid } = session.body as { sessid: string };
      const a = await p.request(`/rest/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `PHPSESSID=${sessid}` },
        body: JSON.stringify({ sessid, USER_ID: 3, MESSAGE: 'Hello' }),
      });
      expectError(a, 403, 'WRONG_AUTH_TYPE', description);
      expect(await stored(p)).toEqual([]);
    });
  });
});
