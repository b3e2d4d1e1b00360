import { RestError } from '../errors.js';
import { intval, str } from './params.js';
import { defineMethod } from './types.js';

/**
 * Sends a quick reply to a notification. Older docs named the id `ID`; both are accepted.
 * A reply to one of the caller's notifications is recorded (the inspection API shows it) and
 * answered with the documented success message, so clients can exercise that path; an id the
 * caller did not receive answers `result_message: false`, as the docs show for a notification
 * without a quick-reply handler.
 */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const id = intval(params.NOTIFY_ID ?? params.ID);
    if (id <= 0) throw new RestError('ID_ERROR', "Notification ID can't be empty");
    const text = (str(params.ANSWER_TEXT) ?? '').trim();
    if (text === '') throw new RestError('ANSWER_TEXT_ERROR', "ANSWER_TEXT can't be empty");
    const n = ctx.portal.store.getNotification(id);
    if (!n || n.userId !== ctx.caller.userId) return { result_message: false };
    n.answers.push({ kind: 'answer', text, at: ctx.now });
    ctx.portal.store.updateNotification(n);
    ctx.portal.emit('notification-updated', n);
    return { result_message: ['Your response has been successfully sent.'] };
  },
});
