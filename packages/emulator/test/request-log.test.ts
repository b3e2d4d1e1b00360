/**
 * The request log under load and hostile input: bounded by bytes as well as by count (large
 * bodies kept as a marked preview), paged by `before=<id>` without skips or repeats while it
 * is written to, and never showing a webhook code, however it was written.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { RequestLog, type RequestLogEntry } from '../src/portal/request-log.js';
import { startTestPortal, type TestPortal } from './support/emulator.js';

let p: TestPortal | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

function entry(id: number, params: unknown = {}): RequestLogEntry {
  return {
    id,
    at: 0,
    httpMethod: 'POST',
    path: '/rest/x',
    method: 'x',
    transport: 'none',
    params,
    status: 200,
    durationMs: 0,
    notificationIds: [],
  };
}

async function allRequests(t: TestPortal): Promise<RequestLogEntry[]> {
  const a = await t.control('GET', '/requests?limit=1000');
  expect(a.status).toBe(200);
  return a.body.requests as RequestLogEntry[];
}

/** Every id from the newest down, paging by `before` with pages of `limit`. */
async function pageThrough(t: TestPortal, limit: number): Promise<number[][]> {
  const pages: number[][] = [];
  let before = '';
  for (let guard = 0; guard < 10_000; guard++) {
    const a = await t.control('GET', `/requests?limit=${limit}${before}`);
    const ids = (a.body.requests as RequestLogEntry[]).map((e) => e.id);
    if (ids.length === 0) return pages;
    pages.push(ids);
    before = `&before=${ids[ids.length - 1] as number}`;
  }
  throw new Error('paging did not end');
}

describe('the log is bounded by bytes', () => {
  test('a stream of large requests keeps the log under its byte bound, each stored as a marked preview', async () => {
    const maxBytes = 2 * 1024 * 1024;
    p = await startTestPortal('http', {
      portal: { maxBodyBytes: 8 * 1024 * 1024, requestLogBytes: maxBytes },
    });
    const big = 'x'.repeat(4 * 1024 * 1024);
    for (let i = 0; i < 24; i++) {
      // server.time stores nothing, so only the log holds on to the bodies.
      const a = await p.hook('server.time', { PAD: `${i}:${big}` });
      expect(a.status).toBe(200);
      expect(p.emu.portal.log.bytes).toBeLessThanOrEqual(maxBytes);
    }
    const entries = await allRequests(p);
    // The bound, not the count (2000), decides: far fewer than 24 whole 4 MiB bodies fit.
    expect(entries.length).toBeGreaterThan(1);
    expect(entries[0]?.id).toBe(24);
    for (const e of entries) {
      expect(e.truncated).toBe(true);
      const pad = (e.params as Record<string, string>).PAD as string;
      expect(pad).toMatch(/^\d+:x+… \[\d+ more characters not logged\]$/);
      expect(JSON.stringify(e).length).toBeLessThan(64 * 1024);
    }
    // Small requests are kept whole, next to the previews.
    expect((await p.hook('server.time', { PAD: 'small' })).status).toBe(200);
    const shown = (await p.control('GET', '/requests/25')).body;
    expect(shown.truncated).toBeUndefined();
    expect(shown.params).toEqual({ PAD: 'small' });
  });

  test('a large answer is kept as a preview too; a preview keeps the shape of params', () => {
    const log = new RequestLog({ maxEntries: 10, maxBytes: 1024 * 1024 });
    const params = { cmd: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`c${i}`, 'profile'])) };
    const stored = log.add(
      { ...entry(1, params), response: { result: 'y'.repeat(100_000) } },
      {
        requestBytes: 100_000,
        responseBytes: 100_001,
      },
    );
    expect(stored.truncated).toBe(true);
    const cmd = (stored.params as { cmd: Record<string, string> }).cmd;
    expect(cmd.c0).toBe('profile');
    expect(cmd['…']).toMatch(/^\[\d+ more keys not logged\]$/);
    expect((stored.response as { result: string }).result).toMatch(/… \[\d+ more characters not logged\]$/);
  });

  test('count and byte bounds drop the oldest entries first; the newest always stays', () => {
    const log = new RequestLog({ maxEntries: 3, maxBytes: 10 * 1024 });
    for (let id = 1; id <= 5; id++) log.add(entry(id), { requestBytes: 100, responseBytes: 100 });
    expect(log.list(10).map((e) => e.id)).toEqual([5, 4, 3]);
    log.add(entry(6), { requestBytes: 5000, responseBytes: 0 });
    expect(log.list(10).map((e) => e.id)).toEqual([6, 5, 4]);
    log.add(entry(7), { requestBytes: 6000, responseBytes: 0 });
    expect(log.list(10).map((e) => e.id)).toEqual([7]);
    expect(log.get(6)).toBeUndefined();
    log.add(entry(8), { requestBytes: 60_000, responseBytes: 0 });
    expect(log.list(10).map((e) => e.id)).toEqual([8]);
    expect(log.bytes).toBeGreaterThan(0);
    log.clear();
    expect(log.bytes).toBe(0);
  });
});

describe('the byte bound set at run time', () => {
  test('PUT /portal requestLogBytes lowers the bound at once, dropping the oldest; a bound that is not a positive integer is refused', async () => {
    p = await startTestPortal('http', { portal: { plan: 'off' } });
    const pad = 'x'.repeat(8 * 1024);
    for (let i = 0; i < 6; i++)
      expect((await p.hook('server.time', { PAD: `${i}:${pad}` })).status).toBe(200);
    expect(await allRequests(p)).toHaveLength(6);
    expect((await p.control('GET', '/portal')).body.requestLogBytes).toBe(32 * 1024 * 1024);

    // Room for about two of those requests: the four oldest go now, not at the next request.
    const bound = 2 * (8 * 1024 + 2048);
    const set = await p.control('PUT', '/portal', { requestLogBytes: bound });
    expect(set.status).toBe(200);
    expect(set.body.requestLogBytes).toBe(bound);
    expect(p.emu.portal.log.bytes).toBeLessThanOrEqual(bound);
    const kept = (await allRequests(p)).map((e) => e.id);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(6);
    expect(kept[0]).toBe(6);

    for (const bad of [0, -1, 1.5, '1000', null]) {
      const refused = await p.control('PUT', '/portal', { requestLogBytes: bad });
      expect(refused.status).toBe(400);
      expect(refused.body.error_description).toBe('requestLogBytes: expected a positive integer');
    }
    // All or nothing: a refused bound next to a good setting changes neither.
    const mixed = await p.control('PUT', '/portal', { schemaKeys: 'lower', requestLogBytes: 0 });
    expect(mixed.status).toBe(400);
    const now = (await p.control('GET', '/portal')).body;
    expect([now.schemaKeys, now.requestLogBytes]).toEqual(['upper', bound]);
  });
});

describe("masking the portal's own secrets", () => {
  test('tokens, client secrets and webhook codes are masked in free text and keys; short codes and other hex are not', async () => {
    p = await startTestPortal('http', {
      portal: {
        webhooks: [
          { userId: 1, code: 'short', scopes: ['im'] },
          { userId: 1, code: 'longcode42', scopes: ['im'] },
        ],
      },
    });
    const { accessToken, refreshToken, clientSecret } = p.emu.tokens;
    const a = await p.request('/rest/1/longcode42/server.time', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: [
        `a[b]auth=${accessToken}`,
        `note=${encodeURIComponent(`refresh ${refreshToken.toUpperCase()} secret ${clientSecret}`)}`,
        `${clientSecret}=1`,
        'mention=LongCode42 and short',
        `hex=${'ab'.repeat(40)}`,
      ].join('&'),
    });
    expect(a.status).toBe(200);
    const [entry] = await allRequests(p);
    expect(entry?.params).toEqual({
      a: { b: '***' },
      note: 'refresh *** secret ***',
      '***': '1',
      mention: '*** and short',
      hex: 'ab'.repeat(40),
    });
  });
});

describe('paging by before=<id>', () => {
  test('a request still uploading when later ones finish is paged once, in id order', async () => {
    p = await startTestPortal('http');
    const hookPath = new URL(p.emu.webhookUrl).pathname;
    const base = new URL(p.emu.url);
    const body = JSON.stringify({ USER_ID: 1, MESSAGE: 'slow upload' });
    let held!: ClientRequest;
    const slow = new Promise<number>((resolve, reject) => {
      held = httpRequest(
        {
          host: base.hostname,
          port: base.port,
          path: `${hookPath}im.notify.personal.add`,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      held.on('error', reject);
    });
    held.write(body.slice(0, 5));
    for (let i = 0; i < 4; i++) expect((await p.hook('server.time')).status).toBe(200);
    held.end(body.slice(5));
    expect(await slow).toBe(200);
    const pages = await pageThrough(p, 2);
    expect(pages.flat()).toEqual([5, 4, 3, 2, 1]);
    const newest = (await allRequests(p))[0];
    expect(newest?.method).toBe('im.notify.personal.add');
  });

  test('paging while the log is written to concurrently never skips or repeats an entry', async () => {
    p = await startTestPortal('http');
    const t = p;
    const bodies = [{}, { USER_ID: 1, MESSAGE: 'm'.repeat(20_000) }, { cmd: { a: 'profile', b: 'nope' } }];
    let writing = true;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const method = ['server.time', 'im.notify.personal.add', 'batch'][(w + i) % 3] as string;
        await t.hook(method, bodies[(w + i) % 3]);
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer)).finally(() => {
      writing = false;
    });
    let traversals = 0;
    while (traversals < 50) {
      const stillWriting = writing;
      const pages = await pageThrough(t, 7);
      const ids = pages.flat();
      const top = ids[0] ?? 0;
      // Strictly decreasing by one: every id below the first page's newest, once.
      expect(ids).toEqual(Array.from({ length: top }, (_, i) => top - i));
      traversals++;
      if (!stillWriting) break;
    }
    await writers;
    expect(traversals).toBeGreaterThan(1);
    expect((await pageThrough(t, 7)).flat().length).toBe(160);
  });
});

describe('webhook codes never reach what the log shows', () => {
  test('codes in %2F-encoded paths, batch commands, values and keys are masked in the log, by id, in the inbox detail and on the event stream', async () => {
    p = await startTestPortal('http');
    const t = p;
    const code = new URL(t.emu.webhookUrl).pathname.split('/')[3] as string;
    const other = 'f00dfeedcafe4242';
    const base = new URL(t.emu.url);

    // The event stream, as the inbox listens to it.
    const events: string[] = [];
    const stream = httpRequest({ host: base.hostname, port: base.port, path: '/_emulator/api/events' });
    const streamReady = new Promise<void>((resolve, reject) => {
      stream.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          events.push(chunk);
          if (chunk.includes(': connected')) resolve();
        });
      });
      stream.on('error', reject);
    });
    stream.end();
    await streamReady;

    const paths = [
      `/rest/1%2F${code}%2Fprofile`,
      `/rest/1%2F${code}/profile`,
      `/rest/1/${code}%2Fprofile`,
      `/rest/1%2F${code.toUpperCase()}%2Fprofile`,
      `/rest/1%252F${code}%252Fprofile`,
      `/rest/1%2F${other}%2Fprofile`,
      `/rest/1/${other}/profile`,
      `/rest/1/${code}/profile/extra`,
    ];
    for (const path of paths) {
      const a = await t.request(path);
      expect(a.status).toBeLessThan(500);
    }
    const url = `http://portal.example/rest/1/${code}/`;
    const sent = await t.hook('batch', {
      cmd: {
        a: `im.notify.personal.add?USER_ID=1&MESSAGE=${encodeURIComponent(url)}`,
        b: `profile?next=${encodeURIComponent(`https://x/rest/1/${other}/im.notify`)}`,
        c: `im.notify.personal.add?USER_ID=1&MESSAGE=${url}profile`,
      },
      note: `the code is ${code}`,
      [`key-${code}`]: 'x',
      nested: { deep: [{ url: `rest%2F1%2F${other}%2Fprofile` }] },
    });
    expect(sent.status).toBe(200);
    const created = await t.hook('im.notify.personal.add', { USER_ID: 1, MESSAGE: `see ${url}` });
    expect(created.status).toBe(200);
    const expected = paths.length + 2;
    await expect.poll(() => events.join('').split('event: request').length - 1).toBe(expected);
    stream.destroy();

    const shown = [
      JSON.stringify(await allRequests(t)),
      ...(await Promise.all(
        Array.from({ length: expected }, async (_, i) => (await t.control('GET', `/requests/${i + 1}`)).text),
      )),
      (await t.control('GET', `/notifications/${String(created.body.result)}`)).text,
      events.join(''),
    ];
    for (const text of shown) {
      // The notification itself is the user's data; only its `request` is the log.
      const logOnly = text.replace(/"message":"(?:[^"\\]|\\.)*"/g, '');
      expect(logOnly.toLowerCase()).not.toContain(code.toLowerCase());
      expect(logOnly).not.toContain(other);
    }
    expect(JSON.stringify(await allRequests(t))).toContain('***');
  });
});
