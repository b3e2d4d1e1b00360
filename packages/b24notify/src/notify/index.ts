import type { Attach } from '../attach/types.js';
import { validateAttach } from '../attach/validate.js';
import type { CallOptions } from '../client.js';
import { B24ValidationError } from '../errors/validation-error.js';
import type { Answer } from '../time.js';
import { defined, limit, nonEmpty, optional, positiveId, yn } from './checks.js';
import type {
  CallFn,
  DeleteParams,
  GetParams,
  GetResult,
  HistorySearchParams,
  HistorySearchResult,
  NotifySettings,
  ReadAllResult,
  ReadListParams,
  ReadParams,
  RespondResult,
  SchemaModule,
  SendParams,
} from './types.js';

/** The `im.notify.*` methods, in camelCase, with Bitrix24's names on the wire. */
export interface Notify {
  /** Send a notification from the calling user (im.notify.personal.add). Result: its id, or false. */
  personal(params: SendParams, options?: CallOptions): Promise<Answer<number | false>>;
  /** Send a notification with no author (im.notify.system.add). Result: its id, or false. */
  system(params: SendParams, options?: CallOptions): Promise<Answer<number | false>>;
  /** Delete by id, or the application's notifications by tag or sub-tag (im.notify.delete). */
  delete(params: DeleteParams, options?: CallOptions): Promise<Answer<boolean>>;
  /** Mark one notification, or all from an id on, read or unread (im.notify.read). */
  read(params: ReadParams, options?: CallOptions): Promise<Answer<boolean>>;
  /** Mark the listed notifications read or unread (im.notify.read.list). */
  readList(params: ReadListParams, options?: CallOptions): Promise<Answer<boolean>>;
  /** Mark all the calling user's notifications read (im.notify.read.all). */
  readAll(options?: CallOptions): Promise<Answer<ReadAllResult>>;
  /** The calling user's notifications, newest first, a page at a time (im.notify.get). */
  get(params?: GetParams, options?: CallOptions): Promise<Answer<GetResult>>;
  /** Search the calling user's notification history (im.notify.history.search). */
  historySearch(params: HistorySearchParams, options?: CallOptions): Promise<Answer<HistorySearchResult>>;
  /** Quick-reply to a notification (im.notify.answer). */
  answer(
    params: { notifyId: number; answerText: string },
    options?: CallOptions,
  ): Promise<Answer<RespondResult>>;
  /** Press a button of a confirm notification (im.notify.confirm). */
  confirm(
    params: { notifyId: number; notifyValue: string },
    options?: CallOptions,
  ): Promise<Answer<RespondResult>>;
  /** The notification types a user can configure, by module (im.notify.schema.get). */
  schema(options?: CallOptions): Promise<Answer<Record<string, SchemaModule>>>;
}

/** The attachment, checked; its errors name the method, like every other bad parameter. */
function checkedAttach(value: unknown, settings: NotifySettings, method: string): Attach {
  try {
    return validateAttach(value, { maxLength: settings.attachMaxLength, field: 'attach' });
  } catch (err) {
    if (!(err instanceof B24ValidationError) || err.method !== undefined) throw err;
    throw new B24ValidationError(err.field, err.message.slice(err.field.length + 2), method);
  }
}

/** A send's wire parameters, checked: what notify.personal and notify.system send. */
export function sendParams(method: string, p: SendParams, settings: NotifySettings): Record<string, unknown> {
  if (p === null || typeof p !== 'object')
    throw new B24ValidationError('params', 'expected { userId, message, ... }', method);
  const attach =
    p.attach === undefined || p.attach === null || p.attach === ''
      ? undefined
      : checkedAttach(p.attach, settings, method);
  return defined({
    USER_ID: positiveId(p.userId, 'userId', method),
    MESSAGE: nonEmpty(p.message, 'message', method),
    MESSAGE_OUT: optional(p.messageOut, 'messageOut', method),
    TAG: optional(p.tag, 'tag', method),
    SUB_TAG: optional(p.subTag, 'subTag', method),
    ATTACH: attach,
    CLIENT_ID: optional(p.clientId, 'clientId', method) ?? settings.clientId,
  });
}

/**
 * Build the notification methods over a client's call function. Every method is async, so bad
 * input arrives as a rejected promise like any other failure, never as a synchronous throw that
 * a caller's `.catch()` would miss.
 */
export function createNotify(call: CallFn, settings: NotifySettings): Notify {
  return {
    personal: async (p, o) =>
      call('im.notify.personal.add', sendParams('im.notify.personal.add', p, settings), o),
    system: async (p, o) => call('im.notify.system.add', sendParams('im.notify.system.add', p, settings), o),
    async delete(p, o) {
      const method = 'im.notify.delete';
      // One test for "given", used both to count and to pick, so that `{ tag: '', subTag: 'x' }`
      // deletes by sub-tag instead of failing on the empty tag.
      const given = (v: unknown): boolean => v !== undefined && v !== '';
      const named = [given(p?.id), given(p?.tag), given(p?.subTag)].filter(Boolean).length;
      if (named !== 1)
        throw new B24ValidationError('params', 'pass exactly one of id, tag or subTag', method);
      const params = given(p.id)
        ? { ID: positiveId(p.id, 'id', method) }
        : given(p.tag)
          ? { TAG: nonEmpty(p.tag, 'tag', method) }
          : { SUB_TAG: nonEmpty(p.subTag, 'subTag', method) };
      return call(
        method,
        defined({ ...params, CLIENT_ID: optional(p.clientId, 'clientId', method) ?? settings.clientId }),
        o,
      );
    },
    async read(p, o) {
      const method = 'im.notify.read';
      if (typeof p?.id !== 'number' || !Number.isInteger(p.id) || p.id < 0) {
        throw new B24ValidationError('id', `expected an integer >= 0, got ${JSON.stringify(p?.id)}`, method);
      }
      return call(
        method,
        { ID: p.id, ACTION: yn(p.read ?? true), ONLY_CURRENT: yn(p.onlyCurrent ?? false) },
        o,
      );
    },
    async readList(p, o) {
      const method = 'im.notify.read.list';
      if (!Array.isArray(p?.ids) || p.ids.length === 0) {
        throw new B24ValidationError('ids', 'expected a non-empty list of notification ids', method);
      }
      const ids = p.ids.map((id, i) => positiveId(id, `ids[${i}]`, method));
      return call(method, { IDS: ids, ACTION: yn(p.read ?? true) }, o);
    },
    readAll: async (o) => call('im.notify.read.all', {}, o),
    async get(p = {}, o) {
      const method = 'im.notify.get';
      // Name the missing half of the pair: that is the field to fix.
      if (p.lastId !== undefined && p.lastType === undefined) {
        throw new B24ValidationError(
          'lastType',
          'pass lastType with lastId: 3 for regular notifications, 1 for confirmations',
          method,
        );
      }
      if (p.lastType !== undefined && p.lastId === undefined) {
        throw new B24ValidationError(
          'lastId',
          'pass lastId with lastType: the id ending the last page',
          method,
        );
      }
      // The portal answers other values without an error but pages wrongly (spec §5).
      if (p.lastType !== undefined && p.lastType !== 1 && p.lastType !== 3) {
        throw new B24ValidationError(
          'lastType',
          `expected 1 (confirmations) or 3 (regular notifications), got ${JSON.stringify(p.lastType)}`,
          method,
        );
      }
      return call(
        method,
        defined({
          LAST_ID: p.lastId === undefined ? undefined : positiveId(p.lastId, 'lastId', method),
          LAST_TYPE: p.lastType,
          LIMIT: limit(p.limit, method),
          CONVERT_TEXT: p.convertText === undefined ? undefined : yn(p.convertText),
        }),
        o,
      );
    },
    async historySearch(p, o) {
      const method = 'im.notify.history.search';
      if (p === null || typeof p !== 'object') {
        throw new B24ValidationError('params', 'expected { searchText, ... }', method);
      }
      const text = optional(p.searchText, 'searchText', method);
      const from = optional(p.searchDateFrom, 'searchDateFrom', method);
      const to = optional(p.searchDateTo, 'searchDateTo', method);
      // The portal ignores half a range silently, which would widen the search.
      if ((from === undefined) !== (to === undefined)) {
        const missing = from === undefined ? 'searchDateFrom' : 'searchDateTo';
        throw new B24ValidationError(missing, 'pass searchDateFrom and searchDateTo together', method);
      }
      const type = optional(p.searchType, 'searchType', method);
      const date = optional(p.searchDate, 'searchDate', method);
      const authors = p.searchAuthors?.map((id, i) => positiveId(id, `searchAuthors[${i}]`, method));
      // The portal's own rule: the text needs 3 characters only when nothing else narrows it.
      const filtered = type || p.searchTypes?.length || date || authors?.length || from;
      if (!filtered && (text ?? '').trim().length < 3) {
        throw new B24ValidationError(
          'searchText',
          'search for at least 3 characters, or filter by type, author or date',
          method,
        );
      }
      return call(
        method,
        defined({
          SEARCH_TEXT: text,
          SEARCH_TYPE: type,
          SEARCH_TYPES: p.searchTypes,
          SEARCH_DATE: date,
          SEARCH_DATE_FROM: from,
          SEARCH_DATE_TO: to,
          SEARCH_AUTHORS: authors,
          LAST_ID: p.lastId === undefined ? undefined : positiveId(p.lastId, 'lastId', method),
          LIMIT: limit(p.limit, method),
          CONVERT_TEXT: p.convertText === undefined ? undefined : yn(p.convertText),
          GROUP_TAG: optional(p.groupTag, 'groupTag', method),
        }),
        o,
      );
    },
    async answer(p, o) {
      const method = 'im.notify.answer';
      return call(
        method,
        {
          NOTIFY_ID: positiveId(p?.notifyId, 'notifyId', method),
          ANSWER_TEXT: nonEmpty(p?.answerText, 'answerText', method),
        },
        o,
      );
    },
    async confirm(p, o) {
      const method = 'im.notify.confirm';
      return call(
        method,
        {
          NOTIFY_ID: positiveId(p?.notifyId, 'notifyId', method),
          NOTIFY_VALUE: nonEmpty(p?.notifyValue, 'notifyValue', method),
        },
        o,
      );
    },
    schema: async (o) => call('im.notify.schema.get', {}, o),
  };
}
