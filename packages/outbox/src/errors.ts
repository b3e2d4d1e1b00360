/**
 * What went wrong, as the outbox reports it.
 * - `BUSY`: another delivery holds the file (this process or another);
 * - `CLOSED`: the outbox was closed;
 * - `FILE`: the file cannot be opened as an outbox (no such folder, no permission, not a
 *   SQLite file, written by a newer version).
 */
export type OutboxErrorCode = 'BUSY' | 'CLOSED' | 'FILE';

/** The outbox's errors: the message says what happened and what to do. */
export class OutboxError extends Error {
  /** `OutboxError`, also when it comes from another copy of the package. */
  override name = 'OutboxError';
  /** See {@link OutboxErrorCode}. */
  readonly code: OutboxErrorCode;

  /** An error with its code and a message that says what to do. */
  constructor(code: OutboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Why a file could not be opened as an outbox, in words, from the system's or SQLite's code. */
export function fileProblem(path: string, err: unknown): OutboxError {
  const code = (err as { code?: unknown }).code;
  const why =
    code === 'ENOENT'
      ? 'its folder does not exist: create the folder, or pass another path'
      : code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_READONLY'
        ? 'no permission to write it: pass a path you can write to'
        : code === 'EISDIR'
          ? 'that is a folder: pass the path of a file in it, e.g. outbox.db'
          : code === 'SQLITE_NOTADB'
            ? 'it is not an outbox file (not SQLite): pass another path'
            : code === 'SQLITE_CORRUPT'
              ? 'the file is damaged: restore it from a backup, or pass another path'
              : err instanceof Error
                ? err.message
                : String(err);
  return new OutboxError('FILE', `cannot open the outbox ${path}: ${why}`, { cause: err });
}
