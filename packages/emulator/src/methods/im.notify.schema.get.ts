import { defineMethod } from './types.js';

/** One module of the schema: its name and its notification types (`MODULE|EVENT`). */
type Module = { name: string; id: string; list: readonly (readonly [id: string, name: string])[] };

/**
 * The modules an integration meets: its own REST notifications and the messenger's. A portal
 * lists every installed module.
 */
const MODULES: readonly Module[] = [
  {
    id: 'im',
    name: 'Messenger',
    list: [
      ['im|message', 'Personal messages'],
      ['im|chat', 'Group chat messages'],
      ['im|default', 'Notifications'],
    ],
  },
  { id: 'rest', name: 'Applications', list: [['rest|rest_notify', 'Application notifications']] },
];

/**
 * The notification types a user can configure, per module, keyed by module id.
 *
 * Keys are upper case (`NAME`, `MODULE_ID`, `LIST`, `ID`) as the field table of
 * `api-reference/chats/notifications/im-notify-schema-get.md` has always had them in both
 * repositories; the answer example there was lower case until b24-rest-docs commit e27ff404
 * ("fixed factual errors in methods") made it upper case too, and the page's JS and Go snippets
 * still read lower case. `schemaKeys: lower` answers the older way.
 */
export default defineMethod({
  scope: 'im',
  handler: (_params, ctx) => {
    const upper = ctx.portal.config.schemaKeys !== 'lower';
    return Object.fromEntries(
      MODULES.map((m) => [
        m.id,
        upper
          ? { NAME: m.name, MODULE_ID: m.id, LIST: m.list.map(([ID, NAME]) => ({ ID, NAME })) }
          : { name: m.name, module_id: m.id, list: m.list.map(([id, name]) => ({ id, name })) },
      ]),
    );
  },
});
