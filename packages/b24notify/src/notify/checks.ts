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
