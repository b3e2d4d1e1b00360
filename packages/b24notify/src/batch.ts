import type { B24ApiError } from './errors/api-error.js';
import { errorCodeInfo } from './errors/codes.js';
import { errorFromAnswer } from './errors/from-answer.js';
import { B24NetworkError } from './errors/network-error.js';
import { B24ValidationError } from './errors/validation-error.js';
import { isIdempotent } from './idempotency.js';
import { toQuery } from './query.js';
import type { Answer, TimeBlock } from './time.js';

/** The most commands one batch may hold (spec §7). */
export const BATCH_LIMIT = 50;

/** One command: the method and its parameters in Bitrix24's names. */
export type BatchCommand = readonly [method: string, params?: Record<string, unknown>];

/** Commands by key (answers come back under the same keys), or a list (keys 0, 1, …). */
export type BatchCommands = Readonly<Record<string, BatchCommand>> | readonly BatchCommand[];

/** A batch's answer, split by key. The batch itself succeeds even when commands fail. */
export interface BatchResult {
  /** Results of the commands that succeeded. */
  result: Record<string, unknown>;
  /** Errors of the commands that failed, as the error classes a single call would throw. */
  errors: Record<string, B24ApiError>;
  total: Record<string, number>;
  next: Record<string, number>;
  /** Time blocks of the commands that succeeded. */
  time: Record<string, TimeBlock>;
  /** The time block of the batch request itself. */
  batchTime?: TimeBlock;
}

/** Build the `batch` parameters; refuses what the portal would, before sending. */
export function buildBatch(
  commands: BatchCommands,
  halt: boolean,
): { params: Record<string, unknown>; idempotent: boolean } {
  if (commands === null || typeof commands !== 'object') {
    throw new B24ValidationError(
      'commands',
      'expected a map or a list of [method, params] commands',
      'batch',
    );
  }
  const entries: [string, BatchCommand][] = Array.isArray(commands)
    ? (commands as readonly BatchCommand[]).map((c, i) => [String(i), c])
    : Object.entries(commands as Record<string, BatchCommand>);
  if (entries.length === 0)
    throw new B24ValidationError('commands', 'expected at least one command', 'batch');
  if (entries.length > BATCH_LIMIT) {
    throw new B24ValidationError(
      'commands',
      `${entries.length} commands: a batch holds at most ${BATCH_LIMIT}; split them into several batches`,
      'batch',
    );
  }
  const cmd: Record<string, string> = {};
  let idempotent = true;
  for (const [key, command] of entries) {
    const [method, params = {}] = Array.isArray(command) ? command : [];
    if (typeof method !== 'string' || !/^[a-z0-9_.]+$/i.test(method)) {
      throw new B24ValidationError(
        `commands.${key}`,
        'expected [method, params] with a method name like "im.notify.personal.add"',
        'batch',
      );
    }
    if (method.toLowerCase() === 'batch') {
      throw new B24ValidationError(`commands.${key}`, 'a batch cannot contain another batch', 'batch');
    }
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new B24ValidationError(`commands.${key}`, 'expected the parameters as an object', 'batch');
    }
    let query: string;
    try {
      query = toQuery(params);
    } catch (err) {
      // Too deep to encode: bad input, reported like any other before anything is sent.
      if (!(err instanceof RangeError)) throw err;
      throw new B24ValidationError(`commands.${key}`, err.message, 'batch');
    }
    cmd[key] = query ? `${method}?${query}` : method;
    idempotent &&= isIdempotent(method, params);
  }
  return { params: { halt: halt ? 1 : 0, cmd }, idempotent };
}

/**
 * One of the answer's maps. PHP's `json_encode` writes a map keyed exactly 0, 1, … as a JSON
 * list: an empty map as `[]`, and the results of a list-form batch (or its errors, when the
 * first commands failed) as an array whose positions are the keys.
 */
function record(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((v: unknown, i) => [String(i), v]));
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/**
 * The method of each command in a batch's `cmd` (a map or a list of `method?query` strings),
 * lower-cased as the portal resolves it: what each sub-call is charged to (spec §4). Read from
 * `cmd` itself, so a batch sent with `client.call('batch', …)` is paced like one built here.
 * Undefined when `cmd` is neither a map nor a list.
 */
export function batchMethods(cmd: unknown): Map<string, string> | undefined {
  if (cmd === null || typeof cmd !== 'object') return undefined;
  const methods = new Map<string, string>();
  for (const [key, command] of Object.entries(record(cmd))) {
    if (typeof command !== 'string') continue;
    const q = command.indexOf('?');
    methods.set(key, (q < 0 ? command : command.slice(0, q)).trim().toLowerCase());
  }
  return methods;
}

/** What a batch's answer says about the cost of its commands, for pacing. */
export interface SubCallOutcomes {
  /**
   * Commands the portal ran, as `[method, time]`: the time block when the answer has one, else
   * undefined (a command that failed, or an answer without its result maps).
   */
  ran: [method: string, time: TimeBlock | undefined][];
  /** The methods of commands the portal refused with OPERATION_TIME_LIMIT: their budget is spent. */
  refused: string[];
}

/**
 * Sort a batch's commands by what the answer says of them: ran (with or without a time block),
 * refused for operating time, or never run (after a `halt`: in none of the maps). Lenient: a
 * malformed answer is {@link parseBatch}'s to report; here it only means that every command
 * may have run.
 */
export function subCallOutcomes(
  answer: Answer<unknown>,
  methods: ReadonlyMap<string, string>,
): SubCallOutcomes {
  const out: SubCallOutcomes = { ran: [], refused: [] };
  const body = record(answer.result);
  if (!('result' in body)) {
    for (const method of methods.values()) out.ran.push([method, undefined]);
    return out;
  }
  const results = record(body.result);
  const times = record(body.result_time);
  const errors = record(body.result_error);
  for (const [key, method] of methods) {
    const time = Object.hasOwn(times, key) ? times[key] : undefined;
    if (time !== null && typeof time === 'object') out.ran.push([method, time as TimeBlock]);
    else if (Object.hasOwn(results, key)) out.ran.push([method, undefined]);
    else if (Object.hasOwn(errors, key)) {
      // Refused before it ran: the portal checks the sum before each call (spec §4).
      if (record(errors[key]).error === 'OPERATION_TIME_LIMIT') out.refused.push(method);
      else out.ran.push([method, undefined]);
    }
  }
  return out;
}

/** Split a batch answer by key, turning each command's error into its error class. */
export function parseBatch(
  answer: Answer<unknown>,
  host: string,
  /** The client's secrets, masked in the commands' error descriptions. */
  secrets: readonly string[] = [],
): BatchResult {
  const body = record(answer.result);
  if (!('result' in body)) {
    throw new B24NetworkError('The portal answered batch without result maps', {
      method: 'batch',
      host,
      delivery: 'unknown',
    });
  }
  const errors: Record<string, B24ApiError> = {};
  for (const [key, value] of Object.entries(record(body.result_error))) {
    const e = record(value);
    const code = typeof e.error === 'string' ? e.error : '';
    errors[key] = errorFromAnswer(
      errorCodeInfo(code)?.status[0] ?? 400,
      code,
      typeof e.error_description === 'string' ? e.error_description : '',
      {
        method: `batch[${key}]`,
        host,
        secrets,
      },
    );
  }
  const out: BatchResult = {
    result: record(body.result),
    errors,
    total: record(body.result_total) as Record<string, number>,
    next: record(body.result_next) as Record<string, number>,
    time: record(body.result_time) as Record<string, TimeBlock>,
  };
  if (answer.time) out.batchTime = answer.time;
  return out;
}
