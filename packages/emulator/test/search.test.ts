/**
 * The filter language (`src/search.ts`): what parses to what, errors that name the bad term,
 * and `GET /notifications?q=` over real HTTP, checked against the same rules applied by hand.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FilterError, formatFilter, parseFilter } from '../src/index.js';
import { startTestPortal, type TestPortal } from './support/emulator.js';

describe('parseFilter', () => {
  test('every term', () => {
    expect(
      parseFilter(
        'user:5 from:0 tag:invoice-* is:unread has:attach has:answer type:system text:"paid in full" portal:b after:41 late',
      ),
    ).toEqual({
      user: 5,
      from: 0,
      tag: 'invoice-*',
      read: false,
      attach: true,
      answered: true,
      type: 'system',
      text: ['paid in full', 'late'],
      portal: 'b',
      after: 41,
    });
    expect(parseFilter('  ')).toEqual({});
    expect(parseFilter('is:read "Quoted \\" phrase"')).toEqual({ read: true, text: ['quoted " phrase'] });
    expect(parseFilter('USER:3 Tag:x')).toEqual({ user: 3, tag: 'x' });
  });

  test('formatFilter parses back to the same filter', () => {
    const q = 'portal:b user:5 tag:"a b" is:unread has:attach text:"say \\"hi\\"" after:3';
    const f = parseFilter(q);
    expect(parseFilter(formatFilter(f))).toEqual(f);
  });

  test.each([
    [
      'colour:red',
      /^colour:red: unknown term "colour:"; the terms are user: from: tag: is: has: type: text: portal: after:/,
    ],
    ['user:me', /^user:me: expected the recipient user id \(a non-negative whole number\)/],
    ['user:-1', /^user:-1: expected the recipient user id/],
    ['user:1 user:2', /^user:2: user: is given twice; keep one/],
    ['is:new', /^is:new: expected is:unread or is:read/],
    ['has:files', /^has:files: expected has:attach or has:answer/],
    ['type:robot', /^type:robot: expected type:personal or type:system/],
    ['tag:', /^tag:: tag: needs a value/],
    ['text:""', /^text:"": empty text/],
    ['text:"open', /^text:"open: the quote is not closed/],
  ])('%s is refused, naming the term', (q, message) => {
    let caught: unknown;
    try {
      parseFilter(q);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FilterError);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('GET /notifications?q=', () => {
  let p: TestPortal;
  beforeAll(async () => {
    p = await startTestPortal('http');
    const send = async (params: Record<string, unknown>): Promise<void> => {
      const a = await p.hook('im.notify.personal.add', params);
      expect(a.status, a.text).toBe(200);
    };
    await send({ USER_ID: 5, MESSAGE: 'Invoice 1 paid', TAG: 'invoice-1' });
    await send({ USER_ID: 5, MESSAGE: 'Invoice 2 overdue', TAG: 'invoice-2', ATTACH: [{ MESSAGE: 'x' }] });
    await send({ USER_ID: 5, MESSAGE: 'Invoice 3 PAID', TAG: 'invoice-3', ATTACH: [{ MESSAGE: 'y' }] });
    await send({ USER_ID: 3, MESSAGE: 'Invoice 4 paid', TAG: 'invoice-4' });
    await send({ USER_ID: 5, MESSAGE: 'Deploy paid off', TAG: 'deploy' });
    const first = p.emu.portal.store.forUser(5).at(-1);
    if (first) {
      first.read = true;
      p.emu.portal.store.updateNotification(first);
    }
  });
  afterAll(() => p.close());

  const tags = async (q: string): Promise<string[]> => {
    const a = await p.control('GET', `/notifications?q=${encodeURIComponent(q)}`);
    expect(a.status, a.text).toBe(200);
    const list = a.body.notifications as { tag: string }[];
    expect(a.body.total).toBe(list.length);
    return list.map((n) => n.tag);
  };

  test('terms combine', async () => {
    expect(await tags('user:5 tag:invoice-*')).toEqual(['invoice-3', 'invoice-2', 'invoice-1']);
    expect(await tags('user:5 tag:invoice-* is:unread')).toEqual(['invoice-3', 'invoice-2']);
    expect(await tags('tag:invoice-* has:attach text:"paid"')).toEqual(['invoice-3']);
    expect(await tags('paid')).toEqual(['deploy', 'invoice-4', 'invoice-3', 'invoice-1']);
    expect(await tags('tag:invoice')).toEqual([]);
    expect(await tags('user:3')).toEqual(['invoice-4']);
    const oldest = Math.min(...p.emu.portal.store.all().map((n) => n.id));
    const after = await p.control('GET', `/notifications?user=5&after=${oldest}`);
    expect((after.body.notifications as { tag: string }[]).map((n) => n.tag)).toEqual([
      'deploy',
      'invoice-3',
      'invoice-2',
    ]);
  });

  test('a bad term is a 400 naming it', async () => {
    const a = await p.control('GET', `/notifications?q=${encodeURIComponent('user:5 colour:red')}`);
    expect(a.status).toBe(400);
    expect(a.body.error).toBe('BAD_REQUEST');
    expect(a.body.error_description).toMatch(/^q: colour:red: unknown term/);
  });
});
