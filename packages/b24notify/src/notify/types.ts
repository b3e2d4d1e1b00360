import type { Attach } from '../attach/types.js';
import type { CallOptions } from '../client.js';
import type { Answer } from '../time.js';

/** The client's call function, as the notification methods use it. */
export type CallFn = <T>(
  method: string,
  params?: Record<string, unknown>,
  options?: CallOptions,
) => Promise<Answer<T>>;

/** Settings the notification methods share. */
export interface NotifySettings {
  /** Sent as CLIENT_ID when a call does not name one (webhooks need it for TAG and SUB_TAG). */
  clientId?: string;
  /** The portal's ATTACH size limit in characters. @default 60000 */
  attachMaxLength: number;
}

/** A notification to send (im.notify.personal.add / im.notify.system.add). */
export interface SendParams {
  /** The recipient's user id. */
  userId: number;
  /** The text; BB codes allowed. The portal trims it. */
  message: string;
  /** Text for external channels such as e-mail. */
  messageOut?: string;
  /**
   * Unique within the application: a new notification with this tag replaces the earlier ones.
   * It also makes the send safe to retry after a timeout or a dropped connection.
   */
  tag?: string;
  /** An extra tag with no uniqueness, e.g. for deleting a group of notifications. */
  subTag?: string;
  /** Blocks shown under the text: built with the ATTACH builders, or a JSON string. */
  attach?: Attach | string;
  /** Identifies the application when calling through a webhook (needed with tag/subTag). */
  clientId?: string;
}

/** Which notifications to delete: by id, or the application's by tag or sub-tag. */
export type DeleteParams =
  | { id: number; tag?: never; subTag?: never; clientId?: string }
  | { tag: string; id?: never; subTag?: never; clientId?: string }
  | { subTag: string; id?: never; tag?: never; clientId?: string };

/** im.notify.read: one notification, or every one from `id` on. */
export interface ReadParams {
  id: number;
  /** Mark read (true, Bitrix24's ACTION=Y) or unread (false, ACTION=N). @default true */
  read?: boolean;
  /** Only this notification (ONLY_CURRENT=Y); otherwise all with an id >= `id`. @default false */
  onlyCurrent?: boolean;
}

/** im.notify.read.list: the listed notifications. */
export interface ReadListParams {
  /** Ids; the portal stops at the first id <= 0. */
  ids: readonly number[];
  /** Mark read (ACTION=Y) or unread (N). @default true */
  read?: boolean;
}

/** im.notify.get paging. */
export interface GetParams {
  /** The id of the last notification of the previous page, with `lastType`. */
  lastId?: number;
  /** The stage of the previous page: 1 confirmations, 3 regular notifications. */
  lastType?: 1 | 3;
  /** Page size, at most 50. @default 50 */
  limit?: number;
  /** Convert BB codes to HTML in `text`. */
  convertText?: boolean;
}

/** im.notify.history.search filters. */
export interface HistorySearchParams {
  /** At least 3 characters unless another filter is given. */
  searchText?: string;
  /** `MODULE` or `MODULE|EVENT`, from im.notify.schema.get. */
  searchType?: string;
  searchTypes?: readonly string[];
  /** A day, ISO 8601. */
  searchDate?: string;
  /** A range, ISO 8601, given together. */
  searchDateFrom?: string;
  searchDateTo?: string;
  searchAuthors?: readonly number[];
  lastId?: number;
  /** At most 50. @default 50 */
  limit?: number;
  convertText?: boolean;
  groupTag?: string;
}

/** A notification as im.notify.get and im.notify.history.search list it. */
export interface NotificationItem {
  id: number;
  chat_id: number;
  author_id: number;
  /** RFC 3339. */
  date: string;
  notify_type: number;
  notify_module: string;
  notify_event: string;
  notify_tag: string;
  notify_sub_tag: string;
  notify_title: string;
  setting_name: string;
  text: string;
  notify_read: 'Y' | 'N';
  notify_buttons?: string;
  params: Record<string, unknown> | null;
}

/** An author of listed notifications. */
export interface NotificationUser {
  id: number;
  active: boolean;
  name: string;
  first_name: string;
  last_name: string;
  work_position: string;
  avatar: string;
  email?: string;
  [field: string]: unknown;
}

/** The result of im.notify.get. The counts are absent for a user with no notification chat. */
export interface GetResult {
  total_count?: number;
  total_unread_count?: number;
  chat_id?: number;
  notifications: NotificationItem[];
  users: NotificationUser[];
}

/** The result of im.notify.history.search; `total_results` only on the first page. */
export interface HistorySearchResult {
  chat_id?: number;
  total_results?: number;
  notifications: NotificationItem[];
  users: NotificationUser[];
}

/** The result of im.notify.answer and im.notify.confirm. */
export interface RespondResult {
  result_message: string[] | false;
}

/** The result of im.notify.read.all. */
export interface ReadAllResult {
  result: boolean;
  /** Unread notifications left. */
  newCounter: number;
}

/**
 * The notification types of one module, as im.notify.schema.get lists them. Keys are upper
 * case as the docs' field table has them (`api-reference/chats/notifications/im-notify-schema-get.md`,
 * both repositories); the page's older answer example and its JS snippet read lower case.
 */
export interface SchemaModule {
  /** The module's name. */
  NAME: string;
  /** The module's id, also the key of this entry. */
  MODULE_ID: string;
  /** The module's notification types: `ID` is `MODULE|EVENT`. */
  LIST: { ID: string; NAME: string }[];
}
