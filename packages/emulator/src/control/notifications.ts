import type { StoredNotification } from '../portal/records.js';
import { searchNotifications } from './search.js';
import { ControlError, objectBody, type ControlRequest } from './types.js';

/** A notification for the inspection API: everything stored, with the authoring user's name. */
export function notificationJson(r: ControlRequest, n: StoredNotification) {
  const author = n.authorId > 0 ? r.portal.user(n.authorId) : undefined;
  return {
    ...n,
    authorName: author ? `${author.NAME} ${author.LAST_NAME ?? ''}`.trim() : null,
  };
}

function find(r: ControlRequest): StoredNotification {
  const n = r.portal.store.getNotification(Number(r.id));
  if (!n) throw new ControlError(`notification ${r.id} not found`, 404);
  return n;
}

function positiveInt(value: string | null, name: string, fallback: number): number {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ControlError(`${name}: expected a non-negative integer`);
  return n;
}

/** GET /notifications?user=&tag=&text=&unread=1&limit=&before= (or ?q=) — newest first. */
export function listNotifications(r: ControlRequest) {
  const q = r.url.searchParams;
  // The filter language (`?q=user:5 tag:invoice-*`) has its own file; this keeps the index path.
  if (q.has('q') || q.has('after')) return searchNotifications(r);
  const user = q.get('user');
  const tag = q.get('tag');
  const text = q.get('text')?.toLocaleLowerCase();
  const unread = q.get('unread') === '1' || q.get('unread') === 'true';
  const limit = Math.min(1000, positiveInt(q.get('limit'), 'limit', 100));
  const before = positiveInt(q.get('before'), 'before', Number.MAX_SAFE_INTEGER);
  const userId = user ? positiveInt(user, 'user', 0) : undefined;
  const store = r.portal.store;
  // Without filters a page is read straight from the index; filters are a search of the list.
  if (!tag && !text && !unread) {
    const first = before === Number.MAX_SAFE_INTEGER ? undefined : before;
    const page = userId === undefined ? store.page(first, limit) : store.userPage(userId, first, limit);
    const total = userId === undefined ? store.size : store.userCount(userId);
    return { total, notifications: page.map((n) => notificationJson(r, n)) };
  }
  const source = userId === undefined ? store.all() : store.forUser(userId);
  const matched = source.filter(
    (n) =>
      (!tag || n.tag === tag || n.subTag === tag) &&
      (!text ||
        n.message.toLocaleLowerCase().includes(text) ||
        n.messageOut.toLocaleLowerCase().includes(text)) &&
      (!unread || !n.read),
  );
  const page = matched.filter((n) => n.id < before).slice(0, limit);
  return { total: matched.length, notifications: page.map((n) => notificationJson(r, n)) };
}

/** GET /notifications/:id — with the request that created it. */
export function getNotification(r: ControlRequest) {
  const n = find(r);
  const request = n.requestId === null ? null : (r.portal.log.get(n.requestId) ?? null);
  return { ...notificationJson(r, n), request };
}

/** PATCH /notifications/:id {read} */
export function patchNotification(r: ControlRequest) {
  const n = find(r);
  const body = objectBody(r.body);
  if (typeof body.read !== 'boolean') throw new ControlError('read: expected true or false');
  n.read = body.read;
  r.portal.store.updateNotification(n);
  r.portal.emit('notification-updated', n);
  return notificationJson(r, n);
}

/** DELETE /notifications/:id */
export function deleteNotification(r: ControlRequest) {
  const n = find(r);
  r.portal.store.deleteNotification(n.id);
  r.portal.emit('notification-deleted', n);
  return { deleted: n.id };
}

/** GET /users — with notification and unread counts, for the inbox's side list. */
export function listUsers(r: ControlRequest) {
  return {
    users: r.portal.users.map((u) => {
      return {
        id: u.ID,
        name: `${u.NAME} ${u.LAST_NAME ?? ''}`.trim(),
        email: u.EMAIL ?? '',
        workPosition: u.WORK_POSITION ?? '',
        active: u.ACTIVE !== false,
        total: r.portal.store.userCount(u.ID),
        unread: r.portal.store.unreadCount(u.ID),
      };
    }),
  };
}
