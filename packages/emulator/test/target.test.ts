/**
 * The router cuts plain request targets itself instead of building a URL for each request;
 * whatever it cuts must be what the URL parser would give, for any target.
 */
import { describe, expect, test } from 'vitest';
import { parseTarget } from '../src/wire/target.js';

function viaUrl(target: string): { pathname: string; search: string } | undefined {
  try {
    const url = new URL(target, 'http://localhost');
    return { pathname: url.pathname, search: url.search };
  } catch {
    return undefined;
  }
}

const CODE = 'k3y9abcdEFGH';

const TARGETS = [
  '/',
  '/?',
  '/??',
  '/?a=1',
  `/rest/1/${CODE}/im.notify.personal.add`,
  `/rest/1/${CODE}/im.notify.personal.add.json`,
  `/rest/1/${CODE}/im.notify.personal.add?`,
  `/rest/1/${CODE}/im.notify.personal.add?USER_ID=5&MESSAGE=a+b%20c`,
  `/rest/1/${CODE}/im.notify.personal.add?a=1?b=2/c`,
  `/rest/1/${CODE}/im.notify.personal.add?a='b'`,
  `/rest/1/${CODE}/im.notify.personal.add?a="b"`,
  `/rest/1/${CODE}/im.notify.personal.add?a b`,
  `/rest/1/${CODE}/im.notify.personal.add?é`,
  `/rest/1/${CODE}/im.notify.personal.add#frag`,
  `/rest/1/${CODE}/im.notify.personal.add?a#frag`,
  `/rest//1//${CODE}//im.notify.personal.add/`,
  `/rest/1/${CODE}/../im.notify.personal.add`,
  `/rest/1/${CODE}/./im.notify.personal.add`,
  `/rest/1/${CODE}/%2e%2E/im.notify.personal.add`,
  `/rest/1/${CODE}/.%2e/x`,
  `/rest/1/${CODE}/%2e./x`,
  `/rest/1/${CODE}/%2e`,
  `/rest/1/${CODE}/..`,
  `/rest/1/${CODE}/..?a`,
  `/rest/1/${CODE}/...`,
  `/rest/1/${CODE}/.x`,
  `/rest/1/${CODE}/%2ex`,
  `/rest/1/${CODE}/%2F/x`,
  `/rest/1/${CODE}/%zz`,
  `/rest/1/${CODE}/%`,
  `/rest\\1\\${CODE}\\x`,
  `/rest/1/${CODE}/a b`,
  `/rest/1/${CODE}/a'b`,
  `/rest/1/${CODE}/a"b`,
  `/rest/1/${CODE}/a<b>`,
  `/rest/1/${CODE}/a{b}`,
  `/rest/1/${CODE}/a\`b`,
  `/rest/1/${CODE}/a|b^c[d]`,
  `/rest/1/${CODE}/é`,
  `/rest/1/${CODE}/a\tb`,
  `/rest/1/${CODE}/a\u0000b`,
  `//rest/1/${CODE}/x`,
  `//`,
  `/\\host/x`,
  'rest/1/x',
  '*',
  '',
  'http://127.0.0.1/rest/1/x',
  'http://[::1/x',
  `/_emulator/api/notifications?q=user:5%20tag:x&limit=10`,
  '/-._~!$&()*+,;=:@%/x?-._~!$&()*+,;=:@%/?',
];

describe('request targets', () => {
  test.each(TARGETS)('%j splits as the URL parser splits it', (target) => {
    expect(parseTarget(target)).toEqual(viaUrl(target));
  });

  test('random targets split as the URL parser splits them', () => {
    // mulberry32: deterministic, so a failure replays.
    let state = 0x5eed;
    const random = (): number => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
    };
    const pieces = [
      '/',
      '/',
      '.',
      '..',
      '%2e',
      '%2E',
      '%',
      '2e',
      '?',
      '#',
      'a',
      'rest',
      '1',
      ' ',
      "'",
      '\\',
      'é',
      '&',
      '=',
    ];
    for (let i = 0; i < 20_000; i++) {
      let target = '/';
      const length = Math.floor(random() * 10);
      for (let j = 0; j < length; j++) target += pieces[Math.floor(random() * pieces.length)];
      expect(parseTarget(target), target).toEqual(viaUrl(target));
    }
  });
});
