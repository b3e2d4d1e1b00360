/**
 * Bitrix24 notifications from many workers on many machines: a Redis and BullMQ queue with
 * per-portal batching, pacing shared in Redis, OAuth refresh across processes, and nothing lost
 * or shown twice.
 * @packageDocumentation
 */
export { QueueError, type QueueErrorCode } from './errors.js';
export { createQueue, NotificationQueue } from './queue.js';
export { startWorker } from './worker.js';
export type * from './types.js';
