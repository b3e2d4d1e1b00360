import { RestError } from '../errors.js';
import { intval, str } from './params.js';
import { defineMethod } from './types.js';

/**
 * Presses a button of a confirm notification. Notifications sent through REST have no
 * buttons, so confirming one answers `result_message: false`, as the docs allow for a
 * notification without that handler (`api-reference/chats/notifications/im-notify-confirm.md`),
 * and by default changes nothing. With `restNotificationReplies: accept` the press is
 * recorded and marks the notification read, so the inbox can show it.
 */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const id = intval(params.NOTIFY_ID ?? params.ID);
    if (id <= 0) throw new RestError('ID_ERROR', "Notification ID can't be empty");
    const value = (str(params.NOTIFY_VALUE) ?? '').trim();
    if (value === '') throw new RestError('NOTIFY_VALUE_ERROR', "Notification Value can't be empty");
    const n = ctx.portal.store.getNotification(id);
    if (!n || n.userId !== ctx.caller.userId || ctx.portal.config.restNotificationReplies !== 'accept') {
      return { result_message: false };
    }
    n.answers.push({ kind: 'confirm', text: value, at: ctx.now });
    n.read = true;
    ctx.portal.store.updateNotification(n);
    ctx.portal.emit('notification-updated', n);
    return { result_message: false };
  },
});
