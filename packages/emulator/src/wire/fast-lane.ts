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
export const MAX_HEAD = 8 * 1024;
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

/**
 * Whether the text at `start` of `s` is `lower` (letters and `-`) in any letter case. The text
 * is known to be visible ASCII, where OR-ing 0x20 maps only A–Z onto a–z and only `-` onto `-`.
 */
function nameIs(s: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((s.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
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

/** Bytes read first when looking for the end of a head: enough for nearly every request. */
const FIRST_LOOK = 1024;

/**
 * The strictly simple request starting at `offset` of `buf` (module comment), or undefined when
 * what is there is anything else or has not fully arrived.
 *
 * Reads the head as one latin1 string and walks it by character code, slicing only the values it
 * keeps: this runs on every request the lane serves.
 */
export function parseSimpleRequest(buf: Buffer, offset: number): Parsed | undefined {
  // A short look first, so pipelined requests in one large read do not each copy the most a
  // head may hold; a longer head gets a second look at the whole bound.
  let text = buf.toString('latin1', offset, Math.min(buf.length, offset + FIRST_LOOK));
  let headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0 && text.length === FIRST_LOOK) {
    text = buf.toString('latin1', offset, Math.min(buf.length, offset + MAX_HEAD + 4));
    headEnd = text.indexOf('\r\n\r\n');
  }
  if (headEnd < 0 || headEnd > MAX_HEAD) return undefined;
  const lineEnd = text.indexOf('\r\n');
  if (!text.startsWith('POST /') || text.slice(lineEnd - 9, lineEnd) !== ' HTTP/1.1') return undefined;
  for (let i = 5; i < lineEnd - 9; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e) return undefined;
  }
  const target = text.slice(5, lineEnd - 9);
  let host: string | undefined;
  let length = 0;
  let lengthSeen = false;
  let contentType: string | undefined;
  let cookie: string | undefined;
  let fields = 0;
  let pos = lineEnd + 2;
  while (pos < headEnd) {
    const end = text.indexOf('\r\n', pos);
    if (++fields > MAX_FIELDS) return undefined;
    // The name: a token up to the first colon of the line.
    let colon = pos;
    for (; colon < end; colon++) {
      const c = text.charCodeAt(colon);
      if (c === 0x3a) break;
      if (c >= 128 || TOKEN[c] !== 1) return undefined;
    }
    if (colon === pos || colon === end) return undefined;
    // The value: visible ASCII, spaces and tabs (a bare CR or any other control character is
    // node:http's to judge), without the optional whitespace around it, as node:http gives it.
    let from = end;
    let to = colon + 1;
    for (let i = colon + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if ((c < 0x20 && c !== TAB) || c > 0x7e) return undefined;
      if (c !== 0x20 && c !== TAB) {
        if (from === end) from = i;
        to = i + 1;
      }
    }
    if (from === end) from = to;
    switch (colon - pos) {
      case 4:
        if (nameIs(text, pos, 'host')) {
          if (host !== undefined) return undefined;
          host = text.slice(from, to);
        }
        break;
      case 14:
        if (nameIs(text, pos, 'content-length')) {
          if (lengthSeen || to === from || to - from > MAX_BODY_DIGITS) return undefined;
          for (let i = from; i < to; i++) {
            const c = text.charCodeAt(i);
            if (c < 0x30 || c > 0x39) return undefined;
          }
          lengthSeen = true;
          length = Number(text.slice(from, to));
        }
        break;
      case 12:
        if (nameIs(text, pos, 'content-type')) {
          if (contentType !== undefined) return undefined;
          contentType = text.slice(from, to);
        }
        break;
      case 6:
        if (nameIs(text, pos, 'cookie')) {
          if (cookie !== undefined) return undefined;
          cookie = text.slice(from, to);
        } else if (nameIs(text, pos, 'expect')) {
          return undefined;
        }
        break;
      case 10:
        if (nameIs(text, pos, 'connection') && (to - from !== 10 || !nameIs(text, from, 'keep-alive'))) {
          return undefined;
        }
        break;
      case 17:
        if (nameIs(text, pos, 'transfer-encoding')) return undefined;
        break;
      case 7:
        if (nameIs(text, pos, 'upgrade')) return undefined;
        break;
      default:
        break;
    }
    pos = end + 2;
  }
  if (host === undefined) return undefined;
  const bodyStart = offset + headEnd + 4;
  const end = bodyStart + length;
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
