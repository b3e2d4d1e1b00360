import { defineMethod } from './types.js';

/** The calling user, in brief; needs no scope, which makes it the usual connectivity check. */
export default defineMethod({
  scope: null,
  handler(_params, ctx) {
    const u = ctx.portal.user(ctx.caller.userId);
    return {
      ID: String(ctx.caller.userId),
      ADMIN: u?.ADMIN === true,
      NAME: u?.NAME ?? '',
      LAST_NAME: u?.LAST_NAME ?? '',
      PERSONAL_GENDER: '',
      TIME_ZONE: '',
    };
  },
});
