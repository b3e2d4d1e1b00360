import { RestError } from '../errors.js';
import { intval, str } from './params.js';
import { tagOwner } from './notify-send.js';
import { defineMethod } from './types.js';

/**
 * Deletes by ID, by TAG or by SUB_TAG. Tags reach only the calling application's
 * notifications; an id reaches one the caller received or sent.
 */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const { portal, caller } = ctx;
    const id = intval(params.ID);
    const tag = str(params.TAG)?.trim() ?? '';
    const subTag = str(params.SUB_TAG)?.trim() ?? '';
    // The docs ask for one of the three; given several, the portal takes the first it checks.
    if (id <= 0 && tag === '' && subTag === '') throw new RestError('PARAMS_ERROR', 'Incorrect params');
    if (id > 0) {
      const n = portal.store.getNotification(id);
      if (!n || (n.userId !== caller.userId && n.authorId !== caller.userId)) return false;
      portal.store.deleteNotification(id);
      portal.emit('notification-deleted', n);
      return true;
    }
    if (caller.kind === 'session') throw new RestError('PARAMS_ERROR', 'Incorrect params');
    if (caller.kind === 'webhook' && !str(params.CLIENT_ID)?.trim()) {
      throw new RestError('ACCESS_DENIED', 'Access denied! Client ID not specified', 403);
    }
    const owner = tagOwner(params, ctx);
    const targets = tag ? portal.store.withTag(owner, tag) : portal.store.withSubTag(owner, subTag);
    for (const n of targets) {
      portal.store.deleteNotification(n.id);
      portal.emit('notification-deleted', n);
    }
    return true;
  },
});
