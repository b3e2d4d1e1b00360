import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The fast lane: plain REST calls on plain HTTP, parsed and answered without node:http.
 *
 * Why: node:http's parser, streams and per-request objects cost more than the emulator's own
 * work for a typical call, and held the emulator near half of a bare node:http server's
 * throughput (`bench/emulator.mjs`). Most traffic an emulator sees is one shape: a `POST` under
 * `/rest/` with a small JSON or form body, sent whole in one write, on a keep-alive connection.
 *
 * How it stays safe: the lane takes only requests that are *strictly* simple (below) and that
 * have fully arrived. At the first byte it does not take — any other method or path, a header it
 * does not know how to honour, a request still arriving, anything odd — it hands the connection,
 * with every unanswered byte, to node:http for the rest of its life, and never takes it back.
 * node:http then parses exactly what the client sent, so every edge of HTTP (bad requests,
 * chunked bodies, `Expect`, upgrades, timeouts, 413, 431…) keeps node:http's answer. Answers the
 * lane writes are byte for byte what node:http writes for the same status and headers
 * (`test/fast-lane.test.ts` compares them), in request order: the lane answers each request
 * before it reads the next, and node:http's answers queue behind its own on the socket.
 *
 * Strictly simple means: the request line is `POST <target> HTTP/1.1` with a target of visible
 * ASCII; header names are tokens and values visible ASCII, spaces and tabs (no folding, no
 * obs-text); exactly one Host; at most one Content-Length (decimal), Content-Type and Cookie; no
 * Transfer-Encoding, Expect, Upgrade, or Connection other than `keep-alive`; a head of at most
 * {@link MAX_HEAD} bytes and {@link MAX_FIELDS} fields; and the whole body already received.
 */

/** A request the lane parsed: what the REST handler reads of it. */
export interface PlainRequest {
  /** The request target, as sent. */
  target: string;
  host: string;
  contentType: string | undefined;
  cookie: string | undefined;
  body: Buffer;
  remoteAddress: string | undefined;
}

/** Writes an answer: the status, headers as a flat list (`writeHead`'s form), and the body. */
export type Reply = (status: number, headers: readonly string[], body: string) => void;

/**
 * Serves a parsed request through `reply` and returns true, or returns false without replying
 * to leave it, and its connection, to node:http.
 */
export type PlainHandler = (request: PlainRequest, reply: Reply) => boolean;

/** Bytes of a request head the lane parses; a longer one goes to node:http (16 KiB limit). */
const MAX_HEAD = 8 * 1024;
/** Header fields the lane reads; more go to node:http. */
const MAX_FIELDS = 64;
/** Bodies the lane takes, at most; a longer Content-Length goes to node:http. */
const MAX_BODY_DIGITS = 9;

const TAB = 0x09;

/** RFC 9110 §5.6.2 token characters, for header names. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN[c.charCodeAt(0)] = 1;
}

function isToken(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return false;
  }
  return s.length > 0;
}

/** Visible ASCII, space and tab: a field value node:http reads the same way. */
function isPlainValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== TAB) || c > 0x7e) return false;
  }
  return true;
}

/** A field value without the optional whitespace around it, as node:http gives it. */
function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === TAB)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === TAB)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** A simple request found at the start of a buffer: its parts and where it ends. */
interface Parsed {
  target: string;
  host: string;
  contentType: string | undefined;
  cookie: string | undefined;
  bodyStart: number;
  end: number;
}

/**
 * The strictly simple request starting at `offset` of `buf` (module comment), or undefined when
 * what is there is anything else or has not fully arrived.
 */
export function parseSimpleRequest(buf: Buffer, offset: number): Parsed | undefined {
  const headEnd = buf.indexOf('\r\n\r\n', offset, 'latin1');
  if (headEnd < 0 || headEnd - offset > MAX_HEAD) return undefined;
  const head = buf.toString('latin1', offset, headEnd);
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  if (!head.startsWith('POST /') || head.slice(lineEnd - 9, lineEnd) !== ' HTTP/1.1') return undefined;
  const target = head.slice(5, lineEnd - 9);
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e) return undefined;
  }
  let host: string | undefined;
  let length: string | undefined;
  let contentType: string | undefined;
  let cookie: string | undefined;
  let fields = 0;
  let pos = lineEnd + 2;
  while (pos < head.length) {
    let end = head.indexOf('\r\n', pos);
    if (end < 0) end = head.length;
    if (++fields > MAX_FIELDS) return undefined;
    const colon = head.indexOf(':', pos);
    if (colon < 0 || colon >= end) return undefined;
    const name = head.slice(pos, colon);
    const raw = head.slice(colon + 1, end);
    // A bare CR inside a line, or any other control character, is node:http's to judge.
    if (!isToken(name) || !isPlainValue(raw)) return undefined;
    const value = trimOws(raw);
    switch (name.toLowerCase()) {
      case 'host':
        if (host !== undefined) return undefined;
        host = value;
        break;
      case 'content-length':
        if (length !== undefined || !/^\d+$/.test(value) || value.length > MAX_BODY_DIGITS) return undefined;
        length = value;
        break;
      case 'content-type':
        if (contentType !== undefined) return undefined;
        contentType = value;
        break;
      case 'cookie':
        if (cookie !== undefined) return undefined;
        cookie = value;
        break;
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return undefined;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      default:
        break;
    }
    pos = end + 2;
  }
  if (host === undefined) return undefined;
  const bodyStart = headEnd + 4;
  const end = bodyStart + (length === undefined ? 0 : Number(length));
  if (end > buf.length) return undefined;
  return { target, host, contentType, cookie, bodyStart, end };
}

/** Status lines, made once per status: node:http's reason phrases, `unknown` for others. */
const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

/**
 * The end of every head the lane writes, as node:http ends a keep-alive answer: `Date` (RFC
 * 7231 IMF-fixdate), `Connection`, `Keep-Alive` with the server's timeout in whole seconds.
 * Made once per second and timeout: it runs on every answer.
 */
let tailSecond = -1;
let tailTimeout = -1;
let tailText = '';
function headTail(keepAliveTimeout: number): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== tailSecond || keepAliveTimeout !== tailTimeout) {
    tailSecond = second;
    tailTimeout = keepAliveTimeout;
    tailText =
      `Date: ${new Date(now).toUTCString()}\r\nConnection: keep-alive\r\n` +
      (keepAliveTimeout ? `Keep-Alive: timeout=${Math.floor(keepAliveTimeout / 1000)}\r\n` : '') +
      '\r\n';
  }
  return tailText;
}

/**
 * Writes waiting for the check phase. Why: on this kind of machine most of the cost of an answer
 * is the kernel's send, and most of that is waking the client (on another CPU) when it sleeps.
 * Answers written back to back, at the end of the poll phase that read their requests, wake a
 * client once for all of them, where one write per `data` event woke it for each (measured in
 * `bench/emulator.mjs`). The wait is the rest of the current loop turn: no timer, no added turn.
 */
let pending: Array<() => void> = [];
function flushNow(): void {
  const due = pending;
  pending = [];
  for (const flush of due) flush();
}
function flushLater(flush: () => void): void {
  if (pending.length === 0) setImmediate(flushNow);
  pending.push(flush);
}

/** An HTTP server with the lane in front of it, as {@link installFastLane} leaves it. */
type LaneServer = Server & { closeAllConnections(): void; closeIdleConnections(): void };

/**
 * Put the fast lane in front of a plain-HTTP `server`: every new connection is read by the
 * lane until it meets a request it does not take, then given to node:http. The server's
 * `closeAllConnections` and `closeIdleConnections` (which `close()` calls) also close the
 * connections the lane still holds, which are idle whenever the lane does not run: it answers
 * every request it takes before it returns.
 */
export function installFastLane(server: Server, handler: PlainHandler): void {
  const [nodeListener] = server.listeners('connection') as Array<(socket: Socket) => void>;
  if (nodeListener === undefined) return;
  server.removeListener('connection', nodeListener);
  const held = new Set<Socket>();
  const lane = server as LaneServer;
  const closeAll = lane.closeAllConnections.bind(lane);
  const closeIdle = lane.closeIdleConnections.bind(lane);
  lane.closeAllConnections = () => {
    for (const socket of held) socket.destroy();
    held.clear();
    closeAll();
  };
  lane.closeIdleConnections = () => {
    // Idle, but an answer may still be on its way out: it is sent before the connection ends.
    flushNow();
    for (const socket of held) socket.destroySoon();
    held.clear();
    closeIdle();
  };
  server.on('connection', (socket: Socket) => {
    held.add(socket);
    // Answers wait here until the end of the event loop's poll phase (see `flushLater`).
    let out = '';
    const flush = (): void => {
      if (out === '') return;
      const bytes = out;
      out = '';
      if (socket.destroyed) return;
      socket.write(bytes);
      // A client that sends faster than it reads waits, as node:http makes it wait.
      if (socket.writableNeedDrain && held.has(socket)) socket.pause();
    };
    const reply: Reply = (status, headers, body) => {
      let head = statusLine(status);
      for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
      if (out === '') flushLater(flush);
      // Head and body in one write, as node:http sends a small answer; pipelined answers too.
      out += head + headTail(server.keepAliveTimeout) + body;
    };

    const detach = (): void => {
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('close', onClose);
      socket.removeListener('drain', onDrain);
      socket.setTimeout(0);
      held.delete(socket);
    };

    const handOff = (rest: Buffer): void => {
      // The lane's answers go first: node:http answers the requests after them.
      flush();
      detach();
      // Paused while node:http sets up, so nothing flows before its parser listens; the bytes
      // the lane read but did not answer go back first, in order.
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      nodeListener.call(server, socket);
      process.nextTick(() => socket.resume());
    };

    function onData(chunk: Buffer): void {
      // A request split over reads is not taken: it goes to node:http with the rest.
      let offset = 0;
      while (offset < chunk.length) {
        const parsed = parseSimpleRequest(chunk, offset);
        let taken = false;
        try {
          taken =
            parsed !== undefined &&
            handler(
              {
                target: parsed.target,
                host: parsed.host,
                contentType: parsed.contentType,
                cookie: parsed.cookie,
                body: chunk.subarray(parsed.bodyStart, parsed.end),
                remoteAddress: socket.remoteAddress,
              },
              reply,
            );
        } catch {
          // The handlers answer every error themselves; this is the last line against a crash,
          // as node:http's router has one (`server.ts`).
          socket.destroy();
          return;
        }
        if (!taken || parsed === undefined) {
          handOff(chunk.subarray(offset));
          return;
        }
        offset = parsed.end;
      }
    }
    function onDrain(): void {
      socket.resume();
    }
    function onEnd(): void {
      // The client is done sending and everything it sent is answered: finish, as node:http does.
      flush();
      socket.end();
    }
    function onError(): void {
      socket.destroy();
    }
    function onTimeout(): void {
      socket.destroy();
    }
    function onClose(): void {
      held.delete(socket);
    }

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('timeout', onTimeout);
    socket.on('close', onClose);
    socket.on('drain', onDrain);
    // An idle keep-alive connection closes as node:http would close it.
    socket.setTimeout(server.keepAliveTimeout);
  });
}
