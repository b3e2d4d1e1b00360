import type { QueueWorker, WorkerOptions } from './types.js';

/** Start a worker (skeleton: filled in next). */
export function startWorker(options: WorkerOptions): Promise<QueueWorker> {
  void options;
  return Promise.reject(new Error('not yet'));
}
