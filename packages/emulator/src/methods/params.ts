/**
 * Reading parameters the way the portal's PHP does: form bodies bring every scalar as a
 * string, JSON bodies bring numbers and booleans, and both must mean the same.
 */

/** An integer parameter, or undefined when absent or not a whole number. */
export function int(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Math.trunc(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/** PHP's `(int)` cast: leading digits count, anything else is 0. */
export function intval(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const n = Number.parseInt(value.trim(), 10);
    return Number.isNaN(n) ? 0 : n;
  }
  return 0;
}

/** A string parameter; numbers become their decimal text, anything else is absent. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** A Y/N flag, also accepting booleans and 1/0. */
export function flag(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const s = String(value).trim().toUpperCase();
  if (s === 'Y' || s === '1' || s === 'TRUE') return true;
  if (s === 'N' || s === '0' || s === 'FALSE') return false;
  return fallback;
}

/** A list parameter: arrays as they are, PHP-form objects (`{0: .., 1: ..}`) as their values. */
export function list(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === 'object') return Object.values(value);
  return undefined;
}
