import { B24Error } from './b24-error.js';

/**
 * Bad input, found before anything was sent: the message names the field and the fix.
 * Never delivered, and retrying cannot help.
 */
export class B24ValidationError extends B24Error {
  override name = 'B24ValidationError';
  /** The path of the offending field, e.g. `attach.blocks[2].GRID[0].DISPLAY` or `userId`. */
  readonly field: string;

  constructor(field: string, problem: string, method?: string) {
    super(`${field}: ${problem}`, { delivery: 'not-delivered', ...(method ? { method } : {}) });
    this.field = field;
  }
}

/** True when `error` is a {@link B24ValidationError}. */
export function isB24ValidationError(error: unknown): error is B24ValidationError {
  return (
    error instanceof B24ValidationError || (error instanceof Error && error.name === 'B24ValidationError')
  );
}
