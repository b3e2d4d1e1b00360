import { RestError } from './errors.js';
import { flag } from './methods/params.js';
import type { Caller, Portal } from './portal/portal.js';
import { executeCall, type CallOutcome } from './rest.js';
import { parseQuery, type Params } from './wire/body.js';
import { timeBlock, type PlainTimeBlock, type TimeBlock } from './wire/time.js';

/** Commands one batch may hold (spec §7). */
export const BATCH_LIMIT = 50;

const REFERENCE = /\$result\[([^\]]*)\]((?:\[[^\]]*\])*)/g;

/** Follow `$result[key][FIELD][0]...` into earlier answers; undefined when it leads nowhere. */
function lookup(results: Map<string, unknown>, key: string, path: string): unknown {
  let value: unknown = results.get(key);
  for (const m of path.matchAll(/\[([^\]]*)\]/g)) {
    // Own members only: `[constructor]` or `[toString]` must not reach into the prototype.
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, m[1] as string))
      return undefined;
    value = (value as Record<string, unknown>)[m[1] as string];
  }
  return value;
}

/**
 * Put earlier answers into a command's parameters. A value that is one whole reference takes
 * the referenced value as it is (a list stays a list, as the portal's expansion into
 * `name[0]=…` gives); a reference inside text is replaced by its text.
 */
function substitute(value: unknown, results: Map<string, unknown>, depth = 0): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$result[')) return value;
    const whole = /^\$result\[([^\]]*)\]((?:\[[^\]]*\])*)$/.exec(value);
    if (whole) return lookup(results, whole[1] as string, whole[2] as string) ?? '';
    return value.replace(REFERENCE, (_m, key: string, path: string) => {
      const v = lookup(results, key, path);
      return v === undefined || v === null || typeof v === 'object' ? '' : String(v);
    });
  }
  if (depth > 64 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => substitute(v, results, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, results, depth + 1)]));
}

/** `cmd` as ordered [key, command] pairs; a list gets keys 0, 1, …. */
function commands(cmd: unknown): [string, string][] {
  if (cmd === null || typeof cmd !== 'object') return [];
  return Object.entries(cmd).map(([k, v]) => [k, typeof v === 'string' ? v : String(v ?? '')]);
}

/**
 * A map as the portal's PHP `json_encode` writes it: keyed exactly 0, 1, … n-1 (a `cmd` sent as
 * a list, with no command failed or skipped) it is a JSON list, and so is an empty one (`[]`);
 * any other keys make an object.
 */
function phpMap<T>(map: Record<string, T>): Record<string, T> | T[] {
  const keys = Object.keys(map);
  return keys.every((key, i) => key === String(i)) ? keys.map((key) => map[key] as T) : map;
}

/** A time block as batch shows it: without the operating fields. */
function plainTime(t: TimeBlock | PlainTimeBlock): PlainTimeBlock {
  return {
    start: t.start,
    finish: t.finish,
    duration: t.duration,
    processing: t.processing,
    date_start: t.date_start,
    date_finish: t.date_finish,
  };
}

/**
 * Run a batch: each command as its own call, in order, with `$result[...]` references
 * resolved, collecting answers and errors by key. The batch answers 200 whatever its
 * commands do; only a malformed batch as a whole is an error.
 */
export function runBatch(
  portal: Portal,
  caller: Caller,
  params: Params,
  requestId: number,
  created: number[],
): CallOutcome {
  const startMs = portal.clock.now();
  const list = commands(params.cmd);
  if (list.length > BATCH_LIMIT && portal.config.batchOverflow === 'reject') {
    throw portal.error('ERROR_BATCH_LENGTH_EXCEEDED');
  }
  const halt = flag(params.halt, false);
  const results = new Map<string, unknown>();
  const result: Record<string, unknown> = {};
  const errors: Record<string, { error: string; error_description: string }> = {};
  const totals: Record<string, number> = {};
  const nexts: Record<string, number> = {};
  const times: Record<string, PlainTimeBlock> = {};
  let processing = 0;

  for (const [index, [key, command]] of list.entries()) {
    try {
      if (index >= BATCH_LIMIT) throw portal.error('ERROR_BATCH_LENGTH_EXCEEDED');
      const q = command.indexOf('?');
      const method = (q < 0 ? command : command.slice(0, q)).trim().toLowerCase();
      if (method === 'batch') throw portal.error('ERROR_BATCH_METHOD_NOT_ALLOWED');
      const raw = q < 0 ? {} : parseQuery(command.slice(q + 1));
      const subParams = substitute(raw, results) as Params;
      const outcome = executeCall(portal, caller, method, subParams, { requestId, created, inBatch: true });
      results.set(key, outcome.result);
      result[key] = outcome.result;
      if (outcome.total !== undefined) totals[key] = outcome.total;
      if (outcome.next !== undefined) nexts[key] = outcome.next;
      times[key] = plainTime(outcome.time);
      processing += outcome.time.processing;
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      errors[key] = { error: err.code, error_description: err.description };
      if (halt) break;
    }
  }
  const time = timeBlock({
    startMs,
    endMs: portal.clock.now(),
    processing,
    tz: portal.config.timezone,
    operating: 0,
    operatingResetAt: 0,
  });
  return {
    result: {
      result: phpMap(result),
      result_error: phpMap(errors),
      result_total: phpMap(totals),
      result_next: phpMap(nexts),
      result_time: phpMap(times),
    },
    time: plainTime(time),
  };
}
