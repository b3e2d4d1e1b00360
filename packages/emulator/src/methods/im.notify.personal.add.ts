import { addNotification, WRONG_AUTH_TEXT } from './notify-send.js';
import { defineMethod } from './types.js';

/** Sends a notification on behalf of the calling user. */
export default defineMethod({
  scope: 'im',
  handler: (params, ctx) => addNotification('personal', params, ctx, WRONG_AUTH_TEXT.personal),
});
