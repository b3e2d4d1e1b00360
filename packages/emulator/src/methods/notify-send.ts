import { parseAttach } from '../attach.js';
import { RestError } from '../errors.js';
import type { NotifyType } from '../portal/records.js';
import type { Params } from '../wire/body.js';
import { intval, str } from './params.js';
import type { MethodContext } from './types.js';

/**
 * Whose TAG a call sets: the OAuth app, or the CLIENT_ID a webhook passes. A webhook without
 * CLIENT_ID is not described by the docs; here it gets a tag space of its own.
 */
export function tagOwner(params: Params, ctx: MethodContext): string {
  if (ctx.caller.clientId) return `app:${ctx.caller.clientId}`;
  const clientId = str(params.CLIENT_ID)?.trim();
  if (clientId) return `app:${clientId}`;
  return ctx.caller.budgetKey;
}

/**
 * The shared body of im.notify.personal.add, im.notify.system.add and im.notify: the portal
 * checks and stores them the same way; only the author differs.
 */
export function addNotification(type: NotifyType, params: Params, ctx: MethodContext): number | false {
  const { portal, caller } = ctx;
  if (caller.kind === 'session') {
    throw new RestError(
      'WRONG_AUTH_TYPE',
      'Access for this method not allowed by session authorization',
      403,
    );
  }
  const userId = intval(params.USER_ID);
  if (userId <= 0) throw new RestError('USER_ID_EMPTY', "User ID can't be empty");
  const message = (str(params.MESSAGE) ?? '').trim();
  if (message === '') throw new RestError('MESSAGE_EMPTY', "Message can't be empty");
  const attach = parseAttach(params.ATTACH, { maxLength: portal.config.attachMaxLength }) ?? null;

  // The docs promise an id "or false if none was created": a recipient who is not an active
  // user of the portal gets nothing.
  const recipient = portal.user(userId);
  if (!recipient || recipient.ACTIVE === false) return false;

  const messageOutRaw = str(params.MESSAGE_OUT)?.trim();
  const messageOut = messageOutRaw || (portal.config.messageOutDefault === 'message' ? message : '');
  const tag = str(params.TAG)?.trim() || null;
  const subTag = str(params.SUB_TAG)?.trim() || null;
  const appKey = tagOwner(params, ctx);
  const clientId = caller.clientId ?? (str(params.CLIENT_ID)?.trim() || null);

  if (tag) {
    // A tag is unique within the application: the new notification replaces the old ones.
    for (const old of portal.store.withTag(appKey, tag)) {
      if (portal.store.deleteNotification(old.id)) {
        portal.emit('notification-deleted', old);
      }
    }
  }
  const stored = portal.store.addNotification({
    userId,
    authorId: type === 'system' ? 0 : caller.userId,
    type,
    message,
    messageOut,
    tag,
    subTag,
    appKey,
    clientId,
    attach,
    read: false,
    createdAt: ctx.now,
    requestId: ctx.requestId,
    answers: [],
  });
  ctx.created.push(stored.id);
  portal.emit('notification', stored);
  return stored.id;
}
