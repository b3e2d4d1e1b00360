/**
 * What went wrong, as the queue reports it.
 * - `KEY`: the encryption key is missing or malformed;
 * - `PORTAL`: the portal is not registered (or the resolver does not know it);
 * - `CLOSED`: the queue or worker was closed;
 * - `DECRYPT`: a stored portal cannot be read with this key (another key, or tampered);
 * - `REDIS`: Redis could not be reached at start-up: nothing listens there, the host does not
 *   answer, or the server is not Redis (`connectTimeoutMs`);
 * - `REDIS_AUTH`: Redis refused the credentials at start-up (`WRONGPASS`, `NOAUTH`, `NOPERM`).
 */
export type QueueErrorCode = 'KEY' | 'PORTAL' | 'CLOSED' | 'DECRYPT' | 'REDIS' | 'REDIS_AUTH';

/** The queue's errors: the message says what happened and what to do. */
export class QueueError extends Error {
  /** `QueueError`, also when it comes from another copy of the package. */
  override name = 'QueueError';
  /** See {@link QueueErrorCode}. */
  readonly code: QueueErrorCode;

  /** An error with its code and a message that says what to do. */
  constructor(code: QueueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
