import { markRead, unreadCount } from './read-state.js';
import { defineMethod } from './types.js';

/** Marks all the caller's notifications read; answers the counter afterwards. */
export default defineMethod({
  scope: 'im',
  handler(_params, ctx) {
    for (const n of ctx.portal.store.unreadOf(ctx.caller.userId)) markRead(ctx, n.id, true);
    return { result: true, newCounter: unreadCount(ctx) };
  },
});
