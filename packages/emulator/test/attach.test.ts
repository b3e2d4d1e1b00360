import { describe, expect, it } from 'vitest';

import { ATTACH_DEFAULT_MAX_LENGTH, parseAttach } from '../src/attach.js';
import type { AttachOptions } from '../src/attach.js';
import { RestError } from '../src/errors.js';

/** The error parseAttach throws, or undefined when it does not throw. */
function errorOf(raw: unknown, options?: AttachOptions): RestError | undefined {
  try {
    parseAttach(raw, options);
    return undefined;
  } catch (error) {
    if (error instanceof RestError) return error;
    throw new Error(`parseAttach threw a non-RestError: ${String(error)}`);
  }
}

function expectAttachError(raw: unknown, options?: AttachOptions): void {
  const error = errorOf(raw, options);
  expect(error?.code).toBe('ATTACH_ERROR');
  expect(error?.description).toBe('Incorrect attach params');
  expect(error?.status).toBe(400);
}

function expectOversize(raw: unknown, options?: AttachOptions): void {
  const error = errorOf(raw, options);
  expect(error?.code).toBe('ATTACH_OVERSIZE');
  expect(error?.description).toBe('You have exceeded the maximum allowable size of attach');
  expect(error?.status).toBe(400);
}

const IMG = 'https://example.com/a.png';

describe('absent ATTACH', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['empty string', ''],
    ['empty array', []],
    ['empty object (PHP cannot tell it from [])', {}],
    ['JSON "[]"', '[]'],
    ['JSON "{}"', '{}'],
    ['JSON "null"', 'null'],
  ])('%s gives undefined', (_name, raw) => {
    expect(parseAttach(raw)).toBeUndefined();
  });

  it('a full form with no blocks is an error, not absent', () => {
    expectAttachError({ COLOR_TOKEN: 'primary', BLOCKS: [] });
  });
});

describe('top-level forms', () => {
  it('accepts a bare array of blocks with the default colour token', () => {
    expect(parseAttach([{ MESSAGE: 'hi' }])).toEqual({ colorToken: 'base', blocks: [{ MESSAGE: 'hi' }] });
  });

  it('accepts the full form with ID, COLOR_TOKEN and COLOR', () => {
    expect(
      parseAttach({ ID: 1, COLOR_TOKEN: 'secondary', COLOR: '#29619b', BLOCKS: [{ MESSAGE: 'x' }] }),
    ).toEqual({ id: 1, colorToken: 'secondary', color: '#29619b', blocks: [{ MESSAGE: 'x' }] });
  });

  it('accepts a JSON string of either form', () => {
    expect(parseAttach('[{"MESSAGE":"a"}]')).toEqual({ colorToken: 'base', blocks: [{ MESSAGE: 'a' }] });
    expect(parseAttach('{"ID":"7","COLOR_TOKEN":"alert","BLOCKS":[{"MESSAGE":"a"}]}')).toEqual({
      id: 7,
      colorToken: 'alert',
      blocks: [{ MESSAGE: 'a' }],
    });
  });

  it('keeps a non-numeric ID as a string', () => {
    expect(parseAttach({ ID: 'card-1', BLOCKS: [{ MESSAGE: 'x' }] })?.id).toBe('card-1');
  });

  it('rejects a JSON string that does not parse', () => {
    expectAttachError('[{"MESSAGE":');
    expectAttachError('not json');
    expectAttachError('   ');
  });

  it('does not decode twice: a JSON string holding a string is an error', () => {
    expectAttachError(JSON.stringify('[{"MESSAGE":"a"}]'));
  });

  it.each([
    ['a number', 5],
    ['a boolean', true],
    ['a single unwrapped block', { MESSAGE: 'hi' }],
    ['metadata without BLOCKS', { ID: 1, COLOR: '#fff' }],
    ['BLOCKS that is not a list', { BLOCKS: 'x' }],
    ['BLOCKS that is a single block', { BLOCKS: { MESSAGE: 'x' } }],
  ])('rejects %s', (_name, raw) => {
    expectAttachError(raw);
  });

  it('rejects a bad COLOR_TOKEN and a bad COLOR', () => {
    expectAttachError({ COLOR_TOKEN: 'red', BLOCKS: [{ MESSAGE: 'x' }] });
    expectAttachError({ COLOR_TOKEN: 'PRIMARY', BLOCKS: [{ MESSAGE: 'x' }] });
    expectAttachError({ COLOR: 'red', BLOCKS: [{ MESSAGE: 'x' }] });
    expectAttachError({ ID: { a: 1 }, BLOCKS: [{ MESSAGE: 'x' }] });
  });

  it('ignores unknown top-level keys of the full form', () => {
    expect(parseAttach({ FOO: 'bar', BLOCKS: [{ MESSAGE: 'x' }] })).toEqual({
      colorToken: 'base',
      blocks: [{ MESSAGE: 'x' }],
    });
  });
});

describe('OPI shape', () => {
  const opi = [
    { IMAGE: { NAME: 'Image1', LINK: 'https://example.com/picture.jpg' } },
    { FILE: { NAME: 'File1.docx', LINK: 'https://example.com/document.docx' } },
  ];
  const expected = {
    colorToken: 'base',
    blocks: [
      { IMAGE: [{ NAME: 'Image1', LINK: 'https://example.com/picture.jpg' }] },
      { FILE: [{ NAME: 'File1.docx', LINK: 'https://example.com/document.docx' }] },
    ],
  };

  it('accepts the bare array', () => {
    expect(parseAttach(opi)).toEqual(expected);
  });

  it('accepts the bare array as a JSON string', () => {
    expect(parseAttach(JSON.stringify(opi))).toEqual(expected);
  });
});

describe('PHP-form-decoded shapes', () => {
  it('reads objects keyed "0", "1", ... as lists, at every level', () => {
    expect(parseAttach({ '0': { IMAGE: { LINK: IMG } } })).toEqual({
      colorToken: 'base',
      blocks: [{ IMAGE: [{ LINK: IMG }] }],
    });
    expect(
      parseAttach({
        BLOCKS: {
          '0': { IMAGE: { '0': { LINK: IMG, WIDTH: '100', HEIGHT: '50' } } },
          '1': { GRID: { '0': { DISPLAY: 'ROW', NAME: 'a', VALUE: 'b', WIDTH: '20' } } },
        },
        ID: '3',
        COLOR_TOKEN: 'primary',
      }),
    ).toEqual({
      id: 3,
      colorToken: 'primary',
      blocks: [
        { IMAGE: [{ LINK: IMG, WIDTH: 100, HEIGHT: 50 }] },
        { GRID: [{ DISPLAY: 'ROW', NAME: 'a', VALUE: 'b', WIDTH: 20 }] },
      ],
    });
  });

  it('orders non-contiguous form keys numerically', () => {
    const attach = parseAttach({ '10': { MESSAGE: 'c' }, '2': { MESSAGE: 'b' }, '0': { MESSAGE: 'a' } });
    expect(attach?.blocks).toEqual([{ MESSAGE: 'a' }, { MESSAGE: 'b' }, { MESSAGE: 'c' }]);
  });

  it('treats empty-string optional fields as absent', () => {
    expect(
      parseAttach({ '0': { LINK: { LINK: '/x/', NAME: '', PREVIEW: '', WIDTH: '', USER_ID: '' } } }),
    ).toEqual({ colorToken: 'base', blocks: [{ LINK: { LINK: '/x/' } }] });
  });

  it('rejects keys that are not canonical indices', () => {
    expectAttachError({ '01': { MESSAGE: 'a' } });
    expectAttachError({ '-1': { MESSAGE: 'a' } });
  });
});

describe('blocks', () => {
  it('requires exactly one key per block', () => {
    expectAttachError([{ MESSAGE: 'a', LINK: { LINK: IMG } }]);
    expectAttachError([{}]);
    expectAttachError(['MESSAGE']);
    expectAttachError([null]);
    expectAttachError([[{ MESSAGE: 'a' }]]);
  });

  it('rejects unknown block types, including wrong case and prototype names', () => {
    expectAttachError([{ VIDEO: { LINK: IMG } }]);
    expectAttachError([{ message: 'a' }]);
    expectAttachError(JSON.parse('[{"__proto__":{"LINK":"/x"}}]'));
    expectAttachError([{ constructor: 'a' }]);
  });

  describe('MESSAGE', () => {
    it('accepts non-empty text, numbers as text', () => {
      expect(parseAttach([{ MESSAGE: '[B]x[/B]' }, { MESSAGE: 42 }])?.blocks).toEqual([
        { MESSAGE: '[B]x[/B]' },
        { MESSAGE: '42' },
      ]);
    });

    it('rejects empty, blank and non-text values', () => {
      expectAttachError([{ MESSAGE: '' }]);
      expectAttachError([{ MESSAGE: '  \n' }]);
      expectAttachError([{ MESSAGE: { TEXT: 'a' } }]);
      expectAttachError([{ MESSAGE: null }]);
      expectAttachError([{ MESSAGE: true }]);
    });
  });

  describe('LINK', () => {
    it('keeps every documented field and drops unknown ones', () => {
      expect(
        parseAttach([
          {
            LINK: {
              LINK: 'https://api.example.com/',
              NAME: 'Ticket',
              DESC: 'd',
              HTML: '<b>h</b>',
              PREVIEW: '/upload/p.png',
              WIDTH: 1000,
              HEIGHT: '638',
              USER_ID: '1',
              CHAT_ID: 2,
              NETWORK_ID: 'n1',
              EXTRA: 'dropped',
            },
          },
        ])?.blocks,
      ).toEqual([
        {
          LINK: {
            LINK: 'https://api.example.com/',
            NAME: 'Ticket',
            DESC: 'd',
            HTML: '<b>h</b>',
            PREVIEW: '/upload/p.png',
            WIDTH: 1000,
            HEIGHT: 638,
            USER_ID: 1,
            CHAT_ID: 2,
            NETWORK_ID: 'n1',
          },
        },
      ]);
    });

    it('requires an object with LINK', () => {
      expectAttachError([{ LINK: 'https://example.com' }]);
      expectAttachError([{ LINK: { NAME: 'no link' } }]);
      expectAttachError([{ LINK: { LINK: '' } }]);
    });
  });

  describe('USER', () => {
    it('keeps every documented field', () => {
      expect(
        parseAttach([
          {
            USER: {
              NAME: 'John',
              AVATAR: 'https://example.com/a.png',
              LINK: '/company/personal/user/1/',
              USER_ID: '1',
              CHAT_ID: 2,
              BOT_ID: '3',
              NETWORK_ID: 'n',
              AVATAR_TYPE: 'BOT',
            },
          },
        ])?.blocks,
      ).toEqual([
        {
          USER: {
            NAME: 'John',
            AVATAR: 'https://example.com/a.png',
            LINK: '/company/personal/user/1/',
            USER_ID: 1,
            CHAT_ID: 2,
            BOT_ID: 3,
            NETWORK_ID: 'n',
            AVATAR_TYPE: 'BOT',
          },
        },
      ]);
    });

    it('requires NAME and a known AVATAR_TYPE', () => {
      expectAttachError([{ USER: { AVATAR: IMG } }]);
      expectAttachError([{ USER: { NAME: '' } }]);
      expectAttachError([{ USER: { NAME: 'a', AVATAR_TYPE: 'ROBOT' } }]);
      expectAttachError([{ USER: 'John' }]);
    });
  });

  describe('GRID', () => {
    it.each(['BLOCK', 'LINE', 'ROW', 'TABLE'])('accepts DISPLAY %s', (display) => {
      expect(parseAttach([{ GRID: [{ DISPLAY: display, NAME: 'n' }] }])?.blocks).toEqual([
        { GRID: [{ DISPLAY: display, NAME: 'n' }] },
      ]);
    });

    it('keeps every documented item field', () => {
      const item = {
        DISPLAY: 'LINE',
        NAME: 'Priority',
        VALUE: 'High',
        WIDTH: '250',
        HEIGHT: 30,
        COLOR_TOKEN: 'alert',
        COLOR: '#ff0000',
        LINK: 'http://example.com/x',
        USER_ID: 4,
        CHAT_ID: '5',
      };
      expect(parseAttach([{ GRID: [item] }])?.blocks).toEqual([
        { GRID: [{ ...item, WIDTH: 250, CHAT_ID: 5 }] },
      ]);
    });

    it('requires DISPLAY, a known one, and the same for all items only under oneGridDisplay', () => {
      expectAttachError([{ GRID: [{ NAME: 'a' }] }]);
      expectAttachError([{ GRID: [{ DISPLAY: 'COLUMN' }] }]);
      expectAttachError([{ GRID: [{ DISPLAY: 'row' }] }]);
      const mixed = [{ GRID: [{ DISPLAY: 'ROW' }, { DISPLAY: 'BLOCK' }] }];
      expect(parseAttach(mixed)?.blocks).toEqual(mixed);
      expectAttachError(mixed, { oneGridDisplay: true });
    });

    it('requires a non-empty list of objects', () => {
      expectAttachError([{ GRID: [] }]);
      expectAttachError([{ GRID: { DISPLAY: 'ROW', NAME: 'a' } }]);
      expectAttachError([{ GRID: ['x'] }]);
    });

    it('validates item colours, tokens and links', () => {
      expectAttachError([{ GRID: [{ DISPLAY: 'ROW', COLOR_TOKEN: 'pink' }] }]);
      expectAttachError([{ GRID: [{ DISPLAY: 'ROW', COLOR: '#12' }] }]);
      expectAttachError([{ GRID: [{ DISPLAY: 'ROW', LINK: 'javascript:alert(1)' }] }]);
    });
  });

  describe('IMAGE and FILE', () => {
    it('normalizes a single object to a list', () => {
      expect(
        parseAttach([
          { IMAGE: { LINK: IMG, NAME: 'i', PREVIEW: IMG, WIDTH: 10, HEIGHT: '20' } },
          { FILE: { LINK: '/disk/f.pdf', NAME: 'f.pdf', SIZE: '1500000' } },
        ])?.blocks,
      ).toEqual([
        { IMAGE: [{ LINK: IMG, NAME: 'i', PREVIEW: IMG, WIDTH: 10, HEIGHT: 20 }] },
        { FILE: [{ LINK: '/disk/f.pdf', NAME: 'f.pdf', SIZE: 1500000 }] },
      ]);
    });

    it('keeps a list in order', () => {
      const images = [{ LINK: 'https://e.com/1.png' }, { LINK: 'https://e.com/2.png' }];
      expect(parseAttach([{ IMAGE: images }])?.blocks).toEqual([{ IMAGE: images }]);
    });

    it('requires LINK on every item', () => {
      expectAttachError([{ IMAGE: [{ LINK: IMG }, { NAME: 'no link' }] }]);
      expectAttachError([{ FILE: { NAME: 'f' } }]);
    });

    it('rejects empty lists and non-objects', () => {
      expectAttachError([{ IMAGE: [] }]);
      expectAttachError([{ FILE: {} }]);
      expectAttachError([{ IMAGE: IMG }]);
      expectAttachError([{ FILE: [IMG] }]);
    });
  });

  describe('DELIMITER', () => {
    it('defaults SIZE to 200', () => {
      expect(parseAttach([{ DELIMITER: {} }])?.blocks).toEqual([{ DELIMITER: { SIZE: 200 } }]);
    });

    it('keeps SIZE and COLOR, digits normalized', () => {
      expect(parseAttach([{ DELIMITER: { SIZE: '150', COLOR: '#c6c6c6' } }])?.blocks).toEqual([
        { DELIMITER: { SIZE: 150, COLOR: '#c6c6c6' } },
      ]);
    });

    it('falls back to 200 for an incorrect SIZE, as documented', () => {
      for (const size of ['wide', -5, 0, 1.5, '']) {
        expect(parseAttach([{ DELIMITER: { SIZE: size } }])?.blocks).toEqual([{ DELIMITER: { SIZE: 200 } }]);
      }
    });

    it("reads PHP's empty array and a form's empty value as all defaults", () => {
      expect(parseAttach([{ DELIMITER: [] }])?.blocks).toEqual([{ DELIMITER: { SIZE: 200 } }]);
      expect(parseAttach({ '0': { DELIMITER: '' } })?.blocks).toEqual([{ DELIMITER: { SIZE: 200 } }]);
    });

    it('rejects a bad COLOR and a non-object', () => {
      expectAttachError([{ DELIMITER: { COLOR: 'grey' } }]);
      expectAttachError([{ DELIMITER: 200 }]);
    });
  });
});

describe('links', () => {
  it.each([
    'http://example.com',
    'https://example.com/a?b=c#d',
    'HTTPS://EXAMPLE.COM/',
    '/company/personal/user/1/',
    '/',
  ])('accepts %s', (link) => {
    expect(parseAttach([{ LINK: { LINK: link } }])?.blocks).toEqual([{ LINK: { LINK: link } }]);
  });

  it.each([
    'javascript:alert(1)',
    'data:text/html,<b>x</b>',
    'ftp://example.com/f',
    'example.com',
    'company/user/1',
    '//evil.example.com/x',
    '/\\evil.example.com',
    'http://',
    'https://exa mple.com',
    'https://example.com/\nx',
    ' https://example.com',
  ])('rejects %j', (link) => {
    expectAttachError([{ LINK: { LINK: link } }]);
  });

  it('validates every link-bearing field', () => {
    expectAttachError([{ LINK: { LINK: '/ok', PREVIEW: 'data:image/png;base64,AA' } }]);
    expectAttachError([{ USER: { NAME: 'a', AVATAR: 'javascript:x' } }]);
    expectAttachError([{ USER: { NAME: 'a', LINK: 'mailto:a@b.c' } }]);
    expectAttachError([{ IMAGE: { LINK: IMG, PREVIEW: 'file:///etc/passwd' } }]);
    expectAttachError([{ FILE: { LINK: 'vbscript:x' } }]);
  });
});

describe('colours', () => {
  it.each(['#fff', '#FFF', '#a1b2c3', '#A1B2C3'])('accepts %s', (color) => {
    expect(parseAttach({ COLOR: color, BLOCKS: [{ DELIMITER: { COLOR: color } }] })).toEqual({
      colorToken: 'base',
      color,
      blocks: [{ DELIMITER: { SIZE: 200, COLOR: color } }],
    });
  });

  it.each(['fff', '#ffff', '#ggg', '#12345', 'red', 'rgb(0,0,0)'])('rejects %s', (color) => {
    expectAttachError({ COLOR: color, BLOCKS: [{ MESSAGE: 'x' }] });
  });

  it.each(['primary', 'secondary', 'alert', 'base'])('accepts COLOR_TOKEN %s', (token) => {
    expect(parseAttach({ COLOR_TOKEN: token, BLOCKS: [{ MESSAGE: 'x' }] })?.colorToken).toBe(token);
  });
});

describe('numeric fields', () => {
  it('normalizes digit strings to numbers', () => {
    expect(
      parseAttach([{ IMAGE: { LINK: IMG, WIDTH: '640', HEIGHT: '007' } }, { FILE: { LINK: IMG, SIZE: '0' } }])
        ?.blocks,
    ).toEqual([{ IMAGE: [{ LINK: IMG, WIDTH: 640, HEIGHT: 7 }] }, { FILE: [{ LINK: IMG, SIZE: 0 }] }]);
  });

  it.each([['12px'], ['-1'], [' 12'], ['1.5'], [-1], [1.5], [Number.NaN], [true], [[1]], ['1e3']])(
    'rejects %j',
    (value) => {
      expectAttachError([{ IMAGE: { LINK: IMG, WIDTH: value } }]);
      expectAttachError([{ LINK: { LINK: IMG, USER_ID: value } }]);
      expectAttachError([{ GRID: [{ DISPLAY: 'ROW', CHAT_ID: value }] }]);
    },
  );

  it('rejects numbers past the safe range', () => {
    expectAttachError([{ FILE: { LINK: IMG, SIZE: '1234567890123456' } }]);
    expectAttachError([{ FILE: { LINK: IMG, SIZE: 2 ** 60 } }]);
  });
});

describe('text fields', () => {
  it('take numbers as text and reject other types', () => {
    expect(parseAttach([{ FILE: { LINK: IMG, NAME: 2024 } }])?.blocks).toEqual([
      { FILE: [{ LINK: IMG, NAME: '2024' }] },
    ]);
    expectAttachError([{ FILE: { LINK: IMG, NAME: { a: 1 } } }]);
    expectAttachError([{ FILE: { LINK: IMG, NAME: false } }]);
    expectAttachError([{ GRID: [{ DISPLAY: 'ROW', VALUE: ['a'] }] }]);
  });
});

describe('size limit', () => {
  /** A one-block attachment whose JSON.stringify is exactly `length` characters long. */
  function ofLength(length: number): unknown[] {
    const overhead = JSON.stringify([{ MESSAGE: '' }]).length;
    return [{ MESSAGE: 'x'.repeat(length - overhead) }];
  }

  it('defaults to 60,000 characters', () => {
    expect(ATTACH_DEFAULT_MAX_LENGTH).toBe(60_000);
  });

  it('accepts exactly the limit and rejects one character more', () => {
    expect(JSON.stringify(ofLength(60_000)).length).toBe(60_000);
    expect(parseAttach(ofLength(60_000))).toBeDefined();
    expectOversize(ofLength(60_001));
  });

  it('honours a custom maxLength', () => {
    expect(parseAttach(ofLength(30_720), { maxLength: 30_720 })).toBeDefined();
    expectOversize(ofLength(30_721), { maxLength: 30_720 });
    expectOversize([{ MESSAGE: 'hello' }], { maxLength: 10 });
  });

  it('measures the decoded value, not the JSON string as sent', () => {
    const spaced = JSON.stringify(ofLength(100), null, 8);
    expect(spaced.length).toBeGreaterThan(100);
    expect(parseAttach(spaced, { maxLength: 100 })).toBeDefined();
  });

  it('measures the input as received, unknown fields included', () => {
    const raw = [{ FILE: { LINK: IMG, NOTE: 'y'.repeat(200) } }];
    expectOversize(raw, { maxLength: 200 });
  });

  it('reports a structure error before a size error', () => {
    expectAttachError([{ MESSAGE: 'x'.repeat(70_000) }, { VIDEO: {} }]);
  });
});

describe('hostile input', () => {
  it('caps the number of blocks at 1000 by default', () => {
    const blocks = Array.from({ length: 1000 }, () => ({ DELIMITER: {} }));
    expect(parseAttach(blocks)?.blocks).toHaveLength(1000);
    expectAttachError([...blocks, { DELIMITER: {} }]);
  });

  it('caps form-decoded lists and items the same way', () => {
    const form = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [String(i), { MESSAGE: 'x' }]));
    expectAttachError(form);
    const images = Array.from({ length: 1001 }, () => ({ LINK: IMG }));
    expectAttachError([{ IMAGE: images }]);
    expectAttachError([{ IMAGE: images.slice(0, 3) }], { maxBlocks: 2 });
  });

  it('survives nesting deeper than the stack as a JSON string', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expectAttachError(deep);
  });

  it('survives deep nesting hidden in an ignored field', () => {
    let nested: unknown = {};
    for (let i = 0; i < 200_000; i++) nested = { a: nested };
    const error = errorOf([{ FILE: { LINK: IMG, NOTE: nested } }]);
    expect(error).toBeInstanceOf(RestError);
  });

  it('turns a cycle from an in-process caller into ATTACH_ERROR', () => {
    const file: Record<string, unknown> = { LINK: IMG };
    file['SELF'] = file;
    expectAttachError([{ FILE: file }]);
  });

  it('reads only own properties', () => {
    const proto = { LINK: IMG };
    const inherited = Object.create(proto) as Record<string, unknown>;
    inherited['NAME'] = 'own name, inherited link';
    expectAttachError([{ IMAGE: inherited }]);
  });
});
