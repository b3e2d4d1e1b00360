import type { UserConfig } from '../config.js';
import { flag, int, list, str } from './params.js';
import { Paged, defineMethod } from './types.js';

const PAGE = 50;

/** A user as user.get shows one: ID as a string, as the portal sends it. */
function userView(u: UserConfig) {
  return {
    ID: String(u.ID),
    ACTIVE: u.ACTIVE !== false,
    NAME: u.NAME,
    LAST_NAME: u.LAST_NAME ?? '',
    SECOND_NAME: '',
    EMAIL: u.EMAIL ?? '',
    WORK_POSITION: u.WORK_POSITION ?? '',
    IS_ONLINE: 'N',
    UF_DEPARTMENT: [1],
    USER_TYPE: 'employee',
  };
}

/** One filter condition: `ID`, `ACTIVE`, `NAME`, `LAST_NAME`, `EMAIL`, `NAME_SEARCH`, with `@`/`!` prefixes. */
function matches(u: UserConfig, rawKey: string, expected: unknown): boolean {
  const m = /^(!@|@|!=|!|=)?(.*)$/.exec(rawKey);
  const op = m?.[1] ?? '=';
  const key = (m?.[2] ?? rawKey).toUpperCase();
  const view = userView(u) as Record<string, unknown>;
  const values = (list(expected) ?? [expected]).map((v) => String(v).toLowerCase());
  let hit: boolean;
  if (key === 'NAME_SEARCH') {
    const hay = `${u.NAME} ${u.LAST_NAME ?? ''} ${u.EMAIL ?? ''}`.toLowerCase();
    hit = values.every((v) => hay.includes(v));
  } else if (!(key in view)) {
    // Fields the emulator does not model filter nothing out, rather than everything.
    return true;
  } else {
    const actual = view[key];
    // Boolean fields (ACTIVE) take the portal's Y/N as well as true/false and 1/0: clients
    // filter fired users out with `ACTIVE: 'Y'` as often as with `ACTIVE: true`.
    hit =
      typeof actual === 'boolean'
        ? values.some((v) => flag(v, !actual) === actual)
        : values.includes(String(actual).toLowerCase());
  }
  return op.startsWith('!') ? !hit : hit;
}

/** Lists users, 50 a page, with a FILTER (wrapped or as top-level keys) and ID order. */
export default defineMethod({
  // `api-reference/user/user-get.md` (both repositories): "Scope: user, user_brief, user_basic".
  // The narrower two also narrow the fields a live portal answers; that is not modelled.
  scope: ['user', 'user_brief', 'user_basic'],
  handler(params, ctx) {
    const reserved = new Set([
      'SORT',
      'ORDER',
      'START',
      'FILTER',
      'SELECT',
      'ADMIN_MODE',
      'AUTH',
      'IMAGE_RESIZE',
    ]);
    const wrapped = params.FILTER ?? params.filter;
    const filter: Record<string, unknown> =
      wrapped && typeof wrapped === 'object' && !Array.isArray(wrapped)
        ? (wrapped as Record<string, unknown>)
        : Object.fromEntries(Object.entries(params).filter(([k]) => !reserved.has(k.toUpperCase())));
    const order = (str(params.order ?? params.ORDER) ?? 'ASC').toUpperCase() === 'DESC' ? -1 : 1;
    const start = Math.max(0, int(params.start ?? params.START) ?? 0);
    const users = ctx.portal.users
      .filter((u) => Object.entries(filter).every(([k, v]) => matches(u, k, v)))
      .sort((a, b) => (a.ID - b.ID) * order);
    const page = users.slice(start, start + PAGE).map(userView);
    const next = start + PAGE < users.length ? start + PAGE : undefined;
    return new Paged(page, users.length, next);
  },
});
