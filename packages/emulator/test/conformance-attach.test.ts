/**
 * Conformance of ATTACH over the wire (spec §6, research §12): every top-level form and
 * encoding, each block type stored normalized, structure errors, the size limit, and OPI's
 * blocks. The parser's finer rules have their own unit tests in attach.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

interface Stored {
  id: number;
  attach: unknown;
}

const IMG = 'https://files.example.test/bitrix/images/mantis.jpg';
const OVERSIZE = 'You have exceeded the maximum allowable size of attach';

/** The documented composite example (constructor.md), short form. */
const COMPOSITE = [
  {
    USER: { NAME: 'Mantis', AVATAR: 'https://files.example.test/mantis2.jpg', LINK: 'https://example.test/' },
  },
  { LINK: { NAME: 'Open Mantis', LINK: 'https://example.test/' } },
  { DELIMITER: { SIZE: 200, COLOR: '#c6c6c6' } },
  {
    GRID: [
      { NAME: 'Project', VALUE: 'BUGS', DISPLAY: 'LINE', WIDTH: 100 },
      { NAME: 'Category', VALUE: 'im', DISPLAY: 'LINE', WIDTH: 100 },
    ],
  },
  { GRID: [{ NAME: 'Summary', VALUE: 'Structured entities in messages.', DISPLAY: 'BLOCK' }] },
  {
    GRID: [
      { NAME: 'New ticket', VALUE: '', DISPLAY: 'ROW', WIDTH: 100 },
      { NAME: 'Deadline', VALUE: '04.11.2015 17:50:43', DISPLAY: 'ROW', WIDTH: 100 },
    ],
  },
];

async function stored(p: TestPortal): Promise<Stored[]> {
  const a = await p.control('GET', '/notifications');
  expect(a.status).toBe(200);
  return (a.body as { notifications: Stored[] }).notifications;
}

/** Send with ATTACH through the webhook; answers the attachment as the portal stored it. */
async function sendAttach(
  p: TestPortal,
  attach: unknown,
  method = 'im.notify.personal.add',
): Promise<unknown> {
  const a = await p.hook(method, { USER_ID: 2, MESSAGE: 'with attach', ATTACH: attach });
  expect(a.status).toBe(200);
  expect(a.body.result).toBeTypeOf('number');
  const [n] = await stored(p);
  expect(n?.id).toBe(a.body.result);
  return n?.attach;
}

function expectError(a: Answer, status: number, error: string, description: string): void {
  expect(a.status).toBe(status);
  expect(a.json).toEqual({ error, error_description: description });
}

function postForm(p: TestPortal, method: string, body: string): Promise<Answer> {
  return p.request(`${new URL(p.emu.webhookUrl).pathname}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

/** A MESSAGE block whose serialized ATTACH (a bare array of it) is exactly `length` characters. */
function attachOfLength(length: number): unknown[] {
  const overhead = JSON.stringify([{ MESSAGE: '' }]).length;
  return [{ MESSAGE: 'x'.repeat(length - overhead) }];
}

describe.each(TRANSPORTS)('ATTACH over %s', (transport) => {
  let p: TestPortal;

  beforeAll(async () => {
    p = await startTestPortal(transport);
  });
  afterAll(async () => {
    await p.close();
  });
  beforeEach(async () => {
    expect((await p.control('POST', '/reset')).status).toBe(200);
    const defaults = { attachMaxLength: 60_000, attachGridDisplays: 'mixed' };
    expect((await p.control('PUT', '/portal', defaults)).status).toBe(200);
  });

  describe('top-level forms and encodings', () => {
    const blocks = [{ MESSAGE: 'API in [B]im 24.0.0[/B]' }, { DELIMITER: { SIZE: 150, COLOR: '#c6c6c6' } }];
    const normalizedBlocks = [
      { MESSAGE: 'API in [B]im 24.0.0[/B]' },
      { DELIMITER: { SIZE: 150, COLOR: '#c6c6c6' } },
    ];
    const full = { ID: 1, COLOR_TOKEN: 'primary', COLOR: '#29619b', BLOCKS: blocks };
    const normalizedFull = { id: 1, colorToken: 'primary', color: '#29619b', blocks: normalizedBlocks };

    it('takes a bare array of blocks', async () => {
      expect(await sendAttach(p, blocks)).toEqual({ colorToken: 'base', blocks: normalizedBlocks });
    });

    it('takes the full form {ID, COLOR_TOKEN, COLOR, BLOCKS}', async () => {
      expect(await sendAttach(p, full)).toEqual(normalizedFull);
    });

    it('takes either form as a JSON string', async () => {
      expect(await sendAttach(p, JSON.stringify(blocks))).toEqual({
        colorToken: 'base',
        blocks: normalizedBlocks,
      });
      expect(await sendAttach(p, JSON.stringify(full, null, 2))).toEqual(normalizedFull);
    });

    it('takes the full form without COLOR_TOKEN as base', async () => {
      expect(await sendAttach(p, { BLOCKS: blocks })).toEqual({
        colorToken: 'base',
        blocks: normalizedBlocks,
      });
    });

    it.each([['im.notify.system.add'], ['im.notify']])('is accepted by %s too', async (method) => {
      expect(await sendAttach(p, blocks, method)).toEqual({ colorToken: 'base', blocks: normalizedBlocks });
    });

    it.each([
      ['an empty array', []],
      ['an empty string', ''],
      ['an empty JSON array', '[]'],
    ])('treats %s as no attachment', async (_label, attach) => {
      expect(await sendAttach(p, attach)).toBeNull();
    });

    it('takes PHP form keys in an urlencoded body', async () => {
      const body = [
        'USER_ID=2',
        'MESSAGE=form',
        `ATTACH[0][IMAGE][LINK]=${encodeURIComponent(IMG)}`,
        'ATTACH[0][IMAGE][NAME]=Image1',
        'ATTACH[1][FILE][0][LINK]=%2Fdisk%2Ff.docx',
        'ATTACH[1][FILE][0][SIZE]=1500',
        'ATTACH[2][GRID][0][DISPLAY]=LINE',
        'ATTACH[2][GRID][0][NAME]=Priority',
        'ATTACH[2][GRID][0][VALUE]=%5BB%5Dhigh%5B%2FB%5D',
        'ATTACH[2][GRID][0][WIDTH]=250',
        'ATTACH[3][DELIMITER]=',
      ].join('&');
      const a = await postForm(p, 'im.notify.personal.add', body);
      expect(a.status).toBe(200);
      expect((await stored(p))[0]?.attach).toEqual({
        colorToken: 'base',
        blocks: [
          { IMAGE: [{ LINK: IMG, NAME: 'Image1' }] },
          { FILE: [{ LINK: '/disk/f.docx', SIZE: 1500 }] },
          { GRID: [{ DISPLAY: 'LINE', NAME: 'Priority', VALUE: '[B]high[/B]', WIDTH: 250 }] },
          { DELIMITER: { SIZE: 200 } },
        ],
      });
    });

    it('takes the full form as PHP form keys', async () => {
      const body =
        'USER_ID=2&MESSAGE=form&ATTACH[ID]=7&ATTACH[COLOR_TOKEN]=alert&ATTACH[BLOCKS][0][MESSAGE]=Hi%20there';
      expect((await postForm(p, 'im.notify.personal.add', body)).status).toBe(200);
      expect((await stored(p))[0]?.attach).toEqual({
        id: 7,
        colorToken: 'alert',
        blocks: [{ MESSAGE: 'Hi there' }],
      });
    });

    it('takes a JSON string in a form field', async () => {
      const body = `USER_ID=2&MESSAGE=form&ATTACH=${encodeURIComponent(JSON.stringify(blocks))}`;
      expect((await postForm(p, 'im.notify.personal.add', body)).status).toBe(200);
      expect((await stored(p))[0]?.attach).toEqual({ colorToken: 'base', blocks: normalizedBlocks });
    });

    it('reads back in im.notify.get params as the portal shows it', async () => {
      const token = (await p.control('POST', '/tokens', { userId: 2 })).body as { accessToken: string };
      await sendAttach(p, full);
      const got = await p.oauth('im.notify.get', {}, token.accessToken);
      const [item] = (got.body.result as { notifications: { params: unknown }[] }).notifications;
      expect(item?.params).toEqual({
        ATTACH: [{ ID: 1, COLOR_TOKEN: 'primary', COLOR: '#29619b', BLOCKS: normalizedBlocks }],
      });
    });
  });

  describe('block types', () => {
    it.each([
      ['MESSAGE', { MESSAGE: 'Hi [USER=1]Anna[/USER][BR][URL=https://example.test]x[/URL]' }, null],
      [
        'LINK',
        {
          LINK: {
            PREVIEW: 'https://example.test/logo.png',
            WIDTH: 1000,
            HEIGHT: '638',
            NAME: 'Ticket #12345',
            DESC: 'Due for the release',
            HTML: '<b>Due</b>',
            LINK: 'https://api.example.test/',
            USER_ID: 1,
            CHAT_ID: '5',
            NETWORK_ID: 'n1',
            EXTRA: 'dropped',
          },
        },
        {
          LINK: {
            LINK: 'https://api.example.test/',
            NAME: 'Ticket #12345',
            DESC: 'Due for the release',
            HTML: '<b>Due</b>',
            PREVIEW: 'https://example.test/logo.png',
            WIDTH: 1000,
            HEIGHT: 638,
            USER_ID: 1,
            CHAT_ID: 5,
            NETWORK_ID: 'n1',
          },
        },
      ],
      [
        'USER',
        {
          USER: {
            NAME: 'Ivan Ivanov',
            AVATAR: '/upload/avatar.png',
            LINK: 'https://example.test',
            USER_ID: 3,
            BOT_ID: 0,
            AVATAR_TYPE: 'BOT',
          },
        },
        null,
      ],
      [
        'GRID',
        {
          GRID: [
            {
              NAME: 'Priority',
              VALUE: 'High',
              COLOR_TOKEN: 'alert',
              COLOR: '#ff0000',
              DISPLAY: 'LINE',
              WIDTH: 250,
              LINK: '/tasks/1/',
            },
            { NAME: 'Category', VALUE: 'Wishes', DISPLAY: 'LINE' },
          ],
        },
        null,
      ],
      [
        'IMAGE as an object',
        { IMAGE: { NAME: 'Mantis', LINK: IMG, PREVIEW: IMG, WIDTH: 1000, HEIGHT: 638 } },
        { IMAGE: [{ LINK: IMG, NAME: 'Mantis', PREVIEW: IMG, WIDTH: 1000, HEIGHT: 638 }] },
      ],
      [
        'IMAGE as a list',
        { IMAGE: [{ LINK: IMG }, { LINK: '/upload/b.png', NAME: 'b' }] },
        { IMAGE: [{ LINK: IMG }, { LINK: '/upload/b.png', NAME: 'b' }] },
      ],
      [
        'FILE',
        { FILE: [{ NAME: 'mantis.jpg', LINK: IMG, SIZE: '1500000' }] },
        { FILE: [{ LINK: IMG, NAME: 'mantis.jpg', SIZE: 1500000 }] },
      ],
      ['DELIMITER', { DELIMITER: { SIZE: 300, COLOR: '#ccc' } }, null],
      ['DELIMITER without fields', { DELIMITER: {} }, { DELIMITER: { SIZE: 200 } }],
      ['DELIMITER with a bad SIZE', { DELIMITER: { SIZE: 'wide' } }, { DELIMITER: { SIZE: 200 } }],
    ])('%s is accepted and stored normalized', async (_label, block, normalized) => {
      expect(await sendAttach(p, [block])).toEqual({ colorToken: 'base', blocks: [normalized ?? block] });
    });

    it("accepts the docs' composite example", async () => {
      const attach = (await sendAttach(p, COMPOSITE)) as { blocks: unknown[] };
      expect(attach.blocks).toHaveLength(COMPOSITE.length);
      expect(attach.blocks[3]).toEqual(COMPOSITE[3]);
    });

    it("accepts the constructor page's two examples and the block collection's, blocks in the order sent", async () => {
      // constructor.md example 1, as sent (hosts moved to example.test): a bare array.
      const card = [
        { USER: { NAME: 'Уведомления Mantis', AVATAR: `${IMG}`, LINK: 'https://example.test/' } },
        { LINK: { NAME: 'Открыть Mantis из внешней сети', LINK: 'https://example.test/' } },
        { DELIMITER: { SIZE: 200, COLOR: '#c6c6c6' } },
        {
          GRID: [
            { NAME: 'Проект', VALUE: 'BUGS', DISPLAY: 'LINE', WIDTH: 100 },
            { NAME: 'Категория', VALUE: 'im', DISPLAY: 'LINE', WIDTH: 100 },
            { NAME: 'Сводка', VALUE: 'Требуется реализовать вложения.', DISPLAY: 'BLOCK' },
          ],
        },
        { DELIMITER: { SIZE: 200, COLOR: '#c6c6c6' } },
        {
          GRID: [
            { NAME: 'Новое обращение', VALUE: '', DISPLAY: 'ROW', WIDTH: 100 },
            { NAME: 'Назначено', VALUE: 'Шеленков Евгений', DISPLAY: 'ROW', WIDTH: 100 },
            { NAME: 'Дедлайн', VALUE: '04.11.2015 17:50:43', DISPLAY: 'ROW', WIDTH: 100 },
          ],
        },
      ];
      // Stored normalized: the empty VALUE of "Новое обращение" is left out, as every empty text.
      const stored = JSON.parse(JSON.stringify(card).replace('"VALUE":"",', '')) as unknown[];
      expect(await sendAttach(p, card)).toEqual({ colorToken: 'base', blocks: stored });
      // Example 2: the full form with ID and COLOR but no COLOR_TOKEN.
      const info = {
        ID: 1,
        COLOR: '#29619b',
        BLOCKS: [{ MESSAGE: 'Обновление im 16.0.0 готово к выгрузке.' }, { IMAGE: { LINK: IMG } }],
      };
      expect(await sendAttach(p, info)).toEqual({
        id: 1,
        colorToken: 'base',
        color: '#29619b',
        blocks: [{ MESSAGE: 'Обновление im 16.0.0 готово к выгрузке.' }, { IMAGE: [{ LINK: IMG }] }],
      });
      // block-collections/index.md: four types mixed, a link from the portal root.
      const mixed = [
        { MESSAGE: 'Заявка №142' },
        { DELIMITER: { SIZE: 200, COLOR: '#c6c6c6' } },
        { GRID: [{ DISPLAY: 'ROW', NAME: 'Статус', VALUE: 'В работе' }] },
        { LINK: { NAME: 'Открыть заявку', LINK: '/crm/deal/details/142/' } },
      ];
      expect(await sendAttach(p, { BLOCKS: mixed })).toEqual({ colorToken: 'base', blocks: mixed });
    });

    it('takes a GRID mixing displays; attachGridDisplays one refuses it with ATTACH_ERROR', async () => {
      const mixed = [
        {
          GRID: [
            { NAME: 'a', DISPLAY: 'LINE' },
            { NAME: 'b', DISPLAY: 'BLOCK' },
          ],
        },
      ];
      expect(await sendAttach(p, mixed)).toEqual({ colorToken: 'base', blocks: mixed });
      expect((await p.control('PUT', '/portal', { attachGridDisplays: 'one' })).status).toBe(200);
      const refused = await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'x', ATTACH: mixed });
      expectError(refused, 400, 'ATTACH_ERROR', 'Incorrect attach params');
    });

    it("accepts OPI's blocks, as an array and as a JSON string", async () => {
      const opi = [
        { IMAGE: { NAME: 'Image1', LINK: 'https://example.test/picture.jpg' } },
        { FILE: { NAME: 'File1.docx', LINK: 'https://example.test/document.docx' } },
      ];
      const expected = {
        colorToken: 'base',
        blocks: [
          { IMAGE: [{ LINK: 'https://example.test/picture.jpg', NAME: 'Image1' }] },
          { FILE: [{ LINK: 'https://example.test/document.docx', NAME: 'File1.docx' }] },
        ],
      };
      expect(await sendAttach(p, opi)).toEqual(expected);
      expect(await sendAttach(p, JSON.stringify(opi))).toEqual(expected);
    });
  });

  describe('ATTACH_ERROR', () => {
    it.each([
      ['an unknown block', [{ VIDEO: { LINK: IMG } }]],
      ['a block with two types', [{ MESSAGE: 'a', DELIMITER: {} }]],
      ['a block that is not an object', ['text']],
      ['LINK without LINK', [{ LINK: { NAME: 'no link' } }]],
      ['USER without NAME', [{ USER: { LINK: 'https://example.test' } }]],
      ['GRID without DISPLAY', [{ GRID: [{ NAME: 'a', VALUE: 'b' }] }]],
      ['GRID with an unknown DISPLAY', [{ GRID: [{ NAME: 'a', DISPLAY: 'COLUMN' }] }]],
      ['IMAGE without LINK', [{ IMAGE: { NAME: 'x' } }]],
      ['FILE without LINK', [{ FILE: [{ NAME: 'x' }] }]],
      ['a javascript: link', [{ LINK: { LINK: 'javascript:alert(1)' } }]],
      ['a javascript: image', [{ IMAGE: { LINK: 'javascript:alert(1)' } }]],
      ['a protocol-relative link', [{ LINK: { LINK: '//evil.test/' } }]],
      ['an unknown COLOR_TOKEN', { COLOR_TOKEN: 'pink', BLOCKS: [{ MESSAGE: 'x' }] }],
      ['a bad COLOR', { COLOR: 'red', BLOCKS: [{ MESSAGE: 'x' }] }],
      ['a full form without blocks', { ID: 1, BLOCKS: [] }],
      ['a JSON string that is not JSON', '[{"MESSAGE": "x"'],
      ['a scalar', 5],
      ['a plain string', 'hello'],
    ])('%s', async (_label, attach) => {
      const a = await p.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'x', ATTACH: attach });
      expectError(a, 400, 'ATTACH_ERROR', 'Incorrect attach params');
      expect(await stored(p)).toEqual([]);
    });

    it('a bad block in a form body', async () => {
      const a = await postForm(
        p,
        'im.notify.personal.add',
        'USER_ID=2&MESSAGE=x&ATTACH[0][LINK][NAME]=no%20link',
      );
      expectError(a, 400, 'ATTACH_ERROR', 'Incorrect attach params');
    });
  });

  describe('ATTACH_OVERSIZE', () => {
    it('allows 60,000 characters of serialized ATTACH and refuses one more', async () => {
      expect(JSON.stringify(attachOfLength(60_000))).toHaveLength(60_000);
      await sendAttach(p, attachOfLength(60_000));
      const a = await p.hook('im.notify.personal.add', {
        USER_ID: 2,
        MESSAGE: 'x',
        ATTACH: attachOfLength(60_001),
      });
      expectError(a, 400, 'ATTACH_OVERSIZE', OVERSIZE);
      expect(await stored(p)).toHaveLength(1);
    });

    it('measures a JSON string without its whitespace', async () => {
      const pretty = JSON.stringify(attachOfLength(60_000), null, 4);
      expect(pretty.length).toBeGreaterThan(60_000);
      await sendAttach(p, pretty);
      const a = await p.hook('im.notify.system.add', {
        USER_ID: 2,
        MESSAGE: 'x',
        ATTACH: JSON.stringify(attachOfLength(60_001)),
      });
      expectError(a, 400, 'ATTACH_OVERSIZE', OVERSIZE);
    });

    it('follows attachMaxLength set through PUT /portal', async () => {
      const set = await p.control('PUT', '/portal', { attachMaxLength: 100 });
      expect(set.status).toBe(200);
      expect(set.body.attachMaxLength).toBe(100);
      await sendAttach(p, attachOfLength(100));
      expectError(
        await p.hook('im.notify', { USER_ID: 2, MESSAGE: 'x', ATTACH: attachOfLength(101) }),
        400,
        'ATTACH_OVERSIZE',
        OVERSIZE,
      );
      const form = `USER_ID=2&MESSAGE=x&ATTACH[0][MESSAGE]=${'y'.repeat(200)}`;
      expectError(await postForm(p, 'im.notify.personal.add', form), 400, 'ATTACH_OVERSIZE', OVERSIZE);
    });
  });
});
