import type { QueueOptions } from './types.js';

/** Producers' side of the queue (skeleton: filled in next). */
export class NotificationQueue {
  /** @internal Use {@link createQueue}. */
  constructor(readonly options: QueueOptions) {}
}

/** Connect to the queue in Redis. */
export function createQueue(options: QueueOptions): NotificationQueue {
  return new NotificationQueue(options);
}
