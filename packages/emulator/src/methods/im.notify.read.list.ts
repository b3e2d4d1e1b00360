import { RestError } from '../errors.js';
import { intval, str } from './params.js';
import { markRead } from './read-state.js';
import { defineMethod } from './types.js';

/** Marks the listed notifications; the list ends at the first id that is not positive. */
export default defineMethod({
  scope: 'im',
  handler(params, ctx) {
    const ids = params.IDS;
    // A PHP-form list arrives as an object with numeric keys; a scalar is not a list.
    const list = Array.isArray(ids)
      ? ids
      : ids !== null && typeof ids === 'object'
        ? Object.values(ids)
        : null;
    if (!list) throw new RestError('PARAMS_ERROR', 'No IDS param or it is not an array');
    // Anything but Y means unread, per the docs.
    const read = (str(params.ACTION) ?? 'Y').toUpperCase() === 'Y';
    for (const raw of list) {
      const id = intval(raw);
      if (id <= 0) break;
      markRead(ctx, id, read);
    }
    return true;
  },
});
