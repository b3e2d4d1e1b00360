/**
 * Conformance, spec §1 "Calling a method": the two URL forms, every way of passing
 * parameters and the access token, the `time` block, HTTPS-only portals and the wire errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

const NOTIFICATION = {
  USER_ID: 2,
  MESSAGE: 'Build #42 [B]failed[/B] & 100% = red + “quotes” ✓',
  MESSAGE_OUT: 'Build 42 failed',
  SUB_TAG: 'ci|build|42',
  ATTACH: [
    { IMAGE: { LINK: 'https://example.test/shot.png?a=1&b=2', NAME: 'shot', WIDTH: 640 } },
    { MESSAGE: 'see [URL=https://example.test]log[/URL]' },
  ],
};

/** `NOTIFICATION` as PHP form pairs: `ATTACH[0][IMAGE][LINK]=...`. */
const FORM_PAIRS: [string, string][] = [
  ['USER_ID', '2'],
  ['MESSAGE', NOTIFICATION.MESSAGE],
  ['MESSAGE_OUT', NOTIFICATION.MESSAGE_OUT],
  ['SUB_TAG', NOTIFICATION.SUB_TAG],
  ['ATTACH[0][IMAGE][LINK]', 'https://example.test/shot.png?a=1&b=2'],
  ['ATTACH[0][IMAGE][NAME]', 'shot'],
  ['ATTACH[0][IMAGE][WIDTH]', '640'],
  ['ATTACH[1][MESSAGE]', 'see [URL=https://example.test]log[/URL]'],
];

/** What every encoding must store. */
const STORED = {
  userId: 2,
  authorId: 1,
  type: 'personal',
  message: NOTIFICATION.MESSAGE,
  messageOut: 'Build 42 failed',
  subTag: 'ci|build|42',
  tag: null,
  read: false,
  attach: {
    colorToken: 'base',
    blocks: [
      { IMAGE: [{ LINK: 'https://example.test/shot.png?a=1&b=2', NAME: 'shot', WIDTH: 640 }] },
      { MESSAGE: 'see [URL=https://example.test]log[/URL]' },
    ],
  },
};

const BOUNDARY = '----b24notify-test-boundary';

/** A `time` block as these tests read it. */
interface Time {
  start: number;
  finish: number;
  duration: number;
  processing: number;
  date_start: string;
  date_finish: string;
}

function form(pairs: [string, string][]): string {
  return new URLSearchParams(pairs).toString();
}

/** A query string with raw brackets in the keys, as hand-written URLs and PHP tools send them. */
function rawBracketQuery(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

function multipart(pairs: [string, string][]): Buffer {
  const parts = pairs.map(
    ([k, v]) => `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  return Buffer.from(`${parts.join('')}--${BOUNDARY}--\r\n`, 'utf8');
}

function expectIsoWithOffset(value: unknown, offset: string, unixSeconds: number): void {
  expect(typeof value).toBe('string');
  const text = value as string;
  expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
  expect(text.slice(-6)).toBe(offset);
  expect(Date.parse(text) / 1000).toBe(Math.floor(unixSeconds));
}

/** The `time` block rules of spec §1 and research §11, for an answer of a plain (non-batch) call. */
function expectCoherentTime(answer: Answer, offset: string): void {
  const time = answer.body.time as Record<string, unknown>;
  expect(Object.keys(time).sort()).toEqual(
    [
      'date_finish',
      'date_start',
      'duration',
      'finish',
      'operating',
      'operating_reset_at',
      'processing',
      'start',
    ].sort(),
  );
  const { start, finish, duration, processing, operating, operating_reset_at: resetAt } = time;
  for (const n of [start, finish, duration, processing, operating, resetAt]) expect(typeof n).toBe('number');
  const s = start as number;
  const f = finish as number;
  expect(s).toBeGreaterThan(1_700_000_000);
  expect(f).toBeGreaterThanOrEqual(s);
  expect(Math.abs((duration as number) - (f - s))).toBeLessThan(1e-6);
  expect(processing as number).toBeGreaterThanOrEqual(0);
  expect(Number.isInteger(resetAt)).toBe(true);
  expect(resetAt as number).toBeGreaterThanOrEqual(Math.floor(s));
  expectIsoWithOffset(time.date_start, offset, s);
  expectIsoWithOffset(time.date_finish, offset, f);
}

function expectJsonError(answer: Answer, status: number, error: string, description: string | RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json\b/);
  expect(Object.keys(answer.body).sort()).toEqual(['error', 'error_description']);
  expect(answer.body.error).toBe(error);
  if (typeof description === 'string') expect(answer.body.error_description).toBe(description);
  else expect(answer.body.error_description).toMatch(description);
}

describe.each(TRANSPORTS)('wire over %s', (transport) => {
  let t: TestPortal;
  afterEach(async () => {
    await t.close();
  });

  /** Every documented way to call im.notify.personal.add with the same notification. */
  function variants(): Record<string, () => Promise<Answer>> {
    const hook = new URL(t.emu.webhookUrl).pathname;
    const token = t.emu.tokens.accessToken;
    const json = (path: string, body: unknown) =>
      t.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const urlencoded = (path: string, pairs: [string, string][]) =>
      t.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form(pairs),
      });
    const formData = (path: string, pairs: [string, string][]) =>
      t.request(path, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: multipart(pairs),
      });
    const method = 'im.notify.personal.add';
    return {
      'webhook, POST JSON': () => json(`${hook}${method}`, NOTIFICATION),
      'webhook, POST JSON, .json suffix': () => json(`${hook}${method}.json`, NOTIFICATION),
      'webhook, POST urlencoded PHP keys': () => urlencoded(`${hook}${method}`, FORM_PAIRS),
      'webhook, POST multipart PHP keys': () => formData(`${hook}${method}.json`, FORM_PAIRS),
      'webhook, GET query string': () => t.request(`${hook}${method}?${rawBracketQuery(FORM_PAIRS)}`),
      'OAuth, auth in JSON body': () => json(`/rest/${method}`, { ...NOTIFICATION, auth: token }),
      'OAuth, auth in JSON body, .json suffix': () =>
        json(`/rest/${method}.json`, { ...NOTIFICATION, auth: token }),
      'OAuth, auth in urlencoded body': () => urlencoded(`/rest/${method}`, [...FORM_PAIRS, ['auth', token]]),
      'OAuth, auth in multipart body': () => formData(`/rest/${method}`, [['auth', token], ...FORM_PAIRS]),
      'OAuth, auth in query string, JSON body': () => json(`/rest/${method}?auth=${token}`, NOTIFICATION),
      'OAuth, GET with everything in the query string': () =>
        t.request(`/rest/${method}?${form([['auth', token], ...FORM_PAIRS])}`),
    };
  }

  it('stores the same notification whatever the URL form, verb, encoding and auth place', async () => {
    t = await startTestPortal(transport);
    const ids: number[] = [];
    for (const [name, call] of Object.entries(variants())) {
      const answer = await call();
      expect({ name, status: answer.status, error: answer.body.error }).toEqual({
        name,
        status: 200,
        error: undefined,
      });
      expect(Object.keys(answer.body).sort()).toEqual(['result', 'time']);
      expect(typeof answer.body.result).toBe('number');
      const id = answer.body.result as number;
      const stored = await t.control('GET', `/notifications/${id}`);
      expect(stored.status).toBe(200);
      expect({ name, ...stored.body }).toMatchObject({ name, id, ...STORED });
      ids.push(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
    const all = await t.control('GET', '/notifications?user=2');
    expect(all.body.total).toBe(ids.length);
  });

  it('answers GET with a plain query string and POST JSON alike for a read method', async () => {
    t = await startTestPortal(transport);
    const hook = new URL(t.emu.webhookUrl).pathname;
    const viaGet = await t.request(`${hook}profile`);
    const viaPost = await t.hook('profile');
    const viaOauthGet = await t.request(`/rest/profile.json?auth=${t.emu.tokens.accessToken}`);
    for (const a of [viaGet, viaPost, viaOauthGet]) {
      expect(a.status).toBe(200);
      expect(a.body.result).toEqual({
        ID: '1',
        ADMIN: true,
        NAME: 'Anna',
        LAST_NAME: 'Admin',
        PERSONAL_GENDER: '',
        TIME_ZONE: '',
      });
    }
  });

  it('gives every success answer a coherent time block in the portal time zone', async () => {
    t = await startTestPortal(transport, { portal: { timezone: '+03:00' } });
    const answers = [
      await t.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'hi' }),
      await t.hook('im.notify.system.add', { USER_ID: 2, MESSAGE: 'hi' }),
      await t.hook('im.notify.get', {}),
      await t.hook('profile'),
      await t.hook('server.time'),
      await t.hook('user.get', {}),
      await t.oauth('im.notify.personal.add', { USER_ID: 3, MESSAGE: 'hi' }),
      await t.oauth('profile'),
    ];
    for (const a of answers) {
      expect(a.status).toBe(200);
      expectCoherentTime(a, '+03:00');
    }
  });

  it('writes a negative, half-hour offset as configured', async () => {
    t = await startTestPortal(transport, { portal: { timezone: '-05:30' } });
    const a = await t.hook('profile');
    expect(a.status).toBe(200);
    expectCoherentTime(a, '-05:30');
  });

  it('models processing time in finish and duration', async () => {
    t = await startTestPortal(transport, { portal: { processingSeconds: { '*': 0.25 } } });
    const a = await t.hook('profile');
    const time = a.body.time as Time;
    expect(time.processing).toBe(0.25);
    expect(time.finish - time.start).toBeGreaterThanOrEqual(0.25 - 1e-9);
    expectCoherentTime(a, '+00:00');
  });

  it('refuses bodies over maxBodyBytes with a JSON error, with or without content-length', async () => {
    t = await startTestPortal(transport, { portal: { maxBodyBytes: 1024 } });
    const path = new URL(t.emu.webhookUrl).pathname + 'im.notify.personal.add';
    const big = JSON.stringify({ USER_ID: 2, MESSAGE: 'x'.repeat(2000) });
    const declared = await t.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expectJsonError(declared, 413, 'ERROR_REQUEST_TOO_LARGE', 'Request body over 1024 bytes');
    const chunked = await t.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: big,
    });
    expectJsonError(chunked, 413, 'ERROR_REQUEST_TOO_LARGE', 'Request body over 1024 bytes');
    // Exactly at the limit is fine.
    const head = JSON.stringify({ USER_ID: 2, MESSAGE: '' });
    const exact = JSON.stringify({ USER_ID: 2, MESSAGE: 'y'.repeat(1024 - head.length) });
    expect(Buffer.byteLength(exact)).toBe(1024);
    const ok = await t.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: exact,
    });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.result).toBe('number');
    const stored = await t.control('GET', '/notifications');
    expect(stored.body.total).toBe(1);
  });

  it('answers an .xml suffix with a clear JSON error and stores nothing', async () => {
    t = await startTestPortal(transport);
    const path = new URL(t.emu.webhookUrl).pathname + 'im.notify.personal.add.xml';
    const a = await t.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ USER_ID: 2, MESSAGE: 'hi' }),
    });
    expectJsonError(a, 400, 'INVALID_REQUEST', /\.xml/);
    const viaOauth = await t.request(`/rest/profile.xml?auth=${t.emu.tokens.accessToken}`);
    expectJsonError(viaOauth, 400, 'INVALID_REQUEST', /\.xml/);
    const stored = await t.control('GET', '/notifications');
    expect(stored.body.total).toBe(0);
  });

  it('never shows the webhook code in the request log, even for malformed paths', async () => {
    t = await startTestPortal(transport);
    const code = new URL(t.emu.webhookUrl).pathname.split('/')[3] as string;
    expect(code.length).toBeGreaterThan(8);
    expect((await t.request(`/rest/1/${code}/profile`)).status).toBe(200);
    expect((await t.request(`/rest/1/${code}x/profile`)).status).toBe(401);
    for (const path of [
      `/rest/1/${code}/`,
      `/rest/1/${code}`,
      `/rest/1/${code}/profile/extra`,
      `/rest/x/${code}/profile`,
    ]) {
      const a = await t.request(path);
      expectJsonError(a, 404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
    }
    const log = await t.control('GET', '/requests');
    expect((log.body.requests as unknown[]).length).toBe(6);
    expect(log.text).not.toContain(code);
  });

  it('gives a batch answer a coherent outer time block without the operating fields', async () => {
    t = await startTestPortal(transport, { portal: { timezone: '+02:00' } });
    const a = await t.hook('batch', { cmd: { a: 'profile', b: 'server.time' } });
    expect(a.status).toBe(200);
    const time = a.body.time as Time;
    expect(Object.keys(time).sort()).toEqual(
      ['date_finish', 'date_start', 'duration', 'finish', 'processing', 'start'].sort(),
    );
    expect(time.finish).toBeGreaterThanOrEqual(time.start);
    expect(Math.abs(time.duration - (time.finish - time.start))).toBeLessThan(1e-6);
    expectIsoWithOffset(time.date_start, '+02:00', time.start);
    expectIsoWithOffset(time.date_finish, '+02:00', time.finish);
  });

  it('answers a malformed JSON body with a JSON error', async () => {
    t = await startTestPortal(transport);
    const path = new URL(t.emu.webhookUrl).pathname + 'im.notify.personal.add';
    const a = await t.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"USER_ID": 2, "MESSAGE": ',
    });
    expectJsonError(a, 400, 'ERROR_ARGUMENT', /^Malformed JSON body: /);
  });
});

describe('requireHttps', () => {
  let t: TestPortal;
  afterEach(async () => {
    await t.close();
  });

  it('answers plain http with 400 INVALID_REQUEST "Https required", as the system table says', async () => {
    t = await startTestPortal('http', { portal: { requireHttps: true } });
    expectJsonError(
      await t.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'hi' }),
      400,
      'INVALID_REQUEST',
      'Https required',
    );
    expectJsonError(await t.oauth('profile'), 400, 'INVALID_REQUEST', 'Https required');
    const stored = await t.control('GET', '/notifications');
    expect(stored.body.total).toBe(0);
  });

  it('answers plain http with the same 400 under the legacy table', async () => {
    t = await startTestPortal('http', { portal: { requireHttps: true, errorTable: 'legacy' } });
    expectJsonError(await t.hook('profile'), 400, 'INVALID_REQUEST', 'Https required');
  });

  it('serves https normally', async () => {
    t = await startTestPortal('https', { portal: { requireHttps: true } });
    const a = await t.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'hi' });
    expect(a.status).toBe(200);
    expect(typeof a.body.result).toBe('number');
    expect((await t.oauth('profile')).status).toBe(200);
  });

  it('checks https before credentials, so a plain-http caller learns nothing about them', async () => {
    t = await startTestPortal('http', { portal: { requireHttps: true } });
    const a = await t.request('/rest/1/wrong-code/profile');
    expectJsonError(a, 400, 'INVALID_REQUEST', 'Https required');
  });
});

/**
 * `settings/how-to-call-rest-api/data-encoding.md` (both repositories): what a portal makes of
 * the bytes of a query string or form body, and the choices where the page is silent. The
 * transport changes none of it, so plain http.
 */
describe('data encoding', () => {
  let t: TestPortal;
  afterEach(async () => {
    await t.close();
  });

  /** Send by GET with `query` as written; answers the stored notification's MESSAGE. */
  async function storedMessage(query: string): Promise<unknown> {
    const hook = new URL(t.emu.webhookUrl).pathname;
    const a = await t.request(`${hook}im.notify.personal.add.json?USER_ID=2&${query}`);
    expect(a.status).toBe(200);
    return (await t.control('GET', `/notifications/${String(a.body.result)}`)).body.message;
  }

  it('ends a value at an unencoded &, and keeps %26 as part of it', async () => {
    t = await startTestPortal('http');
    expect(await storedMessage('MESSAGE=John&Martin')).toBe('John');
    expect(await storedMessage('MESSAGE=John%26Martin')).toBe('John&Martin');
  });

  it('reads + as a space and %2B as a plus, in a query string and a form body', async () => {
    t = await startTestPortal('http');
    expect(await storedMessage('MESSAGE=My+company+%2B1')).toBe('My company +1');
    const hook = new URL(t.emu.webhookUrl).pathname;
    const a = await t.request(`${hook}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'USER_ID=2&MESSAGE=My+company+%2B1',
    });
    expect((await t.control('GET', `/notifications/${String(a.body.result)}`)).body.message).toBe(
      'My company +1',
    );
  });

  it('decodes percent-encoded UTF-8 and keeps a % without two hex digits as written', async () => {
    t = await startTestPortal('http');
    expect(await storedMessage('MESSAGE=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82')).toBe('Привет');
    expect(await storedMessage('MESSAGE=100%')).toBe('100%');
    expect(await storedMessage('MESSAGE=50%zz')).toBe('50%zz');
  });

  it('takes PHP keys in a GET query with raw or percent-encoded brackets alike', async () => {
    t = await startTestPortal('http');
    const raw = 'MESSAGE=x&ATTACH[0][MESSAGE]=first&ATTACH[1][DELIMITER][SIZE]=100';
    const encoded = raw.replace(/\[/g, '%5B').replace(/\]/g, '%5D');
    const hook = new URL(t.emu.webhookUrl).pathname;
    for (const query of [raw, encoded]) {
      const a = await t.request(`${hook}im.notify.personal.add.json?USER_ID=2&${query}`);
      expect(a.status).toBe(200);
      const stored = await t.control('GET', `/notifications/${String(a.body.result)}`);
      expect(stored.body.attach).toEqual({
        colorToken: 'base',
        blocks: [{ MESSAGE: 'first' }, { DELIMITER: { SIZE: 100 } }],
      });
    }
  });

  it('reads every body as UTF-8 whatever its charset, invalid bytes as U+FFFD', async () => {
    t = await startTestPortal('http');
    const hook = new URL(t.emu.webhookUrl).pathname;
    const send = async (contentType: string, body: Buffer): Promise<unknown> => {
      const a = await t.request(`${hook}im.notify.personal.add`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      expect(a.status).toBe(200);
      return (await t.control('GET', `/notifications/${String(a.body.result)}`)).body.message;
    };
    const form = 'application/x-www-form-urlencoded; charset=windows-1251';
    // "При" in windows-1251: not UTF-8, so each byte is one replacement character.
    expect(await send(form, Buffer.from('USER_ID=2&MESSAGE=%CF%F0%E8', 'latin1'))).toBe('\ufffd\ufffd\ufffd');
    expect(await send(form, Buffer.from('USER_ID=2&MESSAGE=При', 'utf8'))).toBe('При');
    expect(
      await send('application/json; charset=utf-16', Buffer.from('{"USER_ID":2,"MESSAGE":"При"}', 'utf8')),
    ).toBe('При');
  });

  it('takes Y/N flags as Y/N, booleans or 1/0', async () => {
    t = await startTestPortal('http');
    const boris = (await t.control('POST', '/tokens', { userId: 2 })).body as { accessToken: string };
    const sent = await t.hook('im.notify.personal.add', { USER_ID: 2, MESSAGE: 'flag' });
    const id = sent.body.result as number;
    const read = async (action: unknown): Promise<unknown> => {
      const a = await t.oauth(
        'im.notify.read',
        { ID: id, ONLY_CURRENT: true, ACTION: action },
        boris.accessToken,
      );
      expect(a.status).toBe(200);
      return (await t.control('GET', `/notifications/${id}`)).body.read;
    };
    expect(await read('Y')).toBe(true);
    expect(await read(false)).toBe(false);
    expect(await read(true)).toBe(true);
    expect(await read('N')).toBe(false);
    expect(await read(1)).toBe(true);
    expect(await read('0')).toBe(false);
  });
});
