import type { Caller, Portal } from '../portal/portal.js';
import type { Params } from '../wire/body.js';

/** What a method handler gets besides its parameters. */
export interface MethodContext {
  portal: Portal;
  caller: Caller;
  /** Portal time when the call started, in milliseconds. */
  now: number;
  /** The request log entry of the HTTP request (a batch's sub-calls share it). */
  requestId: number;
  /** Ids of notifications created, for the request log. */
  created: number[];
  /** True inside `batch`. */
  inBatch: boolean;
}

/**
 * A result with list paging: Bitrix24 puts `total` and `next` beside `result` in the answer.
 */
export class Paged {
  constructor(
    readonly result: unknown,
    readonly total: number,
    readonly next?: number,
  ) {}
}

/** One REST method: the scope it needs and what it does. */
export interface MethodDef {
  /**
   * Scope the caller must hold, or a list of which any one suffices (user.get takes `user`,
   * `user_brief` or `user_basic`); null for methods any caller may use.
   */
  scope: string | readonly string[] | null;
  /** False for methods that `batch` refuses with ERROR_BATCH_METHOD_NOT_ALLOWED. */
  batch?: boolean;
  handler(params: Params, ctx: MethodContext): unknown;
}

/** Identity helper that keeps a method file's definition typed. */
export function defineMethod(def: MethodDef): MethodDef {
  return def;
}
