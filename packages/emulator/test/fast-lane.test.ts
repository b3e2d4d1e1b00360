/**
 * The fast lane (`src/wire/fast-lane.ts`) against node:http itself: the same portal served by a
 * server with the lane and one without, fed the same bytes over raw TCP, must answer the same
 * bytes (the `Date` header aside), in the same order; and the lane must really serve what it
 * is meant to serve, and leave everything else to node:http.
 */
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { Portal } from '../src/portal/portal.js';
import { Store } from '../src/portal/store.js';
import { createRequestHandler, listenerServer } from '../src/server.js';
import { MAX_HEAD, parseSimpleRequest } from '../src/wire/fast-lane.js';

const CODE = 'lanecode1';
const HOOK = `/rest/1/${CODE}`;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

/** A portal with a frozen clock, so two of them answer the same bytes. */
function newPortal(settings: Record<string, unknown> = {}): Portal {
  const portal = new Portal(
    resolveConfig({ webhooks: [{ userId: 1, code: CODE, scopes: ['im', 'user', 'profile'] }], ...settings }),
    new Store(),
  );
  portal.clock.freeze(Date.UTC(2026, 11, 2, 12, 0, 0));
  return portal;
}

interface Started {
  url: string;
  port: number;
  /** Requests the lane took, and those it left to node:http. */
  lane: { taken: number; left: number };
  server: Server;
  /** Bytes read so far from every connection. */
  bytesRead: () => number;
}

/** Bytes the server has read from all its connections: a test waits on it, never on time. */
function bytesRead(server: Server): () => number {
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => sockets.push(socket));
  return () => sockets.reduce((sum, s) => sum + s.bytesRead, 0);
}

async function start(portal: Portal, fastLane: boolean): Promise<Started> {
  let base = '';
  const router = createRequestHandler(portal, false, () => base);
  const lane = { taken: 0, left: 0 };
  const counted = Object.assign((...args: Parameters<typeof router>) => router(...args), {
    plainRest: ((request, reply) => {
      const taken = router.plainRest(request, reply);
      if (taken) lane.taken += 1;
      else lane.left += 1;
      return taken;
    }) as typeof router.plainRest,
  });
  const server = listenerServer(undefined, counted, fastLane);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return { url: base, port, lane, server, bytesRead: bytesRead(server) };
}

/** One HTTP answer as read off the wire: its raw head and body. */
interface RawAnswer {
  head: string;
  body: string;
}

/** Until `ready()` holds, polled on each turn of the event loop. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Write `parts` to a new connection one after another, each once the server has read the
 * previous one (so a request split in two reaches it in two reads), and read `count` answers,
 * or all there are until the server closes.
 */
function exchange(target: Started, parts: (string | Buffer)[], count: number): Promise<RawAnswer[]> {
  const port = target.port;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const answers: RawAnswer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(answers);
    };
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buf.toString('latin1', 0, headEnd);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < headEnd + 4 + length) return;
        answers.push({ head, body: buf.toString('utf8', headEnd + 4, headEnd + 4 + length) });
        buf = buf.subarray(headEnd + 4 + length);
        if (answers.length === count) {
          done();
          return;
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answers));
    let sent = target.bytesRead();
    const write = (i: number): void => {
      if (i >= parts.length) return;
      const part = parts[i] as string | Buffer;
      sent += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
      socket.write(
        part,
        () => void until(() => target.bytesRead() >= sent || socket.destroyed).then(() => write(i + 1)),
      );
    };
    socket.on('connect', () => write(0));
  });
}

/** An answer with its `Date` value blanked: the one thing two runs may differ in. */
function comparable(answers: RawAnswer[]): RawAnswer[] {
  return answers.map((a) => ({ head: a.head.replace(/\r\nDate: [^\r]*/, '\r\nDate: -'), body: a.body }));
}

function post(path: string, body: string, headers: Record<string, string> = {}): string {
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  if (!('Content-Type' in headers)) lines.push('Content-Type: application/json');
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (!('Transfer-Encoding' in headers)) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const SEND = JSON.stringify({ USER_ID: 1, MESSAGE: 'Deploy failed: [b]api[/b] ✓' });

/** Send the same bytes to a server with the lane and one without; both transcripts. */
async function both(
  parts: (string | Buffer)[],
  count: number,
  settings: Record<string, unknown> = {},
): Promise<{ lane: RawAnswer[]; node: RawAnswer[]; counts: Started['lane'] }> {
  const withLane = await start(newPortal(settings), true);
  const without = await start(newPortal(settings), false);
  const lane = await exchange(withLane, parts, count);
  const node = await exchange(without, parts, count);
  expect(without.lane).toEqual({ taken: 0, left: 0 });
  return { lane: comparable(lane), node: comparable(node), counts: withLane.lane };
}

describe('fast lane', () => {
  test('answers plain REST calls byte for byte as node:http does, and really serves them', async () => {
    const requests = [
      post(`${HOOK}/im.notify.personal.add`, SEND),
      post(`${HOOK}/im.notify.system.add.json`, JSON.stringify({ USER_ID: 1, MESSAGE: 'hi' })),
      post(`${HOOK}/im.notify.personal.add`, '{"USER_ID":'),
      post(`${HOOK}/no.such.method`, '{}'),
      post('/rest/1/wrongcode/im.notify.personal.add', SEND),
      post(
        `${HOOK}/batch`,
        JSON.stringify({ cmd: { a: 'server.time', b: 'im.notify.personal.add?USER_ID=1&MESSAGE=x' } }),
      ),
      post(`${HOOK}/server.time`, 'USER_ID=1', { 'Content-Type': 'application/x-www-form-urlencoded' }),
      post(`${HOOK}/im.notify.get?USER_ID=1`, ''),
      post(`${HOOK}/im.notify.personal.add.xml`, SEND),
      post('/rest/%zz/x', '{}'),
    ];
    const { lane, node, counts } = await both([requests.join('')], requests.length);
    expect(lane).toHaveLength(requests.length);
    expect(lane).toEqual(node);
    expect(counts).toEqual({ taken: requests.length, left: 0 });
    // A sample of what was compared, so a blank transcript cannot pass.
    expect(lane[0]?.head).toMatch(
      /^HTTP\/1\.1 200 OK\r\n.*\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65$/s,
    );
    expect(JSON.parse(lane[0]?.body ?? '')).toMatchObject({ result: 1 });
    expect(lane[2]?.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(lane[4]?.head).toMatch(/^HTTP\/1\.1 401 /);
  });

  test('the gateway page of a call over the time limit is the same bytes', async () => {
    const settings = { processingSeconds: { 'server.time': 61 } };
    const { lane, node, counts } = await both([post(`${HOOK}/server.time`, '{}')], 1, settings);
    expect(lane[0]?.head).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\ncontent-type: text\/html\r\n/);
    expect(lane).toEqual(node);
    expect(counts.taken).toBe(1);
  });

  test('hands everything else to node:http, mid-connection, and the answers keep their order', async () => {
    const body = JSON.stringify({ USER_ID: 1, MESSAGE: 'chunked' });
    const chunked = post(`${HOOK}/im.notify.personal.add`, '', { 'Transfer-Encoding': 'chunked' }).replace(
      /\r\n\r\n$/,
      `\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    const requests = [
      post(`${HOOK}/im.notify.personal.add`, SEND),
      post(`${HOOK}/im.notify.personal.add`, SEND),
      // node:http's from here on: a GET, then plain calls the lane would have taken.
      'GET /_emulator/api/users HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      post(`${HOOK}/im.notify.personal.add`, SEND),
      chunked,
      post(`${HOOK}/server.time`, '{}'),
    ];
    const { lane, node, counts } = await both([requests.join('')], requests.length);
    expect(lane).toHaveLength(requests.length);
    expect(lane).toEqual(node);
    // The GET never reached the REST handler: the lane let it go at its request line.
    expect(counts).toEqual({ taken: 2, left: 0 });
    expect(JSON.parse(lane[4]?.body ?? '')).toMatchObject({ result: 4 });
  });

  test.each([
    ['a body still on its way', [post(`${HOOK}/im.notify.personal.add`, SEND).slice(0, -5), SEND.slice(-5)]],
    ['a head still on its way', ['POST /rest/1/', post(`${HOOK}/im.notify.personal.add`, SEND).slice(13)]],
    ['Expect: 100-continue', [post(`${HOOK}/server.time`, '{}', { Expect: '100-continue' })]],
    ['Connection: close', [post(`${HOOK}/server.time`, '{}', { Connection: 'close' })]],
    ['HTTP/1.0', [post(`${HOOK}/server.time`, '{}').replace('HTTP/1.1', 'HTTP/1.0')]],
    ['no Host', [post(`${HOOK}/server.time`, '{}').replace('Host: 127.0.0.1\r\n', '')]],
    ['two Hosts', [post(`${HOOK}/server.time`, '{}', { Host: 'other' })]],
    ['two Content-Lengths', [post(`${HOOK}/server.time`, '{}', { 'Content-Length': '2' })]],
    ['a folded header', [post(`${HOOK}/server.time`, '{}', { 'X-A': 'b\r\n c' })]],
    ['a space before the colon', [post(`${HOOK}/server.time`, '{}', { 'X-A ': 'b' })]],
    [
      'a byte over 0x7e in a value',
      [Buffer.from(post(`${HOOK}/server.time`, '{}', { 'X-A': 'é' }), 'latin1')],
    ],
    ['a body over the portal limit', [post(`${HOOK}/server.time`, 'x'.repeat(2048))]],
    ['a path that leaves /rest/', [post('/rest/../_emulator/api/users', '{}')]],
    ['a malformed request line', ['POST /rest/ x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n']],
  ])('%s: node:http answers, as without the lane', async (_label, parts) => {
    const { lane, node, counts } = await both(parts, 1, { maxBodyBytes: 1024 });
    expect(lane).toHaveLength(1);
    expect(lane).toEqual(node);
    expect(counts.taken).toBe(0);
  });

  test('a portal with chaos rules is served by node:http, where faults apply', async () => {
    const portal = newPortal();
    portal.chaos.configure({
      rules: [{ method: 'server.time', sequence: [{ type: 'error', code: 'OVERLOAD_LIMIT' }] }],
    });
    const started = await start(portal, true);
    const [answer] = await exchange(started, [post(`${HOOK}/server.time`, '{}')], 1);
    expect(answer?.head).toMatch(/^HTTP\/1\.1 503 /);
    expect(started.lane).toEqual({ taken: 0, left: 1 });
  });

  test('many pipelined calls on one connection are all answered, in order', async () => {
    const n = 2000;
    const requests = Array.from({ length: n }, (_, i) =>
      post(`${HOOK}/im.notify.personal.add`, JSON.stringify({ USER_ID: 1, MESSAGE: `m${i}` })),
    );
    // No request limits: 2,000 calls at once would overflow the bucket of any plan.
    const started = await start(newPortal({ plan: 'off' }), true);
    const answers = await exchange(started, [requests.join('')], n);
    expect(answers.map((a) => (JSON.parse(a.body) as { result: number }).result)).toEqual(
      Array.from({ length: n }, (_, i) => i + 1),
    );
    // Reads cut some requests in two; those and the rest of their connection went to node:http.
    expect(started.lane.taken).toBeGreaterThan(0);
  });

  test('close() ends the connections the lane holds, as node:http ends its idle ones', async () => {
    const { port, server } = await start(newPortal(), true);
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.write(post(`${HOOK}/server.time`, '{}'));
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await closed;
  });
});

/** mulberry32, as the fuzzer's: a seed replays the same cases. */
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

/** Bytes a mutation puts in: the ones HTTP parsers disagree on, and a few plain ones. */
const ODD = [
  ' ',
  '\t',
  '\r',
  '\n',
  '\r\n',
  ':',
  '\0',
  '\x7f',
  '\xe9',
  'a',
  'A',
  '0',
  '/',
  '%',
  '?',
  '.',
  ',',
  ';',
  '"',
];

/**
 * A simple request with one to three random edits: a byte replaced, inserted or removed, a line
 * repeated or dropped, a case flipped. Sent whole, then the client ends its side, so a request
 * left incomplete is answered (or not) the same way by both servers.
 */
function mutated(random: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const base = pick([
    post(`${HOOK}/im.notify.personal.add`, SEND, { 'User-Agent': 'fuzz/1', Connection: 'keep-alive' }),
    post(`${HOOK}/server.time?x=1`, 'a=1&b[c]=2', { 'Content-Type': 'application/x-www-form-urlencoded' }),
    post(`${HOOK}/batch`, JSON.stringify({ cmd: { a: 'server.time' } }), { Cookie: 'PHPSESSID=z' }),
  ]);
  let text = base;
  const edits = 1 + Math.floor(random() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * text.length);
    const kind = Math.floor(random() * 6);
    if (kind === 0) text = text.slice(0, at) + pick(ODD) + text.slice(at + 1);
    else if (kind === 1) text = text.slice(0, at) + pick(ODD) + text.slice(at);
    else if (kind === 2) text = text.slice(0, at) + text.slice(at + 1);
    else if (kind === 3 || kind === 4) {
      const lines = text.split('\r\n');
      const i = 1 + Math.floor(random() * (lines.indexOf('') - 1));
      if (kind === 3) lines.splice(i, 0, lines[i] as string);
      else lines.splice(i, 1);
      text = lines.join('\r\n');
    } else {
      const c = text.charAt(at);
      text =
        text.slice(0, at) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + text.slice(at + 1);
    }
  }
  return Buffer.from(text, 'latin1');
}

/**
 * Write `bytes`, end the client's side, and keep everything the server sends until it closes.
 * With `split`, the bytes after it are sent only once a whole answer to those before came back.
 */
function transcript(port: number, bytes: Buffer, split?: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    let rest = split === undefined ? undefined : bytes.subarray(split);
    socket.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const headEnd = got.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(got.toString('latin1', 0, headEnd))?.[1] ?? 0);
      if (rest !== undefined && headEnd >= 0 && got.length >= headEnd + 4 + length) {
        socket.end(rest);
        rest = undefined;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () =>
      resolve(untilClose(got.toString('latin1').replace(/\r\nDate: [^\r]*/g, '\r\nDate: -'))),
    );
    socket.on('connect', () =>
      split === undefined ? socket.end(bytes) : socket.write(bytes.subarray(0, split)),
    );
  });
}

/**
 * A transcript up to the end of the first answer that says `Connection: close`. RFC 9112 §9.6:
 * a client reads nothing after it. Whether node:http still sends a 400 for garbage that followed
 * depends on how the bytes reached its parser (in one read from its own socket reader, or as a
 * stream the lane handed over), not on anything the lane answers.
 */
function untilClose(text: string): string {
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return text;
    const head = text.slice(at, headEnd);
    const end = headEnd + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (/\r\nconnection: *close/i.test(head)) return text.slice(0, end);
    at = end;
  }
}

describe('fast lane against node:http, fuzzed', () => {
  const SEED = Number(process.env.B24NOTIFY_FUZZ_SEED ?? 20261202) >>> 0;
  const COUNT = Math.max(1, Number(process.env.B24NOTIFY_LANE_FUZZ_COUNT ?? 300) || 300);

  test(`${COUNT} mutated requests get the same bytes from both (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const laneServer = await start(newPortal({ plan: 'off' }), true);
    const nodeServer = await start(newPortal({ plan: 'off' }), false);
    for (let i = 0; i < COUNT; i++) {
      const bytes = mutated(random);
      const taken = laneServer.lane.taken;
      const fromLane = await transcript(laneServer.port, bytes);
      // A request the lane answered, with more bytes behind it in the same read: node:http
      // answers such a read with its 400 alone when what follows does not parse (its handler
      // answers later than its parser fails), but answers the request too when the rest comes
      // in a later read. The lane answers as in the second case; so node:http gets it that way.
      const end = parseSimpleRequest(bytes, 0)?.end ?? bytes.length;
      const split = laneServer.lane.taken > taken && end < bytes.length ? end : undefined;
      const fromNode = await transcript(nodeServer.port, bytes, split);
      expect({ i, request: bytes.toString('latin1'), answer: fromLane }).toEqual({
        i,
        request: bytes.toString('latin1'),
        answer: fromNode,
      });
    }
    // Some of them were the lane's to answer, or this compared node:http with itself.
    expect(laneServer.lane.taken).toBeGreaterThan(COUNT / 20);
  });
});

describe('parseSimpleRequest', () => {
  test('reads a simple request and where it ends', () => {
    const text = post(`${HOOK}/x`, '{"a":1}', { Cookie: 'PHPSESSID=s', 'X-Other': ' v\t' });
    const parsed = parseSimpleRequest(Buffer.from(`${text}GET`), 0);
    expect(parsed).toMatchObject({
      target: `${HOOK}/x`,
      host: '127.0.0.1',
      contentType: 'application/json',
      cookie: 'PHPSESSID=s',
      end: Buffer.byteLength(text),
    });
  });

  test('takes no request without its whole body, and no other method', () => {
    expect(parseSimpleRequest(Buffer.from(post('/rest/x', '{"a":1}').slice(0, -1)), 0)).toBeUndefined();
    expect(parseSimpleRequest(Buffer.from('PUT /rest/x HTTP/1.1\r\nHost: a\r\n\r\n'), 0)).toBeUndefined();
  });

  test('reads a request at an offset, as pipelined requests in one read come', () => {
    const first = post(`${HOOK}/a`, '{"a":1}');
    const second = post(`${HOOK}/b`, '{"b":22}');
    const buf = Buffer.from(first + second);
    const parsed = parseSimpleRequest(buf, Buffer.byteLength(first));
    expect(parsed).toMatchObject({ target: `${HOOK}/b`, end: buf.length });
    expect(buf.subarray(parsed?.bodyStart, parsed?.end).toString()).toBe('{"b":22}');
  });

  test('reads header names in any case and values without the whitespace around them', () => {
    const text =
      `POST ${HOOK}/x HTTP/1.1\r\nhOsT:\t 127.0.0.1 \r\nCONTENT-type:application/json\r\n` +
      'Connection:  Keep-Alive\r\ncontent-LENGTH: 2\r\nX-Empty:\r\n\r\n{}';
    expect(parseSimpleRequest(Buffer.from(text), 0)).toMatchObject({
      host: '127.0.0.1',
      contentType: 'application/json',
      end: Buffer.byteLength(text),
    });
  });

  test.each([
    ['a second Host', { Host: 'again' }],
    ['Connection: close', { Connection: 'close' }],
    ['a signed Content-Length', { 'Content-Length': '+7' }],
    ['an empty Content-Length', { 'Content-Length': '' }],
    ['Expect', { Expect: '100-continue' }],
    ['Upgrade', { UPGRADE: 'websocket' }],
    ['Transfer-Encoding', { 'transfer-encoding': 'chunked' }],
    ['a name that is not a token', { 'X Bad': 'v' }],
  ])('leaves a request with %s to node:http', (_what, headers) => {
    const text = post(`${HOOK}/x`, '{"a":1}', headers as Record<string, string>);
    expect(parseSimpleRequest(Buffer.from(text), 0)).toBeUndefined();
  });

  test(`reads a head longer than its first look, up to ${MAX_HEAD} bytes and no more`, () => {
    const head = (size: number): string => {
      const start = `POST ${HOOK}/x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nX-Pad: `;
      return `${start}${'p'.repeat(size - start.length)}\r\n\r\n`;
    };
    expect(Buffer.byteLength(head(MAX_HEAD)) - 4).toBe(MAX_HEAD);
    expect(parseSimpleRequest(Buffer.from(head(3000)), 0)?.end).toBe(3004);
    expect(parseSimpleRequest(Buffer.from(head(MAX_HEAD)), 0)?.end).toBe(MAX_HEAD + 4);
    expect(parseSimpleRequest(Buffer.from(head(MAX_HEAD + 1)), 0)).toBeUndefined();
  });
});
