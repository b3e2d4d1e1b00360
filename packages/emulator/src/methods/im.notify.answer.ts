import { RestError } from '../errors.js';
import { intval, str } from './params.js';
import { defineMethod } from './types.js';

/**
 * Sends a quick reply to a notification. Older docs named the id `ID`; both are accepted.
 * The docs ask for a notification "that supports quick reply" and let `result_message` be
 * `false` (`api-reference/chats/notifications/im-notify-answer.md`); no REST send method can
 * make one, so by default every reply answers `false` and changes nothing. With
 * `restNotificationReplies: accept`, a reply to one of the caller's notifications is recorded
 * (the inspection API shows it) and answered with the documented success message.
 */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const id = intval(params.NOTIFY_ID ?? params.ID);
    if (id <= 0) throw new RestError('ID_ERROR', "Notification ID can't be empty");
    const text = (str(params.ANSWER_TEXT) ?? '').trim();
    if (text === '') throw new RestError('ANSWER_TEXT_ERROR', "ANSWER_TEXT can't be empty");
    const n = ctx.portal.store.getNotification(id);
    if (!n || n.userId !== ctx.caller.userId || ctx.portal.config.restNotificationReplies !== 'accept') {
      return { result_message: false };
    }
    n.answers.push({ kind: 'answer', text, at: ctx.now });
    ctx.portal.store.updateNotification(n);
    ctx.portal.emit('notification-updated', n);
    return { result_message: ['Your response has been successfully sent.'] };
  },
});
