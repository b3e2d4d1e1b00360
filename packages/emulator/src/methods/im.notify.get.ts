import { RestError } from '../errors.js';
import { int } from './params.js';
import { authorViews, NOTIFY_TYPE, notificationView, notifyChatId } from './notify-view.js';
import { defineMethod } from './types.js';

const MAX_LIMIT = 50;

/**
 * Lists the caller's notifications newest first, a page at a time. The portal lists
 * confirmations first and then the rest; LAST_TYPE (1 or 3) says which stage LAST_ID was in.
 */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const { portal, caller } = ctx;
    const hasLastId = params.LAST_ID !== undefined && params.LAST_ID !== '';
    const hasLastType = params.LAST_TYPE !== undefined && params.LAST_TYPE !== '';
    if (hasLastId !== hasLastType) {
      throw new RestError(
        'LAST_ID_AND_LAST_TYPE',
        'Parameters LAST_ID and LAST_TYPE should be used together.',
      );
    }
    const lastId = hasLastId ? int(params.LAST_ID) : undefined;
    if (hasLastId && lastId === undefined) {
      throw new RestError('LAST_ID_STRING', "Last notification ID can't be string");
    }
    const limit = Math.min(MAX_LIMIT, Math.max(1, int(params.LIMIT) ?? MAX_LIMIT));
    const lastType = int(params.LAST_TYPE);

    const total = portal.store.userCount(caller.userId);
    if (total === 0) return { notifications: [], users: [] };
    // Confirmations come first on a real portal, but REST cannot create them: every stored
    // notification is in the regular stage. LAST_TYPE=1 means the confirm stage was still
    // being read, so the regular stage starts from its top.
    const before = lastId === undefined || lastType === NOTIFY_TYPE.confirm ? undefined : lastId;
    const page = portal.store.userPage(caller.userId, before, limit);
    return {
      total_count: total,
      total_unread_count: portal.store.unreadCount(caller.userId),
      chat_id: notifyChatId(caller.userId),
      notifications: page.map((n) => notificationView(portal, n)),
      users: authorViews(portal, page),
    };
  },
});
