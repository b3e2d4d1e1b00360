import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { toQuery } from '../src/query.js';
import {
  attach,
  B24ApiError,
  B24NetworkError,
  B24ValidationError,
  BATCH_LIMIT,
  delimiter,
  file,
  grid,
  image,
  link,
  message,
  user,
  type BatchCommand,
  type Client,
  type TimeBlock,
} from '../src/index.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

/** A notification as the emulator's inspection API shows it. */
interface Stored {
  id: number;
  userId: number;
  message: string;
  tag: string | null;
  read: boolean;
  attach: unknown;
}

/** One entry of the emulator's request log. */
interface Logged {
  method: string;
  params: Record<string, unknown>;
  status: number;
  fault?: string;
}

function send(userId: number, text: string, extra: Record<string, unknown> = {}): BatchCommand {
  return ['im.notify.personal.add', { USER_ID: userId, MESSAGE: text, ...extra }];
}

function expectTime(time: TimeBlock | undefined): void {
  expect(typeof time?.start).toBe('number');
  expect(typeof time?.finish).toBe('number');
  expect(typeof time?.duration).toBe('number');
  expect(typeof time?.processing).toBe('number');
  expect(time?.date_start).toMatch(/^\d{4}-\d{2}-\d{2}T/);
}

describe('toQuery: PHP keys, as batch commands carry parameters', () => {
  test('nesting, lists, booleans, and the characters that would end a value', () => {
    expect(
      toQuery({
        USER_ID: 5,
        MESSAGE: 'a&b=c #1 + 100%',
        IDS: [1, 2],
        FLAG: true,
        OFF: false,
        NONE: undefined,
        NULL: null,
        ATTACH: [{ IMAGE: { LINK: 'https://x.test/a.png?s=1&t=2', NAME: 'Ы' } }],
      }),
    ).toBe(
      'USER_ID=5&MESSAGE=a%26b%3Dc%20%231%20%2B%20100%25&IDS[0]=1&IDS[1]=2&FLAG=1&OFF=0' +
        '&ATTACH[0][IMAGE][LINK]=https%3A%2F%2Fx.test%2Fa.png%3Fs%3D1%26t%3D2&ATTACH[0][IMAGE][NAME]=%D0%AB',
    );
  });

  test('$result references stay readable', () => {
    expect(toQuery({ ID: '$result[send][0]' })).toBe('ID=$result[send][0]');
  });

  test('an empty object or list is kept as an empty value, not dropped', () => {
    // `{ DELIMITER: {} }` is a whole block: dropping the key would drop the block.
    expect(toQuery({ ATTACH: [{ DELIMITER: {} }], IDS: [] })).toBe('ATTACH[0][DELIMITER]=&IDS=');
  });
});

describe.each(TRANSPORTS)('batch over %s', (transport) => {
  let p: TestPortal;
  let b24: Client;

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

  beforeAll(async () => {
    p = await startPortal(transport);
  });
  afterAll(() => p.close());
  beforeEach(async () => {
    await p.control('POST', '/reset');
    b24 = p.webhookClient({ retry: false });
  });

  test('map form: results, times and totals by key; the batch time', async () => {
    const answer = await b24.batch({
      first: send(2, 'one', { TAG: 'T1', CLIENT_ID: 'app' }),
      second: ['im.notify.system.add', { USER_ID: 3, MESSAGE: 'two' }],
      schema: ['im.notify.schema.get'],
    });
    expect(answer.errors).toEqual({});
    expect(Object.keys(answer.result)).toEqual(['first', 'second', 'schema']);
    expect(typeof answer.result.first).toBe('number');
    expect(typeof answer.result.second).toBe('number');
    expect(answer.result.schema).toHaveProperty('rest.MODULE_ID', 'rest');
    expect(Object.keys(answer.time)).toEqual(['first', 'second', 'schema']);
    expectTime(answer.time.first);
    expectTime(answer.batchTime);
    expect(answer.total).toEqual({});
    expect(answer.next).toEqual({});

    const [first] = await storedFor('user=2');
    expect(first).toMatchObject({ id: answer.result.first, message: 'one', tag: 'T1' });
    const [second] = await storedFor('user=3');
    expect(second).toMatchObject({ id: answer.result.second, message: 'two' });

    // One HTTP request, with the commands as method?query strings.
    const logged = await requests();
    expect(logged.map((r) => r.method)).toEqual(['batch']);
    expect(logged[0]?.params).toMatchObject({
      halt: 0,
      cmd: {
        first: 'im.notify.personal.add?USER_ID=2&MESSAGE=one&TAG=T1&CLIENT_ID=app',
        second: 'im.notify.system.add?USER_ID=3&MESSAGE=two',
        schema: 'im.notify.schema.get',
      },
    });
  });

  test('list form: results keyed 0, 1, … even when all succeed', async () => {
    const answer = await b24.batch([send(2, 'a'), send(2, 'b'), ['im.notify.read.all']]);
    expect(answer.errors).toEqual({});
    const stored = (await storedFor('user=2')).map((n) => n.id).reverse();
    expect(answer.result).toEqual({ 0: stored[0], 1: stored[1], 2: { result: true, newCounter: 0 } });
    expect(Object.keys(answer.time)).toEqual(['0', '1', '2']);
  });

  test('errors by key are the error classes; the rest still runs', async () => {
    const answer = await b24.batch({
      bad: send(0, 'nobody'),
      empty: send(2, '   '),
      good: send(2, 'fine'),
    });
    expect(Object.keys(answer.errors)).toEqual(['bad', 'empty']);
    const bad = answer.errors.bad;
    expect(bad).toBeInstanceOf(B24ApiError);
    expect(bad).toMatchObject({
      code: 'USER_ID_EMPTY',
      description: "User ID can't be empty",
      status: 400,
      method: 'batch[bad]',
      delivery: 'not-delivered',
    });
    expect(answer.errors.empty).toMatchObject({ code: 'MESSAGE_EMPTY' });
    expect(Object.keys(answer.result)).toEqual(['good']);
    // A failed command has no time block.
    expect(Object.keys(answer.time)).toEqual(['good']);
  });

  test('list form with failures: errors and results under their positions', async () => {
    const answer = await b24.batch([send(0, 'x'), send(2, 'ok'), send(-1, 'y')]);
    expect(Object.keys(answer.errors)).toEqual(['0', '2']);
    expect(answer.errors[0]).toBeInstanceOf(B24ApiError);
    expect(answer.errors[2]?.code).toBe('USER_ID_EMPTY');
    expect(Object.keys(answer.result)).toEqual(['1']);

    const onlyFirstFails = await b24.batch([send(0, 'x'), send(2, 'ok')]);
    expect(Object.keys(onlyFirstFails.errors)).toEqual(['0']);
    expect(onlyFirstFails.errors[0]?.code).toBe('USER_ID_EMPTY');
    expect(Object.keys(onlyFirstFails.result)).toEqual(['1']);
  });

  test('$result[key] refers to an earlier answer', async () => {
    const answer = await b24.batch({
      sent: send(1, 'to read'),
      other: send(1, 'stays unread'),
      read: ['im.notify.read', { ID: '$result[sent]', ONLY_CURRENT: 'Y' }],
      gone: ['im.notify.delete', { ID: '$result[other]' }],
      list: ['im.notify.get', { LIMIT: 1 }],
      first: ['im.notify.read.list', { IDS: ['$result[list][notifications][0][id]'], ACTION: 'N' }],
    });
    expect(answer.errors).toEqual({});
    expect(answer.result.gone).toBe(true);
    const left = await storedFor('user=1');
    expect(left.map((n) => [n.id, n.read])).toEqual([[answer.result.sent, false]]);
    expect(answer.result.list).toMatchObject({ notifications: [{ id: answer.result.sent }] });
  });

  test('halt stops at the first error; without it the rest runs', async () => {
    const commands = { a: send(2, 'before'), b: send(0, 'bad'), c: send(2, 'after') };
    const halted = await b24.batch(commands, { halt: true });
    expect((await requests('batch'))[0]?.params).toMatchObject({ halt: 1 });
    expect(Object.keys(halted.result)).toEqual(['a']);
    expect(Object.keys(halted.errors)).toEqual(['b']);
    expect((await storedFor('user=2')).map((n) => n.message)).toEqual(['before']);

    const all = await b24.batch(commands);
    expect((await requests('batch'))[0]?.params).toMatchObject({ halt: 0 });
    expect(Object.keys(all.result)).toEqual(['a', 'c']);
    expect(Object.keys(all.errors)).toEqual(['b']);
  });

  test('nested ATTACH, encoded as PHP keys, survives', async () => {
    const att = attach(
      [
        message('Deal [B]#42[/B] & co = 100%'),
        link({ link: '/crm/deal/details/42/', name: 'Deal #42', width: 1000, userId: 2 }),
        user({ name: 'Bot', avatarType: 'BOT', botId: 7 }),
        grid('LINE', [{ name: 'Sum', value: '1 000 ₽', colorToken: 'alert', width: 250 }, { name: 'X' }]),
        image([{ link: 'https://example.com/a.png?x=1&y=2', width: 10 }, { link: '/b.png' }]),
        file({ link: '/r.pdf', name: 'r.pdf', size: 0 }),
        delimiter(),
        delimiter({ size: 300, color: '#c6c6c6' }),
      ],
      { id: 3, colorToken: 'secondary', color: '#abc' },
    );
    const answer = await b24.batch({ withAttach: send(2, 'attached', { ATTACH: att }) });
    expect(answer.errors).toEqual({});
    const [n] = await storedFor('user=2');
    expect(n?.attach).toEqual({
      id: 3,
      colorToken: 'secondary',
      color: '#abc',
      blocks: [
        { MESSAGE: 'Deal [B]#42[/B] & co = 100%' },
        { LINK: { LINK: '/crm/deal/details/42/', NAME: 'Deal #42', WIDTH: 1000, USER_ID: 2 } },
        { USER: { NAME: 'Bot', AVATAR_TYPE: 'BOT', BOT_ID: 7 } },
        {
          GRID: [
            { NAME: 'Sum', VALUE: '1 000 ₽', COLOR_TOKEN: 'alert', WIDTH: 250, DISPLAY: 'LINE' },
            { NAME: 'X', DISPLAY: 'LINE' },
          ],
        },
        { IMAGE: [{ LINK: 'https://example.com/a.png?x=1&y=2', WIDTH: 10 }, { LINK: '/b.png' }] },
        { FILE: [{ LINK: '/r.pdf', NAME: 'r.pdf', SIZE: 0 }] },
        { DELIMITER: { SIZE: 200 } },
        { DELIMITER: { SIZE: 300, COLOR: '#c6c6c6' } },
      ],
    });
    const [logged] = await requests('batch');
    expect((logged?.params.cmd as Record<string, string>).withAttach).toContain(
      'ATTACH[BLOCKS][4][IMAGE][0][LINK]=',
    );
  });

  test('more than 50 commands are refused locally, and nothing is sent', async () => {
    const commands = Array.from({ length: BATCH_LIMIT + 1 }, (_, i) => send(2, `n${i}`));
    const error: unknown = await b24.batch(commands).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(B24ValidationError);
    expect((error as B24ValidationError).field).toBe('commands');
    expect((error as B24ValidationError).message).toMatch(/51 commands.*at most 50.*split/);
    expect(await requests()).toEqual([]);

    const ok = await b24.batch(commands.slice(0, BATCH_LIMIT));
    expect(Object.keys(ok.result)).toHaveLength(BATCH_LIMIT);
    expect(ok.errors).toEqual({});
  });

  test('malformed commands are refused locally, and nothing is sent', async () => {
    const cases: [unknown, string][] = [
      [[], 'commands'],
      [{}, 'commands'],
      [{ a: ['im notify'] }, 'commands.a'],
      [{ a: ['batch', {}] }, 'commands.a'],
      [[['BATCH']], 'commands.0'],
      [null, 'commands'],
      [{ a: 'im.notify.get' }, 'commands.a'],
      [{ a: ['im.notify.get', 'LIMIT=1'] }, 'commands.a'],
    ];
    for (const [commands, field] of cases) {
      const error: unknown = await b24.batch(commands as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(B24ValidationError);
      expect((error as B24ValidationError).field).toBe(field);
    }
    expect(await requests()).toEqual([]);
  });

  describe('retries', () => {
    beforeEach(() => {
      b24 = p.webhookClient({ retry: { limit: 2 } });
    });
    const fault = (type: 'reset' | 'truncate') =>
      p.control('PUT', '/chaos', { seed: 1, rules: [{ method: 'batch', sequence: [{ type }] }] });

    test('a batch of tagged sends is retried after a reset', async () => {
      await fault('reset');
      const answer = await b24.batch({
        a: send(2, 'a', { TAG: 'A', CLIENT_ID: 'app' }),
        b: send(2, 'b', { TAG: 'B', CLIENT_ID: 'app' }),
        r: ['im.notify.read.all'],
      });
      expect(Object.keys(answer.result)).toEqual(['a', 'b', 'r']);
      expect((await requests('batch')).map((r) => r.fault ?? 'ok')).toEqual(['ok', 'reset']);
      expect((await storedFor('user=2')).map((n) => n.tag).sort()).toEqual(['A', 'B']);
    });

    test('an untagged batch is not retried after a reset', async () => {
      await fault('reset');
      const error: unknown = await b24
        .batch({ a: send(2, 'a', { TAG: 'A', CLIENT_ID: 'app' }), b: send(2, 'b') })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(B24NetworkError);
      expect((error as B24NetworkError).delivery).toBe('unknown');
      expect((await requests('batch')).map((r) => r.fault)).toEqual(['reset']);
    });

    test('an answer cut off after the batch ran: tagged retried without duplicates, untagged not', async () => {
      await fault('truncate');
      await b24.batch({
        a: send(2, 'a', { TAG: 'A', CLIENT_ID: 'app' }),
        b: send(2, 'b', { TAG: 'B', CLIENT_ID: 'app' }),
      });
      expect(await requests('batch')).toHaveLength(2);
      expect((await storedFor('user=2')).map((n) => n.message).sort()).toEqual(['a', 'b']);

      await p.control('POST', '/reset');
      await fault('truncate');
      const error: unknown = await b24.batch({ a: send(3, 'a'), b: send(3, 'b') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(B24NetworkError);
      expect(await requests('batch')).toHaveLength(1);
      expect((await storedFor('user=3')).map((n) => n.message).sort()).toEqual(['a', 'b']);
    });
  });
});
