/** Connections to Redis: one shape for producers and workers, the queue's scripts on each. */
import { Redis } from 'ioredis';
import { B24ValidationError } from 'b24notify';
import type { RedisConnection } from './types.js';
import { defineScripts } from './scripts.js';

/**
 * A new connection. `maxRetriesPerRequest: null` because BullMQ requires it of a worker's
 * connection, and because a command should wait out a Redis restart rather than fail a send.
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
  defineScripts(redis);
  return redis;
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
