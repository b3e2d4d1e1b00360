import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, test } from 'vitest';
import {
  attach,
  B24ApiError,
  B24ValidationError,
  delimiter,
  file,
  grid,
  image,
  link,
  message,
  user,
  type Attach,
  type AttachBlock,
  type AttachObject,
  type Client,
  type GetResult,
  type HistorySearchResult,
  type ReadAllResult,
  type RespondResult,
  type SchemaModule,
  type TimeBlock,
} from '../src/index.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

/** A notification as the emulator's inspection API shows it. */
interface Stored {
  id: number;
  userId: number;
  authorId: number;
  type: 'personal' | 'system';
  message: string;
  messageOut: string;
  tag: string | null;
  subTag: string | null;
  clientId: string | null;
  attach: unknown;
  read: boolean;
  answers: { kind: string; text: string }[];
}

/** One entry of the emulator's request log. */
interface Logged {
  method: string;
  params: Record<string, unknown>;
  status: number;
}

/**
 * What the emulator stores for an attachment: its normalized shape (full form with the
 * default colour, IMAGE and FILE as lists, the documented DELIMITER width). The fields
 * themselves must be exactly those built.
 */
function storedShape(a: Attach): unknown {
  const head: Partial<AttachObject> = Array.isArray(a) ? {} : a;
  const blocks: readonly AttachBlock[] = Array.isArray(a) ? a : a.BLOCKS;
  return {
    colorToken: head.COLOR_TOKEN ?? 'base',
    ...(head.ID !== undefined ? { id: head.ID } : {}),
    ...(head.COLOR !== undefined ? { color: head.COLOR } : {}),
    blocks: blocks.map((b) => {
      if (b.IMAGE) return { IMAGE: [b.IMAGE].flat() };
      if (b.FILE) return { FILE: [b.FILE].flat() };
      if (b.DELIMITER) return { DELIMITER: { SIZE: 200, ...b.DELIMITER } };
      return b;
    }),
  };
}

function expectTime(time: TimeBlock | undefined): void {
  expect(time).toBeDefined();
  expect(typeof time?.start).toBe('number');
  expect(typeof time?.duration).toBe('number');
  expect(typeof time?.operating).toBe('number');
  expect(typeof time?.operating_reset_at).toBe('number');
  expect(time?.date_start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
}

/** Runs `run`, which must reject with a B24ValidationError naming `field`. */
async function expectInvalid(run: () => Promise<unknown>, field: string): Promise<B24ValidationError> {
  const error: unknown = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(B24ValidationError);
  expect((error as B24ValidationError).field).toBe(field);
  expect((error as B24ValidationError).delivery).toBe('not-delivered');
  return error as B24ValidationError;
}

describe.each(TRANSPORTS)('notify over %s', (transport) => {
  let p: TestPortal;
  let b24: Client;

  const stored = (id: number) => p.control<Stored>('GET', `/notifications/${id}`);
  const storedFor = async (query: string) =>
    (await p.control<{ total: number; notifications: Stored[] }>('GET', `/notifications?${query}`))
      .notifications;
  const requests = async (method?: string) =>
    (
      await p.control<{ requests: Logged[] }>(
        'GET',
        `/requests?limit=1000${method ? `&method=${method}` : ''}`,
      )
    ).requests;
  /** The parameters of the latest call of `method`, masked, as the portal parsed them. */
  const sent = async (method: string) => {
    const [last] = await requests(method);
    expect(last, `a logged ${method} request`).toBeDefined();
    return last?.params ?? {};
  };
  /** Sends `count` notifications to the webhook's own user (1), oldest first; their ids. */
  const fill = async (count: number, text = 'note') => {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const { result } = await b24.notify.personal({ userId: 1, message: `${text} ${i}` });
      if (result === false) throw new Error('not created');
      ids.push(result);
    }
    return ids;
  };

  beforeAll(async () => {
    p = await startPortal(transport);
  });
  afterAll(() => p.close());
  beforeEach(async () => {
    await p.control('POST', '/reset');
    await p.control('PUT', '/portal', { restNotificationReplies: 'none' });
    b24 = p.webhookClient({ retry: false });
  });

  describe('personal and system', () => {
    test('personal: every parameter reaches the portal under its Bitrix24 name', async () => {
      const att = attach([message('Deal [B]#42[/B] won')]);
      const answer = await b24.notify.personal({
        userId: 2,
        message: '  Invoice [B]paid[/B]  ',
        messageOut: 'Invoice paid (e-mail)',
        tag: 'INVOICE_7',
        subTag: 'INVOICES',
        attach: att,
        clientId: 'app.call',
      });
      expectTypeOf(answer.result).toEqualTypeOf<number | false>();
      expect(typeof answer.result).toBe('number');
      expectTime(answer.time);

      expect(await sent('im.notify.personal.add')).toEqual({
        USER_ID: 2,
        MESSAGE: '  Invoice [B]paid[/B]  ',
        MESSAGE_OUT: 'Invoice paid (e-mail)',
        TAG: 'INVOICE_7',
        SUB_TAG: 'INVOICES',
        ATTACH: att,
        CLIENT_ID: 'app.call',
      });
      const n = await stored(answer.result as number);
      expect(n).toMatchObject({
        userId: 2,
        authorId: 1,
        type: 'personal',
        message: 'Invoice [B]paid[/B]',
        messageOut: 'Invoice paid (e-mail)',
        tag: 'INVOICE_7',
        subTag: 'INVOICES',
        clientId: 'app.call',
        read: false,
      });
      expect(n.attach).toEqual(storedShape(att));
    });

    test('system: no author, the same parameters', async () => {
      const answer = await b24.notify.system({
        userId: 3,
        message: 'Backup done',
        messageOut: 'Backup done (mail)',
        tag: 'BACKUP',
        subTag: 'OPS',
        clientId: 'app.sys',
      });
      expectTime(answer.time);
      expect(await sent('im.notify.system.add')).toEqual({
        USER_ID: 3,
        MESSAGE: 'Backup done',
        MESSAGE_OUT: 'Backup done (mail)',
        TAG: 'BACKUP',
        SUB_TAG: 'OPS',
        CLIENT_ID: 'app.sys',
      });
      expect(await stored(answer.result as number)).toMatchObject({
        userId: 3,
        authorId: 0,
        type: 'system',
        message: 'Backup done',
        tag: 'BACKUP',
        subTag: 'OPS',
        clientId: 'app.sys',
        attach: null,
      });
    });

    test('absent and empty options stay off the wire', async () => {
      const { result } = await b24.notify.personal({
        userId: 2,
        message: 'plain',
        messageOut: '',
        tag: '',
        subTag: '',
        attach: '',
      });
      expect(await sent('im.notify.personal.add')).toEqual({ USER_ID: 2, MESSAGE: 'plain' });
      expect(await stored(result as number)).toMatchObject({
        messageOut: '',
        tag: null,
        subTag: null,
        clientId: null,
        attach: null,
      });
    });

    test('the client option clientId is sent as CLIENT_ID; a call may override it', async () => {
      b24 = p.webhookClient({ retry: false, clientId: 'app.client' });
      const a = await b24.notify.personal({ userId: 2, message: 'one', tag: 'T' });
      expect((await sent('im.notify.personal.add')).CLIENT_ID).toBe('app.client');
      expect((await stored(a.result as number)).clientId).toBe('app.client');
      const b = await b24.notify.system({ userId: 2, message: 'two' });
      expect((await sent('im.notify.system.add')).CLIENT_ID).toBe('app.client');
      expect((await stored(b.result as number)).clientId).toBe('app.client');
      const c = await b24.notify.personal({ userId: 2, message: 'three', clientId: 'app.other' });
      expect((await stored(c.result as number)).clientId).toBe('app.other');
      await b24.notify.delete({ tag: 'T' });
      expect(await sent('im.notify.delete')).toEqual({ TAG: 'T', CLIENT_ID: 'app.client' });
      expect(await storedFor('tag=T')).toEqual([]);
    });

    test('a tag is unique within the application: resending replaces', async () => {
      await b24.notify.personal({ userId: 2, message: 'v1', tag: 'ORDER_1', clientId: 'app' });
      const { result } = await b24.notify.personal({
        userId: 2,
        message: 'v2',
        tag: 'ORDER_1',
        clientId: 'app',
      });
      const left = await storedFor('user=2&tag=ORDER_1');
      expect(left.map((n) => [n.id, n.message])).toEqual([[result, 'v2']]);
    });

    test('a recipient who is no active user gets nothing: result false', async () => {
      const answer = await b24.notify.personal({ userId: 4, message: 'nobody' });
      expect(answer.result).toBe(false);
    });

    test('the token client sends the same parameters', async () => {
      const answer = await p.tokenClient().notify.personal({ userId: 5, message: 'via token', tag: 'TK' });
      expect(await stored(answer.result as number)).toMatchObject({ userId: 5, tag: 'TK', authorId: 1 });
      const params = await sent('im.notify.personal.add');
      expect(params).toMatchObject({ USER_ID: 5, MESSAGE: 'via token', TAG: 'TK', auth: '***' });
    });
  });

  describe('delete', () => {
    test('by id', async () => {
      const [id] = await fill(1);
      const answer = await b24.notify.delete({ id: id as number });
      expectTypeOf(answer.result).toEqualTypeOf<boolean>();
      expect(answer.result).toBe(true);
      expectTime(answer.time);
      expect(await sent('im.notify.delete')).toEqual({ ID: id });
      expect(await storedFor('user=1')).toEqual([]);
    });

    test('by tag and by sub-tag, with CLIENT_ID', async () => {
      const send = (message: string, tag: string, subTag: string) =>
        b24.notify.personal({ userId: 2, message, tag, subTag, clientId: 'app' });
      await send('a', 'A', 'GROUP');
      await send('b', 'B', 'GROUP');
      const { result: keep } = await send('c', 'C', 'OTHER');

      expect((await b24.notify.delete({ tag: 'A', clientId: 'app' })).result).toBe(true);
      expect(await sent('im.notify.delete')).toEqual({ TAG: 'A', CLIENT_ID: 'app' });
      expect((await storedFor('user=2')).map((n) => n.message).sort()).toEqual(['b', 'c']);

      expect((await b24.notify.delete({ subTag: 'GROUP', clientId: 'app' })).result).toBe(true);
      expect(await sent('im.notify.delete')).toEqual({ SUB_TAG: 'GROUP', CLIENT_ID: 'app' });
      expect((await storedFor('user=2')).map((n) => n.id)).toEqual([keep]);
    });

    test("the portal's refusal of a tag without CLIENT_ID through a webhook is typed", async () => {
      const error: unknown = await b24.notify.delete({ tag: 'X' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(B24ApiError);
      expect((error as B24ApiError).code).toBe('ACCESS_DENIED');
    });
  });

  describe('read state', () => {
    test('read: one notification (ONLY_CURRENT=Y), or all from an id on', async () => {
      const [a, b, c] = (await fill(3)) as [number, number, number];
      const one = await b24.notify.read({ id: b, onlyCurrent: true });
      expect(one.result).toBe(true);
      expectTime(one.time);
      expect(await sent('im.notify.read')).toEqual({ ID: b, ACTION: 'Y', ONLY_CURRENT: 'Y' });
      expect([(await stored(a)).read, (await stored(b)).read, (await stored(c)).read]).toEqual([
        false,
        true,
        false,
      ]);

      await b24.notify.read({ id: b });
      expect(await sent('im.notify.read')).toEqual({ ID: b, ACTION: 'Y', ONLY_CURRENT: 'N' });
      expect([(await stored(a)).read, (await stored(c)).read]).toEqual([false, true]);

      await b24.notify.read({ id: a, read: false });
      expect(await sent('im.notify.read')).toEqual({ ID: a, ACTION: 'N', ONLY_CURRENT: 'N' });
      expect((await storedFor('user=1')).map((n) => n.read)).toEqual([false, false, false]);

      await b24.notify.read({ id: 0, read: true });
      expect(await sent('im.notify.read')).toEqual({ ID: 0, ACTION: 'Y', ONLY_CURRENT: 'N' });
    });

    test('readList: IDS and ACTION', async () => {
      const [a, b, c] = (await fill(3)) as [number, number, number];
      const answer = await b24.notify.readList({ ids: [a, c] });
      expect(answer.result).toBe(true);
      expectTime(answer.time);
      expect(await sent('im.notify.read.list')).toEqual({ IDS: [a, c], ACTION: 'Y' });
      expect([(await stored(a)).read, (await stored(b)).read, (await stored(c)).read]).toEqual([
        true,
        false,
        true,
      ]);
      await b24.notify.readList({ ids: [c], read: false });
      expect(await sent('im.notify.read.list')).toEqual({ IDS: [c], ACTION: 'N' });
      expect((await stored(c)).read).toBe(false);
    });

    test('readAll: {result, newCounter}', async () => {
      await fill(2);
      const answer = await b24.notify.readAll();
      expectTypeOf(answer.result).toEqualTypeOf<ReadAllResult>();
      expect(answer.result).toEqual({ result: true, newCounter: 0 });
      expectTime(answer.time);
      expect(await sent('im.notify.read.all')).toEqual({});
      expect((await storedFor('user=1&unread=1')).length).toBe(0);
    });
  });

  describe('get', () => {
    test('typed result fields, LIMIT and CONVERT_TEXT', async () => {
      const [first, second] = (await fill(2)) as [number, number];
      await b24.notify.read({ id: first, onlyCurrent: true });
      const answer = await p.tokenClient().notify.get({ limit: 1, convertText: true });
      expectTypeOf(answer.result).toEqualTypeOf<GetResult>();
      expectTime(answer.time);
      expect(await sent('im.notify.get')).toEqual({ LIMIT: 1, CONVERT_TEXT: 'Y', auth: '***' });
      const r = answer.result;
      expect(r.total_count).toBe(2);
      expect(r.total_unread_count).toBe(1);
      expect(typeof r.chat_id).toBe('number');
      expect(r.notifications).toHaveLength(1);
      expect(r.notifications[0]).toMatchObject({
        id: second,
        author_id: 1,
        notify_module: 'rest',
        notify_event: 'rest_notify',
        setting_name: 'rest|rest_notify',
        text: 'note 1',
        notify_read: 'N',
        params: null,
      });
      expect(r.notifications[0]?.date).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(r.users.map((u) => [u.id, typeof u.name, typeof u.active])).toEqual([[1, 'string', 'boolean']]);

      await b24.notify.get({ convertText: false });
      expect(await sent('im.notify.get')).toEqual({ CONVERT_TEXT: 'N' });
      await b24.notify.get();
      expect(await sent('im.notify.get')).toEqual({});
    });

    test('a user with no notifications: lists only', async () => {
      const { result } = await b24.notify.get();
      expect(result).toEqual({ notifications: [], users: [] });
    });

    test('pages through 120 notifications with lastId and lastType 3', async () => {
      // Batches of 40 keep the setup to three requests.
      for (let page = 0; page < 3; page++) {
        const commands = Array.from(
          { length: 40 },
          (_, i) => ['im.notify.personal.add', { USER_ID: 1, MESSAGE: `n${page * 40 + i}` }] as const,
        );
        const { errors } = await b24.batch(commands);
        expect(errors).toEqual({});
      }
      const all = (await storedFor('user=1&limit=1000')).map((n) => n.id);
      expect(all).toHaveLength(120);

      const seen: number[] = [];
      const sizes: number[] = [];
      let lastId: number | undefined;
      for (let i = 0; i < 10; i++) {
        const { result } = await b24.notify.get(lastId === undefined ? {} : { lastId, lastType: 3 });
        if (result.notifications.length === 0) break;
        sizes.push(result.notifications.length);
        seen.push(...result.notifications.map((n) => n.id));
        lastId = result.notifications.at(-1)?.id;
      }
      expect(sizes).toEqual([50, 50, 20]);
      expect(seen).toEqual(all);
      expect(seen).toEqual([...seen].sort((x, y) => y - x));
      expect(await sent('im.notify.get')).toEqual({ LAST_ID: seen.at(-1), LAST_TYPE: 3 });
    });
  });

  describe('historySearch', () => {
    test('every parameter reaches the portal', async () => {
      await b24.notify.historySearch({
        searchText: 'invoice',
        searchType: 'rest|rest_notify',
        searchTypes: ['rest', 'rest|rest_notify'],
        searchDate: '2026-03-03',
        searchDateFrom: '2026-03-01T00:00:00+00:00',
        searchDateTo: '2026-03-31T00:00:00+00:00',
        searchAuthors: [1, 2],
        lastId: 500,
        limit: 20,
        convertText: true,
        groupTag: 'GROUP',
      });
      expect(await sent('im.notify.history.search')).toEqual({
        SEARCH_TEXT: 'invoice',
        SEARCH_TYPE: 'rest|rest_notify',
        SEARCH_TYPES: ['rest', 'rest|rest_notify'],
        SEARCH_DATE: '2026-03-03',
        SEARCH_DATE_FROM: '2026-03-01T00:00:00+00:00',
        SEARCH_DATE_TO: '2026-03-31T00:00:00+00:00',
        SEARCH_AUTHORS: [1, 2],
        LAST_ID: 500,
        LIMIT: 20,
        CONVERT_TEXT: 'Y',
        GROUP_TAG: 'GROUP',
      });
    });

    test('finds by text; total_results on the first page only', async () => {
      await fill(3, 'invoice');
      await fill(2, 'other');
      const first = await b24.notify.historySearch({ searchText: 'invoice', limit: 2 });
      expectTypeOf(first.result).toEqualTypeOf<HistorySearchResult>();
      expectTime(first.time);
      expect(first.result.total_results).toBe(3);
      expect(typeof first.result.chat_id).toBe('number');
      expect(first.result.notifications.map((n) => n.text)).toEqual(['invoice 2', 'invoice 1']);
      const lastId = first.result.notifications.at(-1)?.id;
      const next = await b24.notify.historySearch({ searchText: 'invoice', lastId, limit: 2 });
      expect(next.result.total_results).toBeUndefined();
      expect(next.result.notifications.map((n) => n.text)).toEqual(['invoice 0']);

      // A filter other than the text lifts the three-character minimum.
      const byAuthor = await b24.notify.historySearch({ searchAuthors: [1] });
      expect(byAuthor.result.total_results).toBe(5);
    });

    test('groupTag filters by tag or sub-tag', async () => {
      await b24.notify.personal({ userId: 1, message: 'tagged', subTag: 'G1', clientId: 'app' });
      await fill(1, 'untagged');
      const { result } = await b24.notify.historySearch({ searchText: 'tag', groupTag: 'G1' });
      expect(result.notifications.map((n) => n.text)).toEqual(['tagged']);
    });
  });

  describe('answer, confirm, schema', () => {
    test('answer and confirm of a REST-created notification: result_message false, as on a portal', async () => {
      const [id] = (await fill(1)) as [number];
      expect((await b24.notify.answer({ notifyId: id, answerText: 'On it' })).result.result_message).toBe(
        false,
      );
      expect((await b24.notify.confirm({ notifyId: id, notifyValue: 'Y' })).result.result_message).toBe(
        false,
      );
      expect((await stored(id)).answers).toEqual([]);
    });

    test('answer: NOTIFY_ID and ANSWER_TEXT; result_message', async () => {
      // A portal whose notifications take replies, so the success path is exercised.
      await p.control('PUT', '/portal', { restNotificationReplies: 'accept' });
      const [id] = (await fill(1)) as [number];
      const answer = await b24.notify.answer({ notifyId: id, answerText: 'On it' });
      expectTypeOf(answer.result).toEqualTypeOf<RespondResult>();
      expectTime(answer.time);
      expect(await sent('im.notify.answer')).toEqual({ NOTIFY_ID: id, ANSWER_TEXT: 'On it' });
      expect(answer.result.result_message).toEqual(['Your response has been successfully sent.']);
      expect((await stored(id)).answers).toMatchObject([{ kind: 'answer', text: 'On it' }]);
    });

    test('confirm: NOTIFY_ID and NOTIFY_VALUE; result_message', async () => {
      await p.control('PUT', '/portal', { restNotificationReplies: 'accept' });
      const [id] = (await fill(1)) as [number];
      const answer = await b24.notify.confirm({ notifyId: id, notifyValue: 'Y' });
      expectTypeOf(answer.result).toEqualTypeOf<RespondResult>();
      expectTime(answer.time);
      expect(await sent('im.notify.confirm')).toEqual({ NOTIFY_ID: id, NOTIFY_VALUE: 'Y' });
      // Notifications sent through REST have no buttons: the documented `false`.
      expect(answer.result.result_message).toBe(false);
      expect((await stored(id)).answers).toMatchObject([{ kind: 'confirm', text: 'Y' }]);
    });

    test('schema: modules with their notification types', async () => {
      const answer = await b24.notify.schema();
      expectTypeOf(answer.result).toEqualTypeOf<Record<string, SchemaModule>>();
      expectTime(answer.time);
      expect(await sent('im.notify.schema.get')).toEqual({});
      expect(answer.result.rest).toEqual({
        NAME: expect.any(String),
        MODULE_ID: 'rest',
        LIST: [{ ID: 'rest|rest_notify', NAME: expect.any(String) }],
      });
    });
  });

  describe('ATTACH from the builders arrives intact', () => {
    const blocks: [string, AttachBlock][] = [
      ['message', message('Deal [B]#42[/B] is [URL=/crm/deal/details/42/]won[/URL]')],
      [
        'link',
        link({
          link: 'https://example.com/ticket/1',
          name: 'Ticket #1',
          desc: 'Needs a reply',
          html: '<b>Needs</b> a reply',
          preview: 'https://example.com/p.png',
          width: 1000,
          height: 638,
          userId: 2,
          chatId: 7,
          networkId: 'net1',
        }),
      ],
      [
        'user',
        user({
          name: 'Sales bot',
          avatar: '/upload/bot.png',
          link: 'https://example.com/bot',
          userId: 3,
          chatId: 4,
          botId: 5,
          networkId: 'n5',
          avatarType: 'BOT',
        }),
      ],
      [
        'grid',
        grid('LINE', [
          {
            name: 'Priority',
            value: '[B]High[/B]',
            width: 250,
            height: 20,
            colorToken: 'alert',
            color: '#ff0000',
            link: '/tasks/1/',
            userId: 1,
            chatId: 2,
          },
          { name: 'Category', value: 'Requests' },
        ]),
      ],
      ['grid ROW without names', grid('ROW', [{ value: 'whole row' }, { name: 'only name' }])],
      [
        'one image',
        image({ link: 'https://example.com/a.png', name: 'A', preview: '/p.png', width: 10, height: 20 }),
      ],
      ['images', image([{ link: 'https://example.com/a.png' }, { link: '/b.png', name: 'B' }])],
      ['one file', file({ link: 'https://example.com/r.pdf', name: 'r.pdf', size: 1_500_000 })],
      ['files', file([{ link: '/a.txt' }, { link: '/b.txt', size: 0 }])],
      ['delimiter', delimiter({ size: 300, color: '#c6c6c6' })],
      ['default delimiter', delimiter()],
    ];

    test.each(blocks)('%s', async (_name, block) => {
      const att = attach([block]);
      const { result } = await b24.notify.personal({ userId: 2, message: 'with attach', attach: att });
      expect(await sent('im.notify.personal.add')).toMatchObject({ ATTACH: att });
      expect((await stored(result as number)).attach).toEqual(storedShape(att));
    });

    test('the full form with every block, and as a JSON string', async () => {
      const att = attach(
        blocks.map(([, b]) => b),
        { id: 9, colorToken: 'primary', color: '#29619b' },
      );
      const a = await b24.notify.system({ userId: 1, message: 'full', attach: att });
      const shape = storedShape(att);
      expect((await stored(a.result as number)).attach).toEqual(shape);
      const b = await b24.notify.personal({ userId: 2, message: 'text', attach: JSON.stringify(att) });
      expect(await sent('im.notify.personal.add')).toMatchObject({ ATTACH: att });
      expect((await stored(b.result as number)).attach).toEqual(shape);
      // And read back through im.notify.get, in the portal's own upper-case names.
      const { result } = await b24.notify.get();
      expect(result.notifications[0]?.params).toEqual({
        ATTACH: [
          { ID: 9, COLOR_TOKEN: 'primary', COLOR: '#29619b', BLOCKS: (shape as { blocks: unknown }).blocks },
        ],
      });
    });
  });

  describe('local validation: nothing is sent', () => {
    const big = attach([message('x'.repeat(60_001))]);
    const cases: [string, (c: Client) => Promise<unknown>, string][] = [
      ['personal without userId', (c) => c.notify.personal({ message: 'x' } as never), 'userId'],
      ['personal with userId 0', (c) => c.notify.personal({ userId: 0, message: 'x' }), 'userId'],
      ['system with userId 1.5', (c) => c.notify.system({ userId: 1.5, message: 'x' }), 'userId'],
      [
        'personal with userId "2"',
        (c) => c.notify.personal({ userId: '2' as never, message: 'x' }),
        'userId',
      ],
      ['personal without message', (c) => c.notify.personal({ userId: 2 } as never), 'message'],
      ['system with a blank message', (c) => c.notify.system({ userId: 2, message: '  ' }), 'message'],
      ['a non-string tag', (c) => c.notify.personal({ userId: 2, message: 'x', tag: 5 as never }), 'tag'],
      [
        'a bad attach block',
        (c) => c.notify.personal({ userId: 2, message: 'x', attach: [{ IMAGE: { LINK: 'javascript:x' } }] }),
        'attach[0].IMAGE.LINK',
      ],
      ['attach as bad JSON', (c) => c.notify.personal({ userId: 2, message: 'x', attach: '[{' }), 'attach'],
      ['an oversize attach', (c) => c.notify.personal({ userId: 2, message: 'x', attach: big }), 'attach'],
      ['delete with none', (c) => c.notify.delete({} as never), 'params'],
      ['delete with id and tag', (c) => c.notify.delete({ id: 1, tag: 'T' } as never), 'params'],
      ['delete with tag and subTag', (c) => c.notify.delete({ tag: 'T', subTag: 'S' } as never), 'params'],
      ['delete with id -1', (c) => c.notify.delete({ id: -1 }), 'id'],
      ['delete with a blank tag', (c) => c.notify.delete({ tag: ' ' }), 'tag'],
      ['read with id -1', (c) => c.notify.read({ id: -1 }), 'id'],
      ['read with id 1.5', (c) => c.notify.read({ id: 1.5 }), 'id'],
      ['readList with no ids', (c) => c.notify.readList({ ids: [] }), 'ids'],
      ['readList with a bad id', (c) => c.notify.readList({ ids: [1, 0] }), 'ids[1]'],
      ['get with lastId only', (c) => c.notify.get({ lastId: 5 }), 'lastType'],
      ['get with lastType only', (c) => c.notify.get({ lastType: 3 }), 'lastId'],
      ['get with lastType 2', (c) => c.notify.get({ lastId: 5, lastType: 2 as never }), 'lastType'],
      ['get with lastId 0', (c) => c.notify.get({ lastId: 0, lastType: 3 }), 'lastId'],
      ['get with limit 51', (c) => c.notify.get({ limit: 51 }), 'limit'],
      ['get with limit 0', (c) => c.notify.get({ limit: 0 }), 'limit'],
      ['historySearch with "ab"', (c) => c.notify.historySearch({ searchText: 'ab' }), 'searchText'],
      ['historySearch with nothing', (c) => c.notify.historySearch({}), 'searchText'],
      [
        'historySearch with a date range missing its end',
        (c) => c.notify.historySearch({ searchDateFrom: '2026-01-01' }),
        'searchDateTo',
      ],
      [
        'historySearch with limit 51',
        (c) => c.notify.historySearch({ searchText: 'abc', limit: 51 }),
        'limit',
      ],
      [
        'historySearch with a bad lastId',
        (c) => c.notify.historySearch({ searchText: 'abc', lastId: -2 }),
        'lastId',
      ],
      [
        'historySearch with a bad author',
        (c) => c.notify.historySearch({ searchAuthors: [1, 0] }),
        'searchAuthors[1]',
      ],
      ['answer without an id', (c) => c.notify.answer({ answerText: 'x' } as never), 'notifyId'],
      ['answer with blank text', (c) => c.notify.answer({ notifyId: 1, answerText: ' ' }), 'answerText'],
      ['confirm with id 0', (c) => c.notify.confirm({ notifyId: 0, notifyValue: 'Y' }), 'notifyId'],
      ['confirm without a value', (c) => c.notify.confirm({ notifyId: 1 } as never), 'notifyValue'],
    ];

    test.each(cases)('%s', async (_name, run, field) => {
      const error = await expectInvalid(() => run(b24), field);
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(error.method).toMatch(/^im\.notify\./);
      expect(await requests()).toEqual([]);
    });

    test('a validation error is a rejected promise, never a synchronous throw', () => {
      let thrown: unknown;
      let promise: Promise<unknown> | undefined;
      try {
        promise = b24.notify.personal({ userId: 0, message: 'x' });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeUndefined();
      return expect(promise).rejects.toBeInstanceOf(B24ValidationError);
    });

    test("the portal's own errors arrive as B24ApiError with the code", async () => {
      const error: unknown = await b24
        .call('im.notify.personal.add', { USER_ID: 0, MESSAGE: 'x' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(B24ApiError);
      expect((error as B24ApiError).code).toBe('USER_ID_EMPTY');
    });
  });
});
