import { B24ValidationError } from '../errors/validation-error.js';

/** A positive integer id, or a validation error naming the field. */
export function positiveId(value: unknown, field: string, method: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new B24ValidationError(field, `expected a positive integer, got ${JSON.stringify(value)}`, method);
  }
  return value;
}

/** A string that is not empty once trimmed (the portal trims), or a validation error. */
export function nonEmpty(value: unknown, field: string, method: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new B24ValidationError(field, 'expected a non-empty string', method);
  }
  return value;
}

/** An optional string: undefined when absent or empty (OPI leaves empty optionals out). */
export function optional(value: unknown, field: string, method: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new B24ValidationError(field, `expected a string, got ${typeof value}`, method);
  return value;
}

/** Y/N as Bitrix24 writes flags. */
export function yn(value: boolean): 'Y' | 'N' {
  return value ? 'Y' : 'N';
}

/** Drop undefined fields, so absent options are absent on the wire too. */
export function defined(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}

/** The page size of im.notify.get and im.notify.history.search: the portal caps it at 50. */
export function limit(value: unknown, method: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 50) {
    // The portal would clamp it silently; a caller asking for 100 expects 100.
    throw new B24ValidationError('limit', `expected 1 to 50, got ${JSON.stringify(value)}`, method);
  }
  return value;
}
