import { validateAttach } from '../attach/validate.js';
import type { CallOptions } from '../client.js';
import { B24ValidationError } from '../errors/validation-error.js';
import type { Answer } from '../time.js';
import { defined, nonEmpty, optional, positiveId, yn } from './checks.js';
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

function sendParams(method: string, p: SendParams, settings: NotifySettings): Record<string, unknown> {
  if (p === null || typeof p !== 'object')
    throw new B24ValidationError('params', 'expected { userId, message, ... }', method);
  const attach =
    p.attach === undefined || p.attach === null || p.attach === ''
      ? undefined
      : validateAttach(p.attach, { maxLength: settings.attachMaxLength, field: 'attach' });
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

/** Build the notification methods over a client's call function. */
export function createNotify(call: CallFn, settings: NotifySettings): Notify {
  return {
    personal: (p, o) => call('im.notify.personal.add', sendParams('im.notify.personal.add', p, settings), o),
    system: (p, o) => call('im.notify.system.add', sendParams('im.notify.system.add', p, settings), o),
    delete(p, o) {
      const method = 'im.notify.delete';
      const given = [p?.id, p?.tag, p?.subTag].filter((v) => v !== undefined && v !== '');
      if (given.length !== 1)
        throw new B24ValidationError('params', 'pass exactly one of id, tag or subTag', method);
      const params =
        p.id !== undefined
          ? { ID: positiveId(p.id, 'id', method) }
          : p.tag !== undefined
            ? { TAG: nonEmpty(p.tag, 'tag', method) }
            : { SUB_TAG: nonEmpty(p.subTag, 'subTag', method) };
      return call(
        method,
        defined({ ...params, CLIENT_ID: optional(p.clientId, 'clientId', method) ?? settings.clientId }),
        o,
      );
    },
    read(p, o) {
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
    readList(p, o) {
      const method = 'im.notify.read.list';
      if (!Array.isArray(p?.ids) || p.ids.length === 0) {
        throw new B24ValidationError('ids', 'expected a non-empty list of notification ids', method);
      }
      const ids = p.ids.map((id, i) => positiveId(id, `ids[${i}]`, method));
      return call(method, { IDS: ids, ACTION: yn(p.read ?? true) }, o);
    },
    readAll: (o) => call('im.notify.read.all', {}, o),
    get(p = {}, o) {
      const method = 'im.notify.get';
      if ((p.lastId === undefined) !== (p.lastType === undefined)) {
        throw new B24ValidationError(
          'lastId',
          'pass lastId and lastType together (lastType 3 for regular notifications)',
          method,
        );
      }
      if (p.limit !== undefined && (!Number.isInteger(p.limit) || p.limit < 1 || p.limit > 50)) {
        throw new B24ValidationError('limit', `expected 1 to 50, got ${JSON.stringify(p.limit)}`, method);
      }
      return call(
        method,
        defined({
          LAST_ID: p.lastId === undefined ? undefined : positiveId(p.lastId, 'lastId', method),
          LAST_TYPE: p.lastType,
          LIMIT: p.limit,
          CONVERT_TEXT: p.convertText === undefined ? undefined : yn(p.convertText),
        }),
        o,
      );
    },
    historySearch(p, o) {
      const method = 'im.notify.history.search';
      const filtered =
        p.searchType ||
        p.searchTypes?.length ||
        p.searchDate ||
        p.searchAuthors?.length ||
        (p.searchDateFrom && p.searchDateTo);
      if (!filtered && (p.searchText ?? '').trim().length < 3) {
        throw new B24ValidationError(
          'searchText',
          'search for at least 3 characters, or filter by type, author or date',
          method,
        );
      }
      if (p.limit !== undefined && (!Number.isInteger(p.limit) || p.limit < 1 || p.limit > 50)) {
        throw new B24ValidationError('limit', `expected 1 to 50, got ${JSON.stringify(p.limit)}`, method);
      }
      return call(
        method,
        defined({
          SEARCH_TEXT: p.searchText,
          SEARCH_TYPE: p.searchType,
          SEARCH_TYPES: p.searchTypes,
          SEARCH_DATE: p.searchDate,
          SEARCH_DATE_FROM: p.searchDateFrom,
          SEARCH_DATE_TO: p.searchDateTo,
          SEARCH_AUTHORS: p.searchAuthors,
          LAST_ID: p.lastId === undefined ? undefined : positiveId(p.lastId, 'lastId', method),
          LIMIT: p.limit,
          CONVERT_TEXT: p.convertText === undefined ? undefined : yn(p.convertText),
          GROUP_TAG: p.groupTag,
        }),
        o,
      );
    },
    answer(p, o) {
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
    confirm(p, o) {
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
    schema: (o) => call('im.notify.schema.get', {}, o),
  };
}
