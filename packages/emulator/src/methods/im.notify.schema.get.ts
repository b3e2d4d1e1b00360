import { defineMethod } from './types.js';

/**
 * The notification types a user can configure, per module. The emulated portal has the
 * modules an integration meets: its own REST notifications and the messenger's.
 */
export default defineMethod({
  scope: 'im',
  handler: () => ({
    im: {
      name: 'Messenger',
      module_id: 'im',
      list: [
        { id: 'im|message', name: 'Personal messages' },
        { id: 'im|chat', name: 'Group chat messages' },
        { id: 'im|default', name: 'Notifications' },
      ],
    },
    rest: {
      name: 'Applications',
      module_id: 'rest',
      list: [{ id: 'rest|rest_notify', name: 'Application notifications' }],
    },
  }),
});
