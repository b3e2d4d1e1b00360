import { describe, expect, it } from 'vitest';

import { B24ValidationError } from '../src/errors/validation-error.js';
import {
  ATTACH_MAX_LENGTH,
  attach,
  delimiter,
  file,
  grid,
  image,
  link,
  message,
  user,
  validateAttach,
} from '../src/attach/index.js';
import type { AttachBlock } from '../src/attach/index.js';

/** Runs `run`, expects a B24ValidationError, and returns it for exact checks. */
function failure(run: () => unknown): B24ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(B24ValidationError);
    return error as B24ValidationError;
  }
  throw new Error('expected a B24ValidationError, nothing was thrown');
}

/** Expects `run` to fail on `field`, with a message containing each fragment. */
function expectInvalid(run: () => unknown, field: string, ...fragments: string[]): void {
  const error = failure(run);
  expect(error.field).toBe(field);
  expect(error.message.startsWith(`${field}: `)).toBe(true);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

const URL_A = 'https://example.com/a.png';

describe('builders: wire output', () => {
  it('message', () => {
    expect(message('Deal [B]#42[/B] is won')).toStrictEqual({ MESSAGE: 'Deal [B]#42[/B] is won' });
  });

  it('link with every field', () => {
    expect(
      link({
        link: 'https://api.bitrix24.com/',
        name: 'Ticket',
        desc: 'Soon',
        html: '<b>Soon</b>',
        preview: URL_A,
        width: 1000,
        height: 638,
        userId: 1,
        chatId: 2,
        networkId: 'n1',
      }),
    ).toStrictEqual({
      LINK: {
        LINK: 'https://api.bitrix24.com/',
        NAME: 'Ticket',
        DESC: 'Soon',
        HTML: '<b>Soon</b>',
        PREVIEW: URL_A,
        WIDTH: 1000,
        HEIGHT: 638,
        USER_ID: 1,
        CHAT_ID: 2,
        NETWORK_ID: 'n1',
      },
    });
  });

  it('link leaves out what was not given, undefined included', () => {
    expect(link({ link: '/crm/deal/details/7/', name: undefined })).toStrictEqual({
      LINK: { LINK: '/crm/deal/details/7/' },
    });
  });

  it('user with every field', () => {
    expect(
      user({
        name: 'Ivan',
        avatar: URL_A,
        link: 'https://shelenkov.com',
        userId: 1,
        chatId: 2,
        botId: 3,
        networkId: 'n',
        avatarType: 'BOT',
      }),
    ).toStrictEqual({
      USER: {
        NAME: 'Ivan',
        AVATAR: URL_A,
        LINK: 'https://shelenkov.com',
        USER_ID: 1,
        CHAT_ID: 2,
        BOT_ID: 3,
        NETWORK_ID: 'n',
        AVATAR_TYPE: 'BOT',
      },
    });
    expect(user({ name: 'Ivan' })).toStrictEqual({ USER: { NAME: 'Ivan' } });
  });

  it('grid puts the one display on every item', () => {
    expect(
      grid('LINE', [
        { name: 'Priority', value: 'High', colorToken: 'alert', color: '#ff0000', width: 250 },
        { name: 'Category', value: 'Requests' },
        { value: '', height: 10, link: '/a/', userId: 4, chatId: 5 },
      ]),
    ).toStrictEqual({
      GRID: [
        {
          NAME: 'Priority',
          VALUE: 'High',
          DISPLAY: 'LINE',
          WIDTH: 250,
          COLOR_TOKEN: 'alert',
          COLOR: '#ff0000',
        },
        { NAME: 'Category', VALUE: 'Requests', DISPLAY: 'LINE' },
        { VALUE: '', DISPLAY: 'LINE', HEIGHT: 10, LINK: '/a/', USER_ID: 4, CHAT_ID: 5 },
      ],
    });
  });

  it('image keeps one object as an object and a list as a list', () => {
    expect(image({ link: URL_A, name: 'A' })).toStrictEqual({ IMAGE: { LINK: URL_A, NAME: 'A' } });
    expect(
      image([{ link: URL_A, preview: URL_A, width: 1000, height: 638 }, { link: '/b.png' }]),
    ).toStrictEqual({
      IMAGE: [{ LINK: URL_A, PREVIEW: URL_A, WIDTH: 1000, HEIGHT: 638 }, { LINK: '/b.png' }],
    });
  });

  it('file keeps one object as an object and a list as a list', () => {
    expect(file({ link: URL_A, name: 'a.png', size: 1_500_000 })).toStrictEqual({
      FILE: { LINK: URL_A, NAME: 'a.png', SIZE: 1_500_000 },
    });
    expect(file([{ link: URL_A }])).toStrictEqual({ FILE: [{ LINK: URL_A }] });
  });

  it('delimiter, with and without options', () => {
    expect(delimiter({ size: 200, color: '#c6c6c6' })).toStrictEqual({
      DELIMITER: { SIZE: 200, COLOR: '#c6c6c6' },
    });
    expect(delimiter()).toStrictEqual({ DELIMITER: {} });
  });

  it('attach: the bare array without options, the full form with them', () => {
    const blocks = [message('Hi'), delimiter()];
    const bare = attach(blocks);
    expect(bare).toStrictEqual([{ MESSAGE: 'Hi' }, { DELIMITER: {} }]);
    expect(bare).not.toBe(blocks);
    expect(attach(blocks, {})).toStrictEqual([{ MESSAGE: 'Hi' }, { DELIMITER: {} }]);
    expect(attach(blocks, { id: 1, colorToken: 'primary', color: '#29619b' })).toStrictEqual({
      ID: 1,
      COLOR_TOKEN: 'primary',
      COLOR: '#29619b',
      BLOCKS: [{ MESSAGE: 'Hi' }, { DELIMITER: {} }],
    });
    expect(attach(blocks, { colorToken: 'alert' })).toStrictEqual({
      COLOR_TOKEN: 'alert',
      BLOCKS: [{ MESSAGE: 'Hi' }, { DELIMITER: {} }],
    });
  });

  it('built attachments pass validateAttach unchanged', () => {
    const built = attach(
      [
        user({ name: 'Mantis', avatar: URL_A, link: 'https://shelenkov.com/' }),
        link({ name: 'Open', link: 'https://shelenkov.com/' }),
        delimiter({ size: 200, color: '#c6c6c6' }),
        grid('ROW', [{ name: 'Assignee', value: 'Ivan', width: 100 }]),
        image([{ link: URL_A }]),
        file({ link: URL_A }),
      ],
      { id: 3 },
    );
    expect(validateAttach(built)).toBe(built);
  });

  it('the block types allow one key only', () => {
    // @ts-expect-error two block keys in one block
    const twoKeys: AttachBlock = { MESSAGE: 'a', DELIMITER: {} };
    expectInvalid(() => validateAttach([twoKeys]), 'attach[0]', 'has 2 keys (MESSAGE, DELIMITER)');
  });
});

describe('builders: eager validation with their own field names', () => {
  it('message', () => {
    expectInvalid(() => message('  '), 'message', 'must not be empty');
    expectInvalid(() => message(42 as unknown as string), 'message', 'must be a string', 'got 42');
  });

  it('link', () => {
    expectInvalid(() => link({ link: 'javascript:alert(1)' }), 'link.link', 'got "javascript:alert(1)"');
    expectInvalid(() => link({ link: URL_A, preview: 'ftp://x/' }), 'link.preview', 'http(s) URL');
    expectInvalid(() => link({ link: URL_A, userId: -1 }), 'link.userId', 'non-negative integer, got -1');
    expectInvalid(() => link({} as never), 'link.link', 'is required');
    expectInvalid(() => link(null as never), 'link', 'must be an options object, got null');
  });

  it('user', () => {
    expectInvalid(() => user({ name: '' }), 'user.name', 'must not be empty');
    expectInvalid(
      () => user({ name: 'A', avatarType: 'bot' as never }),
      'user.avatarType',
      '"USER", "CHAT", "BOT"',
    );
    expectInvalid(
      () => user({ name: 'A', avatar: '//evil.example/x.png' }),
      'user.avatar',
      'path starting with "/"',
    );
  });

  it('grid', () => {
    expectInvalid(
      () => grid('COLUMN' as never, []),
      'grid.display',
      '"BLOCK", "LINE", "ROW", "TABLE"',
      'got "COLUMN"',
    );
    expectInvalid(() => grid('LINE', []), 'grid.items', 'at least one item');
    expectInvalid(() => grid('LINE', [{ name: 'a' }, { color: 'red' }]), 'grid.items[1].color', '"#rrggbb"');
    expectInvalid(
      () => grid('LINE', [{ colorToken: 'danger' as never }]),
      'grid.items[0].colorToken',
      '"alert"',
    );
    expectInvalid(() => grid('LINE', [null as never]), 'grid.items[0]', 'options object');
  });

  it('image and file', () => {
    expectInvalid(
      () => image({ link: 'data:image/png;base64,AAA' }),
      'image.link',
      'got "data:image/png;base64,AAA"',
    );
    expectInvalid(() => image([{ link: URL_A }, { link: URL_A, width: 1.5 }]), 'image[1].width', 'got 1.5');
    expectInvalid(() => image([]), 'image', 'at least one item');
    expectInvalid(() => file({ link: URL_A, size: -5 }), 'file.size', 'non-negative integer');
    expectInvalid(() => file([{ name: 'x' } as never]), 'file[0].link', 'is required');
  });

  it('delimiter', () => {
    expectInvalid(() => delimiter({ size: 0 }), 'delimiter.size', 'positive integer, got 0');
    expectInvalid(() => delimiter({ color: '#12345' }), 'delimiter.color', 'got "#12345"');
  });

  it('attach', () => {
    expectInvalid(() => attach([]), 'attach', 'has no blocks');
    expectInvalid(
      () => attach([message('a')], { colorToken: 'red' as never }),
      'attach.colorToken',
      '"primary"',
    );
    expectInvalid(() => attach([message('a')], { id: -1 }), 'attach.id', 'non-negative integer');
    expectInvalid(() => attach([message('a')], { color: 'blue' }), 'attach.color', '#rgb');
    const handWritten = { IMAGE: { LINK: 'javascript:alert(1)' } } as AttachBlock;
    expectInvalid(() => attach([message('a'), handWritten]), 'attach[1].IMAGE.LINK', 'javascript');
    expectInvalid(() => attach([handWritten], { id: 1 }), 'attach.BLOCKS[0].IMAGE.LINK', 'javascript');
  });
});

describe('validateAttach: forms and input', () => {
  it("passes OPI's shape, as a JSON string and as objects", () => {
    const opi = [
      { IMAGE: { NAME: 'Image1', LINK: 'https://example.com/image.png' } },
      { FILE: { NAME: 'File1.docx', LINK: 'https://example.com/File1.docx' } },
    ];
    expect(validateAttach(JSON.stringify(opi))).toStrictEqual(opi);
    expect(validateAttach(opi)).toBe(opi);
  });

  it('passes the documented examples', () => {
    const composite =
      '[{"USER":{"NAME":"Уведомления Mantis","AVATAR":"https://files.shelenkov.com/bitrix/images/mantis2.jpg","LINK":"https://shelenkov.com/"}},{"LINK":{"NAME":"Открыть Mantis из внешней сети","LINK":"https://shelenkov.com/"}},{"DELIMITER":{"SIZE":200,"COLOR":"#c6c6c6"}},{"GRID":[{"NAME":"Проект","VALUE":"BUGS","DISPLAY":"LINE","WIDTH":100},{"NAME":"Сводка","VALUE":"Требуется","DISPLAY":"LINE"}]},{"GRID":[{"NAME":"Новое обращение","VALUE":"","DISPLAY":"ROW","WIDTH":100}]}]';
    expect(validateAttach(composite)).toStrictEqual(JSON.parse(composite));
    const full = {
      ID: 1,
      COLOR_TOKEN: 'primary',
      COLOR: '#29619b',
      BLOCKS: [{ MESSAGE: 'API [B]im 24.0.0[/B]' }],
    };
    expect(validateAttach(JSON.stringify(full))).toStrictEqual(full);
    expect(
      validateAttach([
        {
          LINK: {
            PREVIEW: URL_A,
            WIDTH: 1000,
            HEIGHT: 638,
            NAME: 'T',
            DESC: 'D',
            LINK: 'https://api.bitrix24.com/',
          },
        },
        { IMAGE: [{ NAME: 'M', LINK: URL_A, PREVIEW: URL_A, WIDTH: 1000, HEIGHT: 638 }] },
        { FILE: [{ NAME: 'm.jpg', LINK: URL_A, SIZE: 1500000 }] },
      ]),
    ).toHaveLength(3);
  });

  it('accepts relative links from the portal root and ignores undefined fields', () => {
    expect(() =>
      validateAttach([
        { LINK: { LINK: '/company/personal/user/1/', NAME: undefined } },
        { MESSAGE: 'a', LINK: undefined },
      ]),
    ).not.toThrow();
  });

  it('refuses bad JSON text, empty text and double encoding', () => {
    expectInvalid(() => validateAttach('[{"MESSAGE":'), 'attach', 'is not valid JSON', 'array of blocks');
    expectInvalid(() => validateAttach('   '), 'attach', 'is an empty string');
    expectInvalid(() => validateAttach(JSON.stringify(JSON.stringify([]))), 'attach', 'encoded twice');
    expectInvalid(() => validateAttach('null'), 'attach', 'got null');
  });

  it('clips long user values in a JSON parse error', () => {
    const error = failure(() => validateAttach(`[${'x'.repeat(500)}]`));
    expect(error.message.length).toBeLessThan(200);
  });

  it('refuses other top-level shapes', () => {
    expectInvalid(() => validateAttach(42), 'attach', 'array of blocks or an object with BLOCKS', 'got 42');
    expectInvalid(() => validateAttach([]), 'attach', 'has no blocks');
    expectInvalid(
      () => validateAttach({ IMAGE: { LINK: URL_A } }),
      'attach',
      'single IMAGE block',
      'wrap it in an array',
    );
    expectInvalid(() => validateAttach({ ID: 1 }), 'attach.BLOCKS', 'is required');
    expectInvalid(() => validateAttach({ BLOCKS: {} }), 'attach.BLOCKS', 'must be an array of blocks');
    expectInvalid(() => validateAttach({ BLOCKS: [] }), 'attach.BLOCKS', 'has no blocks');
    expectInvalid(
      () => validateAttach({ BLOCKS: [{ MESSAGE: 'a' }], COLOUR: '#fff' }),
      'attach.COLOUR',
      'ID, COLOR_TOKEN, COLOR, BLOCKS',
    );
    expectInvalid(
      () => validateAttach({ BLOCKS: [{ MESSAGE: 'a' }], ID: '1' }),
      'attach.ID',
      'without quotes',
    );
    expectInvalid(
      () => validateAttach({ BLOCKS: [{ MESSAGE: 'a' }], COLOR_TOKEN: 'Primary' }),
      'attach.COLOR_TOKEN',
      'one of "primary", "secondary", "alert", "base", got "Primary"',
    );
    expectInvalid(
      () => validateAttach({ BLOCKS: [{ MESSAGE: 'a' }], COLOR: '#ggg' }),
      'attach.COLOR',
      '"#rgb" or "#rrggbb"',
    );
  });

  it('names the root after options.field', () => {
    expectInvalid(
      () => validateAttach([{ IMAGE: {} }], { field: '--blocks' }),
      '--blocks[0].IMAGE.LINK',
      'is required',
    );
  });
});

describe('validateAttach: blocks', () => {
  it('each block is an object with exactly one known key', () => {
    expectInvalid(() => validateAttach(['hi']), 'attach[0]', 'must be a block', 'got "hi"');
    expectInvalid(() => validateAttach([{}]), 'attach[0]', 'is an empty object');
    expectInvalid(
      () => validateAttach([{ IMAGE: { LINK: URL_A }, FILE: { LINK: URL_A } }]),
      'attach[0]',
      'has 2 keys',
    );
    expectInvalid(
      () => validateAttach([{ MESSAGE: 'a' }, { PICTURE: {} }]),
      'attach[1].PICTURE',
      'not a known block type',
    );
    expectInvalid(
      () => validateAttach([{ image: { LINK: URL_A } }]),
      'attach[0].image',
      'UPPERCASE: use IMAGE',
    );
    expectInvalid(
      () => validateAttach([{ RICH_LINK: {} }]),
      'attach[0].RICH_LINK',
      'MESSAGE, LINK, USER, GRID',
    );
  });

  it('MESSAGE is non-empty text', () => {
    expectInvalid(() => validateAttach([{ MESSAGE: '' }]), 'attach[0].MESSAGE', 'must not be empty');
    expectInvalid(() => validateAttach([{ MESSAGE: ['a'] }]), 'attach[0].MESSAGE', 'got an array');
  });

  it('required fields', () => {
    expectInvalid(() => validateAttach([{ LINK: { NAME: 'x' } }]), 'attach[0].LINK.LINK', 'is required');
    expectInvalid(() => validateAttach([{ USER: { AVATAR: URL_A } }]), 'attach[0].USER.NAME', 'is required');
    expectInvalid(
      () => validateAttach([{ USER: { NAME: ' ' } }]),
      'attach[0].USER.NAME',
      'must not be empty',
    );
    expectInvalid(
      () => validateAttach([{ IMAGE: [{ LINK: URL_A }, {}] }]),
      'attach[0].IMAGE[1].LINK',
      'is required',
    );
    expectInvalid(() => validateAttach([{ FILE: { NAME: 'x' } }]), 'attach[0].FILE.LINK', 'is required');
    expectInvalid(
      () => validateAttach([{ MESSAGE: 'a' }, { MESSAGE: 'b' }, { GRID: [{ NAME: 'x' }] }]),
      'attach[2].GRID[0].DISPLAY',
      'is required: one of "BLOCK", "LINE", "ROW", "TABLE"',
    );
  });

  it('every GRID item has a valid DISPLAY; items may differ, as in the docs’ constructor example', () => {
    // constructor.md (both doc repositories) mixes BLOCK, LINE and ROW in one GRID; grid.md only
    // advises against it, and the portal takes it.
    const mixed = [
      { GRID: [{ DISPLAY: 'LINE' }, { DISPLAY: 'LINE' }, { DISPLAY: 'ROW', NAME: 'a', VALUE: 'b' }] },
    ];
    expect(validateAttach(mixed)).toBe(mixed);
    expectInvalid(
      () => validateAttach([{ GRID: [{ DISPLAY: 'line' }] }]),
      'attach[0].GRID[0].DISPLAY',
      'got "line"',
    );
    expectInvalid(
      () => validateAttach([{ GRID: [{ DISPLAY: 'ROW' }, { NAME: 'no display' }] }]),
      'attach[0].GRID[1].DISPLAY',
      'is required',
    );
  });

  it('GRID, IMAGE and FILE shapes', () => {
    expectInvalid(
      () => validateAttach([{ GRID: { DISPLAY: 'LINE' } }]),
      'attach[0].GRID',
      'must be an array of items',
    );
    expectInvalid(() => validateAttach([{ GRID: [] }]), 'attach[0].GRID', 'at least one item');
    expectInvalid(() => validateAttach([{ IMAGE: [] }]), 'attach[0].IMAGE', 'at least one item');
    expectInvalid(
      () => validateAttach([{ FILE: 'x' }]),
      'attach[0].FILE',
      'an object or an array of objects',
    );
    expectInvalid(
      () => validateAttach([{ FILE: [null] }]),
      'attach[0].FILE[0]',
      'must be an object, got null',
    );
    expectInvalid(() => validateAttach([{ LINK: 'https://x.com' }]), 'attach[0].LINK', 'must be an object');
    expectInvalid(
      () => validateAttach([{ DELIMITER: [] }]),
      'attach[0].DELIMITER',
      'must be an object, got an array',
    );
  });

  it('links: absolute http(s) or from the portal root', () => {
    const bad = (LINK: unknown) => () => validateAttach([{ MESSAGE: 'a' }, { IMAGE: { LINK } }]);
    expectInvalid(
      bad('javascript:alert(1)'),
      'attach[1].IMAGE.LINK',
      'must be an absolute http(s) URL or a path starting with "/", got "javascript:alert(1)"',
    );
    for (const link of [
      'data:text/html,<b>x</b>',
      'JAVASCRIPT:alert(1)',
      'mailto:a@b.c',
      '//evil.example/x',
      '/\\evil.example',
      'example.com/x',
      'https://',
      'https://exa mple.com/',
      '',
      ' https://example.com/',
      'https://example.com/\nx',
    ]) {
      expectInvalid(bad(link), 'attach[1].IMAGE.LINK', 'http(s) URL');
    }
    expectInvalid(bad(42), 'attach[1].IMAGE.LINK', 'got 42');
    for (const link of [
      'https://example.com/',
      'HTTP://example.com/a?b=1#c',
      '/',
      '/company/personal/user/1/',
    ]) {
      expect(() => validateAttach([{ IMAGE: { LINK: link } }])).not.toThrow();
    }
    expectInvalid(
      () => validateAttach([{ LINK: { LINK: URL_A, PREVIEW: 'x' } }]),
      'attach[0].LINK.PREVIEW',
      'http(s)',
    );
    expectInvalid(
      () => validateAttach([{ USER: { NAME: 'a', AVATAR: 'x' } }]),
      'attach[0].USER.AVATAR',
      'http(s)',
    );
    expectInvalid(
      () => validateAttach([{ USER: { NAME: 'a', LINK: 'x' } }]),
      'attach[0].USER.LINK',
      'http(s)',
    );
    expectInvalid(
      () => validateAttach([{ GRID: [{ DISPLAY: 'ROW', LINK: 'x' }] }]),
      'attach[0].GRID[0].LINK',
      'http(s)',
    );
    expectInvalid(
      () => validateAttach([{ IMAGE: { LINK: URL_A, PREVIEW: 'x' } }]),
      'attach[0].IMAGE.PREVIEW',
      'http(s)',
    );
  });

  it('colours: #rgb or #rrggbb', () => {
    expect(() =>
      validateAttach([{ DELIMITER: { COLOR: '#FFF' } }, { DELIMITER: { COLOR: '#a1B2c3' } }]),
    ).not.toThrow();
    for (const color of ['red', '#ff', '#ffff', '#fffffff', 'fff', '#ggg', 5]) {
      expectInvalid(
        () => validateAttach([{ DELIMITER: { COLOR: color } }]),
        'attach[0].DELIMITER.COLOR',
        'hex color',
      );
    }
    expectInvalid(
      () => validateAttach([{ GRID: [{ DISPLAY: 'ROW', COLOR: 'red' }] }]),
      'attach[0].GRID[0].COLOR',
      'hex',
    );
  });

  it('COLOR_TOKEN and AVATAR_TYPE: the documented values, case included', () => {
    expectInvalid(
      () => validateAttach([{ GRID: [{ DISPLAY: 'ROW', COLOR_TOKEN: 'ALERT' }] }]),
      'attach[0].GRID[0].COLOR_TOKEN',
      'got "ALERT"',
    );
    expectInvalid(
      () => validateAttach([{ USER: { NAME: 'a', AVATAR_TYPE: 'user' } }]),
      'attach[0].USER.AVATAR_TYPE',
      '"USER"',
    );
  });

  it('numbers: non-negative integers', () => {
    const width = (WIDTH: unknown) => () => validateAttach([{ IMAGE: { LINK: URL_A, WIDTH } }]);
    expectInvalid(width(-1), 'attach[0].IMAGE.WIDTH', 'must be a non-negative integer, got -1');
    expectInvalid(width(1.5), 'attach[0].IMAGE.WIDTH', 'got 1.5');
    expectInvalid(width(Number.NaN), 'attach[0].IMAGE.WIDTH', 'got NaN');
    expectInvalid(width(2 ** 53), 'attach[0].IMAGE.WIDTH', 'non-negative integer');
    expectInvalid(width('100'), 'attach[0].IMAGE.WIDTH', 'got "100"', 'write it as a number');
    expectInvalid(width(null), 'attach[0].IMAGE.WIDTH', 'got null', 'leave the field out');
    expect(() => width(0)()).not.toThrow();
    expectInvalid(
      () => validateAttach([{ FILE: { LINK: URL_A, SIZE: -1 } }]),
      'attach[0].FILE.SIZE',
      'non-negative',
    );
    expectInvalid(
      () => validateAttach([{ LINK: { LINK: URL_A, CHAT_ID: '7' } }]),
      'attach[0].LINK.CHAT_ID',
      'number',
    );
    expectInvalid(
      () => validateAttach([{ USER: { NAME: 'a', BOT_ID: -2 } }]),
      'attach[0].USER.BOT_ID',
      'got -2',
    );
    expectInvalid(
      () => validateAttach([{ DELIMITER: { SIZE: 0 } }]),
      'attach[0].DELIMITER.SIZE',
      'positive integer',
    );
  });

  it('text fields are strings', () => {
    expectInvalid(
      () => validateAttach([{ IMAGE: { LINK: URL_A, NAME: 5 } }]),
      'attach[0].IMAGE.NAME',
      'must be a string, got 5',
    );
    expectInvalid(
      () => validateAttach([{ LINK: { LINK: URL_A, DESC: {} } }]),
      'attach[0].LINK.DESC',
      'got an object',
    );
    expectInvalid(
      () => validateAttach([{ GRID: [{ DISPLAY: 'ROW', VALUE: true }] }]),
      'attach[0].GRID[0].VALUE',
      'got true',
    );
  });

  it('unknown fields are refused, with a hint for lowercase names', () => {
    expectInvalid(
      () => validateAttach({ BLOCKS: [{ MESSAGE: 'a' }, { IMAGE: [{ LINK: URL_A }, { URL: URL_A }] }] }),
      'attach.BLOCKS[1].IMAGE[1].URL',
      'not a known field',
      'LINK, NAME, PREVIEW, WIDTH, HEIGHT',
    );
    expectInvalid(
      () => validateAttach([{ FILE: { link: URL_A } }]),
      'attach[0].FILE.link',
      'UPPERCASE: use LINK',
    );
    expectInvalid(
      () => validateAttach([{ USER: { NAME: 'a', constructor: 'x' } }]),
      'attach[0].USER.constructor',
      'not a known',
    );
  });

  it('a cycle cannot reach JSON.stringify', () => {
    const item: Record<string, unknown> = { LINK: URL_A };
    item['SELF'] = item;
    expectInvalid(() => validateAttach([{ IMAGE: item }]), 'attach[0].IMAGE.SELF', 'not a known field');
  });

  it('never quotes more than ~60 characters of a user value', () => {
    const long = `javascript:${'a'.repeat(10_000)}`;
    const error = failure(() => validateAttach([{ IMAGE: { LINK: long } }]));
    expect(error.message).toContain('(10011 characters)');
    expect(error.message.length).toBeLessThan(200);
    const emoji = failure(() => validateAttach([{ FILE: { LINK: `x${'😀'.repeat(100)}` } }]));
    expect(emoji.message).toContain(`"x${'😀'.repeat(24)}…" (201 characters)`);
    const key = 'K'.repeat(1000);
    const keyError = failure(() => validateAttach([{ [key]: {} }]));
    expect(keyError.field.length).toBeLessThan(70);
  });
});

describe('validateAttach: size', () => {
  /** A one-block attachment whose JSON is exactly `length` characters. */
  function ofLength(length: number): AttachBlock[] {
    const overhead = JSON.stringify([{ MESSAGE: '' }]).length;
    return [{ MESSAGE: 'x'.repeat(length - overhead) }];
  }

  it('allows exactly the default limit and refuses one more character', () => {
    expect(ATTACH_MAX_LENGTH).toBe(60_000);
    expect(JSON.stringify(ofLength(60_000))).toHaveLength(60_000);
    expect(() => validateAttach(ofLength(60_000))).not.toThrow();
    expectInvalid(
      () => validateAttach(ofLength(60_001)),
      'attach',
      'is 60001 characters as JSON, over the limit of 60000',
      'raise maxLength',
    );
  });

  it('honours a custom maxLength', () => {
    expect(() => validateAttach(ofLength(30_000), { maxLength: 30_000 })).not.toThrow();
    expectInvalid(
      () => validateAttach(ofLength(30_001), { maxLength: 30_000 }),
      'attach',
      'over the limit of 30000',
    );
    expect(() => validateAttach(ofLength(70_000), { maxLength: 100_000 })).not.toThrow();
  });

  it('measures the value, not the whitespace of JSON text', () => {
    const text = JSON.stringify(ofLength(100), null, 20);
    expect(text.length).toBeGreaterThan(100);
    expect(() => validateAttach(text, { maxLength: 100 })).not.toThrow();
  });

  it('refuses a maxLength that is not a positive integer', () => {
    expectInvalid(
      () => validateAttach([{ MESSAGE: 'a' }], { maxLength: 0 }),
      'maxLength',
      'positive integer',
    );
    expectInvalid(() => validateAttach([{ MESSAGE: 'a' }], { maxLength: 1.5 }), 'maxLength', 'got 1.5');
  });
});
