import { RestError } from '../errors.js';
import type { StoredNotification } from '../portal/records.js';
import { offsetMinutes } from '../wire/time.js';
import { int, list, str } from './params.js';
import { authorViews, notificationView, notifyChatId } from './notify-view.js';
import { defineMethod } from './types.js';

const MAX_LIMIT = 50;

/** Every notification the portal sends through REST has module `rest` and event `rest_notify`. */
function matchesType(type: string): boolean {
  const [module, event] = type.split('|');
  return module === 'rest' && (event === undefined || event === 'rest_notify');
}

const DAY_MS = 86_400_000;

/**
 * A date parameter in milliseconds. A bare `YYYY-MM-DD` is midnight in the portal's time zone,
 * not UTC as `Date.parse` would read it: the portal's PHP reads dates in its own zone.
 */
function parseDate(text: string, offsetMs: number): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) - offsetMs : Date.parse(text);
}

/** The calendar day, in the portal's time zone, that holds the given moment. */
function dayBounds(text: string, offsetMs: number): [number, number] | undefined {
  const t = parseDate(text, offsetMs);
  if (Number.isNaN(t)) return undefined;
  const start = Math.floor((t + offsetMs) / DAY_MS) * DAY_MS - offsetMs;
  return [start, start + DAY_MS];
}

/** Searches the caller's notification history by text, type, author and date. */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const { portal, caller } = ctx;
    const text = (str(params.SEARCH_TEXT) ?? '').trim();
    const type = str(params.SEARCH_TYPE)?.trim();
    const types = list(params.SEARCH_TYPES)?.map(String);
    const date = str(params.SEARCH_DATE)?.trim();
    const authors = list(params.SEARCH_AUTHORS)?.map((a) => int(a));
    const from = str(params.SEARCH_DATE_FROM)?.trim();
    const to = str(params.SEARCH_DATE_TO)?.trim();
    const groupTag = str(params.GROUP_TAG)?.trim();
    const hasFilter = Boolean(type || date || types?.length || authors?.length || (from && to));
    if (!hasFilter && text.length < 3) {
      throw new RestError('SEARCH_TEXT_ERROR', "SEARCH_TEXT can't be less then 3 symbols");
    }
    const hasLastId = params.LAST_ID !== undefined && params.LAST_ID !== '';
    const lastId = hasLastId ? int(params.LAST_ID) : undefined;
    if (hasLastId && lastId === undefined) {
      throw new RestError('LAST_ID_STRING', "Last notification ID can't be string");
    }
    const limit = Math.min(MAX_LIMIT, Math.max(1, int(params.LIMIT) ?? MAX_LIMIT));
    const offsetMs = offsetMinutes(portal.config.timezone) * 60_000;
    const day = date ? dayBounds(date, offsetMs) : undefined;
    const fromMs = from && to ? parseDate(from, offsetMs) : Number.NaN;
    const toMs = from && to ? parseDate(to, offsetMs) : Number.NaN;
    const needle = text.toLocaleLowerCase();

    const matches = (n: StoredNotification): boolean =>
      (needle === '' || n.message.toLocaleLowerCase().includes(needle)) &&
      (!type || matchesType(type)) &&
      (!types?.length || types.some(matchesType)) &&
      (!authors?.length || authors.includes(n.authorId)) &&
      (!day || (n.createdAt >= day[0] && n.createdAt < day[1])) &&
      (Number.isNaN(fromMs) || n.createdAt >= fromMs) &&
      (Number.isNaN(toMs) || n.createdAt <= toMs) &&
      (!groupTag || n.tag === groupTag || n.subTag === groupTag);

    const found = portal.store.forUser(caller.userId).filter(matches);
    const after = lastId === undefined ? found : found.filter((n) => n.id < lastId);
    const page = after.slice(0, limit);
    return {
      chat_id: notifyChatId(caller.userId),
      // Only the first page carries the total, as the docs say.
      ...(lastId === undefined ? { total_results: found.length } : {}),
      // "Y enables conversion, any other value disables it" (the method's page).
      notifications: page.map((n) => notificationView(portal, n, str(params.CONVERT_TEXT) === 'Y')),
      users: authorViews(portal, page),
    };
  },
});
