import { str } from './params.js';
import { addNotification, WRONG_AUTH_TEXT } from './notify-send.js';
import { defineMethod } from './types.js';

/**
 * The older single method: `TYPE` USER (default) or SYSTEM. Any other TYPE is taken as USER,
 * as the portal only tests for SYSTEM.
 */
export default defineMethod({
  scope: 'im',
  handler: (params, ctx) =>
    addNotification(
      str(params.TYPE)?.toUpperCase() === 'SYSTEM' ? 'system' : 'personal',
      params,
      ctx,
      WRONG_AUTH_TEXT.legacy,
    ),
});
