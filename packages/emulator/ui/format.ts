/** Small pure formatters for what the page shows. No DOM, unit-tested in Node. */

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2025-03-14 09:26:53` in the browser's time zone, from milliseconds since the epoch. */
export function formatDateTime(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** `48.2 KB` from bytes, as a file block shows a size. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `+1 h 30 min` from a clock offset in milliseconds. */
export function formatOffset(ms: number): string {
  if (!Number.isFinite(ms) || ms === 0) return 'none';
  const sign = ms < 0 ? '−' : '+';
  let rest = Math.abs(Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [size, unit] of [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return `${sign}${parts.join(' ') || `${Math.abs(ms)} ms`}`;
}

/** Up to two initials for an avatar: `Anna Admin` → `AA`. */
export function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => Array.from(word)[0] ?? '')
    .filter((letter) => /\p{L}|\p{N}/u.test(letter));
  return letters.slice(0, 2).join('').toUpperCase() || '?';
}

/** `PDF` from `report.pdf` or a link's last path segment; `FILE` when there is no extension. */
export function fileExtension(name: string): string {
  const m = /\.([a-z0-9]{1,5})$/i.exec(name.split(/[?#]/)[0] ?? '');
  return m ? (m[1] as string).toUpperCase() : 'FILE';
}

/**
 * A duration such as `90s`, `5m`, `2h`, `1d` or plain milliseconds, for the clock control.
 * @returns milliseconds, or undefined when the text is not one of those forms
 */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const scale: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    min: 60_000,
    h: 3_600_000,
    d: 86_400_000,
  };
  const ms = Math.round(n * (scale[unit] ?? 1));
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A typed number for a settings field: empty is undefined (leave the setting as it is), a
 * decimal comma reads as a point. Range is not checked here: a zero or a negative number goes
 * to the API, whose message names the field and what it takes.
 * @returns the number, undefined for an empty field, or null when the text is not a number
 */
export function parseNumber(input: string): number | undefined | null {
  const s = input.trim().replace(/^([+-]?\d*),(\d+)$/, '$1.$2');
  if (s === '') return undefined;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
