import { flag, int } from './params.js';
import { markRead } from './read-state.js';
import { defineMethod } from './types.js';

/**
 * Marks one notification (ONLY_CURRENT=Y) or every notification from ID upwards read
 * (ACTION=Y, the default) or unread. Without ID it changes nothing and answers true.
 */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const id = int(params.ID);
    if (id === undefined || id < 0) return true;
    const read = flag(params.ACTION, true);
    if (String(params.ONLY_CURRENT ?? '').toUpperCase() === 'Y') {
      markRead(ctx, id, read);
      return true;
    }
    // Marking read touches only the unread ones; marking unread, every one from ID up.
    const targets = read
      ? ctx.portal.store.unreadOf(ctx.caller.userId).filter((n) => n.id >= id)
      : ctx.portal.store.userFrom(ctx.caller.userId, id);
    for (const n of targets) markRead(ctx, n.id, read);
    return true;
  },
});
