import type { BatchCommand } from '../batch.js';
import { B24ValidationError } from '../errors/validation-error.js';
import { sendParams } from './index.js';
import type { SendParams } from './types.js';

/** Which send method a notification goes through: from the calling user, or with no author. */
export type NotificationKind = 'personal' | 'system';

/** The methods behind {@link NotificationKind}. */
const METHODS: Readonly<Record<NotificationKind, string>> = {
  personal: 'im.notify.personal.add',
  system: 'im.notify.system.add',
};

/**
 * A notification as a batch command, `[method, params]` with Bitrix24's names, checked exactly as
 * `notify.personal` / `notify.system` check it: bad input throws a `B24ValidationError` naming
 * the field before anything is queued or sent. For sending many through `client.batch`.
 *
 * @example
 * const commands = users.map((userId) =>
 *   notificationCommand('system', { userId, message: 'Maintenance at 22:00', tag: `maint-${userId}` }, { clientId: 'ops' }),
 * );
 * await b24.batch(commands.slice(0, BATCH_LIMIT));
 */
export function notificationCommand(
  kind: NotificationKind,
  params: SendParams,
  options: {
    /** Sent as CLIENT_ID when `params` names none (webhooks need it with a tag). */
    clientId?: string;
    /** The portal's ATTACH size limit in characters. @default 60000 */
    attachMaxLength?: number;
  } = {},
): BatchCommand {
  const method = METHODS[kind];
  if (method === undefined) {
    throw new B24ValidationError('kind', `expected "personal" or "system", got ${JSON.stringify(kind)}`);
  }
  return [
    method,
    sendParams(method, params, {
      attachMaxLength: options.attachMaxLength ?? 60_000,
      ...(options.clientId ? { clientId: options.clientId } : {}),
    }),
  ];
}
