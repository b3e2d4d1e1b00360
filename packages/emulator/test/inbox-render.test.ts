/**
 * The inbox page's pure parts, in Node: the BB code parser's tree, the checks that decide what
 * may become a link, a colour or a size, the formatters, and a guard over the page's sources
 * against the APIs that parse HTML or run strings as code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { MAX_BB_DEPTH, parseBbCode, plainText, type BbNode } from '../ui/render/bbcode-tree.js';
import { fileExtension, formatOffset, formatSize, initials, parseDuration } from '../ui/format.js';
import { field, list, oneOf, safeColor, safeHref, safeId, safePixels, text } from '../ui/render/safe.js';

const t = (s: string): BbNode => ({ kind: 'text', text: s });
const tag = (name: string, value: string | null, ...children: BbNode[]): BbNode => ({
  kind: 'tag',
  tag: name as Extract<BbNode, { kind: 'tag' }>['tag'],
  value,
  children,
});

describe('BB code parser', () => {
  test('the documented tags, case-insensitive, with values', () => {
    expect(parseBbCode('[B]b[/B][u]u[/u][I]i[/I][S]s[/S]')).toEqual([
      tag('B', null, t('b')),
      tag('U', null, t('u')),
      tag('I', null, t('i')),
      tag('S', null, t('s')),
    ]);
    expect(parseBbCode('[URL=https://x.test/?a=b]go[/URL] [USER=5]Ann[/USER] [CHAT=7][/CHAT]')).toEqual([
      tag('URL', 'https://x.test/?a=b', t('go')),
      t(' '),
      tag('USER', '5', t('Ann')),
      t(' '),
      tag('CHAT', '7'),
    ]);
    expect(parseBbCode('[SEND=yes]Yes[/SEND][PUT="/deal 7"]Put[/PUT][CALL=+1555]Call[/CALL]')).toEqual([
      tag('SEND', 'yes', t('Yes')),
      tag('PUT', '/deal 7', t('Put')),
      tag('CALL', '+1555', t('Call')),
    ]);
  });

  test('[BR] and newlines are line breaks', () => {
    expect(parseBbCode('a[BR]b\nc\r\nd[br]')).toEqual([
      t('a'),
      { kind: 'br' },
      t('b'),
      { kind: 'br' },
      t('c'),
      { kind: 'br' },
      t('d'),
      { kind: 'br' },
    ]);
  });

  test('nesting, and what is not well-formed stays the text that was sent', () => {
    expect(parseBbCode('[B]bold [I]both[/I][/B]')).toEqual([
      tag('B', null, t('bold '), tag('I', null, t('both'))),
    ]);
    expect(parseBbCode('[B]a[I]b[/B]')).toEqual([tag('B', null, t('a[I]b'))]);
    expect(parseBbCode('x[/B]y')).toEqual([t('x[/B]y')]);
    expect(parseBbCode('[B]never closed')).toEqual([t('[B]never closed')]);
    expect(parseBbCode('[B]a[I]b')).toEqual([t('[B]a[I]b')]);
    expect(parseBbCode('[COLOR=#f00]red[/COLOR] [IMG]x[/IMG]')).toEqual([
      t('[COLOR=#f00]red[/COLOR] [IMG]x[/IMG]'),
    ]);
    expect(parseBbCode('[B]<img src=x onerror=alert(1)>[/B]')).toEqual([
      tag('B', null, t('<img src=x onerror=alert(1)>')),
    ]);
  });

  test('nesting deeper than the cap is text, so rendering cannot recurse without bound', () => {
    const deep = '[B]'.repeat(MAX_BB_DEPTH + 5) + 'x' + '[/B]'.repeat(MAX_BB_DEPTH + 5);
    let depth = 0;
    let nodes = parseBbCode(deep);
    while (nodes[0]?.kind === 'tag') {
      depth++;
      nodes = nodes[0].children;
    }
    expect(depth).toBe(MAX_BB_DEPTH);
    expect(plainText(parseBbCode(deep))).toBe('[B]'.repeat(5) + 'x' + '[/B]'.repeat(5));
    // Long hostile input of unclosed tags comes back whole, as text.
    const flood = '[B][I][U]'.repeat(50_000);
    expect(plainText(parseBbCode(flood))).toBe(flood);
  });

  test('plainText for [URL]address[/URL] and labels', () => {
    expect(plainText(parseBbCode('[URL][B]https://x.test[/B][/URL]'))).toBe('https://x.test');
    expect(plainText(parseBbCode('a[BR]b'))).toBe('a b');
  });
});

describe('what may become a link, a colour, a size', () => {
  const base = 'http://127.0.0.1:24024';
  test('links: absolute http(s), or a path from the portal root', () => {
    expect(safeHref('https://example.test/a?b=c', base)).toBe('https://example.test/a?b=c');
    expect(safeHref('HTTP://EXAMPLE.TEST', base)).toBe('http://example.test/');
    expect(safeHref('/crm/deal/7/', base)).toBe('http://127.0.0.1:24024/crm/deal/7/');
    expect(safeHref('https://x.test/"><script>', base)).toBe('https://x.test/%22%3E%3Cscript%3E');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      '//evil.test/x',
      '/\\evil.test/x',
      'https:evil.test',
      'ftp://x.test/',
      'mailto:a@b.test',
      'relative/path',
      '',
      'https://x.test/\u0000',
    ]) {
      expect(safeHref(bad, base), bad).toBeNull();
    }
    expect(safeHref(42, base)).toBeNull();
    expect(safeHref({ href: 'https://x.test' }, base)).toBeNull();
  });

  test('colours: #rgb or #rrggbb only', () => {
    expect(safeColor('#fff')).toBe('#fff');
    expect(safeColor('#A1b2C3')).toBe('#A1b2C3');
    for (const bad of [
      'red',
      'red;background:url(javascript:alert(1))',
      '#ff0000;x:y',
      '#ffff',
      'rgb(0,0,0)',
      1,
    ]) {
      expect(safeColor(bad)).toBeNull();
    }
  });

  test('sizes, ids, enums, text, own fields and capped lists', () => {
    expect(safePixels(120)).toBe(120);
    expect(safePixels('64')).toBe(64);
    expect(safePixels(10_000)).toBe(1200);
    for (const bad of [0, -5, 1.5, '100px', '1e9', '100px;background:red', {}, null])
      expect(safePixels(bad)).toBeNull();
    expect(safeId(5)).toBe('5');
    expect(safeId('12')).toBe('12');
    for (const bad of [0, -1, '1 onmouseover=x', '01', 1.5]) expect(safeId(bad)).toBeNull();
    expect(oneOf('alert', ['primary', 'alert'] as const)).toBe('alert');
    expect(oneOf('alert onmouseover=x', ['primary', 'alert'] as const)).toBeNull();
    expect(text('a')).toBe('a');
    expect(text(3)).toBe('3');
    expect(text(['a'])).toBeUndefined();
    expect(text({ toString: () => 'x' })).toBeUndefined();
    expect(field({}, 'constructor')).toBeUndefined();
    expect(field(JSON.parse('{"__proto__": 1}') as Record<string, unknown>, '__proto__')).toBe(1);
    expect(list({ LINK: 'x' })).toEqual([{ LINK: 'x' }]);
    expect(list('x')).toEqual([]);
    expect(list(new Array(1000).fill(0), 10)).toHaveLength(10);
  });
});

describe('formatters', () => {
  test('sizes, offsets, initials, extensions, durations', () => {
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(48_213)).toBe('47 KB');
    expect(formatSize(1_500_000)).toBe('1.4 MB');
    expect(formatOffset(0)).toBe('none');
    expect(formatOffset(5_490_000)).toBe('+1 h 31 min 30 s');
    expect(formatOffset(-86_400_000)).toBe('−1 d');
    expect(initials('Anna Admin')).toBe('AA');
    expect(initials('  élise  ')).toBe('É');
    expect(initials('<img src=x>')).toBe('S');
    expect(initials('')).toBe('?');
    expect(fileExtension('report.final.PDF')).toBe('PDF');
    expect(fileExtension('https://x.test/a.csv?x=1')).toBe('CSV');
    expect(fileExtension('README')).toBe('FILE');
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('the page sources', () => {
  const dir = fileURLToPath(new URL('../ui/', import.meta.url));
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|html)$/.test(f))
    .map((f) => ({ name: f, source: readFileSync(join(dir, f), 'utf8') }));

  test('never parse HTML or run strings as code', () => {
    expect(files.length).toBeGreaterThan(8);
    const forbidden = [
      /\.innerHTML\b/,
      /\.outerHTML\b/,
      /insertAdjacentHTML/,
      /document\.write/,
      /\beval\s*\(/,
      /new\s+Function\b/,
      /createContextualFragment/,
      /DOMParser/,
      /setAttribute\(\s*['"](on|style|href|src)/i,
      /\.srcdoc\b/,
    ];
    for (const { name, source } of files) {
      for (const pattern of forbidden) expect(source, `${name} uses ${pattern}`).not.toMatch(pattern);
    }
  });

  test('the HTML has no inline script, style or handler for the CSP to block', () => {
    const html = files.find((f) => f.name === 'index.html')?.source ?? '';
    expect(html).toMatch(/<script type="module" src="\/ui\/app\.js"><\/script>/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });
});
