/**
 * Checks that turn hostile values into ones the page may use. Everything the inbox shows
 * comes from requests anyone on the machine could send, so no field is trusted to be a string,
 * a link, a colour or a number until it passes here. Pure: no DOM, unit-tested in Node.
 */

/** A text field as the page shows it: strings as they are, finite numbers as decimals, nothing else. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

// Browsers drop tabs and newlines inside a URL, which is how `java\tscript:` slips past naive
// checks; the portal refuses control characters in links too.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const UNSAFE_LINK_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A link the page may put in `href` or `src`: an absolute `http(s)://` URL, or a path from the
 * portal root (`/crm/deal/7/`, which the spec allows) resolved against `base`, the page's own
 * origin, since the emulator is the portal. Anything else (`javascript:`, `data:`, `//host`,
 * `/\host`, text with control characters) is null, and the caller shows it as text.
 */
export function safeHref(value: unknown, base: string): string | null {
  if (typeof value !== 'string' || value === '' || UNSAFE_LINK_CHARS.test(value)) return null;
  let url: URL;
  if (value.startsWith('/')) {
    // Browsers read "//host" and "/\host" as another host, not a path on this one.
    if (value.startsWith('//') || value.startsWith('/\\')) return null;
    if (!URL.canParse(value, base)) return null;
    url = new URL(value, base);
  } else {
    if (!/^https?:\/\//i.test(value) || !URL.canParse(value)) return null;
    url = new URL(value);
  }
  // Checked again after parsing: the protocol is what the browser will act on.
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/**
 * A colour the page may assign to a style property: `#rgb` or `#rrggbb` only, as the spec
 * documents. A value such as `red;background:url(javascript:…)` is null.
 */
export function safeColor(value: unknown): string | null {
  return typeof value === 'string' && HEX_COLOR.test(value) ? value : null;
}

/**
 * A pixel size from a WIDTH, HEIGHT or SIZE field: a non-negative integer (or a string of
 * digits, as form bodies send it) clamped to `max`, so no attachment can stretch the page.
 */
export function safePixels(value: unknown, max = 1200): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\d{1,9}$/.test(value)) n = Number(value);
  else return null;
  if (!Number.isSafeInteger(n) || n <= 0) return null;
  return Math.min(n, max);
}

/** An id (USER_ID, CHAT_ID, …): a positive integer or a string of digits, as digits; else null. */
export function safeId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^[1-9]\d{0,14}$/.test(value)) return value;
  return null;
}

/** One of `allowed` (compared exactly), else null: enum values become CSS class names. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | null {
  return allowed.find((candidate) => candidate === value) ?? null;
}

/** The value as a plain object, or null: blocks and items that are not objects are skipped. */
export function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** An own property only: a key such as `__proto__` or `constructor` must not reach the prototype. */
export function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * A list as stored (an array) or as a single object (IMAGE and FILE accept one), capped at
 * `max` entries so a crafted attachment cannot make the page build millions of nodes.
 */
export function list(value: unknown, max = 200): unknown[] {
  if (Array.isArray(value)) return value.slice(0, max);
  return record(value) ? [value] : [];
}
