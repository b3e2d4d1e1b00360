/**
 * A seeded fuzzer: malformed requests of every kind the emulator meets (bad %-escapes in paths,
 * prototype keys at any depth of JSON, form, PHP-key and multipart bodies and batch commands,
 * huge bodies, missing and odd headers, wrong methods, uploads that stall while others finish,
 * and control-API abuse from other origins), checked one by one and between rounds:
 *
 * - no answer is a 5xx, and every 4xx is JSON with `error` and `error_description`;
 * - the request log never shows a webhook code, a token or a client secret, stays within its
 *   byte bound, and pages by `before=<id>` without skipping or repeating an entry;
 * - nothing the control API refuses changed anything, and the process still answers.
 *
 * Bounded by count ({@link COUNT} cases), never by time. The seed is printed;
 * `B24NOTIFY_FUZZ_SEED=<n>` replays a run, `B24NOTIFY_FUZZ_COUNT=<n>` makes it longer.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RequestLogEntry } from '../src/index.js';
import { startTestPortal, type TestPortal } from './support/emulator.js';

const SEED = Number(process.env.B24NOTIFY_FUZZ_SEED ?? 20261202) >>> 0;
const COUNT = Math.max(1, Number(process.env.B24NOTIFY_FUZZ_COUNT ?? 1000) || 1000);
/** Invariants are checked after every this many cases. */
const ROUND = 100;
const MAX_BODY = 1024 * 1024;
const LOG_BYTES = 2 * 1024 * 1024;

/** mulberry32: small, fast and the same everywhere, so a seed replays exactly. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One generated request. */
interface Case {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send without a Host header. */
  noHost?: boolean;
  /** A control-API write built so that it must be refused (4xx) and change nothing. */
  refused?: boolean;
}

interface Answer {
  status: number;
  text: string;
}

const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'toLocaleString',
  '__defineGetter__',
  'propertyIsEnumerable',
];
const PARAM_KEYS = [
  'USER_ID',
  'MESSAGE',
  'MESSAGE_OUT',
  'TAG',
  'SUB_TAG',
  'ATTACH',
  'ID',
  'IDS',
  'ONLY_CURRENT',
  'FILTER',
  'NAME',
  'cmd',
  'halt',
  'auth',
  'CLIENT_ID',
  'LAST_ID',
  'LAST_TYPE',
  'ACTION',
  'NAME_SEARCH',
  'COLOR',
  'BLOCKS',
  'sort',
  'order',
];
const METHODS = [
  'im.notify.personal.add',
  'im.notify.system.add',
  'im.notify',
  'im.notify.get',
  'im.notify.read',
  'im.notify.read.list',
  'im.notify.read.all',
  'im.notify.answer',
  'im.notify.confirm',
  'im.notify.history.search',
  'im.notify.schema.get',
  'user.get',
  'profile',
  'server.time',
  'batch',
  'nope.method',
];
const BAD_ESCAPES = ['%', '%z', '%zz', '%E0%A4', '%C3', '%%', '%2', '%G1', '%FF%FE'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fz',
  'text/plain',
  'application/vnd.api+json',
  ';;;',
  'application/json; charset=utf-16',
];
const CONTROL_READS = [
  '/notifications',
  '/notifications?user=1&limit=3&before=%zz',
  '/notifications?limit=-1',
  '/notifications/%zz',
  '/notifications/1%',
  '/notifications/%E0%A4%A',
  '/notifications/__proto__',
  '/notifications/toString',
  '/requests?limit=abc&before=1.5',
  '/requests?before=%zz',
  '/requests/%',
  '/requests/constructor',
  '/users',
  '/clock',
  '/chaos',
  '/limits',
  '/portal',
  '/nope',
  '/__proto__',
  '/toString',
  '/notifications/1/2',
];
const CONTROL_WRITES: [string, string][] = [
  ['POST', '/reset'],
  ['PUT', '/portal'],
  ['PUT', '/clock'],
  ['PUT', '/chaos'],
  ['PUT', '/limits'],
  ['POST', '/tokens'],
  ['POST', '/sessions'],
  ['PATCH', '/notifications/1'],
  ['DELETE', '/notifications/1'],
  ['DELETE', '/notifications/%zz'],
  ['POST', '/constructor'],
];

/** Everything a generator needs to know about the portal under test. */
interface Target {
  url: string;
  code: string;
  /** A code of no portal, planted in webhook-shaped URLs: it must not show either. */
  foreignCode: string;
  accessToken: string;
  refreshToken: string;
  clientSecret: string;
}

/** Percent-encode every byte (encodeURIComponent throws on the lone surrogates generated here). */
function pct(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

function generator(rand: () => number, target: Target) {
  const int = (n: number): number => Math.floor(rand() * n);
  const chance = (p: number): boolean => rand() < p;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;

  const secretText = (): string =>
    pick([
      `${target.url}/rest/1/${target.code}/im.notify.personal.add`,
      `https://portal.example/rest/1/${target.foreignCode}/profile`,
      encodeURIComponent(`https://portal.example/rest/1/${target.code}/`),
      `rest%2F1%2F${target.foreignCode}%2Fprofile`,
      `my webhook code is ${target.code}`,
      `${target.code.toUpperCase()}`,
      `profile?auth=${target.accessToken}`,
      `x&auth=${target.accessToken}&y=1`,
      `?refresh_token=${target.refreshToken}&client_secret=${target.clientSecret}`,
    ]);

  const text = (): string => {
    switch (int(8)) {
      case 0:
        return '';
      case 1:
        return pick(BAD_ESCAPES);
      case 2:
        return secretText();
      case 3:
        return '$result[a][constructor][name]';
      case 4:
        return '\u0000\ud800\uffff ☃ [B]x[/B] <script>';
      case 5:
        return String(int(20) - 5);
      case 6:
        return 'Y';
      default:
        return Array.from({ length: int(12) }, () => pick([...'abcXYZ01 %&=[]{}"\\/'])).join('');
    }
  };

  const key = (): string => (chance(0.3) ? pick(PROTO_KEYS) : chance(0.8) ? pick(PARAM_KEYS) : text());

  /** A JSON value as text, written out by hand so `__proto__` can be a plain key. */
  const json = (depth: number): string => {
    const kind = depth > 6 ? int(4) : int(7);
    switch (kind) {
      case 0:
        return JSON.stringify(text());
      case 1:
        return String(int(100) - 10);
      case 2:
        return pick(['true', 'false', 'null', '1e999', '-0']);
      case 3:
        return JSON.stringify(secretText());
      case 4:
      case 5: {
        const n = int(5);
        const members = Array.from({ length: n }, () => `${JSON.stringify(key())}:${json(depth + 1)}`);
        return `{${members.join(',')}}`;
      }
      default:
        return `[${Array.from({ length: int(4) }, () => json(depth + 1)).join(',')}]`;
    }
  };

  /** A PHP form key with brackets, prototype keys among the segments. */
  const formKey = (): string => {
    const segments = Array.from({ length: int(4) }, () => (chance(0.2) ? '' : key()));
    const raw = `${key()}${segments.map((s) => `[${s}]`).join('')}`;
    return chance(0.5) ? pct(raw) : raw;
  };

  const formBody = (): string =>
    Array.from({ length: 1 + int(6) }, () => {
      const value = text();
      return `${formKey()}=${chance(0.6) ? pct(value) : value}`;
    }).join('&');

  const batchBody = (): string => {
    const cmds = Array.from({ length: 1 + int(5) }, (_, i) => {
      const method = pick(METHODS.filter((m) => m !== 'batch'));
      return `${JSON.stringify(chance(0.2) ? pick(PROTO_KEYS) : `c${i}`)}:${JSON.stringify(`${method}?${formBody()}`)}`;
    });
    const halt = chance(0.3) ? `,"halt":{${JSON.stringify(pick(PROTO_KEYS))}:1}` : '';
    return `{"cmd":{${cmds.join(',')}}${halt}}`;
  };

  const multipartBody = (): string =>
    `--fz\r\nContent-Disposition: form-data; name="${formKey()}"\r\n\r\n${text()}\r\n` +
    `--fz\r\nContent-Disposition: form-data; name="${formKey()}"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n${secretText()}\r\n--fz--\r\n`;

  /** A REST path, broken in one of several ways or not at all. */
  const restPath = (): string => {
    let method = pick(METHODS);
    if (chance(0.15)) method = `${method}${pick(BAD_ESCAPES)}`;
    if (chance(0.05)) method = `${method}.xml`;
    if (chance(0.05)) method = method.toUpperCase();
    let code = target.code;
    if (chance(0.1)) code = `${code}${pick(BAD_ESCAPES)}`;
    if (chance(0.05)) code = target.foreignCode;
    const query = chance(0.3) ? `?${formBody()}` : chance(0.2) ? `?auth=${target.accessToken}` : '';
    switch (int(6)) {
      case 0:
        return `/rest/${method}${query}`;
      case 1:
        return `/rest/1%2F${code}%2F${method}${query}`;
      case 2:
        return `/rest/1/${code}%2F${method}`;
      case 3:
        return `/rest/1/${code}/${method}/extra${query}`;
      default:
        return `/rest/1/${code}/${method}${query}`;
    }
  };

  const restCase = (): Case => {
    const path = restPath();
    const verb = chance(0.7) ? 'POST' : pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    const headers: Record<string, string> = {};
    let body: string | Buffer | undefined;
    switch (int(6)) {
      case 0:
        body = json(0);
        break;
      case 1:
        body = formBody();
        break;
      case 2:
        body = batchBody();
        break;
      case 3:
        body = multipartBody();
        headers['content-type'] = 'multipart/form-data; boundary=fz';
        break;
      case 4:
        body = chance(0.5) ? `{"auth":"${target.accessToken}","ID":${json(2)}}` : undefined;
        break;
      default:
        body = Buffer.from(Array.from({ length: int(200) }, () => int(256)));
    }
    if (headers['content-type'] === undefined && chance(0.8)) headers['content-type'] = pick(CONTENT_TYPES);
    if (chance(0.1)) headers.origin = 'http://evil.example';
    if (chance(0.05)) headers.cookie = 'PHPSESSID=x; PHPSESSID=%zz';
    if (chance(0.03)) headers['x-long'] = 'a'.repeat(8000);
    return {
      label: 'rest',
      method: verb,
      path,
      headers,
      ...(body === undefined ? {} : { body: Buffer.from(body) }),
      ...(chance(0.03) ? { noHost: true } : {}),
    };
  };

  /** An object whose own member shadows a prototype one, `toString` most often (String() throws on it). */
  const protoValue = (): string =>
    `{${JSON.stringify(chance(0.5) ? 'toString' : pick(PROTO_KEYS))}:${pick(['1', '"Y"', '{}', '[]', 'null', '"x"'])}}`;

  /** Prototype keys as the values of the parameters methods read, in JSON, form and batch bodies. */
  const protoCase = (): Case => {
    const hot = [
      'ONLY_CURRENT',
      'ACTION',
      'halt',
      'SEARCH_TYPES',
      'SEARCH_AUTHORS',
      'FILTER',
      'USER_ID',
      'MESSAGE',
      'ID',
      'cmd',
      'TAG',
    ];
    const member = (): string => {
      const value = pick([
        protoValue(),
        `[${protoValue()}]`,
        `{"NAME":${protoValue()}}`,
        `{"a":${protoValue()}}`,
      ]);
      return `${JSON.stringify(pick(hot))}:${value}`;
    };
    const formMember = (): string =>
      `${pick(hot)}${pick(['', '[0]', '[NAME]', '[a][b]'])}[${chance(0.5) ? 'toString' : pick(PROTO_KEYS)}]=${pick(['1', 'Y', ''])}`;
    let method = pick(METHODS);
    let body: string;
    let type = 'application/json';
    switch (int(3)) {
      case 0:
        body = `{${Array.from({ length: 1 + int(4) }, member).join(',')}}`;
        break;
      case 1:
        body = Array.from({ length: 1 + int(4) }, formMember).join('&');
        type = 'application/x-www-form-urlencoded';
        break;
      default: {
        method = 'batch';
        const sub = (): string =>
          `${pick(METHODS.filter((m) => m !== 'batch'))}?${formMember()}&${formMember()}`;
        body = `{"halt":${chance(0.5) ? protoValue() : '0'},"cmd":{"a":${JSON.stringify(sub())},"b":${JSON.stringify(sub())},${JSON.stringify(pick(PROTO_KEYS))}:${chance(0.5) ? protoValue() : JSON.stringify(sub())},"c":"profile?x=$result[a][${pick(PROTO_KEYS)}]"}}`;
      }
    }
    return {
      label: 'prototype keys',
      method: 'POST',
      path: `/rest/1/${target.code}/${method}`,
      headers: { 'content-type': type },
      body: Buffer.from(body),
    };
  };

  const hugeCase = (): Case => {
    // Around the body limit: some are refused (413), the rest reach the log and are cut there.
    const size = Math.floor(MAX_BODY * (0.3 + rand() * 0.9));
    const filler = chance(0.3) ? target.code : 'x';
    const message = filler.repeat(Math.ceil(size / filler.length)).slice(0, size);
    const body = chance(0.5)
      ? JSON.stringify({ USER_ID: 1, MESSAGE: message })
      : `USER_ID=1&MESSAGE=${message}&${formKey()}=1`;
    return {
      label: 'huge',
      method: 'POST',
      path: chance(0.5) ? `/rest/1/${target.code}/server.time` : restPath(),
      headers: {
        'content-type': body.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded',
      },
      body: Buffer.from(body),
    };
  };

  const controlCase = (): Case => {
    if (chance(0.4)) {
      return {
        label: 'control read',
        method: pick(['GET', 'HEAD']),
        path: `/_emulator/api${pick(CONTROL_READS)}`,
        headers: chance(0.3) ? { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } : {},
      };
    }
    const [method, path] = pick(CONTROL_WRITES);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let body = `{${JSON.stringify(pick(['state', 'advanceMs', 'rules', 'plan', 'userId', 'read']))}:${json(2)}}`;
    // Each write is made certain to be refused, one way or another.
    switch (int(6)) {
      case 0:
        headers.origin = pick([
          'http://evil.example',
          'null',
          'http://127.0.0.1:1',
          `${target.url}.evil.example`,
        ]);
        break;
      case 1:
        headers['sec-fetch-site'] = pick(['cross-site', 'same-site']);
        break;
      case 2:
        headers['content-type'] = pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data',
        ]);
        if (body === '') body = '{}';
        break;
      case 3:
        body = `{"processingSeconds":{${JSON.stringify(pick(PROTO_KEYS))}:5},${JSON.stringify(pick(PROTO_KEYS))}:${json(3)}}`;
        break;
      case 4:
        body = `{"pad":"${'x'.repeat(MAX_BODY + int(1000))}"}`;
        break;
      default:
        return {
          label: 'control write, bad id',
          method: pick(['PATCH', 'DELETE']),
          path: `/_emulator/api/notifications/${pick(BAD_ESCAPES)}`,
          headers: { origin: target.url.replace('127.0.0.1', 'localhost') },
          refused: true,
        };
    }
    return {
      label: 'control write',
      method,
      path: `/_emulator/api${path}`,
      headers,
      body: Buffer.from(body),
      refused: true,
    };
  };

  return {
    next(): Case {
      const roll = rand();
      if (roll < 0.05) return hugeCase();
      if (roll < 0.27) return controlCase();
      if (roll < 0.37) return protoCase();
      return restCase();
    },
    chance,
    int,
  };
}

/** Send a case over HTTP. `stall` holds the upload halfway until the promise it gets settles. */
function send(base: URL, c: Case, stall?: () => Promise<void>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...c.headers };
    if (c.body !== undefined) headers['content-length'] = c.body.length;
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        // A request line cannot carry spaces or raw non-ASCII: those go percent-encoded.
        path: c.path.replace(/[^\x21-\x7e]/gu, (ch) => pct(ch)),
        method: c.method,
        headers,
        setHost: !c.noHost,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (c.body === undefined || !stall) {
      req.end(c.body);
      return;
    }
    const half = Math.floor(c.body.length / 2);
    req.write(c.body.subarray(0, half));
    void stall().then(() => req.end(c.body?.subarray(half)), reject);
  });
}

/** Raw bytes for what an HTTP client would not send; the server closes after answering. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.end(bytes);
  });
}

const RAW_INPUTS = [
  'GET /rest/server.time HTTP/1.1\r\nConnection: close\r\n\r\n',
  'POST /_emulator/api/reset HTTP/1.1\r\nConnection: close\r\n\r\n',
  'GET /rest/server.time HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n',
  'POST /rest/profile HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
  'POST /rest/profile HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n',
  'GET /rest/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET /_emulator/api/notifications/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'DELETE /_emulator/api/notifications/1 HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n',
];

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

describe('fuzz', () => {
  let p: TestPortal;
  let target: Target;
  let sentinel: number;
  let settings: Record<string, string>;

  beforeAll(async () => {
    p = await startTestPortal('http', { portal: { maxBodyBytes: MAX_BODY, requestLogBytes: LOG_BYTES } });
    target = {
      url: p.emu.url,
      code: new URL(p.emu.webhookUrl).pathname.split('/')[3] as string,
      foreignCode: 'f00dfeedcafe4242',
      accessToken: p.emu.tokens.accessToken,
      refreshToken: p.emu.tokens.refreshToken,
      clientSecret: p.emu.tokens.clientSecret,
    };
    const sent = await p.hook('im.notify.personal.add', { USER_ID: 10, MESSAGE: 'sentinel' });
    sentinel = sent.body.result as number;
    settings = {};
    for (const path of ['/portal', '/clock', '/chaos', '/limits'])
      settings[path] = (await p.control('GET', path)).text;
  });
  afterAll(() => p.close());

  /** The control state nothing in the run may change; the clock's `now` moves, so only its offset counts. */
  async function expectStateKept(): Promise<void> {
    const sentinelNow = await p.control('GET', `/notifications/${sentinel}`);
    expect(sentinelNow.status, 'the sentinel notification is gone: something reset or deleted it').toBe(200);
    for (const path of ['/portal', '/chaos', '/limits']) {
      expect((await p.control('GET', path)).text, `${path} changed`).toBe(settings[path]);
    }
    expect((await p.control('GET', '/clock')).body.offsetMs, '/clock changed').toBe(0);
  }

  /** The log as shown: paged by `before`, in strictly decreasing, gapless ids, with no secret and within its bound. */
  async function expectLogSound(): Promise<void> {
    const ids: number[] = [];
    let shownBytes = 0;
    let before = '';
    for (let guard = 0; guard < 100; guard++) {
      const page = await p.control('GET', `/requests?limit=200${before}`);
      expect(page.status).toBe(200);
      const entries = page.body.requests as RequestLogEntry[];
      if (entries.length === 0) break;
      shownBytes += page.text.length;
      const lower = page.text.toLowerCase();
      for (const secret of [
        target.code,
        target.foreignCode,
        target.accessToken,
        target.refreshToken,
        target.clientSecret,
      ]) {
        const at = lower.indexOf(secret.toLowerCase());
        // The secrets are this throwaway portal's own, so the excerpt may show where one leaked.
        expect(
          at,
          `a secret shows in the request log: …${page.text.slice(Math.max(0, at - 300), at + 400)}…`,
        ).toBe(-1);
      }
      ids.push(...entries.map((e) => e.id));
      before = `&before=${entries[entries.length - 1]?.id ?? 0}`;
    }
    const top = ids[0] ?? 0;
    expect(ids, 'paging by before= skipped or repeated an entry').toEqual(
      Array.from({ length: ids.length }, (_, i) => top - i),
    );
    // The bound counts wire sizes; what is shown (JSON of parsed params) may be somewhat larger.
    expect(shownBytes, 'the request log outgrew its byte bound').toBeLessThan(1.5 * LOG_BYTES);
  }

  async function expectAlive(): Promise<void> {
    const a = await p.hook('server.time');
    expect(a.status, 'the emulator stopped answering').toBe(200);
  }

  test(`${COUNT} malformed requests from seed ${SEED}: no 5xx, JSON errors, no secret in the log, nothing refused changed anything`, async () => {
    console.log(`fuzz: seed ${SEED}, ${COUNT} cases (replay with B24NOTIFY_FUZZ_SEED=${SEED})`);
    const rand = prng(SEED);
    const gen = generator(rand, target);
    const base = new URL(p.emu.url);
    const port = Number(base.port);

    const check = (c: Case, i: number, a: Answer): void => {
      const where = `case #${i} (${c.label}) ${c.method} ${c.path.slice(0, 120)} -> ${a.status} ${a.text.slice(0, 200)}`;
      expect(a.status, where).toBeGreaterThanOrEqual(200);
      expect(a.status, where).toBeLessThan(500);
      if (c.refused) expect(a.status, where).toBeGreaterThanOrEqual(400);
      if (c.method === 'HEAD') return;
      const body = parse(a.text);
      expect(body, where).toBeDefined();
      if (a.status >= 400) {
        expect(typeof body?.error, where).toBe('string');
        expect(body?.error, where).not.toBe('');
        expect(typeof body?.error_description, where).toBe('string');
      }
    };

    for (let i = 0; i < COUNT; i++) {
      const c = gen.next();
      // One case in a hundred stalls its upload, one goes over a raw socket.
      const mode = gen.int(100);
      if (mode === 0) {
        // An upload that stalls halfway while other requests come and finish.
        const others = [gen.next(), gen.next(), gen.next()].filter(
          (o) => o.body === undefined || o.body.length < 4096,
        );
        const stalled = { ...c, body: c.body ?? Buffer.from('{"USER_ID":1,"MESSAGE":"stalled upload"}') };
        const answers: Answer[] = [];
        let othersDone: Promise<void> = Promise.resolve();
        const first = send(base, stalled, () => {
          othersDone = (async () => {
            for (const o of others) answers.push(await send(base, o));
          })();
          return othersDone;
        });
        // The server may answer the stalled one first (a refusal needs no body), so wait for both.
        check(stalled, i, await first);
        await othersDone;
        others.forEach((o, j) => check(o, i, answers[j] as Answer));
      } else if (mode === 1) {
        const input = RAW_INPUTS[gen.int(RAW_INPUTS.length)] as string;
        const answer = await raw(port, input);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
        const bodyText = answer.slice(answer.indexOf('\r\n\r\n') + 4);
        check(
          { label: 'raw', method: 'RAW', path: input.split('\r\n')[0] ?? '', headers: {}, refused: true },
          i,
          {
            status,
            text: bodyText,
          },
        );
      } else {
        check(c, i, await send(base, c));
      }
      if ((i + 1) % ROUND === 0) {
        await expectAlive();
        await expectLogSound();
      }
    }
    await expectAlive();
    await expectLogSound();
    await expectStateKept();
    // A ceiling for a machine shared with other suites, not a speed check: the work is bounded by COUNT.
  }, 180_000);
});
