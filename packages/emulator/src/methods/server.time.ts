import { formatDate } from '../wire/time.js';
import { defineMethod } from './types.js';

/** The portal's current time, in its time zone. */
export default defineMethod({
  scope: null,
  handler: (_params, ctx) => formatDate(ctx.now, ctx.portal.config.timezone),
});
