import type { Portal } from '../portal/portal.js';
import { FilterError, matchesFilter, parseFilter, type NotificationFilter } from '../search.js';
import { DEFAULT_WAIT_MS, WaitTimeoutError, findMatch, waitForNotification } from '../wait.js';
import { notificationJson } from './notifications.js';
import { sendJson } from '../wire/http.js';
import { ControlError, type ControlRequest } from './types.js';

/** The longest a wait may last: a long-poll, not a connection held all day. */
const MAX_WAIT_MS = 120_000;

function nonNegative(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ControlError(`${name}: expected a non-negative integer`);
  return n;
}

/**
 * The filter of a list or wait request: `?q=` in the filter language, with the list's older
 * parameters (`user`, `tag`, `text`, `unread`) added to it, and the portal a `portal:` term
 * names (among the emulator's portals) in place of the one the request came in on.
 */
export function requestFilter(r: ControlRequest): { filter: NotificationFilter; portal: Portal } {
  const q = r.url.searchParams;
  let filter: NotificationFilter;
  try {
    filter = parseFilter(q.get('q') ?? '');
  } catch (err) {
    if (err instanceof FilterError) throw new ControlError(`q: ${err.message}`);
    throw err;
  }
  const user = nonNegative(q.get('user'), 'user');
  if (user !== undefined) filter.user = user;
  const tag = q.get('tag');
  if (tag) filter.tag = tag;
  const text = q.get('text');
  if (text) (filter.text ??= []).push(text.toLocaleLowerCase());
  if (q.get('unread') === '1' || q.get('unread') === 'true') filter.read = false;
  const after = nonNegative(q.get('after'), 'after');
  if (after !== undefined) filter.after = after;
  let portal = r.portal;
  if (filter.portal !== undefined && filter.portal !== portal.config.name) {
    const hosted = r.directory?.byName(filter.portal);
    if (!hosted) {
      const known = r.directory?.hosted.map((h) => `"${h.portal.config.name}"`).join(', ') ?? '';
      throw new ControlError(
        `q: portal:${filter.portal}: no portal named "${filter.portal}" (there ${known ? `are ${known}` : `is "${portal.config.name}"`})`,
        404,
      );
    }
    portal = hosted.portal;
  }
  return { filter, portal };
}

/** GET /notifications?q= — a search in the filter language, newest first, with `total`. */
export function searchNotifications(r: ControlRequest) {
  const { filter, portal } = requestFilter(r);
  const q = r.url.searchParams;
  const limit = Math.min(1000, nonNegative(q.get('limit'), 'limit') ?? 100);
  const before = nonNegative(q.get('before'), 'before') ?? Number.MAX_SAFE_INTEGER;
  const source = filter.user === undefined ? portal.store.all() : portal.store.forUser(filter.user);
  const matched = source.filter((n) => matchesFilter(n, filter));
  const page = matched.filter((n) => n.id < before).slice(0, limit);
  const at = { ...r, portal };
  return { total: matched.length, notifications: page.map((n) => notificationJson(at, n)) };
}

/**
 * GET /notifications/wait?q=&timeout= — a long-poll: answers `{notification}` as soon as a
 * notification matches (at once when one is stored), from the portal's events; after
 * `timeout` ms (default 5000) 408 `TIMEOUT` with the closest candidates.
 */
export function waitNotification(r: ControlRequest): undefined {
  const { filter, portal } = requestFilter(r);
  const timeout = nonNegative(r.url.searchParams.get('timeout'), 'timeout') ?? DEFAULT_WAIT_MS;
  if (timeout > MAX_WAIT_MS) {
    throw new ControlError(`timeout: at most ${MAX_WAIT_MS} ms; wait again for longer`);
  }
  const at = { ...r, portal };
  const send = (status: number, value: unknown): void => {
    if (!r.res.writableEnded) sendJson(r.res, status, value);
  };
  const ready = findMatch(portal, filter);
  if (ready) {
    send(200, { notification: notificationJson(at, ready) });
    return undefined;
  }
  // A client that gives up must not leave a listener behind.
  const abort = new AbortController();
  r.res.on('close', () => abort.abort());
  waitForNotification(portal, filter, timeout, abort.signal).then(
    (n) => send(200, { notification: notificationJson(at, n) }),
    (err: unknown) => {
      if (err instanceof WaitTimeoutError) {
        send(408, {
          error: 'TIMEOUT',
          error_description: err.message,
          arrived: err.arrived,
          candidates: err.candidates.map((c) => ({
            notification: notificationJson(at, c.notification),
            missed: c.missed,
          })),
        });
      }
    },
  );
  return undefined;
}
