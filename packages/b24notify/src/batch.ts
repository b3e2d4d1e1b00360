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

/** Split a batch answer by key, turning each command's error into its error class. */
export function parseBatch(answer: Answer<unknown>, host: string): BatchResult {
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
