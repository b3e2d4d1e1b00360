/** Connections to Redis: one shape for producers and workers, the queue's scripts on each. */
import { Redis } from 'ioredis';
import { B24ValidationError } from 'b24notify';
import { QueueError } from './errors.js';
import type { ConnectionEvent, RedisConnection } from './types.js';
import { defineScripts } from './scripts.js';

/**
 * How long start-up waits for Redis unless told otherwise. Longer than ioredis's own 10 s per
 * connection attempt, so a slow network gets a whole attempt and a retry; long enough for a
 * Redis started at the same moment as the worker (a container, a short AOF replay); short
 * enough that a wrong address is reported while whoever deployed it is still watching.
 */
export const CONNECT_TIMEOUT_MS = 20_000;

/** setTimeout's largest delay. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * A new connection. `maxRetriesPerRequest: null` because BullMQ requires it of a worker's
 * connection, and because a command should wait out a Redis restart rather than fail a send.
 * Start-up does not wait forever on it: see {@link whenReady}.
 */
export function connect(connection: RedisConnection, name: string): Redis {
  let redis: Redis;
  if (typeof connection === 'string') {
    if (!/^rediss?:\/\//.test(connection)) {
      throw new B24ValidationError(
        'connection',
        'expected a Redis URL like redis://127.0.0.1:6379, or ioredis options',
      );
    }
    redis = new Redis(connection, { maxRetriesPerRequest: null, connectionName: name });
  } else if (connection !== null && typeof connection === 'object') {
    redis = new Redis({ ...connection, maxRetriesPerRequest: null, connectionName: name });
  } else {
    throw new B24ValidationError(
      'connection',
      'expected a Redis URL like redis://127.0.0.1:6379, or ioredis options',
    );
  }
  // An unhandled 'error' event would end the process; the commands themselves report failures.
  redis.on('error', () => {});
  endsWhileReconnecting(redis);
  defineScripts(redis);
  return redis;
}

/**
 * What ioredis keeps, out of its public types, of the commands a dropped connection had sent:
 * they are sent again once the client is ready on a new connection.
 */
interface HeldCommands {
  prevCommandQueue?: {
    shift(): { command: { reject(err: Error): void } } | undefined;
  } | null;
}

/**
 * Make `redis`, and every `duplicate()` of it, settle everything it holds when told to
 * disconnect after losing its connection. ioredis leaves two cases hanging for ever:
 * - Told while it waits to reconnect, it does nothing: with no socket there is no 'close', so no
 *   'end', and its commands never settle (redis/ioredis#1247; the open PR #2169). Marked `wait`,
 *   the client takes ioredis's own path for one that never connected: it closes, fails what it
 *   holds with "Connection is closed." and emits 'end'.
 * - Told after it has reconnected but before it is ready (the handshake, or Redis still loading
 *   its AOF), it ends, but the commands that were in flight when the old connection dropped
 *   wait in a queue of their own to be sent again when ready, which it never will be; nothing
 *   fails them (a fix was proposed in redis/ioredis#2197; 6.0.0, the newest release, lacks
 *   it). They are failed here.
 * BullMQ's Worker.close waits for its blocking connection's 'end' and for the command that
 * connection holds, and the queue's event reader for its XREAD; both connections are made with
 * `duplicate()`. Without this, a worker stopped in the seconds after a Redis restart never
 * stopped (the CLI test of an outage caught it), nor did a queue closed then (outage.test.ts,
 * about one run in twenty under load; a test there now closes a client at exactly that moment).
 */
function endsWhileReconnecting(redis: Redis): void {
  const disconnect = redis.disconnect.bind(redis);
  redis.disconnect = (reconnect = false): void => {
    if (!reconnect && redis.status === 'reconnecting') redis.status = 'wait';
    disconnect(reconnect);
    if (reconnect) return;
    const held = redis as unknown as HeldCommands;
    const queue = held.prevCommandQueue;
    held.prevCommandQueue = null;
    for (let item = queue?.shift(); item; item = queue?.shift()) {
      item.command.reject(new Error('Connection is closed.'));
    }
  };
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => {
    const copy = duplicate(override);
    endsWhileReconnecting(copy);
    return copy;
  };
}

/** The prefix, checked: it names every key. */
export function checkPrefix(prefix: unknown): string {
  const value = prefix ?? 'b24q';
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/.test(value)) {
    throw new B24ValidationError('prefix', 'expected 1 to 50 letters, digits, ".", "_" or "-"');
  }
  return value;
}

/**
 * Close a connection: QUIT when Redis answers, else drop it. Commands wait for a Redis that is
 * down (see {@link connect}); closing must not wait for it to come back.
 */
export async function disconnect(redis: Redis): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}

/**
 * Resolves once `redis` cannot run commands: at once when it is not connected now, else when it
 * loses its connection. `cancel` stops listening (the promise then never resolves).
 */
export function whenDown(redis: Redis): { down: Promise<void>; cancel: () => void } {
  let cancel = (): void => {};
  const down = new Promise<void>((resolve) => {
    if (redis.status !== 'ready') {
      resolve();
      return;
    }
    const onClose = (): void => resolve();
    redis.once('close', onClose);
    cancel = () => redis.off('close', onClose);
  });
  return { down, cancel };
}

/** `connectTimeoutMs`, checked. */
export function checkConnectTimeout(value: unknown): number {
  const v = value ?? CONNECT_TIMEOUT_MS;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TIMEOUT_MS) {
    throw new B24ValidationError(
      'connectTimeoutMs',
      `expected a whole number of milliseconds (default ${CONNECT_TIMEOUT_MS}; 0 waits as long as it takes)`,
    );
  }
  return v;
}

/**
 * Tell `emit` when `redis`, once it has been ready, loses its connection, and when it is ready
 * again. ioredis reconnects by itself and commands wait meanwhile (see {@link connect}), so
 * without this a loss is silent. Returns a function that stops watching: call it before closing
 * on purpose, which is no loss.
 */
export function watchConnection(
  redis: Redis,
  connection: RedisConnection,
  emit: (event: ConnectionEvent) => void,
): () => void {
  const address = redisAddress(connection);
  const passwords = passwordsOf(connection);
  let ready = redis.status === 'ready';
  let lost = false;
  const tell = (event: ConnectionEvent): void => {
    try {
      emit(event);
    } catch {
      // A listener's own failure must not reach ioredis's event loop.
    }
  };
  const lose = (reason: string): void => {
    if (!ready || lost) return;
    lost = true;
    let text = reason;
    for (const p of passwords) text = text.split(p).join('***');
    tell({ state: 'lost', address, reason: text });
  };
  const onReady = (): void => {
    ready = true;
    if (!lost) return;
    lost = false;
    tell({ state: 'restored', address });
  };
  const onError = (err: Error): void => {
    const code = (err as { code?: unknown }).code;
    lose(typeof code === 'string' ? code : err.message);
  };
  const onClose = (): void => lose('connection closed');
  redis.on('ready', onReady);
  redis.on('error', onError);
  redis.on('close', onClose);
  return () => {
    redis.off('ready', onReady);
    redis.off('error', onError);
    redis.off('close', onClose);
  };
}

/** The password of a connection, in the forms it may take in text, to keep out of messages. */
function passwordsOf(connection: RedisConnection): string[] {
  let password: string | undefined;
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      password = url.password === '' ? (url.searchParams.get('password') ?? '') : url.password;
    } catch {
      return [];
    }
  } else {
    password = typeof connection.password === 'string' ? connection.password : undefined;
  }
  if (!password) return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // Not percent-encoded: the one form is enough.
  }
  return [...new Set([password, decoded, encodeURIComponent(decoded)])];
}

/**
 * Where `connection` points, for messages and logs: `redis://:***@host:port/db`. The password is
 * masked and the query left out (ioredis reads options from it, a password among them).
 */
export function redisAddress(connection: RedisConnection): string {
  const masked = passwordsOf(connection).length > 0;
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      const user = decodeURIComponent(url.username);
      const auth = masked ? `${user}:***@` : user ? `${user}@` : '';
      const db = url.pathname.length > 1 ? url.pathname : '';
      return `${url.protocol}//${auth}${url.hostname}:${url.port || '6379'}${db}`;
    } catch {
      return 'the Redis URL given';
    }
  }
  if (connection.path) return `unix:${connection.path}${masked ? ' (password ***)' : ''}`;
  if (Array.isArray(connection.sentinels) && connection.sentinels.length > 0) {
    const hosts = connection.sentinels.map((s) => `${s.host ?? 'localhost'}:${s.port ?? 26379}`).join(',');
    return `sentinel master "${connection.name ?? 'mymaster'}" via ${hosts}${masked ? ' (password ***)' : ''}`;
  }
  const user = connection.username ?? '';
  const auth = masked ? `${user}:***@` : user ? `${user}@` : '';
  const db = connection.db ? `/${connection.db}` : '';
  const host = connection.host ?? 'localhost';
  return `${connection.tls ? 'rediss' : 'redis'}://${auth}${host.includes(':') ? `[${host}]` : host}:${connection.port ?? 6379}${db}`;
}

/** Why start-up gave up, as the user can act on it. */
function failure(where: string, err: Error | undefined, status: string, timeoutMs: number): QueueError {
  const code = (err as { code?: unknown } | undefined)?.code;
  const text = err?.message ?? '';
  const waited = `${timeoutMs / 1000} s`;
  const longer = 'or wait longer (connectTimeoutMs)';
  if (/\bWRONGPASS\b/.test(text) || /invalid password/i.test(text)) {
    return new QueueError(
      'REDIS_AUTH',
      `Redis at ${where} refused the password (WRONGPASS): check the password, and the user name if any, in the Redis URL or options`,
    );
  }
  if (/\bNOAUTH\b/.test(text)) {
    return new QueueError(
      'REDIS_AUTH',
      `Redis at ${where} requires a password and none was given (NOAUTH): put it in the URL, redis://:PASSWORD@host:port, or pass the password option`,
    );
  }
  if (/\bNOPERM\b/.test(text)) {
    return new QueueError(
      'REDIS_AUTH',
      `Redis at ${where} refused this user a command the queue needs (NOPERM): allow the user all commands on the queue's keys, or use another user`,
    );
  }
  if (/Unknown RESP type|Protocol error/i.test(text)) {
    return new QueueError(
      'REDIS',
      `the server at ${where} is not Redis: it answered something other than the Redis protocol; check the port (a TLS port needs rediss://)`,
    );
  }
  if (/DB index is out of range/i.test(text)) {
    return new QueueError(
      'REDIS',
      `Redis at ${where} has no such database number: use one below its "databases" setting (16 by default)`,
    );
  }
  if (typeof code === 'string' && (/^ERR_SSL|^ERR_TLS|CERT|^EPROTO$/.test(code) || /SSL|TLS/.test(text))) {
    return new QueueError(
      'REDIS',
      `the TLS connection to ${where} failed (${code}): check that the port serves TLS (else use redis://) and that its certificate is trusted (the tls option)`,
    );
  }
  if (code === 'ECONNREFUSED') {
    return new QueueError(
      'REDIS',
      `cannot connect to Redis at ${where}: connection refused (nothing listens on that port), still after ${waited}; check the host and port and that redis-server is running, ${longer}`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new QueueError(
      'REDIS',
      `cannot connect to Redis at ${where}: the host name does not resolve (${code}); check the host`,
    );
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new QueueError(
      'REDIS',
      `cannot connect to Redis at ${where}: the host does not answer (${code}) after ${waited}; check the host, the port and any firewall, ${longer}`,
    );
  }
  if (err === undefined && (status === 'connecting' || status === 'reconnecting')) {
    return new QueueError(
      'REDIS',
      `cannot connect to Redis at ${where}: the host did not answer within ${waited}; check the host, the port and any firewall, ${longer}`,
    );
  }
  if (err === undefined && status === 'connect') {
    return new QueueError(
      'REDIS',
      `the server at ${where} accepted the connection but did not answer as Redis within ${waited}: check that the port is Redis's (a TLS port needs rediss://), ${longer}`,
    );
  }
  const why = err ? `: ${code ?? err.name}${text ? ` ${text}` : ''}` : '';
  return new QueueError(
    'REDIS',
    `Redis at ${where} was not ready after ${waited}${why}; check the address and that Redis is running, ${longer}`,
  );
}

/** An answer from the server that waiting will not change: fail at once rather than at the deadline. */
function definitive(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    /\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|Unknown RESP type|Protocol error|DB index is out of range/i.test(
      err.message,
    ) ||
    (typeof code === 'string' && /^ERR_SSL|^ERR_TLS|CERT/.test(code))
  );
}

/**
 * Resolves once `redis` is connected and answers (ioredis's `ready`). Rejects with a
 * {@link QueueError} (`REDIS`, or `REDIS_AUTH` for refused credentials) that says what happened
 * and what to do, with the password masked: at once when the server's answer will not change
 * by waiting (a refused password, a server that is not Redis, a TLS failure); after `timeoutMs`
 * (0: never) when nothing answers, since Redis may be starting. Only start-up waits here; a
 * connection that was ready once waits out a Redis restart (see {@link connect}).
 */
export function whenReady(redis: Redis, connection: RedisConnection, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  const where = redisAddress(connection);
  if (redis.status === 'end') {
    return Promise.reject(new QueueError('CLOSED', `the connection to Redis at ${where} is closed`));
  }
  const secrets = passwordsOf(connection);
  const scrub = (err: Error): Error => {
    let message = err.message;
    for (const secret of secrets) message = message.split(secret).join('***');
    return Object.assign(new Error(message), { code: (err as { code?: unknown }).code });
  };
  return new Promise<void>((resolve, reject) => {
    let last: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: QueueError): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => finish();
    const onError = (err: Error): void => {
      last = scrub(err);
      if (definitive(err)) finish(failure(where, last, redis.status, timeoutMs));
    };
    const onEnd = (): void =>
      finish(new QueueError('CLOSED', `the connection to Redis at ${where} was closed before it was ready`));
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
    if (timeoutMs > 0)
      timer = setTimeout(() => finish(failure(where, last, redis.status, timeoutMs)), timeoutMs);
    // ioredis options may ask to connect only on the first command.
    if (redis.status === 'wait') redis.connect().catch(() => {});
  });
}
