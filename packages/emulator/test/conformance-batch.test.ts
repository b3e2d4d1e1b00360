/**
 * Conformance of `batch` (spec §7, research §8) over real HTTP and HTTPS: the forms of `cmd`,
 * both encodings, halt, `$result[...]` references, the answer's maps, the 50-command limit,
 * nesting, scope errors and the time blocks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DEFAULT_USERS, type UserConfig } from '../src/config.js';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

interface Stored {
  id: number;
  userId: number;
  message: string;
  read: boolean;
}

/** The `result` of a batch answer. */
interface BatchResult {
  result: Record<string, unknown> | unknown[];
  result_error: Record<string, { error: string; error_description: string }> | unknown[];
  result_total: Record<string, number> | unknown[];
  result_next: Record<string, number> | unknown[];
  result_time: Record<string, Record<string, unknown>> | unknown[];
}

const HOOK = 'hookcode0001';
const LIMITED = 'limited00001';
const PLAIN_TIME_KEYS = ['start', 'finish', 'duration', 'processing', 'date_start', 'date_finish'];
const USERS: UserConfig[] = [
  ...DEFAULT_USERS.map((u) => ({ ...u })),
  ...Array.from({ length: 55 }, (_, i) => ({ ID: 100 + i, NAME: `User${100 + i}` })),
];

async function stored(p: TestPortal): Promise<Stored[]> {
  const a = await p.control('GET', '/notifications');
  expect(a.status).toBe(200);
  return (a.body as { notifications: Stored[] }).notifications;
}

/** The batch's result, after checking the answer is a 200 with exactly `result` and `time`. */
function batchOf(a: Answer): BatchResult {
  expect(a.status).toBe(200);
  expect(Object.keys(a.body)).toEqual(['result', 'time']);
  const r = a.body.result as BatchResult;
  expect(Object.keys(r)).toEqual(['result', 'result_error', 'result_total', 'result_next', 'result_time']);
  return r;
}

function send(userId: number, message: string): string {
  return `im.notify.personal.add?USER_ID=${userId}&MESSAGE=${encodeURIComponent(message)}`;
}

describe.each(TRANSPORTS)('batch over %s', (transport) => {
  let p: TestPortal;

  beforeAll(async () => {
    p = await startTestPortal(transport, {
      portal: {
        users: USERS,
        webhooks: [
          { userId: 1, code: HOOK, scopes: ['im', 'user', 'profile'] },
          { userId: 1, code: LIMITED, scopes: ['im'] },
        ],
      },
    });
  });
  afterAll(async () => {
    await p.close();
  });
  beforeEach(async () => {
    expect((await p.control('POST', '/reset')).status).toBe(200);
    expect((await p.control('PUT', '/portal', { batchOverflow: 'per-command' })).status).toBe(200);
  });

  describe('cmd', () => {
    it('as a map: answers each command under its key', async () => {
      const r = batchOf(
        await p.hook('batch', { cmd: { note: send(2, 'hi'), me: 'profile', now: 'server.time' } }),
      );
      const [n] = await stored(p);
      expect(r.result).toEqual({
        note: n?.id,
        me: { ID: '1', ADMIN: true, NAME: 'Anna', LAST_NAME: 'Admin', PERSONAL_GENDER: '', TIME_ZONE: '' },
        now: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/),
      });
      expect(n).toMatchObject({ userId: 2, message: 'hi' });
      expect(r.result_error).toEqual([]);
      expect(r.result_total).toEqual([]);
      expect(r.result_next).toEqual([]);
      expect(Object.keys(r.result_time)).toEqual(['note', 'me', 'now']);
    });

    it('as a list: answers lists, as PHP encodes a map keyed 0..n-1', async () => {
      const r = batchOf(await p.hook('batch', { cmd: ['profile', send(3, 'listed')] }));
      const [n] = await stored(p);
      expect(r.result).toEqual([expect.objectContaining({ ID: '1' }), n?.id]);
      expect(Array.isArray(r.result_time)).toBe(true);
      expect(r.result_time).toHaveLength(2);
      expect(r.result_error).toEqual([]);
    });

    it('as a list with a failed command: the gaps make objects keyed by position', async () => {
      const r = batchOf(
        await p.hook('batch', { cmd: ['profile', 'im.notify.personal.add?USER_ID=0', 'server.time'] }),
      );
      expect(r.result).toEqual({ 0: expect.objectContaining({ ID: '1' }), 2: expect.any(String) });
      expect(r.result_error).toEqual({
        1: { error: 'USER_ID_EMPTY', error_description: "User ID can't be empty" },
      });
      expect(Object.keys(r.result_time)).toEqual(['0', '2']);
    });

    it('in a query string, encoded twice', async () => {
      const path = `/rest/1/${HOOK}/batch`;
      const a = await p.request(
        `${path}?halt=0&cmd[a]=im.notify.personal.add%3FUSER_ID%3D2%26MESSAGE%3Dhi%2520there%2521` +
          '&cmd[b]=im.notify.read%3FID%3D%2524result%255Ba%255D' +
          '&cmd[c]=user.get%3FFILTER%255BID%255D%3D5',
      );
      const r = batchOf(a);
      const [n] = await stored(p);
      expect(n).toMatchObject({ userId: 2, message: 'hi there!' });
      expect(r.result).toEqual({ a: n?.id, b: true, c: [expect.objectContaining({ ID: '5' })] });
      expect(r.result_total).toEqual({ c: 1 });
    });

    it('in an urlencoded body, encoded twice', async () => {
      const body = `halt=1&cmd[x]=${encodeURIComponent(send(3, 'a&b=c'))}&cmd[y]=${encodeURIComponent('profile')}`;
      const r = batchOf(
        await p.request(`/rest/1/${HOOK}/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }),
      );
      const [n] = await stored(p);
      expect(n).toMatchObject({ userId: 3, message: 'a&b=c' });
      expect(r.result).toEqual({ x: n?.id, y: expect.objectContaining({ ID: '1' }) });
    });

    it('through OAuth, with auth in the body', async () => {
      const r = batchOf(await p.oauth('batch', { cmd: { me: 'profile', n: send(5, 'oauth') } }));
      expect(r.result).toEqual({ me: expect.objectContaining({ ID: '1' }), n: expect.any(Number) });
      expect((await stored(p))[0]).toMatchObject({ userId: 5, message: 'oauth' });
    });
  });

  describe('halt', () => {
    const cmd = {
      a: send(2, 'first'),
      b: 'im.notify.personal.add?USER_ID=2',
      c: send(3, 'third'),
      d: 'no.such.method',
    };

    it('0 (the default) runs every command and collects the errors', async () => {
      const r = batchOf(await p.hook('batch', { cmd }));
      const list = await stored(p);
      expect(list.map((n) => n.message)).toEqual(['third', 'first']);
      expect(r.result).toEqual({ a: list[1]?.id, c: list[0]?.id });
      expect(r.result_error).toEqual({
        b: { error: 'MESSAGE_EMPTY', error_description: "Message can't be empty" },
        d: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' },
      });
      expect(Object.keys(r.result_time)).toEqual(['a', 'c']);
    });

    it.each([[1], [true], ['1']])(
      '%j stops at the first error; later commands are not executed',
      async (halt) => {
        const r = batchOf(await p.hook('batch', { halt, cmd }));
        const list = await stored(p);
        expect(list.map((n) => n.message)).toEqual(['first']);
        expect(r.result).toEqual({ a: list[0]?.id });
        expect(r.result_error).toEqual({
          b: { error: 'MESSAGE_EMPTY', error_description: "Message can't be empty" },
        });
        expect(Object.keys(r.result_time)).toEqual(['a']);
      },
    );
  });

  describe('$result references', () => {
    it('$result[key] passes a whole answer', async () => {
      const r = batchOf(
        await p.hook('batch', {
          halt: 1,
          cmd: {
            a: send(1, 'to read'),
            b: send(1, 'stays unread'),
            r: 'im.notify.read?ID=$result[a]&ONLY_CURRENT=Y',
          },
        }),
      );
      expect(r.result_error).toEqual([]);
      const list = await stored(p);
      expect(list.map((n) => [n.message, n.read])).toEqual([
        ['stays unread', false],
        ['to read', true],
      ]);
    });

    it('$result[key][FIELD] picks a field, also inside text', async () => {
      const r = batchOf(
        await p.hook('batch', {
          halt: 1,
          cmd: {
            me: 'profile',
            n: 'im.notify.personal.add?USER_ID=$result[me][ID]&MESSAGE=Hello $result[me][NAME]!',
          },
        }),
      );
      expect(r.result_error).toEqual([]);
      expect((await stored(p))[0]).toMatchObject({ userId: 1, message: 'Hello Anna!' });
    });

    it('$result[key][0][ID] picks into a list', async () => {
      const r = batchOf(
        await p.hook('batch', {
          halt: 1,
          cmd: {
            users: 'user.get?FILTER[LAST_NAME]=Smirnova',
            n: 'im.notify.personal.add?USER_ID=$result[users][0][ID]&MESSAGE=$result[users][0][NAME]',
          },
        }),
      );
      expect(r.result_error).toEqual([]);
      expect((await stored(p))[0]).toMatchObject({ userId: 3, message: 'Clara' });
    });
  });

  describe('the answer', () => {
    it('has result_total for list methods and result_next only where there is a next page', async () => {
      const r = batchOf(
        await p.hook('batch', { cmd: { first: 'user.get', last: 'user.get?start=50', me: 'profile' } }),
      );
      expect((r.result as Record<string, unknown[]>).first).toHaveLength(50);
      expect((r.result as Record<string, unknown[]>).last).toHaveLength(10);
      expect(r.result_total).toEqual({ first: 60, last: 60 });
      expect(r.result_next).toEqual({ first: 50 });
    });

    it('has result_time for successful commands only, without the operating fields', async () => {
      const r = batchOf(await p.hook('batch', { cmd: { ok: 'server.time', bad: 'im.notify.delete' } }));
      expect(r.result_error).toEqual({
        bad: { error: 'PARAMS_ERROR', error_description: 'Incorrect params' },
      });
      const times = r.result_time as Record<string, Record<string, unknown>>;
      expect(Object.keys(times)).toEqual(['ok']);
      expect(Object.keys(times.ok ?? {})).toEqual(PLAIN_TIME_KEYS);
      const t = times.ok as { start: number; finish: number; duration: number };
      expect(t.finish).toBeGreaterThanOrEqual(t.start);
      expect(t.duration).toBeCloseTo(t.finish - t.start, 6);
    });

    it('is 200 with empty maps as [] when every command fails', async () => {
      const a = await p.hook('batch', { cmd: { a: 'im.notify.personal.add', b: 'im.notify.get?LAST_ID=1' } });
      expect(batchOf(a)).toEqual({
        result: [],
        result_error: {
          a: { error: 'USER_ID_EMPTY', error_description: "User ID can't be empty" },
          b: {
            error: 'LAST_ID_AND_LAST_TYPE',
            error_description: 'Parameters LAST_ID and LAST_TYPE should be used together.',
          },
        },
        result_total: [],
        result_next: [],
        result_time: [],
      });
    });

    it('is all empty maps for an empty cmd', async () => {
      expect(batchOf(await p.hook('batch', { cmd: {} }))).toEqual({
        result: [],
        result_error: [],
        result_total: [],
        result_next: [],
        result_time: [],
      });
    });

    it('has an outer time without the operating fields', async () => {
      const a = await p.hook('batch', { cmd: { t: 'server.time' } });
      batchOf(a);
      expect(Object.keys(a.body.time as object)).toEqual(PLAIN_TIME_KEYS);
      const plain = await p.hook('server.time');
      expect(Object.keys(plain.body.time as object)).toEqual([
        ...PLAIN_TIME_KEYS,
        'operating_reset_at',
        'operating',
      ]);
    });
  });

  describe('limits and refusals', () => {
    const many = (n: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, send(2, `m${i}`)]));

    it('runs 50 commands', async () => {
      const r = batchOf(await p.hook('batch', { cmd: many(50) }));
      expect(Object.keys(r.result)).toHaveLength(50);
      expect(r.result_error).toEqual([]);
      expect(await stored(p)).toHaveLength(50);
    });

    it('answers ERROR_BATCH_LENGTH_EXCEEDED for each command past 50 by default', async () => {
      const r = batchOf(await p.hook('batch', { cmd: many(52) }));
      expect(Object.keys(r.result)).toEqual(Object.keys(many(50)));
      const exceeded = {
        error: 'ERROR_BATCH_LENGTH_EXCEEDED',
        error_description: 'Max batch length exceeded',
      };
      expect(r.result_error).toEqual({ c50: exceeded, c51: exceeded });
      expect(Object.keys(r.result_time)).toHaveLength(50);
      const list = await stored(p);
      expect(list).toHaveLength(50);
      expect(list.some((n) => n.message === 'm50' || n.message === 'm51')).toBe(false);
    });

    it('with halt=1 still runs the first 50 and stops at the 51st', async () => {
      const r = batchOf(await p.hook('batch', { halt: 1, cmd: many(53) }));
      expect(Object.keys(r.result_error)).toEqual(['c50']);
      expect(await stored(p)).toHaveLength(50);
    });

    it("refuses the whole batch with 400 under batchOverflow 'reject'", async () => {
      expect((await p.control('PUT', '/portal', { batchOverflow: 'reject' })).status).toBe(200);
      const a = await p.hook('batch', { cmd: many(51) });
      expect(a.status).toBe(400);
      expect(a.json).toEqual({
        error: 'ERROR_BATCH_LENGTH_EXCEEDED',
        error_description: 'Max batch length exceeded',
      });
      expect(await stored(p)).toEqual([]);
      batchOf(await p.hook('batch', { cmd: many(50) }));
    });

    it('refuses a nested batch with ERROR_BATCH_METHOD_NOT_ALLOWED', async () => {
      const r = batchOf(
        await p.hook('batch', {
          cmd: { inner: `batch?cmd[x]=${encodeURIComponent(send(2, 'nested'))}`, ok: 'profile' },
        }),
      );
      expect(r.result_error).toEqual({
        inner: {
          error: 'ERROR_BATCH_METHOD_NOT_ALLOWED',
          error_description: 'Method is not allowed for batch usage',
        },
      });
      expect(Object.keys(r.result)).toEqual(['ok']);
      expect(await stored(p)).toEqual([]);
    });

    it('gives insufficient_scope an empty description inside a batch', async () => {
      const a = await p.request(`/rest/1/${LIMITED}/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: { users: 'user.get', me: 'profile', n: send(2, 'allowed') } }),
      });
      const r = batchOf(a);
      expect(r.result_error).toEqual({ users: { error: 'insufficient_scope', error_description: '' } });
      expect(Object.keys(r.result)).toEqual(['me', 'n']);

      const alone = await p.request(`/rest/1/${LIMITED}/user.get`);
      expect(alone.body.error).toBe('insufficient_scope');
      expect(alone.body.error_description).toBe(
        'The request requires higher privileges than provided by the webhook token',
      );
    });
  });
});
