import type { MethodContext } from './types.js';

/** Set the read state of one of the caller's notifications; false if it is not theirs. */
export function markRead(ctx: MethodContext, id: number, read: boolean): boolean {
  const n = ctx.portal.store.getNotification(id);
  if (!n || n.userId !== ctx.caller.userId) return false;
  if (n.read !== read) {
    n.read = read;
    ctx.portal.store.updateNotification(n);
    ctx.portal.emit('notification-updated', n);
  }
  return true;
}

/** The caller's unread count, as `newCounter` reports it. */
export function unreadCount(ctx: MethodContext): number {
  return ctx.portal.store.unreadCount(ctx.caller.userId);
}
