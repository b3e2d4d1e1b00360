import { addNotification, WRONG_AUTH_TEXT } from './notify-send.js';
import { defineMethod } from './types.js';

/** Sends a notification with no author: it comes from the portal itself. */
export default defineMethod({
  scope: 'im',
  handler: (params, ctx) => addNotification('system', params, ctx, WRONG_AUTH_TEXT.legacy),
});
