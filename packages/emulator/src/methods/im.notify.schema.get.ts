import { defineMethod } from './types.js';

/**
 * The notification types a user can configure, per module. The emulated portal has the
 * modules an integration meets: its own REST notifications and the messenger's.
 *
 * Keys are upper case (`NAME`, `MODULE_ID`, `LIST`, `ID`) as the field table of
 * `api-reference/chats/notifications/im-notify-schema-get.md` has always had them in both
 * repositories; the answer example there was lower case until b24-rest-docs commit e27ff404
 * ("fixed factual errors in methods") made it upper case too. The page's JS and Go snippets
 * still read lower case, left from before that fix.
 */
export default defineMethod({
  scope: 'im',
  handler: () => ({
    im: {
      NAME: 'Messenger',
      MODULE_ID: 'im',
      LIST: [
        { ID: 'im|message', NAME: 'Personal messages' },
        { ID: 'im|chat', NAME: 'Group chat messages' },
        { ID: 'im|default', NAME: 'Notifications' },
      ],
    },
    rest: {
      NAME: 'Applications',
      MODULE_ID: 'rest',
      LIST: [{ ID: 'rest|rest_notify', NAME: 'Application notifications' }],
    },
  }),
});
