import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestPortal, type TestPortal } from './support/emulator.js';

/** A deterministic PRNG, so a failing input can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Send raw bytes over TCP and collect whatever comes back until the server closes or answers. */
function raw(port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => {
      chunks.push(c);
      if (/\r\n\r\n/.test(Buffer.concat(chunks).toString('latin1'))) socket.end();
    });
    socket.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.setTimeout(3000, () => socket.destroy());
    socket.end(bytes);
  });
}

describe('the emulator never crashes and always answers clearly', () => {
  let p: TestPortal;
  let hookPath: string;

  beforeAll(async () => {
    p = await startTestPortal('http', { portal: { maxBodyBytes: 256 * 1024 } });
    hookPath = new URL(p.emu.webhookUrl).pathname;
  });
  afterAll(() => p.close());

  async function stillHealthy(): Promise<void> {
    const ok = await p.hook('im.notify.personal.add', { USER_ID: 1, MESSAGE: 'still here' });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.result).toBe('number');
  }

  function expectClearError(a: { status: number; body: Record<string, unknown> }, status = 400): void {
    expect(a.status).toBe(status);
    expect(typeof a.body.error).toBe('string');
    expect(typeof a.body.error_description).toBe('string');
    expect(String(a.body.error_description)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  }

  test('malformed JSON bodies get a 400 JSON error', async () => {
    for (const body of [
      '{',
      '{"USER_ID":',
      '[1,2',
      'nul',
      '{"a":1}}',
      '\u0000\u0001',
      '"just a string"',
      '[]',
    ]) {
      const a = await p.request(`${hookPath}im.notify.personal.add`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expectClearError(a);
    }
    await stillHealthy();
  });

  test('deep nesting in JSON and in PHP keys is refused or flattened, not a stack overflow', async () => {
    const deepJson = `{"ATTACH":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const a = await p.request(`${hookPath}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: deepJson,
    });
    expectClearError(a);
    const deepKey = `USER_ID=1&MESSAGE=x&ATTACH${'[a]'.repeat(5000)}=1`;
    const b = await p.request(`${hookPath}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: deepKey,
    });
    expect([200, 400]).toContain(b.status);
    expect(b.json).toBeTypeOf('object');
    await stillHealthy();
  });

  test('a body over the size limit is refused with 413 and the connection survives for others', async () => {
    const big = JSON.stringify({ USER_ID: 1, MESSAGE: 'x'.repeat(300 * 1024) });
    const a = await p.request(`${hookPath}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expectClearError(a, 413);
    await stillHealthy();
  });

  test('odd encodings: invalid UTF-8, UTF-16 with BOM, bad percent escapes, NUL bytes', async () => {
    const bodies: [string, Buffer][] = [
      ['application/json', Buffer.from([0x7b, 0x22, 0x4d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
      ['application/json; charset=utf-16', Buffer.from('\ufeff{"USER_ID":1}', 'utf16le')],
      ['application/x-www-form-urlencoded', Buffer.from('USER_ID=%zz&MESSAGE=%E0%A4%A&TAG=%00%00')],
      ['application/x-www-form-urlencoded; charset=latin1', Buffer.from([0x4d, 0x3d, 0xe9, 0xe8])],
      ['multipart/form-data; boundary=', Buffer.from('--\r\n\r\n')],
      ['multipart/form-data; boundary=zz', Buffer.from('--zz\r\nContent-Disposition: form-data\r\n\r\nx')],
      ['text/plain', Buffer.from('USER_ID=1&MESSAGE=plain text body')],
    ];
    for (const [type, body] of bodies) {
      const a = await p.request(`${hookPath}im.notify.personal.add`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      expect(a.status).toBeGreaterThanOrEqual(200);
      expect(a.status).toBeLessThan(500);
      expect(a.json).toBeTypeOf('object');
    }
    await stillHealthy();
  });

  test('a broken %-escape in a REST path is a 400 ERROR_ARGUMENT, in the method and in the webhook code', async () => {
    const code = hookPath.split('/')[3] as string;
    for (const path of [
      '/rest/im.notify.get%zz',
      '/rest/%E0%A4%A',
      `/rest/1/${code}%/profile`,
      '/rest/1/%zz/profile',
    ]) {
      const a = await p.request(path);
      expectClearError(a);
      expect(a.body.error, path).toBe('ERROR_ARGUMENT');
    }
    await stillHealthy();
  });

  test('parameters holding Object.prototype keys are dropped like __proto__, so methods answer their own 4xx', async () => {
    const keys = ['toString', 'valueOf', 'hasOwnProperty', 'toLocaleString', '__defineGetter__'];
    for (const key of keys) {
      for (const body of [
        { USER_ID: { [key]: 1 }, MESSAGE: 'x' },
        { USER_ID: 1, MESSAGE: { [key]: 'x' } },
        { USER_ID: 1, MESSAGE: 'x', ATTACH: [{ MESSAGE: { [key]: 'x' } }] },
      ]) {
        const a = await p.hook('im.notify.personal.add', body);
        expect(a.status, `${key}: ${a.text}`).toBeLessThan(500);
        expect(a.json).toBeTypeOf('object');
      }
      const form = await p.request(`${hookPath}im.notify.personal.add`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `USER_ID=1&MESSAGE[${key}]=x`,
      });
      expectClearError(form);
      expect(form.body.error).toBe('MESSAGE_EMPTY');
      for (const params of [{ ONLY_CURRENT: { [key]: 'Y' }, ID: 1 }, { FILTER: { NAME: { [key]: 1 } } }]) {
        for (const method of ['im.notify.read', 'user.get', 'im.notify.get', 'im.notify.read.list']) {
          const a = await p.hook(method, params);
          expect(a.status, `${method} ${key}: ${a.text}`).toBeLessThan(500);
        }
      }
      const batch = await p.hook('batch', {
        halt: { [key]: 1 },
        cmd: {
          a: { [key]: 'profile' },
          b: `im.notify.personal.add?USER_ID=1&MESSAGE[${key}]=x`,
          c: 'profile',
        },
      });
      expect(batch.status, batch.text).toBe(200);
      const result = batch.body.result as Record<string, Record<string, unknown>>;
      expect(result.result_error?.b).toMatchObject({ error: 'MESSAGE_EMPTY' });
      expect(result.result?.c).toMatchObject({ ID: '1' });
    }
    await stillHealthy();
  });

  test('a batch reference into a prototype member leads nowhere', async () => {
    const a = await p.hook('batch', {
      cmd: {
        a: 'profile',
        b: 'im.notify.personal.add?USER_ID=1&MESSAGE=$result[a][constructor][name]',
        c: 'im.notify.personal.add?USER_ID=1&MESSAGE=x$result[a][toString]',
      },
    });
    expect(a.status).toBe(200);
    const result = a.body.result as Record<string, Record<string, unknown>>;
    expect(result.result_error?.b).toMatchObject({ error: 'MESSAGE_EMPTY' });
    const id = result.result?.c;
    expect(p.emu.portal.store.getNotification(Number(id))?.message).toBe('x');
  });

  test('a request without a Host header gets a JSON 400 (HTTP/1.1 requires one); HTTP/1.0 needs none', async () => {
    const port = Number(new URL(p.emu.url).port);
    const answer = await raw(port, 'GET /rest/server.time HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toMatchObject({
      error: 'INVALID_REQUEST',
      error_description: expect.stringMatching(/Host/),
    });
    const old = await raw(port, `GET ${hookPath}server.time HTTP/1.0\r\n\r\n`);
    expect(old).toMatch(/^HTTP\/1\.1 200 /);
  });

  test('malformed HTTP on the socket gets a 400 or a closed connection, never a crash', async () => {
    const port = Number(new URL(p.emu.url).port);
    const inputs = [
      'GARBAGE\r\n\r\n',
      'GET /rest/%zz HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /rest/profile HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{',
      'POST /rest/profile HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'GET /rest/1/x/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const input of inputs) await raw(port, input);
    await stillHealthy();
  });

  test('a seeded fuzz of paths, methods and bodies: every answer is JSON or a closed socket', async () => {
    const rand = prng(20261122);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const methods = [
      'im.notify.personal.add',
      'im.notify.get',
      'batch',
      'im.notify.delete',
      'user.get',
      'nope',
    ];
    const types = [
      'application/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=b',
      '',
    ];
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.alloc(Math.floor(rand() * 300));
      for (let j = 0; j < bytes.length; j++) {
        // Mostly printable with structure characters, some raw bytes.
        bytes[j] = rand() < 0.8 ? pick([...'{}[]":,=&%$abcAB01 \\']).charCodeAt(0) : Math.floor(rand() * 256);
      }
      const type = pick(types);
      const path =
        rand() < 0.5 ? `${hookPath}${pick(methods)}` : `/rest/${pick(methods)}?auth=${bytes.length}`;
      // Node's client sends a GET body without framing; only methods with bodies carry one.
      const verb = pick(['GET', 'POST', 'PUT', 'DELETE']);
      const withBody = verb === 'POST' || verb === 'PUT';
      const a = await p.request(path, {
        method: verb,
        headers: type && withBody ? { 'content-type': type } : {},
        ...(withBody ? { body: bytes } : {}),
      });
      expect(a.status, `input #${i}`).toBeGreaterThanOrEqual(200);
      expect(a.status, `input #${i}`).toBeLessThan(500);
      expect(a.json, `input #${i}: ${a.status} ${a.text.slice(0, 200)}`).toBeTypeOf('object');
    }
    await stillHealthy();
  });
});
