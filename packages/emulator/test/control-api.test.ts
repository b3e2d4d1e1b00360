/**
 * The control API under hostile input: every error is JSON `{error, error_description}`, and
 * writes from another origin are refused (Origin, Sec-Fetch-Site, JSON-only bodies) while
 * scripts, tests and the inbox page itself keep working. The headers a browser would send are
 * forged here; `cross-origin.e2e.test.ts` checks the same with a real browser.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestPortal, type Answer, type TestPortal } from './support/emulator.js';

let p: TestPortal;
let own: string;

beforeAll(async () => {
  p = await startTestPortal('http', { portal: { maxBodyBytes: 64 * 1024 } });
  own = p.emu.url;
});
afterAll(() => p.close());

function expectError(a: Answer, status: number, error: string, description?: RegExp): void {
  expect(a.status, a.text).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/json\b/);
  expect(a.body.error).toBe(error);
  expect(typeof a.body.error_description).toBe('string');
  expect(String(a.body.error_description)).not.toBe('');
  if (description) expect(String(a.body.error_description)).toMatch(description);
}

async function addOne(): Promise<number> {
  const a = await p.hook('im.notify.personal.add', { USER_ID: 1, MESSAGE: 'keep me' });
  expect(a.status).toBe(200);
  return a.body.result as number;
}

const stored = (): number => p.emu.portal.store.all().length;

describe('control API errors are JSON with error and error_description', () => {
  test('unknown endpoint, wrong method, missing id, bad JSON, wrong shape', async () => {
    expectError(await p.control('GET', '/nope'), 404, 'NOT_FOUND', /\/nope/);
    expectError(await p.control('DELETE', '/clock'), 405, 'METHOD_NOT_ALLOWED', /DELETE/);
    expectError(await p.control('GET', '/notifications/999999'), 404, 'NOT_FOUND', /999999/);
    expectError(await p.control('PUT', '/clock', [1]), 400, 'BAD_REQUEST', /^body: /);
    const bad = await p.request('/_emulator/api/clock', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"offsetMs": ',
    });
    expectError(bad, 400, 'BAD_REQUEST', /^body: not valid JSON/);
  });

  test('a broken %-escape in an id is a 400 naming the id', async () => {
    for (const path of ['/notifications/%zz', '/requests/%E0%A4%A', '/notifications/1%']) {
      expectError(await p.control('GET', path), 400, 'BAD_REQUEST', /^id: /);
    }
  });

  test('a body over the limit is a 413, declared or streamed', async () => {
    const big = JSON.stringify({ offsetMs: 1, pad: 'x'.repeat(1024 * 1024) });
    const declared = await p.request('/_emulator/api/clock', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expectError(declared, 413, 'PAYLOAD_TOO_LARGE', /body/);
    const streamed = await p.request('/_emulator/api/clock', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: big,
    });
    expectError(streamed, 413, 'PAYLOAD_TOO_LARGE');
    expect((await p.control('GET', '/clock')).status).toBe(200);
  });

  test.each(['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'])(
    'a %s key anywhere in a body is refused with 400 naming where, and changes nothing',
    async (key) => {
      const before = (await p.control('GET', '/portal')).json;
      for (const body of [
        `{"${key}": "x"}`,
        `{"state": "deleted", "${key}": {"a": 1}}`,
        `{"processingSeconds": {"${key}": 5}}`,
        `{"attachMaxLength": 5, "x": [{"${key}": 1}]}`,
      ]) {
        const a = await p.request('/_emulator/api/portal', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body,
        });
        expectError(a, 400, 'BAD_REQUEST', new RegExp(key));
      }
      for (const path of ['/limits', '/chaos', '/clock', '/sessions', '/tokens']) {
        const a = await p.request(`/_emulator/api${path}`, {
          method: path === '/sessions' || path === '/tokens' ? 'POST' : 'PUT',
          headers: { 'content-type': 'application/json' },
          body: `{"${key}": {"${key}": 1}}`,
        });
        expectError(a, 400, 'BAD_REQUEST');
      }
      expect((await p.control('GET', '/portal')).json).toEqual(before);
    },
  );
});

describe('writes from another origin are refused', () => {
  const reset = (headers: Record<string, string>, body?: string): Promise<Answer> =>
    p.request('/_emulator/api/reset', { method: 'POST', headers, ...(body === undefined ? {} : { body }) });

  test('a foreign Origin gets 403 and changes nothing, on every writing route', async () => {
    await addOne();
    const count = stored();
    for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:1', `${own}.evil.example`]) {
      expectError(await reset({ origin }), 403, 'FORBIDDEN', /Origin/);
    }
    const headers = { origin: 'http://127.0.0.1:1', 'content-type': 'application/json' };
    const writes: [string, string, unknown][] = [
      ['PUT', '/portal', { state: 'deleted' }],
      ['PUT', '/clock', { advanceMs: 1000 }],
      ['PUT', '/chaos', { rules: [{ method: '*', faults: [{ type: 'reset' }] }] }],
      ['PUT', '/limits', { plan: 'standard' }],
      ['POST', '/tokens', {}],
      ['POST', '/sessions', { userId: 1 }],
      ['PATCH', '/notifications/1', { read: true }],
      ['DELETE', '/notifications/1', undefined],
      ['POST', '/nope', {}],
    ];
    for (const [method, path, body] of writes) {
      const a = await p.request(`/_emulator/api${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expectError(a, 403, 'FORBIDDEN');
    }
    expect(stored()).toBe(count);
    expect((await p.control('GET', '/portal')).body.state).toBe('active');
    expect((await p.control('GET', '/clock')).body.offsetMs).toBe(0);
    expect((await p.control('GET', '/chaos')).body.rules).toEqual([]);
  });

  test('Sec-Fetch-Site cross-site or same-site gets 403, even without an Origin', async () => {
    await addOne();
    const count = stored();
    for (const site of ['cross-site', 'same-site']) {
      expectError(await reset({ 'sec-fetch-site': site }), 403, 'FORBIDDEN', /Sec-Fetch-Site/);
      expectError(
        await reset({ 'sec-fetch-site': site, origin: own, 'content-type': 'application/json' }, '{}'),
        403,
        'FORBIDDEN',
      );
    }
    expect(stored()).toBe(count);
  });

  test('a write with a body that is not application/json gets 415, whoever sends it', async () => {
    await addOne();
    const count = stored();
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      expectError(await reset({ 'content-type': type }, '{}'), 415, 'UNSUPPORTED_MEDIA_TYPE', /json/);
    }
    expectError(await reset({}, '{}'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const form = await p.request('/_emulator/api/portal', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: '{"state":"deleted"}',
    });
    expectError(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(stored()).toBe(count);
    expect((await p.control('GET', '/portal')).body.state).toBe('active');
  });

  test('reads from anywhere, and writes with no Origin or the own one, keep working', async () => {
    for (const origin of ['http://evil.example', 'null']) {
      const a = await p.request('/_emulator/api/users', {
        headers: { origin, 'sec-fetch-site': 'cross-site' },
      });
      expect(a.status).toBe(200);
      // No CORS header: a foreign page cannot read the answer.
      expect(a.headers['access-control-allow-origin']).toBeUndefined();
    }
    await addOne();
    const sameOrigin = {
      origin: own,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json; charset=utf-8',
    };
    const patch = await p.request('/_emulator/api/clock', {
      method: 'PUT',
      headers: sameOrigin,
      body: JSON.stringify({ advanceMs: 5 }),
    });
    expect(patch.status, patch.text).toBe(200);
    const typed = await p.request('/_emulator/api/reset', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'none' },
    });
    expect(typed.status).toBe(200);
    await addOne();
    const curl = await p.control('POST', '/reset');
    expect(curl.status).toBe(200);
    expect(stored()).toBe(0);
  });

  test('REST keeps its own behaviour: no Origin check, no CORS headers', async () => {
    const a = await p.request(`${new URL(p.emu.webhookUrl).pathname}server.time`, {
      headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(a.status).toBe(200);
    expect(a.headers['access-control-allow-origin']).toBeUndefined();
  });
});
