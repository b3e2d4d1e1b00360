import { parseAttach } from '../attach.js';
import { RestError } from '../errors.js';
import type { NotifyType } from '../portal/records.js';
import type { Params } from '../wire/body.js';
import { intval, str } from './params.js';
import type { MethodContext } from './types.js';

/**
 * Whose TAG a call sets: the OAuth app, or the CLIENT_ID a webhook passes. Both map to the
 * same key, so a webhook passing an installed app's client id as CLIENT_ID shares that app's
 * tag space (the docs ask webhooks for CLIENT_ID precisely to name the application). A
 * webhook without CLIENT_ID is not described by the docs; here it gets a tag space of its
 * own, named after the webhook.
 */
export function tagOwner(params: Params, ctx: MethodContext): string {
  if (ctx.caller.clientId) return `app:${ctx.caller.clientId}`;
  const clientId = str(params.CLIENT_ID)?.trim();
  if (clientId) return `app:${clientId}`;
  return ctx.caller.budgetKey;
}

/**
 * WRONG_AUTH_TYPE's text as each method's page words it: the current personal.add page has
 * no final period, system.add and im.notify still have one.
 */
export const WRONG_AUTH_TEXT = {
  personal: 'Access for this method not allowed by session authorization',
  legacy: 'Access for this method not allowed by session authorization.',
} as const;

/**
 * The shared body of im.notify.personal.add, im.notify.system.add and im.notify: the portal
 * checks and stores them the same way; only the author and the session error's wording differ.
 */
export function addNotification(
  type: NotifyType,
  params: Params,
  ctx: MethodContext,
  sessionText: string,
): number | false {
  const { portal, caller } = ctx;
  if (caller.kind === 'session') throw new RestError('WRONG_AUTH_TYPE', sessionText, 403);
  const userId = intval(params.USER_ID);
  if (userId <= 0) throw new RestError('USER_ID_EMPTY', "User ID can't be empty");
  const message = (str(params.MESSAGE) ?? '').trim();
  if (message === '') throw new RestError('MESSAGE_EMPTY', "Message can't be empty");
  const attach =
    parseAttach(params.ATTACH, {
      maxLength: portal.config.attachMaxLength,
      oneGridDisplay: portal.config.attachGridDisplays === 'one',
    }) ?? null;

  // The docs promise an id "or false if none was created": a recipient who is not an active
  // user of the portal gets nothing.
  const recipient = portal.user(userId);
  if (!recipient || recipient.ACTIVE === false) return false;

  const messageOutRaw = str(params.MESSAGE_OUT)?.trim();
  const messageOut = messageOutRaw || (portal.config.messageOutDefault === 'message' ? message : '');
  // A portal that applies tags only when it knows the application drops them here.
  const untagged =
    caller.kind === 'webhook' &&
    portal.config.tagsWithoutClientId === 'ignore' &&
    !str(params.CLIENT_ID)?.trim();
  const tag = untagged ? null : str(params.TAG)?.trim() || null;
  const subTag = untagged ? null : str(params.SUB_TAG)?.trim() || null;
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
