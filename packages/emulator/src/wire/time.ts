/** The `time` block of every REST answer (spec §1). */
export interface TimeBlock {
  start: number;
  finish: number;
  duration: number;
  processing: number;
  date_start: string;
  date_finish: string;
  operating_reset_at: number;
  operating: number;
}

/** A time block without the operating fields, as `batch` answers show it. */
export type PlainTimeBlock = Omit<TimeBlock, 'operating' | 'operating_reset_at'>;

/** Parse a `+03:00` / `-05:30` offset into minutes; anything else is UTC. */
export function offsetMinutes(tz: string): number {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/** ISO 8601 with the portal's offset and no fraction, as Bitrix24 writes dates: `2026-05-14T10:26:32+02:00`. */
export function formatDate(ms: number, tz: string): string {
  // Every answer formats the same second twice or more: remember the last one.
  const second = Math.floor(ms / 1000);
  if (second === lastSecond && tz === lastTz) return lastText;
  lastText = format(second, tz);
  lastSecond = second;
  lastTz = tz;
  return lastText;
}

let lastSecond = Number.NaN;
let lastTz = '';
let lastText = '';

function format(second: number, tz: string): string {
  const ms = second * 1000;
  const minutes = offsetMinutes(tz);
  const local = new Date(Math.floor(ms / 1000) * 1000 + minutes * 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local.toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
}

/**
 * Build a time block. `processing` is the modelled execution time the operating budget is
 * charged; the finish is never earlier than start + processing, so the block stays coherent.
 */
export function timeBlock(opts: {
  startMs: number;
  endMs: number;
  processing: number;
  tz: string;
  operating: number;
  operatingResetAt: number;
}): TimeBlock {
  const start = opts.startMs / 1000;
  const finish = Math.max(opts.endMs / 1000, start + opts.processing);
  return {
    start,
    finish,
    duration: finish - start,
    processing: opts.processing,
    date_start: formatDate(opts.startMs, opts.tz),
    date_finish: formatDate(finish * 1000, opts.tz),
    operating_reset_at: opts.operatingResetAt,
    operating: opts.operating,
  };
}
